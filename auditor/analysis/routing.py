"""Reachability: peering hops, VNets by address within a peering component, and which
user-defined route wins for which addresses (longest-prefix match, with system routes).

All results are computed once per snapshot and kept on its index.
"""

from __future__ import annotations

import bisect
from collections import deque
from typing import TYPE_CHECKING

from auditor.analysis.addresses import IntervalSet, interval, subtract
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

    One breadth-first search per source VNet, kept for the snapshot; neighbours are
    visited in sorted order so the same path comes back every run."""
    memo = snapshot.index.memo("reach.bfs")
    a, c = norm_id(a), norm_id(c)
    if a not in memo:
        index = snapshot.index
        prev: dict[str, str | None] = {a: None}
        queue = deque([a])
        while queue:
            cur = queue.popleft()
            for nxt in sorted(index.peered_vnets(cur)):
                if nxt not in prev:
                    prev[nxt] = cur
                    queue.append(nxt)
        memo[a] = prev
    prev = memo[a]
    if c not in prev:
        return None
    path = [c]
    while prev[path[-1]] is not None:
        path.append(prev[path[-1]])
    return path[::-1]


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


# -- VNets by address, per component -------------------------------------------------
def vnets_overlapping_in_component(snapshot: Snapshot, vnet_id: str, space: IntervalSet) -> set[str]:
    """VNets in the same peered component as `vnet_id` whose address space overlaps `space`."""
    comp = components(snapshot)
    cid = comp.get(norm_id(vnet_id))
    if cid is None:
        return set()
    table = _component_tables(snapshot).get(cid)
    if table is None:
        return set()
    starts, ends, keys, maxsize = table
    found = set()
    for lo, hi in space:
        i = bisect.bisect_left(starts, lo - maxsize + 1)
        j = bisect.bisect_right(starts, hi)
        for k in range(i, j):
            if ends[k] >= lo:
                found.add(keys[k])
    return found


def _component_tables(snapshot: Snapshot) -> dict[int, tuple[list[int], list[int], list[str], int]]:
    memo = snapshot.index.memo("reach.by_component")
    if not memo and snapshot.virtual_networks:
        index = snapshot.index
        comp = components(snapshot)
        rows: dict[int, list[tuple[int, int, str]]] = {}
        for key in index.vnets:
            for start, end in index.address_space(key):
                rows.setdefault(comp[key], []).append((start, end, key))
        memo[None] = None
        for cid, items in rows.items():
            items.sort()
            memo[cid] = ([s for s, _, _ in items], [e for _, e, _ in items], [k for _, _, k in items],
                         max(e - s + 1 for s, e, _ in items))
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
    system = system_prefixes(snapshot, vnet_id)
    sys_starts = [s for s, _ in system]
    parsed = [(r, span) for r in table.routes if (span := interval(r.address_prefix)) is not None]
    out = []
    for route, (lo, hi) in parsed:
        size = hi - lo + 1
        specific = [(s, e) for _, (s, e) in parsed if lo <= s and e <= hi and e - s + 1 < size]
        i, j = bisect.bisect_left(sys_starts, lo), bisect.bisect_right(sys_starts, hi)
        specific += [(s, e) for s, e in system[i:j] if e <= hi and e - s + 1 < size]
        out.append((route, subtract(IntervalSet([(lo, hi)]), IntervalSet(specific))))
    memo[key] = out
    return out


def next_hop(route: Route) -> str:
    return (route.next_hop_type or "").lower()


__all__ = [
    "TRANSIT_NEXT_HOPS", "components", "connected_vnets", "effective_routes", "is_multi_hop", "multi_hop_vnets",
    "next_hop", "peer_spaces", "peering_path", "system_prefixes", "vnets_overlapping_in_component",
]
