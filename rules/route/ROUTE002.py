"""ROUTE002 gateway-route-without-gateway."""

from auditor.analysis.routing import next_hop
from auditor.analysis.wording import name_list
from auditor.engine.rule import Rule
from auditor.model.ids import norm_id

rule = Rule(
    id="ROUTE002",
    slug="gateway-route-without-gateway",
    title="Route to a virtual network gateway in a VNet without one",
    severity="high",
    reads=("virtualNetworks", "routeTables", "virtualNetworkGateways"),
    flags=(
        "A user-defined route with next hop VirtualNetworkGateway in a VNet that has no VPN or ExpressRoute "
        "gateway of its own and no Connected peering with useRemoteGateways."
    ),
    rationale=(
        "Next hop VirtualNetworkGateway means the gateway the subnet's VNet uses. Without one, Azure drops "
        "the traffic (the route shows as Invalid in effective routes), typically after a gateway was "
        "removed or a spoke lost its useRemoteGateways peering."
    ),
    remediation=(
        "Set useRemoteGateways on the peering to the hub that has the gateway (with allowGatewayTransit on "
        "the hub side), deploy a gateway, or change the route's next hop to the firewall/NVA (VirtualAppliance)."
    ),
    docs="https://learn.microsoft.com/azure/virtual-network/virtual-networks-udr-overview#custom-routes",
    example=(
        "spoke1 has no gateway and its peering to hub has useRemoteGateways false; route to-onprem "
        "192.168.0.0/16 -> VirtualNetworkGateway -> flagged.\n"
        "The same route with spoke1-to-hub useRemoteGateways true (or a gateway in spoke1) passes."
    ),
    decisions=(
        "Judged per VNet of the route table; one finding per route names every VNet where it fails. "
        "Unassociated route tables are skipped. Only Connected peerings with useRemoteGateways count; whether "
        "the remote side really offers its gateway is GW001's question, not this rule's. Any VPN or "
        "ExpressRoute gateway counts as a gateway (the table's definition), although Azure honours this next "
        "hop only with a VPN gateway. Every route with this next hop is judged, even one shadowed by more "
        "specific routes."
    ),
)


def _uses_remote_gateway(vnet) -> bool:
    return any(p.use_remote_gateways and p.state == "connected" for p in vnet.peerings)


@rule.check
def check(snapshot):
    index = snapshot.index
    for table in snapshot.route_tables:
        routes = [r for r in table.routes if next_hop(r) == "virtualnetworkgateway"]
        if not routes:
            continue
        stranded = [
            index.vnets[v] for v in index.vnets_of(table.id)
            if not index.has_gateway(v) and not _uses_remote_gateway(index.vnets[v])
        ]
        if not stranded:
            continue
        for route in routes:
            details = [
                {"vnet": v.name, "peerings_with_use_remote_gateways": sorted(p.name for p in v.peerings if p.use_remote_gateways)}
                for v in stranded
            ]
            note = ""
            idle = [p for d in details for p in d["peerings_with_use_remote_gateways"]]
            if idle:
                note = f" (peering {name_list(idle)} sets useRemoteGateways but is not Connected)"
            yield rule.finding(
                resource_id=route.id,
                related_ids=[table.id, *(v.id for v in stranded)],
                fingerprint_ids=[norm_id(route.id)],
                message=(
                    f"Route {route.name} ({route.address_prefix}, next hop VirtualNetworkGateway) in route table "
                    f"{table.name} applies to VNet {name_list(v.name for v in stranded)}, which has no gateway and "
                    f"no Connected peering with useRemoteGateways{note}: the traffic is dropped."
                ),
                evidence={"route_table": table.name, "address_prefix": route.address_prefix, "next_hop_type": route.next_hop_type,
                          "vnets": details},
            )
