"""GW002 gateway-transit-unused."""

from auditor.analysis.gateways import gateway_evidence
from auditor.engine.rule import Rule
from auditor.model.ids import norm_id

rule = Rule(
    id="GW002",
    slug="gateway-transit-unused",
    title="Spoke does not use the gateway transit its hub offers",
    severity="medium",
    reads=("virtualNetworks", "virtualNetworkGateways"),
    controls=("NS-9", "ALZ-NET"),
    flags=(
        "VNet H has a VPN or ExpressRoute gateway and its peering to S sets allowGatewayTransit, S has "
        "no gateway of its own, and S's peering to H has useRemoteGateways false."
    ),
    rationale=(
        "Gateway transit works only when both sides opt in. The hub offers its gateway, but the spoke "
        "never takes it, so the spoke learns no on-premises routes and on-premises does not learn the "
        "spoke's range: hybrid connectivity silently stops at the hub."
    ),
    remediation=(
        "Set useRemoteGateways on the spoke's peering to the hub (az network vnet peering update "
        "--set useRemoteGateways=true), or remove allowGatewayTransit from the hub's peering if the "
        "spoke is meant to stay off the gateway."
    ),
    docs="https://learn.microsoft.com/azure/vpn-gateway/vpn-gateway-peering-gateway-transit",
    example=(
        "hub has a VPN gateway, hub-to-spoke sets allowGatewayTransit, spoke-to-hub has "
        "useRemoteGateways false -> flagged on spoke-to-hub.\n"
        "spoke-to-hub sets useRemoteGateways -> passes."
    ),
    decisions=(
        "Both halves must be Connected. H's gateway may be one its GatewaySubnet names although the input "
        "lacks it (type unknown). S's own gateway is judged absent only when the input lists the gateways of "
        "S's subscription, read completely, and no GatewaySubnet of S names one. A spoke that already uses a "
        "remote gateway through another peering is not flagged: a VNet can use only one remote gateway "
        "(GW004). That includes a Virtual WAN hub connection, whose spoke-side peering sets useRemoteGateways "
        "to the hub's Microsoft-managed VNet (https://learn.microsoft.com/azure/virtual-wan/virtual-wan-faq). "
        "A Route Server offered through allowGatewayTransit is not a gateway: not judged here."
    ),
)


@rule.check
def check(snapshot):
    index = snapshot.index
    for hub in snapshot.virtual_networks:
        hub_evidence = gateway_evidence(snapshot, hub.key)
        if not hub_evidence.has_gateway:
            continue
        gateway_name = hub_evidence.gateway_names[0]
        for offer in hub.peerings:
            if not offer.allow_gateway_transit or offer.state != "connected":
                continue
            spoke = index.remote_vnet(offer)
            back = index.reverse_peering(offer) if spoke is not None else None
            if back is None or back.state != "connected" or back.use_remote_gateways:
                continue
            if not gateway_evidence(snapshot, spoke.key).no_gateway:
                continue
            if any(p.use_remote_gateways for p in spoke.peerings):
                continue
            yield rule.finding(
                resource_id=back.id,
                related_ids=[spoke.id, hub.id, offer.id],
                message=(
                    f"Peering {back.name} from VNet {spoke.name} to {hub.name} has useRemoteGateways false, although "
                    f"{hub.name} has gateway {gateway_name} and its peering {offer.name} sets "
                    "allowGatewayTransit, "
                    f"and {spoke.name} has no gateway of its own: {spoke.name} gets no on-premises routes."
                ),
                evidence={
                    "use_remote_gateways": False,
                    "hub_gateways": [*(g.id for g in hub_evidence.gateways), *hub_evidence.named_gateway_ids],
                    "hub_peering": offer.id,
                    "hub_peering_allow_gateway_transit": True,
                },
                fingerprint_ids=[norm_id(back.id)],
            )
