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
    component_overlaps,
    connected_vnets,
    effective_routes,
    hubs_without_transit,
    may_be_linked,
    next_hop,
    peering_path,
    possible_groups,
    vnets_overlapping_in_component,
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
    connected to, the spans of those VNets' address prefixes (a prefix holding one is a summary), and
    whether A could be a dynamic member of a connected group (`may_be_linked`)."""

    __slots__ = ("basic", "dynamic", "prefix_spans", "prefix_starts", "space", "vnets")

    def __init__(self, snapshot, a_key):
        index = snapshot.index
        connected = connected_vnets(snapshot, a_key)
        self.space = union([index.address_space(a_key), *(index.address_space(v) for v in connected)])
        self.vnets = {a_key, *index.peered_vnets(a_key), *connected}
        self.basic = hubs_without_transit(snapshot, a_key)
        self.dynamic = bool(possible_groups(snapshot, a_key))
        spans = sorted({s for v in (a_key, *connected) if v in index.vnets
                        for p in index.vnets[v].address_prefixes if (s := interval(p)) is not None})
        self.prefix_starts, self.prefix_spans = [s for s, _ in spans], spans

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


class _Memo:
    """What the check works out once and reuses: per VNet, per (VNet, prefix), per route table, per NSG."""

    __slots__ = ("gaps", "near", "subnets", "targets", "transit")

    def __init__(self):
        self.near: dict[str, _Near] = {}
        self.targets: dict[tuple[str, tuple[int, int]], tuple] = {}
        self.transit: dict[tuple[str, str], IntervalSet] = {}
        self.gaps: dict[tuple[str, str, tuple[int, int]], IntervalSet] = {}
        self.subnets: dict[str, dict[str, list[tuple]]] = {}


def _transit_space(snapshot, table_id, vnet_key, memo: _Memo) -> IntervalSet:
    """Addresses the route table sends to an appliance or gateway in subnets of the VNet."""
    key = (table_id, vnet_key)
    if key not in memo.transit:
        table = snapshot.index.route_tables.get(table_id) if table_id else None
        memo.transit[key] = union(space for route, space in effective_routes(snapshot, table, vnet_key)
                                  if next_hop(route) in TRANSIT_NEXT_HOPS) if table is not None else IntervalSet()
    return memo.transit[key]


def _uncovered(snapshot, table_id, a_key, span, remote, memo: _Memo) -> IntervalSet:
    """What the route table leaves without a transit route of the prefix's remote addresses
    (once per VNet, prefix and route table; each VNet C then takes its share)."""
    key = (table_id, a_key, span)
    if key not in memo.gaps:
        memo.gaps[key] = subtract(remote, _transit_space(snapshot, table_id, a_key, memo))
    return memo.gaps[key]


_NO_TARGETS = (None, ())


def _remote_targets(snapshot, a_key, span, memo: _Memo) -> tuple[IntervalSet | None, tuple[str, ...]]:
    """The prefix's addresses outside A and its directly peered VNets, and the VNets C two or
    more hops from A that they overlap (sorted)."""
    key = (a_key, span)
    found = memo.targets.get(key)
    if found is None:
        near = memo.near.get(a_key) or memo.near.setdefault(a_key, _Near(snapshot, a_key))
        found = memo.targets[key] = _find_targets(snapshot, a_key, span, near)
    return found


def _find_targets(snapshot, a_key, span, near: _Near) -> tuple[IntervalSet | None, tuple[str, ...]]:
    # A's own or a directly peered VNet's addresses (the common case), no VNet's, or the estate at large
    if near.holds(span) or not (near.basic or component_overlaps(snapshot, a_key, *span)) \
            or near.is_summary(span):
        return _NO_TARGETS
    # addresses A routes to itself or a directly peered VNet cannot be C's
    remote = subtract(IntervalSet([span]), near.space)
    c_keys = vnets_overlapping_in_component(snapshot, a_key, remote)
    c_keys |= {c for hub in near.basic for c in hub.members if overlaps(remote, snapshot.index.address_space(c))}
    c_keys -= near.vnets
    if near.dynamic:
        c_keys = {c for c in c_keys if not may_be_linked(snapshot, a_key, c)}
    return (remote, tuple(sorted(c_keys))) if c_keys else _NO_TARGETS


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
        return [(subnet, uncovered) for subnet, gap in self.gaps if (uncovered := gap.intersection(space))]


def _subnets_by_vnet(snapshot, nsg, memo: _Memo) -> dict[str, list[tuple]]:
    """VNet -> (subnet, its route table's key) of the subnets using the NSG, built when a rule first
    has a target."""
    if nsg.key not in memo.subnets:
        index = snapshot.index
        by_vnet = memo.subnets[nsg.key] = {}
        for s in index.subnets_of(nsg.id):
            subnet = index.subnets[s]
            by_vnet.setdefault(index.vnet_of_subnet[s].key, []).append((subnet, norm_id(subnet.route_table_id)))
    return memo.subnets[nsg.key]


def _hits(snapshot, nsg, vnets, prefixes, memo: _Memo) -> tuple[list[_Hit], list[str]]:
    """Every (A, C, prefix) the rule fails for, in order of A, prefix and C; and the subnets
    without a route table among those failing (they fail for every C of their prefix)."""
    index = snapshot.index
    hits, no_table = [], []
    for a_key in vnets:
        subnets = None
        for prefix, span in prefixes:
            remote, targets = _remote_targets(snapshot, a_key, span, memo)
            if not targets:
                continue
            if subnets is None:
                subnets = _subnets_by_vnet(snapshot, nsg, memo).get(a_key, ())
            gaps = []
            for subnet, table_key in subnets:
                gap = _uncovered(snapshot, table_key, a_key, span, remote, memo)
                if gap:
                    gaps.append((subnet, gap))
            if not gaps:
                continue  # every subnet routes all of it to an appliance or gateway
            # C fails where a subnet's gap (inside `remote`) meets C's space
            gap_space = union(gap for _, gap in gaps)
            found = [_Hit(a_key, c, prefix, gaps) for c in targets
                     if overlaps(gap_space, index.address_space(c))]
            if found:
                hits += found
                no_table += [subnet.name for subnet, _ in gaps if not subnet.route_table_id]
    return hits, no_table


@rule.check
def check(snapshot):
    index = snapshot.index
    memo = _Memo()
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
            hits, no_table = _hits(snapshot, nsg, vnets, prefixes, memo)
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
