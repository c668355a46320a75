"""PEER003 peering-not-in-sync."""

from auditor.analysis.overlap import network_key, network_set
from auditor.engine.rule import Rule
from auditor.model.ids import name_of, norm_id

rule = Rule(
    id="PEER003",
    slug="peering-not-in-sync",
    title="Peering is not in sync with the remote VNet's address space",
    severity="medium",
    reads=("virtualNetworks",),
    flags=(
        "A peering whose peeringSyncLevel is not FullyInSync, or whose recorded remote address "
        "space differs from the remote VNet's current address space."
    ),
    rationale=(
        "When a peered VNet's address space changes, each peering keeps the old ranges until it is "
        "synced. Until then traffic to the added ranges does not cross the peering, and removed "
        "ranges are still routed to the peer."
    ),
    remediation=(
        "Sync the peering on the side that is out of sync: az network vnet peering sync "
        "--resource-group <rg> --vnet-name <vnet> --name <peering> (or the Sync button in the portal)."
    ),
    docs="https://learn.microsoft.com/azure/virtual-network/update-virtual-network-peering-address-space",
    example=(
        "spoke gained 10.2.0.0/16; hub-to-spoke still records only 10.1.0.0/16 and reports "
        "LocalNotInSync -> flagged.\n"
        "hub-to-spoke records exactly spoke's current prefixes (in any order or spelling) and is "
        "FullyInSync -> passes."
    ),
    decisions=(
        "Prefixes are compared as sets of networks, so order, casing and host bits do not matter. "
        "The comparison runs only when the remote VNet is in the snapshot and the peering records a "
        "remote space (older API versions leave it out). For a subnet peering (peerCompleteVnets false) "
        "remoteAddressSpace holds only the peered subnets, so remoteVirtualNetworkAddressSpace is "
        "compared instead. A missing sync level is not judged. Disconnected peerings are left to "
        "PEER002: they can only be recreated, not synced."
    ),
)


@rule.check
def check(snapshot):
    index = snapshot.index
    for vnet in snapshot.virtual_networks:
        for peering in vnet.peerings:
            if peering.state == "disconnected":
                continue
            remote_id = peering.remote_virtual_network_id or ""
            remote = index.remote_vnet(peering)
            remote_name = remote.name if remote else name_of(remote_id)
            sync = peering.peering_sync_level
            reasons = []
            evidence = {"peering_state": peering.peering_state, "peering_sync_level": sync}
            if sync and sync.lower() != "fullyinsync":
                reasons.append(f"reports peeringSyncLevel {sync}")
            subnet_peering = peering.peer_complete_vnets is False
            field = "remote_virtual_network_address_space" if subnet_peering else "remote_address_space"
            recorded = getattr(peering, field)
            if remote is not None and recorded:
                have, want = network_set(recorded), network_set(remote.address_prefixes)
                if have != want:
                    missing = [p for p in remote.address_prefixes if network_key(p) not in have]
                    stale = [p for p in recorded if network_key(p) not in want]
                    parts = []
                    if missing:
                        parts.append(f"lacks {', '.join(missing)}")
                    if stale:
                        parts.append(f"still holds {', '.join(stale)}")
                    reasons.append(
                        f"records {remote_name}'s address space as {', '.join(recorded)} but {remote_name} now has "
                        f"{', '.join(remote.address_prefixes) or 'no prefixes'} ({' and '.join(parts)})"
                    )
                    evidence.update({
                        "recorded_field": field,
                        "recorded_remote_space": list(recorded),
                        "remote_address_prefixes": list(remote.address_prefixes),
                        "missing_prefixes": missing,
                        "stale_prefixes": stale,
                    })
            if not reasons:
                continue
            evidence["remote_virtual_network_id"] = remote_id
            yield rule.finding(
                resource_id=peering.id,
                related_ids=[vnet.id, remote_id],
                message=f"Peering {peering.name} from VNet {vnet.name} to {remote_name} {'; it '.join(reasons)}.",
                evidence=evidence,
                fingerprint_ids=[norm_id(peering.id)],
            )
