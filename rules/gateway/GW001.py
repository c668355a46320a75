"""GW001 remote-gateway-unavailable."""

from auditor.analysis.gateways import gateway_evidence
from auditor.analysis.hubs import is_hub_connection
from auditor.engine.rule import Rule
from auditor.model.ids import norm_id

rule = Rule(
    id="GW001",
    slug="remote-gateway-unavailable",
    title="Peering uses a remote gateway that is not available",
    severity="high",
    reads=("virtualNetworks", "virtualNetworkGateways"),
    controls=("NS-9", "ALZ-NET"),
    flags=(
        "A peering with useRemoteGateways true whose remote VNet has no VPN or ExpressRoute gateway and no "
        "Route Server, or whose remote VNet's peering back does not set allowGatewayTransit."
    ),
    rationale=(
        "useRemoteGateways makes this VNet rely on the remote VNet's gateway for on-premises and "
        "cross-region routes. Without a gateway there, or without allowGatewayTransit on the remote "
        "side, no gateway routes reach this VNet: on-premises is unreachable from it even though the "
        "peering looks configured for transit."
    ),
    remediation=(
        "Set allowGatewayTransit on the remote VNet's peering back (az network vnet peering update "
        "--set allowGatewayTransit=true), deploy the gateway in the remote VNet, or turn off "
        "useRemoteGateways on this peering if the VNet should not use that gateway."
    ),
    docs="https://learn.microsoft.com/azure/vpn-gateway/vpn-gateway-peering-gateway-transit",
    example=(
        "spoke-to-hub sets useRemoteGateways, hub has a VPN gateway but hub-to-spoke lacks "
        "allowGatewayTransit -> flagged.\n"
        "hub has a VPN gateway and hub-to-spoke sets allowGatewayTransit -> passes."
    ),
    decisions=(
        "Only VPN and ExpressRoute gateways count, and an Azure Route Server serves useRemoteGateways too: a "
        "hub with only a Route Server is a supported design "
        "(https://learn.microsoft.com/azure/route-server/vnet-peering). A missing gateway is asserted only "
        "when the input lists the gateways of the remote VNet's subscription, read completely (an imported "
        "file covers only the types it holds); a GatewaySubnet that names a gateway missing from the input "
        "counts as a gateway. A missing Route Server likewise needs the input to list virtualHubs, or the "
        "remote VNet's subnets to have no RouteServerSubnet; a RouteServerSubnet naming a virtualHubs "
        "resource counts as one. Virtual WAN hub connections (RemoteVnetToHubPeering_*) are Azure's own "
        "peerings to a VNet no customer reads, and are not judged. A missing peering back is PEER001's, a "
        "remote VNet outside the scan PEER005's, and Disconnected peerings PEER002's; none of those is "
        "reported here."
    ),
)


@rule.check
def check(snapshot):
    index = snapshot.index
    for vnet in snapshot.virtual_networks:
        for peering in vnet.peerings:
            if not peering.use_remote_gateways or peering.state == "disconnected":
                continue
            if is_hub_connection(peering):
                continue  # Azure's own peering to a hub VNet no one reads
            remote = index.remote_vnet(peering)
            if remote is None:
                continue
            evidence = gateway_evidence(snapshot, remote.key)
            no_gateway = evidence.no_gateway and evidence.no_route_server
            back = index.reverse_peering(peering)
            no_transit = back is not None and not back.allow_gateway_transit
            if not (no_gateway or no_transit):
                continue
            reasons = []
            if no_gateway:
                reasons.append(f"{remote.name} has no VPN or ExpressRoute gateway and no Route Server")
            if no_transit:
                reasons.append(f"{remote.name}'s peering back {back.name} has allowGatewayTransit false")
            yield rule.finding(
                resource_id=peering.id,
                related_ids=[vnet.id, remote.id] + ([back.id] if back else []),
                message=(
                    f"Peering {peering.name} from VNet {vnet.name} to {remote.name} sets useRemoteGateways, but "
                    f"{' and '.join(reasons)}: {vnet.name} gets no gateway routes."
                ),
                evidence={
                    "use_remote_gateways": True,
                    "peering_state": peering.peering_state,
                    "remote_gateways": [g.id for g in evidence.gateways] + list(evidence.named_gateway_ids),
                    "remote_has_gateway": evidence.gateway_found,
                    "remote_route_servers": list(evidence.route_server_ids),
                    "remote_has_route_server": evidence.route_server_found,
                    "peering_back": back.id if back else None,
                    "peering_back_allow_gateway_transit": back.allow_gateway_transit if back else None,
                    "do_not_verify_remote_gateways": peering.do_not_verify_remote_gateways,
                },
                fingerprint_ids=[norm_id(peering.id)],
            )
