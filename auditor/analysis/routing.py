"""Reachability: peering hops, VNets by address within a peering component, and which
user-defined route wins for which addresses (longest-prefix match, with system routes).

All results are computed once per snapshot and kept on its index.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from auditor.analysis.addresses import BlockIndex, IntervalSet, interval, span_minus
from auditor.model.ids import norm_id

if TYPE_CHECKING:
    from auditor.model.snapshot import Route, RouteTable, Snapshot

#: Next hops that hand traffic on to an appliance or a gateway (transit is possible).
TRANSIT_NEXT_HOPS = frozenset({"virtualappliance", "virtualnetworkgateway"})


# -- peering graph ---------------------------------------------------------------
def connected_vnets(snapshot: Snapshot, vnet_id: str) -> set[str]:
    """VNets linked to this one by a peering Connected on both sides, whatever
    allowVirtualNetworkAccess says (that flag only changes the VirtualNetwork tag;
    routing still works). `index.peered_vnets` is the stricter, access-allowed set."""
    graph = snapshot.index.memo("reach.connected")
    if not graph and snapshot.virtual_networks:
        index = snapshot.index
        graph[None] = set()
        for vnet in snapshot.virtual_networks:
            for peering in vnet.peerings:
                back = index.reverse_peering(peering)
                if peering.state == "connected" and back is not None and back.state == "connected":
                    graph.setdefault(vnet.key, set()).add(norm_id(peering.remote_virtual_network_id))
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
    """(name, id, address space) of each VNet peered with this one (`index.peered_vnets`),
    plus Connected, access-allowed peerings to VNets outside the snapshot (their recorded
    remote space: the other side cannot be checked, this side routes to it)."""
    memo = snapshot.index.memo("reach.peer_spaces")
    key = norm_id(vnet_id)
    if key not in memo:
        index = snapshot.index
        out = [(index.vnets[p].name, index.vnets[p].id, index.address_space(p)) for p in sorted(index.peered_vnets(key))]
        vnet = index.vnets.get(key)
        for peering in vnet.peerings if vnet else []:
            if peering.state == "connected" and peering.allow_virtual_network_access and index.remote_vnet(peering) is None:
                remote = peering.remote_virtual_network_id or ""
                out.append((remote.rsplit("/", 1)[-1], remote, IntervalSet.of(peering.remote_address_space)))
        memo[key] = out
    return memo[key]


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
    comp = components(snapshot)
    cid = comp.get(norm_id(vnet_id))
    table = _component_tables(snapshot).get(cid) if cid is not None else None
    return table.overlapping(space) if table is not None else set()


def component_overlaps(snapshot: Snapshot, vnet_id: str, lo: int, hi: int) -> bool:
    """Some VNet in the same peered component as `vnet_id` has an address in [lo, hi]."""
    cid = components(snapshot).get(norm_id(vnet_id))
    table = _component_tables(snapshot).get(cid) if cid is not None else None
    return table is not None and table.overlaps(lo, hi)


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
    "TRANSIT_NEXT_HOPS", "component_overlaps", "components", "connected_vnets", "effective_routes", "is_multi_hop", "multi_hop_vnets",
    "nested_children", "next_hop", "peer_spaces", "peered_by_address", "peering_path", "peers_overlapping",
    "system_prefixes",
    "vnets_overlapping_in_component",
]
