"""PEER001 peering-one-sided."""

from auditor.engine.rule import Rule
from auditor.model.ids import norm_id

rule = Rule(
    id="PEER001",
    slug="peering-one-sided",
    title="Peering exists on one side only",
    severity="high",
    reads=("virtualNetworks",),
    controls=("NS-9", "ALZ-NET"),
    flags=(
        "A peering in state Initiated, or a peering whose remote VNet is in the snapshot "
        "but has no peering back to this VNet."
    ),
    rationale=(
        "A VNet peering carries traffic only once both VNets hold a peering to each other. "
        "Until then the state stays Initiated and no packet crosses, although the half "
        "that exists looks configured in the portal and in templates."
    ),
    remediation=(
        "Create the missing peering on the remote VNet (az network vnet peering create "
        "--remote-vnet <this VNet id>), or delete the half that is left if the peering is not wanted."
    ),
    docs="https://learn.microsoft.com/azure/virtual-network/virtual-network-manage-peering#peering-states",
    example=(
        "hub has peering hub-to-spoke1 (Initiated); spoke1 has no peering to hub -> flagged.\n"
        "Both hub-to-spoke1 and spoke1-to-hub exist and are Connected -> passes."
    ),
    decisions=(
        "A remote VNet known to be missing (its subscription's VNets listed, read completely, and nothing "
        "in the input pointing into it) is reported by PEER002 (deleted remote), not here. Disconnected "
        "peerings are PEER002's. A remote VNet outside the input is only judged by the local state "
        "(Initiated). An Initiated peering also reports peeringSyncLevel RemoteNotInSync: that is this "
        "rule's one problem, not an address-space change (PEER003 leaves it alone; "
        "https://learn.microsoft.com/azure/virtual-network/update-virtual-network-peering-address-space)."
    ),
)


@rule.check
def check(snapshot):
    index = snapshot.index
    for vnet in snapshot.virtual_networks:
        for peering in vnet.peerings:
            state = peering.state
            if state == "disconnected":
                continue
            remote = index.remote_vnet(peering)
            remote_id = peering.remote_virtual_network_id or ""
            if remote is None and index.vnet_known_absent(remote_id):
                continue  # the remote VNet is gone: PEER002
            back = index.reverse_peering(peering) if remote is not None else None
            if state == "initiated" or (remote is not None and back is None):
                remote_name = remote.name if remote else remote_id.rsplit("/", 1)[-1]
                reason = (
                    f"is in state {peering.peering_state}" if state == "initiated" else f"is {peering.peering_state} here"
                ) + f", and {remote_name} has no peering back to {vnet.name}"
                if remote is None:
                    reason = f"is in state {peering.peering_state}: the remote VNet {remote_name} has not peered back"
                yield rule.finding(
                    resource_id=peering.id,
                    related_ids=[vnet.id, remote_id],
                    message=f"Peering {peering.name} from VNet {vnet.name} to {remote_name} {reason}.",
                    evidence={
                        "peering_state": peering.peering_state,
                        "peering_sync_level": peering.peering_sync_level,
                        "remote_virtual_network_id": remote_id,
                        "remote_in_snapshot": remote is not None,
                        "peering_back": back.id if back else None,
                    },
                    fingerprint_ids=[norm_id(peering.id)],
                )
