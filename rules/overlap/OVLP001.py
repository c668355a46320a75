"""OVLP001 peered-overlap."""

from auditor.analysis.overlap import describe, overlap_detail, span_of
from auditor.engine.rule import Rule
from auditor.model.ids import name_of, norm_id

rule = Rule(
    id="OVLP001",
    slug="peered-overlap",
    title="Peered VNets have overlapping address spaces",
    severity="critical",
    reads=("virtualNetworks",),
    controls=("ALZ-NET", "ALZ-IP"),
    flags=(
        "A peering whose two VNets overlap: this VNet's address space against the remote VNet's "
        "current address space or the remote space the peering recorded."
    ),
    rationale=(
        "Azure refuses to peer overlapping VNets and refuses address-space changes that would create "
        "an overlap, so an overlap on a peering means a stale or half-built peering that can never be "
        "completed or re-synced; where it carries traffic, packets for the shared range stay in the "
        "local VNet and never reach the peer."
    ),
    remediation=(
        "Re-address one of the VNets (add a non-overlapping prefix, move the workloads, remove the "
        "overlapping prefix), then delete and recreate the peering on both sides. If only some subnets "
        "must talk, subnet peering (peerCompleteVnets false) of non-overlapping subnets is an option."
    ),
    docs="https://learn.microsoft.com/azure/virtual-network/virtual-network-manage-peering#requirements-and-constraints",
    example=(
        "hub 10.0.0.0/16 peered to spoke 10.0.1.0/24 -> flagged on hub-to-spoke and on spoke-to-hub.\n"
        "hub 10.0.0.0/16 peered to spoke 10.1.0.0/16 -> passes."
    ),
    decisions=(
        "One finding per peering half, fingerprinted on the peering alone, so each VNet owner can fix "
        "or waive their side and the fingerprint does not change when the other half appears or goes. "
        "Every peering state counts (an Initiated overlap can never be completed). The remote side is "
        "its current address space when it is in the snapshot plus the peering's recorded "
        "remoteAddressSpace. A subnet peering (peerCompleteVnets false) compares only the peered "
        "parts: localAddressSpace (or the named local subnets) against remoteAddressSpace and the named "
        "remote subnets, since overlapping VNets may be subnet-peered. enableOnlyIPv6Peering limits the "
        "comparison to IPv6."
    ),
)

_V6 = 1 << 32


def _local_space(vnet, peering) -> list[str]:
    if peering.peer_complete_vnets is False:
        if peering.local_address_space:
            return list(peering.local_address_space)
        names = {n.lower() for n in peering.local_subnet_names}
        named = [p for s in vnet.subnets if s.name.lower() in names for p in s.address_prefixes]
        if named:
            return named
    return list(vnet.address_prefixes)


def _remote_spaces(peering, remote) -> list[tuple[str, list[str]]]:
    """(label, prefixes) of the remote side: its current space and the recorded one."""
    spaces = []
    if remote is not None:
        if peering.peer_complete_vnets is False:
            names = {n.lower() for n in peering.remote_subnet_names}
            current = [p for s in remote.subnets if s.name.lower() in names for p in s.address_prefixes]
        else:
            current = list(remote.address_prefixes)
        spaces.append(("current", current))
    spaces.append(("recorded", list(peering.remote_address_space)))
    return spaces


def _v6_only(prefixes: list[str]) -> list[str]:
    return [p for p in prefixes if (span := span_of(p)) is not None and span[0] >= _V6]


@rule.check
def check(snapshot):
    index = snapshot.index
    for vnet in snapshot.virtual_networks:
        for peering in vnet.peerings:
            remote = index.remote_vnet(peering)
            remote_id = peering.remote_virtual_network_id or ""
            remote_name = remote.name if remote else name_of(remote_id)
            local = _local_space(vnet, peering)
            if peering.enable_only_ipv6_peering:
                local = _v6_only(local)
            overlaps, seen = [], set()
            for label, space in _remote_spaces(peering, remote):
                if peering.enable_only_ipv6_peering:
                    space = _v6_only(space)
                for a, b in overlap_detail(local, space):
                    if (a, b) not in seen:
                        seen.add((a, b))
                        overlaps.append({"local_prefix": a, "remote_prefix": b, "remote_space": label})
            if not overlaps:
                continue
            sources = sorted({o["remote_space"] for o in overlaps})
            where = " and ".join(
                {"current": f"{remote_name}'s current {'peered subnets' if peering.peer_complete_vnets is False else 'address space'}",
                 "recorded": "the remote space the peering recorded"}[s]
                for s in sources
            )
            kind = "subnet peering" if peering.peer_complete_vnets is False else "peering"
            yield rule.finding(
                resource_id=peering.id,
                related_ids=[vnet.id, remote_id],
                message=(
                    f"VNets {vnet.name} and {remote_name} overlap across {kind} {peering.name} "
                    f"({peering.peering_state}): {describe([(o['local_prefix'], o['remote_prefix']) for o in overlaps])} "
                    f"(in {where})."
                ),
                evidence={
                    "peering_state": peering.peering_state,
                    "local_address_space": local,
                    "remote_virtual_network_id": remote_id,
                    "remote_address_prefixes": list(remote.address_prefixes) if remote else None,
                    "recorded_remote_address_space": list(peering.remote_address_space),
                    "peer_complete_vnets": peering.peer_complete_vnets,
                    "overlaps": overlaps,
                },
                fingerprint_ids=[norm_id(peering.id)],
            )
