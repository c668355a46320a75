"""ROUTE002 gateway-route-without-gateway."""

from auditor.analysis.gateways import gateway_evidence
from auditor.analysis.hubs import is_hub_connection
from auditor.analysis.routing import next_hop
from auditor.analysis.wording import name_list
from auditor.engine.rule import Rule
from auditor.model.ids import name_of, norm_id

rule = Rule(
    id="ROUTE002",
    slug="gateway-route-without-gateway",
    title="Route to a virtual network gateway in a VNet without one",
    severity="high",
    reads=("virtualNetworks", "routeTables", "virtualNetworkGateways"),
    controls=("NS-9", "ALZ-NET"),
    flags=(
        "A user-defined route with next hop VirtualNetworkGateway in a VNet that has no VPN or ExpressRoute "
        "gateway of its own and no Connected peering with useRemoteGateways, whose gateway (its own, or the "
        "remote one it uses) is an ExpressRoute gateway only, or whose useRemoteGateways peering reaches a "
        "VNet with only a Route Server."
    ),
    rationale=(
        "Next hop VirtualNetworkGateway means the gateway the subnet's VNet uses, and only a VPN gateway can "
        "be that next hop: ExpressRoute takes its routes from BGP. Without a VPN gateway Azure drops the "
        "traffic (the route shows as Invalid in effective routes), typically after a gateway was removed, a "
        "spoke lost its useRemoteGateways peering, or a VPN gateway was replaced by ExpressRoute."
    ),
    remediation=(
        "Set useRemoteGateways on the peering to the hub that has the VPN gateway (with allowGatewayTransit "
        "on the hub side), deploy a VPN gateway, or change the route's next hop to the firewall/NVA "
        "(VirtualAppliance). Behind ExpressRoute, advertise the prefix over BGP instead of a user-defined "
        "route."
    ),
    docs="https://learn.microsoft.com/azure/virtual-network/virtual-networks-udr-overview#custom-routes",
    example=(
        "spoke1 has no gateway and its peering to hub has useRemoteGateways false; route to-onprem "
        "192.168.0.0/16 -> VirtualNetworkGateway -> flagged.\nThe same route with spoke1-to-hub "
        "useRemoteGateways true (or a gateway in spoke1) passes; with hub's gateway of type ExpressRoute it "
        "is flagged again."
    ),
    decisions=(
        "Judged per VNet of the route table; one finding per route names every VNet where it fails. "
        "Unassociated route tables are skipped. Only Connected peerings with useRemoteGateways count; whether "
        "the remote side really offers its gateway, or has one at all, is GW001's question, not this rule's. "
        "Only a VPN gateway can be the next hop "
        "(https://learn.microsoft.com/azure/virtual-network/virtual-networks-udr-overview#custom-routes: an "
        "ExpressRoute gateway cannot be specified): a VNet whose gateway is of type ExpressRoute only is "
        "flagged; one with both types is not. A missing gateway is asserted only where the input lists the "
        "gateways of the VNet's subscription, read completely; a GatewaySubnet naming a gateway the input "
        "lacks counts as a gateway of unknown type, and a Virtual WAN hub connection as a remote gateway of "
        "unknown type: neither is flagged. An Azure Route Server is no gateway: a VNet that uses a remote "
        "VNet with only a Route Server is flagged (GW001 accepts that design for the routes it brings, not "
        "for this next hop). Every route with this next hop is judged, even one shadowed by more specific "
        "routes."
    ),
)


def _problem(snapshot, vnet) -> dict | None:
    """Why a VirtualNetworkGateway next hop fails in `vnet`; None when it works or the input cannot tell."""
    own = gateway_evidence(snapshot, vnet.key)
    if own.has_gateway:
        return _expressroute_only(own, vnet)
    for peering in vnet.peerings:
        if not (peering.use_remote_gateways and peering.state == "connected"):
            continue
        remote = snapshot.index.remote_vnet(peering)
        if remote is None or is_hub_connection(peering):
            return None  # a remote gateway of unknown type
        used = gateway_evidence(snapshot, remote.key)
        if used.has_gateway:
            return _expressroute_only(used, remote)
        if used.no_gateway and used.route_server_ids:  # GW001 accepts a Route Server; this next hop does not
            servers = [name_of(i) for i in used.route_server_ids]
            return {"problem": "route server only", "route_servers": servers, "gateway_vnet": remote.name}
        return None  # no gateway there (GW001's), or unknown
    if not own.no_gateway:
        return None
    idle = sorted(p.name for p in vnet.peerings if p.use_remote_gateways)
    return {"vnet": vnet.name, "problem": "no gateway", "peerings_with_use_remote_gateways": idle}


def _expressroute_only(evidence, owner) -> dict | None:
    if not evidence.expressroute_only:
        return None
    return {"problem": "expressroute gateway", "gateways": evidence.gateway_names, "gateway_vnet": owner.name}


def _part(vnet, problem: dict) -> str:
    if problem["problem"] == "no gateway":
        idle = problem["peerings_with_use_remote_gateways"]
        note = f" (peering {name_list(idle)} sets useRemoteGateways but is not Connected)" if idle else ""
        return (f"applies to VNet {vnet.name}, which has no gateway and no Connected peering with "
                f"useRemoteGateways{note}")
    if problem["problem"] == "route server only":
        return (f"applies to VNet {vnet.name}, whose useRemoteGateways peering reaches "
                f"{problem['gateway_vnet']}, which has Route Server {name_list(problem['route_servers'])} "
                "but no VPN gateway")
    where = "its own" if problem["gateway_vnet"] == vnet.name else f"{problem['gateway_vnet']}'s"
    return (f"applies to VNet {vnet.name}, whose gateway ({where} {name_list(problem['gateways'])}) is an "
            f"ExpressRoute gateway, and only a VPN gateway can be a user-defined route's next hop")


@rule.check
def check(snapshot):
    index = snapshot.index
    for table in snapshot.route_tables:
        routes = [r for r in table.routes if next_hop(r) == "virtualnetworkgateway"]
        if not routes:
            continue
        failing = [(index.vnets[v], _problem(snapshot, index.vnets[v])) for v in index.vnets_of(table.id)]
        failing = [(v, p) for v, p in failing if p is not None]
        if not failing:
            continue
        details = [{"vnet": v.name, **p} for v, p in failing]
        parts = "; it ".join(_part(v, p) for v, p in failing)
        for route in routes:
            yield rule.finding(
                resource_id=route.id,
                related_ids=[table.id, *(v.id for v, _ in failing)],
                fingerprint_ids=[norm_id(route.id)],
                message=(
                    f"Route {route.name} ({route.address_prefix}, next hop VirtualNetworkGateway) in route "
                    f"table {table.name} {parts}: the traffic is dropped."
                ),
                evidence={"route_table": table.name, "address_prefix": route.address_prefix,
                          "next_hop_type": route.next_hop_type, "vnets": details},
            )
