"""Reachability: peering hops, paths without a peering (Virtual WAN hubs, AVNM connected groups),
routed domains for overlap, VNets by address within a peering component, and which
user-defined route wins for which addresses (longest-prefix match, with system routes).

All results are computed once per snapshot and kept on its index.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, NamedTuple

from auditor.analysis.addresses import BlockIndex, IntervalSet, interval, span_minus
from auditor.analysis.hubs import hub_of, is_hub_connection, wan_hubs
from auditor.model.ids import name_of, norm_id, subscription_of

if TYPE_CHECKING:
    from auditor.model.snapshot import Route, RouteTable, Snapshot

#: Next hops that hand traffic on to an appliance or a gateway (transit is possible).
TRANSIT_NEXT_HOPS = frozenset({"virtualappliance", "virtualnetworkgateway"})


# -- paths without a peering: Virtual WAN hubs, AVNM connected groups ------------------
class PathGroup(NamedTuple):
    """VNets joined by something other than a peering of their own.

    kind: "virtual-wan" (a Virtual WAN hub, or the Standard hubs of one virtual WAN) or "connected-group"
    (AVNM: a Mesh, or a HubAndSpoke group with direct connectivity). transit: "yes" when the members
    reach each other, "no" (a Basic hub routes only to and from its branches) or "unknown"."""

    key: str
    kind: str
    label: str
    transit: str
    resource_id: str
    members: frozenset[str]
    hub_of: dict  # Virtual WAN: member VNet -> the name of its hub


def path_groups(snapshot: Snapshot) -> list[PathGroup]:
    """Every path group of the snapshot, computed once."""
    memo = snapshot.index.memo("reach.path_groups")
    if None not in memo:
        memo[None] = [*_wan_groups(snapshot), *_connected_groups(snapshot)]
    return memo[None]


def _wan_groups(snapshot: Snapshot) -> list[PathGroup]:
    out = []
    for key, label, transit, hubs in wan_hubs(snapshot):
        hub_of = {norm_id(c.remote_virtual_network_id): h.name for h in hubs
                  for c in h.virtual_network_connections if c.remote_virtual_network_id}
        out.append(PathGroup(key, "virtual-wan", label, transit, hubs[0].id, frozenset(hub_of), hub_of))
    known = {k for g in out for k in g.members}
    unseen: dict[str, list[str]] = {}  # hubs the input lacks, by the managed VNet their spokes peer with
    for vnet in snapshot.virtual_networks:
        if vnet.key not in known:
            for peering in vnet.peerings:
                if is_hub_connection(peering) and peering.remote_virtual_network_id:
                    unseen.setdefault(peering.remote_virtual_network_id, []).append(vnet.key)
    for remote, members in unseen.items():
        name = name_of(remote)
        anchor = snapshot.index.vnets[min(members)].id  # the hub is not in the input: its first VNet
        out.append(PathGroup(f"hub:{norm_id(remote)}", "virtual-wan", f"Virtual WAN hub in {name}", "unknown",
                             anchor, frozenset(members), dict.fromkeys(members, f"in managed VNet {name}")))
    return out


def _connected_items(snapshot: Snapshot):
    """(network manager, configuration, its network groups forming one connected group, global) for each
    connected group a connectivity configuration declares: a Mesh joins all its groups into one; a
    HubAndSpoke gives one per group with direct connectivity (learn.microsoft.com/azure/virtual-network-
    manager/concept-connectivity-configuration)."""
    for nm in snapshot.network_managers:
        for config in nm.connectivity_configurations:
            topology = (config.connectivity_topology or "").lower()
            items = config.applies_to_groups
            if topology == "mesh" and items:
                yield nm, config, [i.network_group_id for i in items], config.is_global
            elif topology == "hubandspoke":
                for item in items:
                    if (item.group_connectivity or "").lower() == "directlyconnected":
                        yield nm, config, [item.network_group_id], item.is_global or config.is_global


def _connected_groups(snapshot: Snapshot) -> list[PathGroup]:
    """Static members only, split by region unless the group is global. Subnet groups are left out."""
    index = snapshot.index
    out = []
    for nm, config, group_ids, is_global in _connected_items(snapshot):
        groups = [g for gid in group_ids if (g := index.network_groups.get(norm_id(gid))) is not None
                  and (g.member_type or "VirtualNetwork").lower() == "virtualnetwork"]
        by_region: dict[str, set[str]] = {}
        for group in groups:
            for member in group.static_members:
                key = norm_id(member.resource_id)
                vnet = index.vnets.get(key)
                location = (vnet.location if vnet else None) or member.region or ""
                region = "*" if is_global else location.lower()
                by_region.setdefault(region, set()).add(key)
        names = " and ".join(g.name for g in groups)
        for region, members in sorted(by_region.items()):
            where = "" if region == "*" else f" in {region}"
            label = f"connected group {names}{where} (network manager {nm.name}, configuration {config.name})"
            out.append(PathGroup(f"avnm:{config.key}:{','.join(sorted(g.key for g in groups))}:{region}",
                                 "connected-group", label, "yes", config.id, frozenset(members), {}))
    return out


def hubs_without_transit(snapshot: Snapshot, vnet_id: str) -> list[PathGroup]:
    """The Basic Virtual WAN hubs a VNet is connected to: its fellow members do not reach it through them."""
    memo = snapshot.index.memo("reach.no_transit")
    if None not in memo:
        memo[None] = []
        for group in path_groups(snapshot):
            if group.transit == "no":
                for member in group.members:
                    memo.setdefault(member, []).append(group)
    return memo.get(norm_id(vnet_id), [])


def may_be_linked(snapshot: Snapshot, a: str, c: str) -> bool:
    """Some connected group could hold both VNets through dynamic membership (Azure Policy), which the
    snapshot cannot read: a group with no static members (its members come from a policy, or it is empty)
    whose network manager's scope holds both (and one region, unless global). A group with static members
    is taken to hold those: mixing both kinds in one group is possible but the input cannot show it."""
    pa = possible_groups(snapshot, a)
    return bool(pa) and not pa.isdisjoint(possible_groups(snapshot, c))


def possible_groups(snapshot: Snapshot, vnet_id: str) -> frozenset[str]:
    """Keys of the connected groups a VNet could be a dynamic member of (see `may_be_linked`)."""
    memo = snapshot.index.memo("reach.possible_groups")
    if None not in memo:
        index = snapshot.index
        memo[None] = [(nm.scope_management_groups, {s.rsplit("/", 1)[-1].lower() for s in nm.scope_subscriptions},
                       f"{config.key}:{','.join(sorted(map(norm_id, gids)))}", is_global)
                      for nm, config, gids, is_global in _connected_items(snapshot)
                      if not any(index.static_members(g) for g in gids)]
    if not memo[None]:
        return frozenset()  # no group has dynamic members: nothing to look up per VNet
    key = norm_id(vnet_id)
    if key not in memo:
        vnet = snapshot.index.vnets.get(key)
        sub = (subscription_of(key) or "").lower()
        region = ((vnet.location if vnet else None) or "").lower()
        memo[key] = frozenset(f"{item}:{'*' if is_global else region}"
                              for groups, subs, item, is_global in memo[None] if groups or sub in subs)
    return memo[key]


# -- peering graph ---------------------------------------------------------------
def connected_vnets(snapshot: Snapshot, vnet_id: str) -> set[str]:
    """VNets linked to this one by a peering Connected on both sides, whatever
    allowVirtualNetworkAccess says (that flag only changes the VirtualNetwork tag;
    routing still works), or by a path group with transit (a Standard Virtual WAN, an AVNM
    connected group's static members). `index.peered_vnets` is the stricter, peered-only set."""
    graph = snapshot.index.memo("reach.connected")
    if not graph and snapshot.virtual_networks:
        index = snapshot.index
        graph[None] = set()
        for vnet in snapshot.virtual_networks:
            for peering in vnet.peerings:
                back = index.reverse_peering(peering)
                if peering.state == "connected" and back is not None and back.state == "connected":
                    graph.setdefault(vnet.key, set()).add(norm_id(peering.remote_virtual_network_id))
        for group in path_groups(snapshot):
            if group.transit == "yes" and len(group.members) > 1:
                for member in group.members:
                    graph.setdefault(member, set()).update(group.members - {member})
    return graph.get(norm_id(vnet_id), set())


def components(snapshot: Snapshot) -> dict[str, int]:
    """VNet -> id of its component in the peered graph (`index.peered_vnets`)."""
    memo = snapshot.index.memo("reach.components")
    if not memo:
        index = snapshot.index
        comp: dict[str, int] = {}
        cid = 0
        for start in index.vnets:
            if start in comp:
                continue
            cid += 1
            comp[start] = cid
            queue = deque([start])
            while queue:
                for nxt in index.peered_vnets(queue.popleft()):
                    if nxt not in comp:
                        comp[nxt] = cid
                        queue.append(nxt)
        memo["comp"] = comp
    return memo["comp"]


def appliance_components(snapshot: Snapshot) -> set[int]:
    """Components (`components`) where some VNet routes to a virtual appliance in a VNet it is peered with:
    hub appliances forward between the hubs' VNets, so the component is one routed network."""
    memo = snapshot.index.memo("reach.appliance_components")
    if None not in memo:
        index = snapshot.index
        comp = components(snapshot)
        hops: dict[str, list[int]] = {}  # route table -> the addresses of its appliance next hops
        for table in snapshot.route_tables:
            hops[table.key] = [span[0] for r in table.routes if next_hop(r) == "virtualappliance"
                               and (span := interval((r.next_hop_ip_address or "").strip())) is not None]
        found: set[int] = set()
        for vnet in snapshot.virtual_networks:
            if comp[vnet.key] in found or not index.peered_vnets(vnet.key):
                continue
            ips = {ip for s in vnet.subnets if s.route_table_id for ip in hops.get(norm_id(s.route_table_id), ())}
            if ips and any(_holds(index.vnets[p].address_prefixes, ips) for p in index.peered_vnets(vnet.key)):
                found.add(comp[vnet.key])
        memo[None] = found
    return memo[None]


def _holds(prefixes: list[str], addresses: set[int]) -> bool:
    spans = [span for p in prefixes if (span := interval(p)) is not None]
    return any(lo <= ip <= hi for lo, hi in spans for ip in addresses)


def routed_domains(snapshot: Snapshot) -> dict[str, int]:
    """VNet -> its routed domain, for overlap: the VNets of one path group (a Basic hub too: it routes each
    of them to its branches), and a whole component where hub appliances route (`appliance_components`).
    VNets elsewhere are domains of their own (peers and their peers are the overlap rules' own concern)."""
    memo = snapshot.index.memo("reach.domains")
    if None not in memo:
        comp = components(snapshot)
        parent = {key: key for key in comp}

        def root(key: str) -> str:
            while parent[key] != key:
                parent[key] = parent[parent[key]]
                key = parent[key]
            return key

        def join(keys) -> None:
            keys = [k for k in keys if k in parent]
            for k in keys[1:]:
                a, b = root(keys[0]), root(k)
                if a != b:
                    parent[max(a, b)] = min(a, b)

        for group in path_groups(snapshot):
            join(sorted(group.members))
        routed = appliance_components(snapshot)
        by_comp: dict[int, list[str]] = {}
        for key, cid in comp.items():
            if cid in routed:
                by_comp.setdefault(cid, []).append(key)
        for keys in by_comp.values():
            join(keys)
        ids: dict[str, int] = {}
        memo[None] = {key: ids.setdefault(root(key), len(ids)) for key in sorted(parent)}
    return memo[None]


def is_multi_hop(snapshot: Snapshot, a: str, c: str) -> bool:
    """C is reachable from A over two or more peering hops, and not peered with A."""
    a, c = norm_id(a), norm_id(c)
    comp = components(snapshot)
    return a != c and a in comp and comp.get(c) == comp[a] and c not in snapshot.index.peered_vnets(a)


def multi_hop_vnets(snapshot: Snapshot, vnet_id: str) -> dict[str, int]:
    """VNets reachable over >= 2 peering hops (BFS over `index.peered_vnets`) -> hop count."""
    index = snapshot.index
    start = norm_id(vnet_id)
    dist = {start: 0}
    queue = deque([start])
    while queue:
        cur = queue.popleft()
        for nxt in index.peered_vnets(cur):
            if nxt not in dist:
                dist[nxt] = dist[cur] + 1
                queue.append(nxt)
    return {k: d for k, d in dist.items() if d >= 2}


def peering_path(snapshot: Snapshot, a: str, c: str) -> list[str] | None:
    """Shortest chain of peered VNets from A to C (normalized ids), or None.

    Of several shortest chains, the smallest by id at the first hop where they differ: what a
    breadth-first search visiting neighbours in sorted order finds, so every run gives the same.
    A VNet with a single peer (a spoke) can only be left through that peer, so the searches run
    over VNets with several peers (hubs) only: one per source hub, kept for the snapshot. A
    search per spoke would make a hub-and-spoke estate quadratic."""
    index = snapshot.index
    a, c = norm_id(a), norm_id(c)
    head: list[str] = []
    tail: list[str] = []
    if a != c and (hub := _sole_peer(index, a)) is not None:
        head, a = [a], hub
    if a != c and (hub := _sole_peer(index, c)) is not None:
        tail, c = [c], hub
    if a == c:
        return [*head, a, *tail]
    prev = _hub_search(snapshot, a, c)
    if c not in prev:
        return None
    path = [c]
    while prev[path[-1]] is not None:
        path.append(prev[path[-1]])
    return [*head, *path[::-1], *tail]


def _sole_peer(index, key: str) -> str | None:
    peers = index.peered_vnets(key)
    return next(iter(peers)) if len(peers) == 1 else None


def _hub_search(snapshot: Snapshot, a: str, c: str) -> dict[str, str | None]:
    """Breadth-first search from A over VNets with two or more peers (a shortest chain between
    two of them never passes through a spoke), run only until it reaches C and resumed for a
    later, farther C: VNet -> the VNet it was reached from."""
    memo = snapshot.index.memo("reach.bfs")
    if not memo:
        index = snapshot.index
        hubs = {k for k in index.vnets if len(index.peered_vnets(k)) > 1}
        memo[None] = {k: sorted(p for p in index.peered_vnets(k) if p in hubs) for k in hubs}
    hub_peers = memo[None]
    if a not in memo:
        memo[a] = ({a: None}, deque([a]))
    prev, queue = memo[a]
    while queue and c not in prev:
        cur = queue.popleft()
        for nxt in hub_peers.get(cur, ()):
            if nxt not in prev:
                prev[nxt] = cur
                queue.append(nxt)
    return prev


def peer_spaces(snapshot: Snapshot, vnet_id: str) -> list[tuple[str, str, IntervalSet]]:
    """(name, id, address space) of each VNet peered with this one (`index.peered_vnets`) or joined
    to it by a Standard Virtual WAN hub or an AVNM connected group, plus Connected, access-allowed
    peerings to VNets outside the snapshot (their recorded remote space: the other side cannot be
    checked, this side routes to it); a Virtual WAN hub's managed VNet is named as the hub."""
    memo = snapshot.index.memo("reach.peer_spaces")
    key = norm_id(vnet_id)
    if key not in memo:
        index = snapshot.index
        joined = {m for g in path_groups(snapshot) if g.transit == "yes" and key in g.members for m in g.members}
        keys = sorted((index.peered_vnets(key) | joined) - {key})
        out = [(index.vnets[p].name, index.vnets[p].id, index.address_space(p)) for p in keys if p in index.vnets]
        vnet = index.vnets.get(key)
        for peering in vnet.peerings if vnet else []:
            if peering.state == "connected" and peering.allow_virtual_network_access and index.remote_vnet(peering) is None:
                remote = peering.remote_virtual_network_id or ""
                out.append((_remote_name(snapshot, peering), remote, IntervalSet.of(peering.remote_address_space)))
        memo[key] = out
    return memo[key]


def _remote_name(snapshot: Snapshot, peering) -> str:
    """A remote VNet outside the snapshot by its name; a Virtual WAN hub's managed VNet as the hub."""
    if not is_hub_connection(peering):
        return name_of(peering.remote_virtual_network_id)
    found = hub_of(snapshot, peering)
    return f"Virtual WAN hub {found[0].name}" if found else f"Virtual WAN hub ({name_of(peering.remote_virtual_network_id)})"


def peers_overlapping(snapshot: Snapshot, vnet_id: str, space: IntervalSet) -> list[tuple[str, str, IntervalSet]]:
    """The entries of `peer_spaces` whose space overlaps `space`, in the same order."""
    memo = snapshot.index.memo("reach.peer_spaces_by_address")
    key = norm_id(vnet_id)
    peers = peer_spaces(snapshot, key)
    if key not in memo:
        memo[key] = BlockIndex((i, s) for i, (_, _, s) in enumerate(peers))
    return [peers[i] for i in sorted(memo[key].overlapping(space))]


def peered_by_address(snapshot: Snapshot, vnet_id: str) -> BlockIndex:
    """The VNets peered with this one (`index.peered_vnets`), indexed by address space."""
    memo = snapshot.index.memo("reach.peered_by_address")
    key = norm_id(vnet_id)
    if key not in memo:
        index = snapshot.index
        memo[key] = BlockIndex((p, index.address_space(p)) for p in index.peered_vnets(key))
    return memo[key]


# -- VNets by address, per component -------------------------------------------------
def vnets_overlapping_in_component(snapshot: Snapshot, vnet_id: str, space: IntervalSet) -> set[str]:
    """VNets in the same peered component as `vnet_id` whose address space overlaps `space`."""
    table = component_index(snapshot, vnet_id)
    return table.overlapping(space) if table is not None else set()


def component_index(snapshot: Snapshot, vnet_id: str) -> BlockIndex | None:
    """The VNets of `vnet_id`'s peered component indexed by address space; None for a VNet
    the snapshot does not hold."""
    cid = components(snapshot).get(norm_id(vnet_id))
    return _component_tables(snapshot).get(cid) if cid is not None else None


def _component_tables(snapshot: Snapshot) -> dict[int | None, BlockIndex | None]:
    memo = snapshot.index.memo("reach.by_component")
    if not memo and snapshot.virtual_networks:
        index = snapshot.index
        comp = components(snapshot)
        rows: dict[int, list[tuple[str, IntervalSet]]] = {}
        for key in index.vnets:
            rows.setdefault(comp[key], []).append((key, index.address_space(key)))
        memo[None] = None
        for cid, items in rows.items():
            memo[cid] = BlockIndex(items)
    return memo


# -- routes ------------------------------------------------------------------------
def system_prefixes(snapshot: Snapshot, vnet_id: str) -> list[tuple[int, int]]:
    """The VNet's own prefixes and those of VNets Connected to it by peering (system routes)."""
    index = snapshot.index
    key = norm_id(vnet_id)
    spans = []
    vnet = index.vnets.get(key)
    others = [index.vnets[v] for v in connected_vnets(snapshot, key) if v in index.vnets]
    for v in ([vnet] if vnet else []) + others:
        spans += [s for p in v.address_prefixes if (s := interval(p)) is not None]
    for peering in vnet.peerings if vnet else []:
        if peering.state == "connected" and index.remote_vnet(peering) is None:
            spans += [s for p in peering.remote_address_space if (s := interval(p)) is not None]
    return sorted(set(spans))


def effective_routes(snapshot: Snapshot, table: RouteTable, vnet_id: str) -> list[tuple[Route, IntervalSet]]:
    """Each route of the table with the addresses it actually wins for, in subnets of
    `vnet_id`: its prefix minus more specific routes of the table and more specific
    system routes (a route beats a system route of the same length)."""
    memo = snapshot.index.memo("reach.effective")
    key = (table.key, norm_id(vnet_id))
    if key in memo:
        return memo[key]
    parsed = [(r, span) for r in table.routes if (span := interval(r.address_prefix)) is not None]
    spans = {span for _, span in parsed}
    spans.update(system_prefixes(snapshot, vnet_id))
    children = nested_children(spans)
    out = [(route, span_minus(span, children.get(span, ()))) for route, span in parsed]
    memo[key] = out
    return out


def nested_children(spans: set[tuple[int, int]]) -> dict[tuple[int, int], list[tuple[int, int]]]:
    """Span -> the largest spans strictly inside it, for spans that nest or are disjoint (CIDRs
    do): one sweep by start, widest first, keeping the chain of spans still open. What a span
    minus every more specific span leaves is that span minus its children."""
    children: dict[tuple[int, int], list[tuple[int, int]]] = {}
    open_: list[tuple[int, int]] = []
    for start, neg_end in sorted((s, -e) for s, e in spans):
        span = (start, -neg_end)
        while open_ and open_[-1][1] < start:
            open_.pop()
        if open_:
            children.setdefault(open_[-1], []).append(span)
        open_.append(span)
    return children


def next_hop(route: Route) -> str:
    return (route.next_hop_type or "").lower()


__all__ = [
    "PathGroup", "TRANSIT_NEXT_HOPS", "appliance_components", "component_index", "components", "connected_vnets",
    "effective_routes", "hubs_without_transit", "is_multi_hop", "may_be_linked", "multi_hop_vnets", "nested_children", "next_hop",
    "path_groups", "peer_spaces", "peered_by_address", "peering_path", "peers_overlapping", "possible_groups",
    "routed_domains", "system_prefixes", "vnets_overlapping_in_component",
]
