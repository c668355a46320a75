"""PEER004 peering-access-disabled."""

from auditor.engine.rule import Rule
from auditor.model.ids import name_of, norm_id

rule = Rule(
    id="PEER004",
    slug="peering-access-disabled",
    title="Connected peering has virtual network access disabled",
    severity="medium",
    reads=("virtualNetworks",),
    controls=("NS-1", "ALZ-NET"),
    flags="A peering in state Connected with allowVirtualNetworkAccess false.",
    rationale=(
        "allowVirtualNetworkAccess false does not disconnect the peering: it only drops the remote "
        "VNet from this VNet's VirtualNetwork service tag. Default NSG rules then block the peer, but "
        "any explicit NSG allow for the peer's prefixes still lets traffic through, so the peering is "
        "neither reliably open nor reliably closed."
    ),
    remediation=(
        "If the VNets should talk, set allowVirtualNetworkAccess true (az network vnet peering update "
        "--set allowVirtualNetworkAccess=true). If they should not, delete the peering on both sides "
        "rather than relying on the flag, or deny the peer's prefixes explicitly in NSGs."
    ),
    docs="https://learn.microsoft.com/azure/virtual-network/virtual-network-manage-peering#change-peering",
    example=(
        "spoke-to-hub is Connected with allowVirtualNetworkAccess false -> flagged.\n"
        "The same peering with allowVirtualNetworkAccess true, or still Initiated -> passes."
    ),
    decisions=(
        "Each half is judged on its own: the flag is set per side, by that VNet's owner, and each half "
        "gets its own finding. Only Connected peerings count; Initiated and Disconnected ones carry no "
        "traffic either way (PEER001, PEER002). The message says whether the other half allows access."
    ),
)


@rule.check
def check(snapshot):
    index = snapshot.index
    for vnet in snapshot.virtual_networks:
        for peering in vnet.peerings:
            if peering.state != "connected" or peering.allow_virtual_network_access:
                continue
            remote_id = peering.remote_virtual_network_id or ""
            remote = index.remote_vnet(peering)
            remote_name = remote.name if remote else name_of(remote_id)
            back = index.reverse_peering(peering) if remote is not None else None
            if back is None:
                other = f"{remote_name}'s side is not in the snapshot"
            elif back.allow_virtual_network_access:
                other = f"{remote_name}'s peering {back.name} still allows access"
            else:
                other = f"{remote_name}'s peering {back.name} disables it too"
            yield rule.finding(
                resource_id=peering.id,
                related_ids=[vnet.id, remote_id],
                message=(
                    f"Peering {peering.name} from VNet {vnet.name} to {remote_name} is Connected with "
                    f"allowVirtualNetworkAccess false: {remote_name} is left out of {vnet.name}'s VirtualNetwork "
                    f"service tag, but explicit NSG allows still pass; {other}."
                ),
                evidence={
                    "peering_state": peering.peering_state,
                    "allow_virtual_network_access": False,
                    "remote_virtual_network_id": remote_id,
                    "peering_back": back.id if back else None,
                    "peering_back_allows_access": back.allow_virtual_network_access if back else None,
                },
                fingerprint_ids=[norm_id(peering.id)],
            )
