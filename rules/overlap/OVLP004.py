"""OVLP004 address-space-overlap."""

from itertools import islice

from auditor.analysis.overlap import OverlapIndex, describe, overlap_detail
from auditor.engine.rule import Rule
from auditor.model.ids import norm_id

#: How many overlapping VNets a finding names; the evidence always carries the total.
MAX_LISTED = 10

rule = Rule(
    id="OVLP004",
    slug="address-space-overlap",
    title="VNet overlaps VNets it is not connected with",
    severity="low",
    reads=("virtualNetworks",),
    controls=("ALZ-NET", "ALZ-IP"),
    flags=(
        "A VNet whose address space overlaps other VNets that are neither peered with it nor share a "
        "peered VNet with it; one finding per VNet, naming up to 10 of them and counting all."
    ),
    rationale=(
        "Overlapping VNets can never be peered, and cannot be reached from each other through a hub, "
        "a gateway or on-premises. The overlap is harmless only until someone needs to connect them, "
        "and re-addressing a VNet in use is expensive: plan it before it blocks a migration or merger."
    ),
    remediation=(
        "Allocate VNet ranges from a central IPAM plan (for example Azure Virtual Network Manager IP "
        "address pools) and re-address VNets that must be connected later. VNets that are isolated by "
        "design (labs, copies of an environment) can be waived."
    ),
    docs="https://learn.microsoft.com/azure/virtual-network/concepts-and-best-practices",
    example=(
        "app-prod (10.0.0.0/16) and app-test (10.0.0.0/16) have no peering and no common hub -> "
        "flagged on both.\napp-prod and app-test peered to the same hub -> OVLP002 instead; distinct "
        "ranges -> passes."
    ),
    decisions=(
        "Peered means both halves Connected with allowVirtualNetworkAccess true; VNets peered with "
        "this VNet, and VNets peered with one of its peers, are left out (OVLP001 and OVLP002 cover "
        "them). A half-built or disabled peering between overlapping VNets is reported here as well as "
        "by OVLP001. The finding is fingerprinted on the VNet alone, so it stays stable as the list "
        "changes; related ids are the first 10 overlapping VNets by id. Overlaps are found with an "
        "interval index grouped by address space, so 10,000 VNets sharing one range cost near-linear time."
    ),
)


def _excluded(index, key: str) -> set[str]:
    """The VNet, its peers, and its peers' peers."""
    out = {key}
    for peer in index.peered_vnets(key):
        out.add(peer)
        out.update(index.peered_vnets(peer))
    return out


@rule.check
def check(snapshot):
    index = snapshot.index
    overlaps = OverlapIndex({v.key: v.address_prefixes for v in snapshot.virtual_networks})
    for vnet in snapshot.virtual_networks:
        total = overlaps.count(vnet.key)
        if not total:
            continue
        excluded = _excluded(index, vnet.key)
        count = total - overlaps.count_among(vnet.key, excluded)
        if count <= 0:
            continue
        listed = [index.vnets[k] for k in islice((k for k in overlaps.overlapping(vnet.key) if k not in excluded), MAX_LISTED)]
        details = [overlap_detail(vnet.address_prefixes, o.address_prefixes) for o in listed]
        shown = [f"{o.name} ({describe(d)})" for o, d in zip(listed, details)]
        more = f" and {count - len(listed)} more" if count > len(listed) else ""
        yield rule.finding(
            resource_id=vnet.id,
            related_ids=[o.id for o in listed],
            message=(
                f"VNet {vnet.name} ({', '.join(vnet.address_prefixes)}) overlaps {count} VNet{'s' if count != 1 else ''} "
                f"it is not peered with and shares no peered VNet with: {', '.join(shown)}{more}. "
                f"They can never be peered or routed to each other."
            ),
            evidence={
                "address_prefixes": list(vnet.address_prefixes),
                "overlapping_vnet_count": count,
                "overlapping_vnets": [
                    {"id": o.id, "address_prefixes": list(o.address_prefixes),
                     "overlapping_prefixes": [list(p) for p in d]}
                    for o, d in zip(listed, details)
                ],
            },
            fingerprint_ids=[norm_id(vnet.id)],
        )
