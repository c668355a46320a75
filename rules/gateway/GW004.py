"""GW004 conflicting-gateway-use."""

from auditor.engine.rule import Rule
from auditor.model.ids import name_of, norm_id

rule = Rule(
    id="GW004",
    slug="conflicting-gateway-use",
    title="VNet's gateway use is ambiguous",
    severity="medium",
    reads=("virtualNetworks", "virtualNetworkGateways"),
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
        "peerings do not count (PEER002 reports them). Only VPN and ExpressRoute gateways count as a "
        "VNet's own gateway."
    ),
)


@rule.check
def check(snapshot):
    index = snapshot.index
    for vnet in snapshot.virtual_networks:
        users = [
            p for p in vnet.peerings
            if p.use_remote_gateways and p.state != "disconnected"
        ]
        if not users:
            continue
        own = index.gateways_of(vnet.key)
        if not own and len(users) < 2:
            continue
        for peering in users:
            others = [p for p in users if p is not peering]
            reasons = []
            if own:
                reasons.append(f"{vnet.name} has its own gateway {', '.join(g.name for g in own)}")
            if others:
                reasons.append(
                    f"{'it' if own else vnet.name} also sets useRemoteGateways on "
                    + ", ".join(f"{p.name} (to {name_of(p.remote_virtual_network_id)})" for p in others)
                )
            yield rule.finding(
                resource_id=peering.id,
                related_ids=[vnet.id, peering.remote_virtual_network_id or "", *(g.id for g in own), *(p.id for p in others)],
                message=(
                    f"Peering {peering.name} from VNet {vnet.name} to {name_of(peering.remote_virtual_network_id)} sets "
                    f"useRemoteGateways, but {' and '.join(reasons)}."
                ),
                evidence={
                    "use_remote_gateways": True,
                    "own_gateways": [g.id for g in own],
                    "other_peerings_using_remote_gateways": [p.id for p in others],
                },
                fingerprint_ids=[norm_id(peering.id)],
            )
