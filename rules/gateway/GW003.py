"""GW003 transit-without-gateway."""

from auditor.analysis.gateways import gateway_evidence
from auditor.engine.rule import Rule
from auditor.model.ids import name_of, norm_id

rule = Rule(
    id="GW003",
    slug="transit-without-gateway",
    title="Peering offers gateway transit but its VNet has no gateway",
    severity="low",
    reads=("virtualNetworks", "virtualNetworkGateways"),
    controls=("NS-9", "ALZ-NET"),
    flags=(
        "allowGatewayTransit true on a peering of a VNet that has no VPN or ExpressRoute gateway and no "
        "Route Server."
    ),
    rationale=(
        "allowGatewayTransit offers this VNet's gateway to the peer. Without a gateway there is nothing "
        "to offer: the flag is dead configuration that suggests hybrid connectivity which does not "
        "exist, and a peer that trusts it and sets useRemoteGateways gets no routes."
    ),
    remediation=(
        "Clear allowGatewayTransit on the peering (az network vnet peering update "
        "--set allowGatewayTransit=false), or deploy the intended gateway in this VNet."
    ),
    docs="https://learn.microsoft.com/azure/virtual-network/virtual-network-peering-overview#gateways-and-on-premises-connectivity",
    example=(
        "spoke (no gateway) has spoke-to-hub with allowGatewayTransit true -> flagged.\n"
        "hub with a VPN gateway has hub-to-spoke with allowGatewayTransit true -> passes."
    ),
    decisions=(
        "Only VPN and ExpressRoute gateways count as gateways. A hub with an Azure Route Server and no "
        "gateway offers its Route Server through allowGatewayTransit, a supported design "
        "(https://learn.microsoft.com/azure/route-server/vnet-peering): not flagged. The gateway is judged "
        "absent only when the input lists the gateways of the VNet's subscription, read completely (an "
        "imported file of VNets alone leaves it unknown: no finding); a GatewaySubnet naming a gateway the "
        "input lacks counts as a gateway. The Route Server is judged absent only when the input lists "
        "virtualHubs or the VNet's subnets hold no RouteServerSubnet; a RouteServerSubnet naming a "
        "virtualHubs resource counts as one. Disconnected peerings are left to PEER002."
    ),
)


@rule.check
def check(snapshot):
    index = snapshot.index
    for vnet in snapshot.virtual_networks:
        offers = [
            p for p in vnet.peerings
            if p.allow_gateway_transit and p.state != "disconnected"
        ]
        if not offers:
            continue
        evidence = gateway_evidence(snapshot, vnet.key)
        if not (evidence.no_gateway and evidence.no_route_server):
            continue
        for peering in offers:
            remote = index.remote_vnet(peering)
            remote_name = remote.name if remote else name_of(peering.remote_virtual_network_id)
            back = index.reverse_peering(peering) if remote is not None else None
            relied = back is not None and back.use_remote_gateways
            tail = f"; {remote_name}'s peering {back.name} relies on it with useRemoteGateways" if relied else ""
            yield rule.finding(
                resource_id=peering.id,
                related_ids=[vnet.id, peering.remote_virtual_network_id or ""],
                message=(
                    f"Peering {peering.name} from VNet {vnet.name} to {remote_name} sets allowGatewayTransit, but "
                    f"{vnet.name} has no VPN or ExpressRoute gateway and no Route Server to share{tail}."
                ),
                evidence={
                    "allow_gateway_transit": True,
                    "peering_state": peering.peering_state,
                    "remote_uses_remote_gateways": relied,
                },
                fingerprint_ids=[norm_id(peering.id)],
            )
