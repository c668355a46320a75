"""OVLP004 address-space-overlap."""

from itertools import islice

from auditor.analysis.overlap import OverlapIndex, describe, near_vnets, overlap_detail
from auditor.analysis.routing import may_be_linked, possible_groups, routed_domains
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
        "A VNet whose address space overlaps other VNets in another routed network: not peered with it, "
        "sharing no peered VNet, Virtual WAN hub or virtual WAN, AVNM connected group or appliance-routed "
        "chain of hubs with it; one finding per VNet, naming up to 10 of them and counting all."
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
        "them). VNets of one routed network are OVLP002's too: connected to one Virtual WAN hub or Standard "
        "virtual WAN, static members of one AVNM connected group, or in one chain of peered hubs where some "
        "VNet routes to an appliance in a peered VNet (hub-to-hub appliance routing). A chain without such "
        "a route routes nothing past the hubs, so its far VNets stay here. VNets both in the scope of an "
        "AVNM connected-group configuration (same region unless global) are skipped: Azure Policy may "
        "add them as dynamic members, which the snapshot cannot read "
        "(learn.microsoft.com/azure/virtual-network-manager/concept-network-groups). "
        "A half-built or disabled peering between overlapping VNets is reported here as well as "
        "by OVLP001. The finding is fingerprinted on the VNet alone, so it stays stable as the list "
        "changes; related ids are the first 10 overlapping VNets by id. Overlaps are found with an "
        "interval index grouped by address space, so 10,000 VNets sharing one range cost near-linear time."
    ),
)


def _apart(snapshot, overlaps, domains, key: str):
    """How many overlapping VNets lie in another routed network, and a test for one of them."""
    index = snapshot.index
    excluded = near_vnets(index, key)
    domain = domains.get(key)
    if possible_groups(snapshot, key):  # rare: scoped by a connected-group configuration; judged one by one
        def apart(k):
            return k not in excluded and domains.get(k) != domain and not may_be_linked(snapshot, key, k)
        return sum(1 for k in overlaps.overlapping(key) if apart(k)), apart
    near_elsewhere = [k for k in excluded if domains.get(k) != domain]
    near = overlaps.count_alike(key, domains) + overlaps.count_among(key, near_elsewhere)
    return overlaps.count(key) - near, lambda k: k not in excluded and domains.get(k) != domain


@rule.check
def check(snapshot):
    index = snapshot.index
    overlaps = OverlapIndex({v.key: v.address_prefixes for v in snapshot.virtual_networks})
    domains = routed_domains(snapshot)
    for vnet in snapshot.virtual_networks:
        if not overlaps.count(vnet.key):
            continue
        count, apart = _apart(snapshot, overlaps, domains, vnet.key)
        if count <= 0:
            continue
        others = (k for k in overlaps.overlapping(vnet.key) if apart(k))
        listed = [index.vnets[k] for k in islice(others, MAX_LISTED)]
        details = [overlap_detail(vnet.address_prefixes, o.address_prefixes) for o in listed]
        shown = [f"{o.name} ({describe(d)})" for o, d in zip(listed, details)]
        more = f" and {count - len(listed)} more" if count > len(listed) else ""
        yield rule.finding(
            resource_id=vnet.id,
            related_ids=[o.id for o in listed],
            message=(
                f"VNet {vnet.name} ({', '.join(vnet.address_prefixes)}) overlaps {count} VNet{'s' if count != 1 else ''} "
                f"it is not peered with and shares no peered VNet, Virtual WAN, connected group or routed "
                f"chain of hubs with: {', '.join(shown)}{more}. "
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
