"""TRANS001 assumed-transitivity."""

import bisect

from auditor.analysis.addresses import (
    IntervalSet,
    describe_space,
    interval,
    is_family_wide,
    overlaps,
    subtract,
    union,
)
from auditor.analysis.nsg import rules_in_order
from auditor.analysis.routing import (
    TRANSIT_NEXT_HOPS,
    component_index,
    connected_vnets,
    effective_routes,
    hubs_without_transit,
    may_be_linked,
    next_hop,
    peering_path,
    possible_groups,
)
from auditor.analysis.wording import name_list
from auditor.engine.rule import Rule
from auditor.model.ids import norm_id

LIMIT = 50  # (VNet, remote VNet) pairs kept in evidence per rule

rule = Rule(
    id="TRANS001",
    slug="assumed-transitivity",
    title="NSG rule assumes a VNet two or more peering hops away is reachable",
    severity="high",
    reads=("virtualNetworks", "networkSecurityGroups", "routeTables"),
    controls=("ALZ-NET",),
    flags=(
        "A custom Allow rule in an NSG of VNet A whose source or destination prefix overlaps VNet C's "
        "address space, where C is not peered with A but reachable over two or more peering hops (or shares "
        "only a Basic Virtual WAN hub with A), and the route table of the rule's subnet has no route sending "
        "C's range to a virtual appliance or gateway."
    ),
    rationale=(
        "Peering is not transitive: spoke1 peered with hub and hub peered with spoke2 does not connect spoke1 "
        "with spoke2. An NSG rule that allows spoke2's addresses shows someone expects that traffic, but "
        "without a route through a hub firewall/NVA (or a gateway) there is no path at all."
    ),
    remediation=(
        "Add a route for C's range with next hop VirtualAppliance (the hub firewall) to the subnet's route "
        "table, set allowForwardedTraffic on the peerings, and route the return path the same way; or peer A "
        "and C directly; or delete the rule if the traffic is not wanted."
    ),
    docs="https://learn.microsoft.com/azure/virtual-network/virtual-network-peering-overview#service-chaining",
    example=(
        "spoke1 -- hub -- spoke2; nsg-spoke1 has allow-spoke2 (source 10.2.0.0/16, port 443) and rt-spoke1 "
        "has no route for 10.2.0.0/16 -> allow-spoke2 is flagged.\n"
        "With route to-spoke2 10.2.0.0/16 -> VirtualAppliance 10.0.1.4 in rt-spoke1 it passes."
    ),
    decisions=(
        "Only custom Allow rules (either direction) and only written CIDR prefixes count: `*`, Any and "
        "service tags do not name C, and a summary prefix that contains a whole address prefix of A or of a "
        "VNet Connected to A (10.0.0.0/8 in every spoke, a range spanning the hub) addresses the estate at "
        "large, not C, and is skipped. Reachability is over peered "
        "VNets (Connected both sides, access allowed); a VNet Connected to A directly, even with access "
        "disabled, is one hop away and not judged here. Addresses of A's own space or of a VNet Connected to "
        "A are routed there by system routes, so they never count as C's (even when C reuses them: OVLP "
        "rules report such overlaps). A route covers C's addresses when it wins for them "
        "by longest-prefix match (system routes included) with next hop VirtualAppliance or "
        "VirtualNetworkGateway: a more specific route sending part of C to None, Internet or VnetLocal leaves "
        "that part uncovered and is flagged. Each subnet of A using the NSG is judged with its own route "
        "table (a subnet without one has no route). NSGs attached only to network interfaces are skipped "
        "(the snapshot does not tie NICs to VNets). One finding per rule, listing every VNet C and subnet. "
        "Paths without a peering count as direct: VNets connected to one Standard Virtual WAN hub, or to "
        "Standard hubs of one Standard virtual WAN (hub-to-hub), reach each other "
        "(learn.microsoft.com/azure/virtual-wan/virtual-wan-about#basicstandard), and so do static members "
        "of one AVNM connected group (a Mesh, or a HubAndSpoke group with direct connectivity; same region "
        "unless global: learn.microsoft.com/azure/virtual-network-manager/concept-connectivity-configuration), "
        "assuming the configuration is deployed. Virtual WAN custom route tables that isolate VNets are not "
        "read: the path is assumed, so no finding. A Basic hub gives no VNet-to-VNet transit: VNets that "
        "share only a Basic hub count as two hops apart (A -> hub -> C), like spokes of a peered hub. A VNet that Azure "
        "Policy could make a dynamic member of a connected group holding A too (both in the network "
        "manager's scope) is unknown and not flagged."
    ),
)


def _prefix_span(prefix: str) -> tuple[int, int] | None:
    """The interval of a written CIDR; None for `*`/Any, service tags and junk."""
    return None if is_family_wide(prefix) else interval(prefix)


def _rule_prefixes(r) -> list[tuple[str, tuple[int, int]]]:
    return [(prefix, span) for prefix in (*r.source_address_prefixes, *r.destination_address_prefixes)
            if (span := _prefix_span(prefix)) is not None]


class _Near:
    """What VNet A reaches without transit: its own addresses and those of the VNets Connected to
    it (system routes send them there, so they are never C's), those VNets, the Basic hubs A is
    connected to, the spans of those VNets' address prefixes (a prefix holding one is a summary),
    whether A could be a dynamic member of a connected group (`may_be_linked`), and the VNets of
    A's peered component by address. Keeps what it works out per prefix and per route table."""

    __slots__ = ("a_key", "basic", "component", "dynamic", "prefix_spans", "prefix_starts", "snapshot", "space",
                 "vnets", "_gaps", "_targets", "_transit")

    def __init__(self, snapshot, a_key):
        index = snapshot.index
        self.snapshot, self.a_key = snapshot, a_key
        connected = connected_vnets(snapshot, a_key)
        self.space = union([index.address_space(a_key), *(index.address_space(v) for v in connected)])
        self.vnets = {a_key, *index.peered_vnets(a_key), *connected}
        self.basic = hubs_without_transit(snapshot, a_key)
        self.dynamic = bool(possible_groups(snapshot, a_key))
        spans = sorted({s for v in (a_key, *connected) if v in index.vnets
                        for p in index.vnets[v].address_prefixes if (s := interval(p)) is not None})
        self.prefix_starts, self.prefix_spans = [s for s, _ in spans], spans
        self.component = component_index(snapshot, a_key)
        self._targets: dict[tuple[int, int], tuple] = {}
        self._transit: dict[str, IntervalSet] = {}
        self._gaps: dict[tuple[str, tuple[int, int]], IntervalSet] = {}

    def holds(self, span: tuple[int, int]) -> bool:
        """A routes the whole span to itself or to a VNet Connected to it."""
        k = bisect.bisect_right(self.space.starts, span[0]) - 1
        return k >= 0 and span[1] <= self.space.ends[k]

    def is_summary(self, span: tuple[int, int]) -> bool:
        """The span contains a whole address prefix of A or of a VNet Connected to A: it addresses
        the estate at large (10.0.0.0/8), not C in particular."""
        lo, hi = span
        i, j = bisect.bisect_left(self.prefix_starts, lo), bisect.bisect_right(self.prefix_starts, hi)
        return any(e <= hi for _, e in self.prefix_spans[i:j])

    def targets(self, span: tuple[int, int]) -> tuple[IntervalSet | None, tuple[str, ...]]:
        """The prefix's addresses outside A and its directly peered VNets, and the VNets C two or
        more hops from A that they overlap (sorted)."""
        found = self._targets.get(span)
        if found is None:
            found = self._targets[span] = self._find_targets(span)
        return found

    def _find_targets(self, span: tuple[int, int]) -> tuple[IntervalSet | None, tuple[str, ...]]:
        # A's own or a directly peered VNet's addresses (the common case), no VNet's, or the estate at large
        component = self.component
        if self.holds(span) or not (self.basic or (component is not None and component.overlaps(*span))) \
                or self.is_summary(span):
            return _NO_TARGETS
        # addresses A routes to itself or a directly peered VNet cannot be C's
        remote = subtract(IntervalSet([span]), self.space)
        c_keys = component.overlapping(remote) if component is not None else set()
        index = self.snapshot.index
        c_keys |= {c for hub in self.basic for c in hub.members if overlaps(remote, index.address_space(c))}
        c_keys -= self.vnets
        if self.dynamic:
            c_keys = {c for c in c_keys if not may_be_linked(self.snapshot, self.a_key, c)}
        return (remote, tuple(sorted(c_keys))) if c_keys else _NO_TARGETS

    def gap(self, table_key: str | None, span: tuple[int, int], remote: IntervalSet) -> IntervalSet:
        """What the route table leaves without a transit route of the prefix's remote addresses
        (once per prefix and route table; each VNet C then takes its share)."""
        if not table_key:
            return remote  # no route table: no transit route
        gap = self._gaps.get((table_key, span))
        if gap is None:
            gap = self._gaps[(table_key, span)] = subtract(remote, self._transit_space(table_key))
        return gap

    def _transit_space(self, table_key: str) -> IntervalSet:
        """Addresses the route table sends to an appliance or gateway in subnets of A."""
        space = self._transit.get(table_key)
        if space is None:
            table = self.snapshot.index.route_tables.get(table_key)
            space = self._transit[table_key] = IntervalSet() if table is None else union(
                space for route, space in effective_routes(self.snapshot, table, self.a_key)
                if next_hop(route) in TRANSIT_NEXT_HOPS)
        return space


_NO_TARGETS = (None, ())


class _Hit:
    """VNet C that the rule's prefix names, two or more hops from A, with addresses some subnet
    of A routes to no appliance or gateway. Which subnets and addresses is worked out only for
    the pairs a finding lists: a wide prefix can name thousands of VNets."""

    __slots__ = ("a_key", "c_key", "gaps", "prefix")

    def __init__(self, a_key, c_key, prefix, gaps):
        self.a_key, self.c_key, self.prefix, self.gaps = a_key, c_key, prefix, gaps

    def missing(self, index) -> list:
        """(subnet, addresses of C it has no transit route for), for subnets with some (a gap lies
        inside the prefix's remote addresses already)."""
        space = index.address_space(self.c_key)
        return [(subnet, uncovered) for subnet, gap in self.gaps
                if (uncovered := space if gap.covers(space) else gap.intersection(space))]


def _subnets_by_vnet(snapshot, nsg, memo: dict) -> dict[str, list[tuple]]:
    """VNet -> (subnet, its route table's key) of the subnets using the NSG, built when a rule first
    has a target."""
    by_vnet = memo.get(nsg.id)
    if by_vnet is None:
        index = snapshot.index
        by_vnet = memo[nsg.id] = {}
        for s in index.subnets_of(nsg.id):
            subnet = index.subnets[s]
            by_vnet.setdefault(index.vnet_of_subnet[s].key, []).append(
                (subnet, norm_id(subnet.route_table_id) if subnet.route_table_id else None))
    return by_vnet


def _hits(snapshot, nsg, vnets, prefixes, near: dict[str, _Near], subnets_memo: dict) -> tuple[list[_Hit], list[str]]:
    """Every (A, C, prefix) the rule fails for, in order of A, prefix and C; and the subnets
    without a route table among those failing (they fail for every C of their prefix)."""
    index = snapshot.index
    hits, no_table = [], []
    for a_key in vnets:
        from_a = near.get(a_key)
        if from_a is None:
            from_a = near[a_key] = _Near(snapshot, a_key)
        subnets = None
        for prefix, span in prefixes:
            remote, targets = from_a.targets(span)
            if not targets:
                continue
            if subnets is None:
                subnets = _subnets_by_vnet(snapshot, nsg, subnets_memo).get(a_key, ())
            gaps = [(subnet, gap) for subnet, table_key in subnets if (gap := from_a.gap(table_key, span, remote))]
            if not gaps:
                continue  # every subnet routes all of it to an appliance or gateway
            # C fails where a subnet's gap (inside `remote`) meets C's space
            gap_space = gaps[0][1] if len(gaps) == 1 else union(gap for _, gap in gaps)
            found = [_Hit(a_key, c, prefix, gaps) for c in targets
                     if overlaps(gap_space, index.address_space(c))]
            if found:
                hits += found
                no_table += [subnet.name for subnet, _ in gaps if not subnet.route_table_id]
    return hits, no_table


@rule.check
def check(snapshot):
    index = snapshot.index
    near: dict[str, _Near] = {}  # per VNet A
    subnets: dict[str, dict] = {}  # per NSG
    for nsg in snapshot.network_security_groups:
        vnets = index.vnets_of(nsg.id)
        if not vnets:
            continue
        allows = [p.rule for p in (*rules_in_order(snapshot, nsg, True), *rules_in_order(snapshot, nsg, False))
                  if p.allow and not p.is_default]
        for r in allows:
            prefixes = _rule_prefixes(r)
            if not prefixes:
                continue
            hits, no_table = _hits(snapshot, nsg, vnets, prefixes, near, subnets)
            if hits:
                yield _finding(snapshot, nsg, r, hits, no_table)


def _finding(snapshot, nsg, r, hits: list[_Hit], no_table: list[str]):
    index = snapshot.index
    listed = [(h, h.missing(index)) for h in hits[:LIMIT]]
    first, missing = listed[0]
    a, c = index.vnets[first.a_key], index.vnets[first.c_key]
    path = _path(snapshot, first.a_key, first.c_key)
    hops = " -> ".join(path)
    no_route = f" (no route table on {name_list(no_table)})" if no_table else ""
    others = hits[1:]
    names = name_list(index.vnets[h.c_key].name for h in others)
    more = f"; {len(others)} more VNet pairs affected ({names})" if others else ""
    return rule.finding(
        resource_id=r.id,
        related_ids=[nsg.id, *dict.fromkeys(index.vnets[k].id for h, _ in listed for k in (h.a_key, h.c_key))],
        fingerprint_ids=[norm_id(r.id)],
        message=(
            f"Rule {r.name} (priority {r.priority}, {r.direction} Allow) in NSG {nsg.name} allows "
            f"{first.prefix}, which overlaps VNet {c.name} ({describe_space(index.address_space(first.c_key))}); "
            f"{c.name} is not peered with {a.name} but {len(path) - 1} {_hops(path)} ({hops}), and subnet "
            f"{name_list(s.name for s, _ in missing)} of {a.name} has no route sending "
            f"{describe_space(missing[0][1])} to a virtual appliance or gateway{no_route}: peering is not "
            f"transitive, so this traffic has no path{more}."
        ),
        evidence={
            "nsg": nsg.name, "priority": r.priority, "direction": r.direction,
            "pairs": [
                {"vnet": index.vnets[h.a_key].name, "remote_vnet": index.vnets[h.c_key].name, "prefix": h.prefix,
                 "path": path if i == 0 else _path(snapshot, h.a_key, h.c_key) if i < 5 else None,
                 "subnets_without_route": {s.name: describe_space(u) for s, u in m}}
                for i, (h, m) in enumerate(listed)
            ],
            "pair_count": len(hits),
        },
    )


def _names(index, keys) -> list[str]:
    return [index.vnets[k].name for k in keys]


def _path(snapshot, a_key, c_key) -> list[str]:
    """Names along the chain of peerings from A to C, or through the Basic hub they share."""
    index = snapshot.index
    chain = peering_path(snapshot, a_key, c_key)
    if chain:
        return _names(index, chain)
    hub = next((g for g in hubs_without_transit(snapshot, a_key) if c_key in g.members), None)
    middle = [f"{hub.label} (Basic)"] if hub is not None else []
    return [index.vnets[a_key].name, *middle, index.vnets[c_key].name]


def _hops(path: list[str]) -> str:
    basic = any(p.endswith("(Basic)") for p in path)
    return "hops away through a Basic hub, which gives no VNet-to-VNet transit" if basic else "peering hops away"
