"""TRANS002 forwarded-traffic-not-allowed."""

from collections import defaultdict

from auditor.analysis.addresses import BlockIndex, IntervalSet, describe_space, interval
from auditor.analysis.routing import effective_routes, next_hop, peered_by_address
from auditor.analysis.wording import name_list
from auditor.engine.rule import Rule
from auditor.model.ids import norm_id

LIMIT = 50  # routes listed in evidence per peering

rule = Rule(
    id="TRANS002",
    slug="forwarded-traffic-not-allowed",
    title="Peering refuses traffic forwarded by the hub appliance",
    severity="high",
    reads=("virtualNetworks", "routeTables"),
    controls=("NS-3", "ALZ-NET"),
    flags=(
        "A route in VNet A sends VNet C's range to a virtual appliance IP inside VNet H, peered with A; C is "
        "peered with H, and C's peering to H has allowForwardedTraffic false."
    ),
    rationale=(
        "Spoke-to-spoke traffic through a hub firewall arrives in C from H with a source address from A, "
        "not from H. C's peering to H drops such forwarded traffic unless allowForwardedTraffic is set on it, "
        "so the route, the firewall rules and the NSGs all look right and nothing gets through."
    ),
    remediation=(
        "Set allowForwardedTraffic on C's peering to H (az network vnet peering update --vnet-name C "
        "--name C-to-H --set allowForwardedTraffic=true). Do the same on A's peering to H for the return path."
    ),
    docs="https://learn.microsoft.com/azure/virtual-network/virtual-network-manage-peering#create-a-peering",
    example=(
        "spoke1 routes 10.2.0.0/16 to the hub firewall 10.0.1.4; spoke2 (10.2.0.0/16) is peered with hub and "
        "spoke2-to-hub has allowForwardedTraffic false -> spoke2-to-hub is flagged.\n"
        "With allowForwardedTraffic true on spoke2-to-hub it passes."
    ),
    decisions=(
        "The route must win for part of C's space by longest-prefix match in A (a 0.0.0.0/0 route loses to "
        "the system route of a VNet A is peered with directly; a more specific user route sending C elsewhere "
        "takes those addresses). The appliance must be in a VNet H peered with A and different from A; C is "
        "any other VNet peered with H, including one also peered with A. One finding per C-to-H peering, "
        "listing every route and VNet that sends traffic through it. The return path is judged by the same "
        "rule from the other side: a route in C sending A's range to the appliance flags A's peering to H; a "
        "missing return route is not this rule's concern. An appliance that source-NATs makes the traffic "
        "non-forwarded; the snapshot cannot tell, so the finding stands (waive it if so)."
    ),
)


def _blocked_peers(snapshot, hub_key, cache) -> tuple[dict, BlockIndex]:
    """VNets peered with H whose peering to H refuses forwarded traffic -> that peering; and
    those VNets indexed by address space."""
    if hub_key not in cache:
        index = snapshot.index
        out = {}
        for c in sorted(index.peered_vnets(hub_key)):
            peering = index.peering_between(c, hub_key)
            if peering is not None and not peering.allow_forwarded_traffic:
                out[c] = peering
        cache[hub_key] = (out, BlockIndex((c, index.address_space(c)) for c in out))
    return cache[hub_key]


def _hub_of(snapshot, a_key, ip) -> str | None:
    """The first VNet peered with A (by id) whose space holds the next-hop IP."""
    span = interval(ip)
    found = peered_by_address(snapshot, a_key).overlapping(IntervalSet([(span[0], span[0])])) if span else ()
    return min(found, default=None)


@rule.check
def check(snapshot):
    index = snapshot.index
    blocked_cache: dict = {}
    # H -> C -> (VNet A, route table, route, its addresses) of each route sending traffic through C's peering
    # to H; a hub's default route can reach hundreds of such peerings, so entries stay small until listed
    hits: defaultdict[str, defaultdict[str, list[tuple]]] = defaultdict(lambda: defaultdict(list))
    for table in snapshot.route_tables:
        if not any(next_hop(r) == "virtualappliance" and r.next_hop_ip_address for r in table.routes):
            continue
        for a_key in index.vnets_of(table.id):
            for route, space in effective_routes(snapshot, table, a_key):
                ip = route.next_hop_ip_address
                if next_hop(route) != "virtualappliance" or not ip or not space:
                    continue
                hub_key = _hub_of(snapshot, a_key, ip)
                if hub_key is None:
                    continue
                _, by_address = _blocked_peers(snapshot, hub_key, blocked_cache)
                entry = (index.vnets[a_key], table, route, space)  # one per route, shared by its peerings
                through = hits[hub_key]
                for c_key in by_address.overlapping(space) - {a_key}:
                    through[c_key].append(entry)
    # by C, then H; each peering's routes are in table order already
    for c_key, hub_key in sorted((c_key, hub_key) for hub_key, through in hits.items() for c_key in through):
        peering = blocked_cache[hub_key][0][c_key]
        yield _finding(index, peering, index.vnets[c_key], index.vnets[hub_key], hits[hub_key][c_key])


def _finding(index, peering, c, hub, found: list[tuple]):
    listed = found[:LIMIT]  # only listed routes are described
    c_space = index.address_space(c.key)
    whole_c = describe_space(c_space)  # what most routes send: a default route takes all of C
    routes = [{
        "vnet": a.name, "route_table": table.name, "route": route.name, "address_prefix": route.address_prefix,
        "next_hop_ip_address": route.next_hop_ip_address,
        "addresses": whole_c if space.covers(c_space) else describe_space(space.intersection(c_space)),
    } for a, table, route, space in listed]
    first = routes[0]
    others = name_list(a.name for a, _, _, _ in found[1:])
    more = f" (and {len(found) - 1} more routes from VNet {others})" if len(found) > 1 else ""
    return rule.finding(
        resource_id=peering.id,
        related_ids=[c.id, hub.id, *(a.id for a, _, _, _ in listed), *(route.id for _, _, route, _ in listed)],
        fingerprint_ids=[norm_id(peering.id)],
        message=(
            f"Peering {peering.name} from VNet {c.name} to {hub.name} has allowForwardedTraffic false, but route "
            f"{first['route']} ({first['address_prefix']}) in route table {first['route_table']} of VNet "
            f"{first['vnet']} sends {first['addresses']} of {c.name} to the appliance "
            f"{first['next_hop_ip_address']} in {hub.name}{more}: the forwarded traffic is dropped when it enters "
            f"{c.name}."
        ),
        evidence={
            "allow_forwarded_traffic": peering.allow_forwarded_traffic,
            "hub_vnet": hub.name,
            "routes": routes,
            "route_count": len(found),
        },
    )
