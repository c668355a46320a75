"""OVLP002 hub-spokes-overlap."""

import heapq

from auditor.analysis.overlap import (
    OverlapIndex,
    near_vnets,
    overlap_clusters,
    prefix_spans,
    span_cidrs,
    within,
)
from auditor.analysis.routing import (
    appliance_components,
    components,
    path_groups,
    peering_path,
)
from auditor.analysis.wording import name_list
from auditor.engine.rule import Rule

#: How many overlapping VNets a finding names; the evidence always carries the total.
MAX_LISTED = 10
DROPPED = ("If the configuration is deployed, traffic to the overlapping range is dropped: routing to it "
           "is not deterministic.")

rule = Rule(
    id="OVLP002",
    slug="hub-spokes-overlap",
    title="VNets connected through the same hub overlap each other",
    severity="high",
    reads=("virtualNetworks",),
    controls=("ALZ-NET", "ALZ-IP"),
    flags=(
        "Two or more VNets that share one routed hub have overlapping address spaces: peered with the same "
        "VNet (the hub), connected to one Virtual WAN hub or to hubs of one Standard virtual WAN, static "
        "members of one AVNM connected group, or spokes of a chain of peered hubs whose appliances route "
        "between them. One finding per hub (or group) and cluster of overlapping VNets, naming up to 10 "
        "and counting all."
    ),
    rationale=(
        "Azure checks overlap only between the two VNets of one peering, so a hub can be peered with "
        "two spokes that use the same range. The hub then has two routes for that range and reaches "
        "only one spoke; gateway transit advertises the range twice to on-premises; and the spokes "
        "can never be peered with each other or routed through the hub."
    ),
    remediation=(
        "Re-address the spokes so that every VNet peered with the hub has a unique range "
        "(allocate spoke ranges from an IPAM plan), then recreate their peerings or hub connections; "
        "members of an AVNM connected group need unique ranges too."
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
        "when two clusters join. Output is bounded by the number of peerings, never by pairs. "
        "Virtual WAN: one finding per hub, any sku (a Basic hub gives no VNet-to-VNet transit but routes "
        "its branches to every VNet), and per Standard virtual WAN across its hubs, which are connected "
        "to each other (learn.microsoft.com/azure/virtual-wan/virtual-wan-about#basicstandard); the "
        "message says 'connected to Virtual WAN hub X'. A hub whose WAN type and sku are unknown counts "
        "on its own; a hub missing from the input is known by the managed VNet (HV_<hub>_<guid>) its "
        "spokes peer with, and the finding is on the first of them. AVNM: a Mesh configuration, or a "
        "HubAndSpoke group with direct connectivity, makes "
        "its static members a connected group, per region unless global; Azure allows overlap there but "
        "drops traffic to the overlapping range (learn.microsoft.com/azure/virtual-network-manager/"
        "concept-connectivity-configuration). Deployment per region cannot be read, so the message says "
        "'if the configuration is deployed'; dynamic (Azure Policy) members are unknown and never "
        "counted. Chained hubs: in a chain of peered VNets where some VNet routes to a virtual appliance "
        "in a VNet it is peered with, hub appliances forward between the hubs, so the chain is one routed "
        "network; a cluster there is reported when two of its VNets are neither peered nor share a hub, "
        "naming the hubs between them, resource the first. Without such a route the far VNets are OVLP004's. "
        "Virtual WAN custom route tables (VNet isolation) are not read: a hub counts as one network. A VNet "
        "can be in several of these at once (a hub's spokes are in its chain too): each reports its cluster."
    ),
)


def _far_pair(index, members: set[str]) -> tuple[str, str] | None:
    """Two overlapping members of a cluster that neither are peered nor share a peered hub, if any."""
    overlaps = OverlapIndex({k: index.vnets[k].address_prefixes for k in members})
    for key in sorted(members):
        excluded = near_vnets(index, key)
        if overlaps.count(key) > overlaps.count_among(key, excluded):
            return key, next(k for k in overlaps.overlapping(key) if k not in excluded)
    return None


def _clusters(index, keys):
    items = [(s, e, key) for key in keys for s, e in prefix_spans(index.vnets[key].address_prefixes)]
    return overlap_clusters(items)


def _finding(index, resource_id, where, consequence, spans, members, evidence):
    ranges = [cidr for span in spans for cidr in span_cidrs(span)]
    listed = [index.vnets[k] for k in heapq.nsmallest(MAX_LISTED, members)]
    overlapping = [within(v.address_prefixes, spans) for v in listed]
    shown = ", ".join(f"{v.name} ({', '.join(p)})" for v, p in zip(listed, overlapping))
    more = f" and {len(members) - len(listed)} more" if len(members) > len(listed) else ""
    return rule.finding(
        resource_id=resource_id,
        related_ids=[v.id for v in listed],
        message=(f"{len(members)} VNets {where} overlap each other in {', '.join(ranges)}: {shown}{more}. "
                 f"{consequence}"),
        evidence={
            **evidence,
            "overlapping_ranges": ranges,
            "total_overlapping_vnets": len(members),
            "vnets": [
                {"id": v.id, "address_prefixes": list(v.address_prefixes), "overlapping_prefixes": p}
                for v, p in zip(listed, overlapping)
            ],
        },
        fingerprint_ids=[f"range:{r}" for r in ranges],
    )


def _hub_findings(snapshot):
    index = snapshot.index
    for hub in snapshot.virtual_networks:
        spokes = index.peered_vnets(hub.key)
        if len(spokes) < 2:
            continue
        for spans, members in _clusters(index, spokes):
            yield _finding(index, hub.id, f"peered with {hub.name}",
                           f"{hub.name} can route each overlapping range to only one of them.", spans, members,
                           {"hub_address_prefixes": list(hub.address_prefixes)})


def _group_findings(snapshot):
    """Virtual WAN hubs (any sku: a Basic hub still routes its branches to each VNet), Standard virtual
    WANs (hub-to-hub) and AVNM connected groups (static members)."""
    index = snapshot.index
    for group in path_groups(snapshot):
        keys = sorted(k for k in group.members if k in index.vnets)
        for spans, members in _clusters(index, keys) if len(keys) > 1 else ():
            if group.kind == "virtual-wan":
                hubs = sorted({group.hub_of[k] for k in members})
                several = f"{group.label} (hubs {name_list(hubs)})"
                where = f"Virtual WAN hub {hubs[0]}" if len(hubs) == 1 else several
                yield _finding(index, group.resource_id, f"connected to {where}",
                               "The hub routes each overlapping range to only one of them.", spans, members,
                               {"virtual_wan_hubs": hubs, "transit": group.transit})
            else:
                yield _finding(index, group.resource_id, f"in {group.label}", DROPPED, spans, members,
                               {"connected_group": group.label})


def _chain_findings(snapshot):
    """Chains of peered hubs whose appliances route between them: overlapping VNets farther apart than
    a shared hub."""
    index = snapshot.index
    routed = appliance_components(snapshot)
    by_comp: dict[int, list[str]] = {}
    for key, cid in components(snapshot).items():
        if cid in routed:
            by_comp.setdefault(cid, []).append(key)
    for keys in by_comp.values():
        for spans, members in _clusters(index, keys):
            pair = _far_pair(index, members)
            if pair is None:
                continue
            path = peering_path(snapshot, *pair) or list(pair)
            hubs = [index.vnets[k] for k in path[1:-1]]
            chain = " -> ".join(h.name for h in hubs)
            anchor = hubs[0].id if hubs else index.vnets[pair[0]].id
            yield _finding(index, anchor, f"routed through chained hubs {chain}",
                           "The hubs' appliances can route each overlapping range to only one of them.",
                           spans, members, {"chained_hubs": [h.name for h in hubs]})


@rule.check
def check(snapshot):
    yield from _hub_findings(snapshot)
    yield from _group_findings(snapshot)
    yield from _chain_findings(snapshot)
