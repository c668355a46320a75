"""OVLP002 hub-spokes-overlap."""

from auditor.overlap import describe, overlap_detail, overlapping_pairs, prefix_spans
from auditor.rule import Rule

rule = Rule(
    id="OVLP002",
    slug="hub-spokes-overlap",
    title="VNets peered to the same hub overlap each other",
    severity="high",
    flags="Two VNets that are both peered with the same VNet (the hub) have overlapping address spaces.",
    rationale=(
        "Azure checks overlap only between the two VNets of one peering, so a hub can be peered with "
        "two spokes that use the same range. The hub then has two routes for that range and reaches "
        "only one spoke; gateway transit advertises the range twice to on-premises; and the spokes "
        "can never be peered with each other or routed through the hub."
    ),
    remediation=(
        "Re-address one of the spokes so that every VNet peered with the hub has a unique range "
        "(allocate spoke ranges from an IPAM plan), then recreate its peerings."
    ),
    docs="https://learn.microsoft.com/azure/architecture/networking/architecture/hub-spoke",
    example=(
        "hub is peered with spoke1 (10.1.0.0/16) and spoke2 (10.1.0.0/24) -> flagged on hub, related "
        "spoke1 and spoke2.\nhub is peered with spoke1 (10.1.0.0/16) and spoke2 (10.2.0.0/16) -> passes."
    ),
    decisions=(
        "Peered means both halves Connected with allowVirtualNetworkAccess true. One finding per "
        "overlapping pair per hub, fingerprinted on the hub and the two spokes, so adding a third "
        "spoke does not change existing fingerprints. Pairs come from an interval sweep, so the work "
        "grows with the number of overlapping pairs, not with the square of the spokes."
    ),
)


@rule.check
def check(snapshot):
    index = snapshot.index
    for hub in snapshot.virtual_networks:
        spokes = sorted(index.peered_vnets(hub.key))
        if len(spokes) < 2:
            continue
        items = [(s, e, key) for key in spokes for s, e in prefix_spans(index.vnets[key].address_prefixes)]
        for a_key, b_key in sorted(overlapping_pairs(items)):
            a, b = index.vnets[a_key], index.vnets[b_key]
            detail = overlap_detail(a.address_prefixes, b.address_prefixes)
            yield rule.finding(
                resource_id=hub.id,
                related_ids=[a.id, b.id],
                message=(
                    f"VNets {a.name} and {b.name}, both peered with {hub.name}, overlap: {describe(detail)} "
                    f"({a.name} has {', '.join(a.address_prefixes)}; {b.name} has {', '.join(b.address_prefixes)})."
                ),
                evidence={
                    "hub_address_prefixes": list(hub.address_prefixes),
                    "vnets": [
                        {"id": a.id, "address_prefixes": list(a.address_prefixes)},
                        {"id": b.id, "address_prefixes": list(b.address_prefixes)},
                    ],
                    "overlapping_prefixes": [list(pair) for pair in detail],
                },
            )
