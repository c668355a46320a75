"""PEER002 peering-disconnected."""

from auditor.engine.rule import Rule
from auditor.model.ids import name_of, subscription_of

rule = Rule(
    id="PEER002",
    slug="peering-disconnected",
    title="Peering is disconnected or its remote VNet no longer exists",
    severity="high",
    reads=("virtualNetworks",),
    controls=("NS-9", "ALZ-NET"),
    flags=(
        "A peering in state Disconnected, or a peering whose remote VNet lies in a subscription "
        "whose VNets the input lists, read completely, but does not exist there."
    ),
    rationale=(
        "When the remote VNet (or its half of the peering) is deleted, the surviving half turns "
        "Disconnected and never recovers, even if a VNet of the same name is recreated. Traffic "
        "between the two VNets has stopped."
    ),
    remediation=(
        "Delete this peering and create it again on both sides once the remote VNet exists "
        "(a Disconnected peering cannot be repaired in place)."
    ),
    docs="https://learn.microsoft.com/azure/virtual-network/virtual-network-troubleshoot-peering-issues",
    example=(
        "spoke2-to-hub is Disconnected after hub was rebuilt -> flagged.\n"
        "hub-to-spoke1 points at spoke1 in a scanned subscription, and spoke1 is not there -> flagged.\n"
        "A Connected pair -> passes; a remote VNet in a subscription that was not scanned -> PEER005 instead."
    ),
    decisions=(
        "Absence counts only when the remote subscription was read completely and the input lists its "
        "VNets: a subscription that failed or was only partly read, or an imported file without VNets "
        "(NSGs or route tables alone), never makes a VNet look deleted. What the input already holds counts "
        "as presence: a VNet that an NSG's or route table's subnets, a NIC, a gateway or a Route Server "
        "points into exists. The evidence says remote_exists true, false or unknown."
    ),
)


@rule.check
def check(snapshot):
    index = snapshot.index
    for vnet in snapshot.virtual_networks:
        for peering in vnet.peerings:
            remote_id = peering.remote_virtual_network_id or ""
            disconnected = peering.state == "disconnected"
            remote = index.remote_vnet(peering)
            missing = remote is None and index.vnet_known_absent(remote_id)
            if not (disconnected or missing):
                continue
            remote_name = name_of(remote_id)
            if disconnected and missing:
                why = f"is Disconnected and {remote_name} no longer exists in subscription {subscription_of(remote_id)}"
            elif disconnected:
                why = f"is Disconnected: {remote_name} or its peering back was deleted"
            else:
                why = f"points at {remote_name}, which does not exist in subscription {subscription_of(remote_id)}"
            yield rule.finding(
                resource_id=peering.id,
                related_ids=[vnet.id, remote_id],
                message=f"Peering {peering.name} from VNet {vnet.name} {why}.",
                evidence={
                    "peering_state": peering.peering_state,
                    "remote_virtual_network_id": remote_id,
                    "remote_exists": False if missing else True if remote is not None else "unknown",
                },
                fingerprint_ids=[peering.id],
            )
