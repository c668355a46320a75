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
    controls=("NS-9", "ALZ-NET"),
    flags=(
        "A peering whose peeringSyncLevel is not FullyInSync, or whose recorded remote address "
        "space (remoteAddressSpace) differs from what it peers now: the remote VNet's current address space, "
        "or for a subnet peering the current prefixes of the peered remote subnets."
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
        "remoteAddressSpace is what is peered; remoteVirtualNetworkAddressSpace is the remote VNet's current "
        "space, which Azure fills in whether or not the peering was synced, so it is not what drifts. For a "
        "subnet peering (peerCompleteVnets false) remoteAddressSpace holds the prefixes of the peered remote "
        "subnets (remoteSubnetNames; with enableOnlyIPv6Peering only IPv6 prefixes are compared), and is "
        "compared with those subnets' current prefixes, only when every named subnet is in the input. The "
        "comparison runs only when the remote VNet is in the snapshot and the peering records a remote space "
        "(older API versions leave it out). A missing sync level is not judged. Only Connected peerings (or "
        "ones without a state) are judged: a peering created on one side only is Initiated and Azure reports "
        "RemoteNotInSync for it, which is PEER001's one-sided peering, not an address-space change "
        "(https://learn.microsoft.com/azure/virtual-network/virtual-network-manage-peering#peering-states). "
        "Disconnected peerings are left to PEER002: they can only be recreated, not synced."
    ),
)


def _peered_now(peering, remote) -> tuple[list[str], str] | None:
    """The prefixes the peering should record now, and what they are, or None when the input cannot tell."""
    if peering.peer_complete_vnets is not False:
        return list(remote.address_prefixes), f"{remote.name}'s address space"
    subnets = {s.name.lower(): s for s in remote.subnets}
    named = [subnets.get(n.lower()) for n in peering.remote_subnet_names]
    if not named or None in named:
        return None
    prefixes = [p for s in named for p in s.address_prefixes]
    names = ", ".join(s.name for s in named)
    return prefixes, f"the peered subnets ({names}) of {remote.name}"


def _ipv6(prefixes: list[str]) -> list[str]:
    return [p for p in prefixes if ":" in p]


def _drift(peering, remote) -> tuple[str, dict] | None:
    recorded = peering.remote_address_space
    now = _peered_now(peering, remote) if recorded else None
    if now is None:
        return None
    prefixes, what = now
    if peering.enable_only_ipv6_peering:  # only the IPv6 prefixes are peered
        recorded, prefixes = _ipv6(recorded), _ipv6(prefixes)
    have, want = network_set(recorded), network_set(prefixes)
    if have == want:
        return None
    added = [p for p in prefixes if network_key(p) not in have]
    removed = [p for p in recorded if network_key(p) not in want]
    parts = []
    if added:
        parts.append(f"lacks {', '.join(added)}, added to {what} since")
    if removed:
        parts.append(f"still holds {', '.join(removed)}, removed from {what} since")
    reason = f"records {', '.join(recorded)} as the peered space: it {' and '.join(parts)}"
    return reason, {
        "recorded_field": "remote_address_space",
        "recorded_remote_space": list(recorded),
        "peered_space_now": prefixes,
        "missing_prefixes": added,
        "stale_prefixes": removed,
    }


@rule.check
def check(snapshot):
    index = snapshot.index
    for vnet in snapshot.virtual_networks:
        for peering in vnet.peerings:
            if peering.state not in ("connected", ""):
                continue  # Initiated: PEER001; Disconnected: PEER002
            remote_id = peering.remote_virtual_network_id or ""
            remote = index.remote_vnet(peering)
            remote_name = remote.name if remote else name_of(remote_id)
            sync = peering.peering_sync_level
            reasons = []
            evidence = {"peering_state": peering.peering_state, "peering_sync_level": sync}
            if sync and sync.lower() != "fullyinsync":
                reasons.append(f"reports peeringSyncLevel {sync}")
            drift = _drift(peering, remote) if remote is not None else None
            if drift is not None:
                reasons.append(drift[0])
                evidence.update(drift[1])
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
