"""GW004 conflicting-gateway-use."""

from auditor.analysis.gateways import gateway_evidence
from auditor.analysis.hubs import hub_of, is_hub_connection
from auditor.engine.rule import Rule
from auditor.model.ids import name_of, norm_id

rule = Rule(
    id="GW004",
    slug="conflicting-gateway-use",
    title="VNet's gateway use is ambiguous",
    severity="medium",
    reads=("virtualNetworks", "virtualNetworkGateways"),
    controls=("NS-9", "ALZ-NET"),
    flags=(
        "A peering with useRemoteGateways true on a VNet that has its own VPN or ExpressRoute gateway, "
        "or on a VNet where more than one peering sets useRemoteGateways; every such peering is reported."
    ),
    rationale=(
        "A VNet can take gateway routes from one place only: its own gateway or one remote gateway. "
        "Azure rejects the combination when it is configured, so finding it means the estate drifted "
        "(a gateway deployed later, peerings re-created by templates) and which gateway the VNet really "
        "uses is not what the configuration says."
    ),
    remediation=(
        "Decide which gateway the VNet should use: keep useRemoteGateways on exactly one peering and "
        "remove the VNet's own gateway, or keep the own gateway and clear useRemoteGateways on its "
        "peerings (az network vnet peering update --set useRemoteGateways=false)."
    ),
    docs="https://learn.microsoft.com/azure/virtual-network/virtual-network-manage-peering#requirements-and-constraints",
    example=(
        "spoke has its own VPN gateway and spoke-to-hub sets useRemoteGateways -> flagged.\n"
        "spoke sets useRemoteGateways on spoke-to-hub1 and spoke-to-hub2 -> both flagged.\n"
        "spoke without a gateway sets it on one peering -> passes."
    ),
    decisions=(
        "Every offending peering gets its own finding, fingerprinted on the peering alone. Disconnected "
        "peerings do not count (PEER002 reports them). Only VPN and ExpressRoute gateways count as a VNet's "
        "own gateway, including one its GatewaySubnet names although the input lacks it. A Virtual WAN hub "
        "connection always shows useRemoteGateways on the spoke "
        "(https://learn.microsoft.com/azure/virtual-wan/virtual-wan-faq); it counts as a use of a remote "
        "gateway only when the input holds the hub, the hub has a VPN or ExpressRoute gateway (vpnGateway, "
        "expressRouteGateway) and the connection lets the VNet use it; otherwise it is unknown and not "
        "counted."
    ),
)


@rule.check
def check(snapshot):
    for vnet in snapshot.virtual_networks:
        users = [
            p for p in vnet.peerings
            if p.use_remote_gateways and p.state != "disconnected" and _offers_gateway(snapshot, p)
        ]
        if not users:
            continue
        evidence = gateway_evidence(snapshot, vnet.key)
        own = list(evidence.gateways)
        if not evidence.has_gateway and len(users) < 2:
            continue
        for peering in users:
            others = [p for p in users if p is not peering]
            reasons = []
            if evidence.has_gateway:
                reasons.append(f"{vnet.name} has its own gateway {', '.join(evidence.gateway_names)}")
            if others:
                reasons.append(
                    f"{'it' if evidence.has_gateway else vnet.name} also sets useRemoteGateways on "
                    + ", ".join(f"{p.name} (to {_remote_name(snapshot, p)})" for p in others)
                )
            yield rule.finding(
                resource_id=peering.id,
                related_ids=[vnet.id, peering.remote_virtual_network_id or "", *(g.id for g in own),
                             *evidence.named_gateway_ids, *(p.id for p in others)],
                message=(
                    f"Peering {peering.name} from VNet {vnet.name} to {_remote_name(snapshot, peering)} sets "
                    f"useRemoteGateways, but {' and '.join(reasons)}."
                ),
                evidence={
                    "use_remote_gateways": True,
                    "own_gateways": [g.id for g in own] + list(evidence.named_gateway_ids),
                    "other_peerings_using_remote_gateways": [p.id for p in others],
                },
                fingerprint_ids=[norm_id(peering.id)],
            )


def _offers_gateway(snapshot, peering) -> bool:
    """A hub connection's peering uses a gateway only if the hub (when the input holds it) has one to use."""
    if not is_hub_connection(peering):
        return True
    found = hub_of(snapshot, peering)
    if found is None:
        return False  # the hub is not in the input: unknown
    hub, connection = found
    has_gateway = bool(hub.vpn_gateway_id or hub.express_route_gateway_id)
    return connection.allow_remote_vnet_to_use_hub_vnet_gateways and has_gateway


def _remote_name(snapshot, peering) -> str:
    found = hub_of(snapshot, peering)
    return f"Virtual WAN hub {found[0].name}" if found else name_of(peering.remote_virtual_network_id)
