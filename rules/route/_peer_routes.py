"""Shared by ROUTE001 and ROUTE003: routes of one next hop type that win for part of a peered VNet's space."""

from auditor.analysis.addresses import describe_space
from auditor.analysis.routing import effective_routes, next_hop, peers_overlapping
from auditor.analysis.wording import name_list
from auditor.model.ids import norm_id

LIMIT = 50  # peers listed in evidence per route


def peer_route_findings(rule, snapshot, hop: str, consequence: str):
    index = snapshot.index
    for table in snapshot.route_tables:
        if not any(next_hop(r) == hop for r in table.routes):
            continue
        hits: dict[str, list[dict]] = {}  # route key -> affected (VNet, subnets, peer, addresses)
        routes = {}
        for vnet_key in index.vnets_of(table.id):
            vnet = index.vnets[vnet_key]
            subnets = [index.subnets[s].name for s in index.subnets_of(table.id) if index.vnet_of_subnet[s].key == vnet_key]
            for route, space in effective_routes(snapshot, table, vnet_key):
                if next_hop(route) != hop or not space:
                    continue
                for peer_name, peer_id, peer_space in peers_overlapping(snapshot, vnet_key, space):
                    routes[route.key] = route
                    hits.setdefault(route.key, []).append({
                        "vnet": vnet.name, "vnet_id": vnet.id, "subnets": subnets, "peer": peer_name,
                        "peer_id": peer_id, "addresses": describe_space(space.intersection(peer_space)),
                    })
        for key, affected in hits.items():
            route = routes[key]
            first = affected[0]
            vnets = name_list(a["vnet"] for a in affected)
            peers = name_list(a["peer"] for a in affected)
            yield rule.finding(
                resource_id=route.id,
                related_ids=[table.id, *(a["vnet_id"] for a in affected[:LIMIT]), *(a["peer_id"] for a in affected[:LIMIT])],
                fingerprint_ids=[norm_id(route.id)],
                message=(
                    f"Route {route.name} ({route.address_prefix}, next hop {route.next_hop_type}) in route table {table.name} "
                    f"{consequence} from subnets {name_list(first['subnets'])} of VNet {vnets} to peered VNet {peers}: "
                    f"it is the longest match for {first['addresses']} of {first['peer']}"
                    + (f" ({len(affected)} VNet/peer pairs)" if len(affected) > 1 else "") + "."
                ),
                evidence={
                    "route_table": table.name,
                    "address_prefix": route.address_prefix,
                    "next_hop_type": route.next_hop_type,
                    "affected": affected[:LIMIT],
                    "affected_count": len(affected),
                },
            )
