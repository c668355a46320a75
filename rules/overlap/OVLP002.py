"""OVLP002 hub-spokes-overlap."""

import heapq

from auditor.analysis.overlap import overlap_clusters, prefix_spans, span_cidrs, within
from auditor.engine.rule import Rule

#: How many overlapping VNets a finding names; the evidence always carries the total.
MAX_LISTED = 10

rule = Rule(
    id="OVLP002",
    slug="hub-spokes-overlap",
    title="VNets peered to the same hub overlap each other",
    severity="high",
    reads=("virtualNetworks",),
    controls=("ALZ-NET", "ALZ-IP"),
    flags=(
        "Two or more VNets that are all peered with the same VNet (the hub) have overlapping address "
        "spaces; one finding per hub and cluster of overlapping VNets, naming up to 10 and counting all."
    ),
    rationale=(
        "Azure checks overlap only between the two VNets of one peering, so a hub can be peered with "
        "two spokes that use the same range. The hub then has two routes for that range and reaches "
        "only one spoke; gateway transit advertises the range twice to on-premises; and the spokes "
        "can never be peered with each other or routed through the hub."
    ),
    remediation=(
        "Re-address the spokes so that every VNet peered with the hub has a unique range "
        "(allocate spoke ranges from an IPAM plan), then recreate their peerings."
    ),
    docs="https://learn.microsoft.com/azure/architecture/networking/architecture/hub-spoke",
    example=(
        "hub is peered with spoke1 (10.1.0.0/16) and spoke2 (10.1.0.0/24) -> flagged on hub, related "
        "spoke1 and spoke2.\nhub is peered with spoke1 (10.1.0.0/16) and spoke2 (10.2.0.0/16) -> passes."
    ),
    decisions=(
        "Peered means both halves Connected with allowVirtualNetworkAccess true; any VNet with two or "
        "more peers is a hub. A hub's spokes are grouped into clusters with one sorted sweep over their "
        "prefixes: overlapping prefixes merge into a range, and ranges that share a spoke (a dual-stack "
        "spoke reused on both families, or a spoke spanning two ranges) join one cluster. One finding "
        "per hub and cluster: related ids are the first 10 VNets by id, the evidence counts them all "
        "(total_overlapping_vnets) and lists each named VNet's overlapping prefixes. The fingerprint is "
        "the hub plus the cluster's merged range(s), not the spokes, so it stays stable when another "
        "spoke reuses the same range; it changes when the merged range grows (a wider prefix joins) or "
        "when two clusters join. Output is bounded by the number of peerings, never by pairs."
    ),
)


@rule.check
def check(snapshot):
    index = snapshot.index
    for hub in snapshot.virtual_networks:
        spokes = index.peered_vnets(hub.key)
        if len(spokes) < 2:
            continue
        items = [(s, e, key) for key in spokes for s, e in prefix_spans(index.vnets[key].address_prefixes)]
        for spans, members in overlap_clusters(items):
            ranges = [cidr for span in spans for cidr in span_cidrs(span)]
            listed = [index.vnets[k] for k in heapq.nsmallest(MAX_LISTED, members)]
            overlapping = [within(v.address_prefixes, spans) for v in listed]
            shown = ", ".join(f"{v.name} ({', '.join(p)})" for v, p in zip(listed, overlapping))
            more = f" and {len(members) - len(listed)} more" if len(members) > len(listed) else ""
            yield rule.finding(
                resource_id=hub.id,
                related_ids=[v.id for v in listed],
                message=(
                    f"{len(members)} VNets peered with {hub.name} overlap each other in {', '.join(ranges)}: "
                    f"{shown}{more}. {hub.name} can route each overlapping range to only one of them."
                ),
                evidence={
                    "hub_address_prefixes": list(hub.address_prefixes),
                    "overlapping_ranges": ranges,
                    "total_overlapping_vnets": len(members),
                    "vnets": [
                        {"id": v.id, "address_prefixes": list(v.address_prefixes), "overlapping_prefixes": p}
                        for v, p in zip(listed, overlapping)
                    ],
                },
                fingerprint_ids=[f"range:{r}" for r in ranges],
            )
