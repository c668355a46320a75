"""TRANS003 next-hop-unreachable."""

from auditor.analysis.addresses import IntervalSet, ip_in
from auditor.analysis.routing import (
    connected_vnets,
    next_hop,
    vnets_overlapping_in_component,
)
from auditor.analysis.wording import name_list
from auditor.engine.rule import Rule
from auditor.model.ids import norm_id

rule = Rule(
    id="TRANS003",
    slug="next-hop-unreachable",
    title="Virtual appliance next hop outside the VNet and its peers",
    severity="high",
    reads=("virtualNetworks", "routeTables"),
    controls=("NS-3", "ALZ-NET"),
    flags=(
        "A route with next hop VirtualAppliance whose next-hop IP lies neither in the route table's VNet "
        "nor in a VNet peered with it."
    ),
    rationale=(
        "Azure forwards to a virtual appliance only when its IP is in the subnet's own VNet or in a directly "
        "peered VNet. Any other address (a VNet two peering hops away, an on-premises or a stale IP) makes the "
        "route Invalid and the traffic it attracts is dropped."
    ),
    remediation=(
        "Point the route at the appliance's private IP (or the internal load balancer frontend) in the hub that "
        "this VNet is peered with, or peer the VNet with the VNet that hosts the appliance."
    ),
    docs="https://learn.microsoft.com/azure/virtual-network/virtual-networks-udr-overview#next-hop-types-across-azure-tools",
    example=(
        "spoke1 is peered with hub (10.0.0.0/16) only; route default 0.0.0.0/0 -> VirtualAppliance 10.9.0.4 "
        "(in spoke9, not peered) -> flagged.\n"
        "Next hop 10.0.1.4 (the firewall in hub) passes."
    ),
    decisions=(
        "Judged per VNet of the route table; one finding per route names every VNet that cannot reach the IP. "
        "Unassociated route tables are skipped (they route nothing yet). A peering counts when it is Connected "
        "on both sides, even with allowVirtualNetworkAccess false: that flag only changes the VirtualNetwork "
        "service tag, routing still works. A Connected peering to a VNet outside the snapshot counts with its "
        "recorded remote address space. IPs reached only through a VPN/ExpressRoute gateway are flagged. "
        "A VirtualAppliance route without a next-hop IP is flagged too. VNets reached without a peering "
        "of their own count like peered ones (connected to one Standard Virtual WAN hub or virtual WAN, "
        "static members of one AVNM connected group): the snapshot cannot tell whether Azure accepts such "
        "a next hop, so no finding."
    ),
)


def _reachable_space(snapshot, vnet_key) -> IntervalSet:
    index = snapshot.index
    spans = list(index.address_space(vnet_key))
    for other in connected_vnets(snapshot, vnet_key):
        spans += list(index.address_space(other))
    for peering in index.vnets[vnet_key].peerings:
        if peering.state == "connected" and index.remote_vnet(peering) is None:
            spans += list(IntervalSet.of(peering.remote_address_space))
    return IntervalSet(spans)


@rule.check
def check(snapshot):
    index = snapshot.index
    spaces: dict[str, IntervalSet] = {}
    for table in snapshot.route_tables:
        routes = [r for r in table.routes if next_hop(r) == "virtualappliance"]
        vnets = index.vnets_of(table.id) if routes else []
        for route in routes:
            ip = (route.next_hop_ip_address or "").strip()
            missed = []
            for v in vnets:
                if v not in spaces:
                    spaces[v] = _reachable_space(snapshot, v)
                if not ip or not ip_in(ip, spaces[v]):
                    missed.append(index.vnets[v])
            if not missed:
                continue
            names = name_list(v.name for v in missed)
            where = (f"next-hop IP {ip} lies in neither VNet {names} nor a VNet peered with it" if ip
                     else "has no next-hop IP address")
            owners = sorted(vnets_overlapping_in_component(snapshot, missed[0].key, IntervalSet.of([ip]))) if ip else []
            host = index.vnets[owners[0]] if owners else None
            hosted = f" ({ip} belongs to VNet {host.name}, reachable only over several peering hops)" if host is not None else ""
            yield rule.finding(
                resource_id=route.id,
                related_ids=[table.id, *(v.id for v in missed), *([host.id] if host is not None else [])],
                fingerprint_ids=[norm_id(route.id)],
                message=(
                    f"Route {route.name} ({route.address_prefix}, next hop VirtualAppliance) in route table {table.name}: "
                    f"{where}{hosted}; the route is Invalid and its traffic is dropped."
                ),
                evidence={
                    "route_table": table.name, "address_prefix": route.address_prefix, "next_hop_ip_address": ip or None,
                    "vnets": [v.name for v in missed], "ip_owner_vnet": host.name if host is not None else None,
                },
            )
