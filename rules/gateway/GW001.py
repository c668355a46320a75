"""GW001 remote-gateway-unavailable."""

from auditor.engine.rule import Rule
from auditor.model.ids import norm_id

rule = Rule(
    id="GW001",
    slug="remote-gateway-unavailable",
    title="Peering uses a remote gateway that is not available",
    severity="high",
    reads=("virtualNetworks", "virtualNetworkGateways"),
    flags=(
        "A peering with useRemoteGateways true whose remote VNet has no VPN or ExpressRoute gateway, "
        "or whose remote VNet's peering back does not set allowGatewayTransit."
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
        "Only VPN and ExpressRoute gateways count. A missing gateway is asserted only when the remote "
        "VNet's subscription was read completely (gateways are listed separately from VNets). A missing "
        "peering back is PEER001's, a remote VNet outside the scan PEER005's, and Disconnected peerings "
        "PEER002's; none of those is reported here."
    ),
)


@rule.check
def check(snapshot):
    index = snapshot.index
    for vnet in snapshot.virtual_networks:
        for peering in vnet.peerings:
            if not peering.use_remote_gateways or peering.state == "disconnected":
                continue
            remote = index.remote_vnet(peering)
            if remote is None:
                continue
            gateways = index.gateways_of(remote.key)
            no_gateway = not gateways and snapshot.is_scanned(remote.subscription_id)
            back = index.reverse_peering(peering)
            no_transit = back is not None and not back.allow_gateway_transit
            if not (no_gateway or no_transit):
                continue
            reasons = []
            if no_gateway:
                reasons.append(f"{remote.name} has no VPN or ExpressRoute gateway")
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
                    "remote_gateways": [g.id for g in gateways],
                    "peering_back": back.id if back else None,
                    "peering_back_allow_gateway_transit": back.allow_gateway_transit if back else None,
                    "do_not_verify_remote_gateways": peering.do_not_verify_remote_gateways,
                },
                fingerprint_ids=[norm_id(peering.id)],
            )
