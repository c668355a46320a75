"""NSG001 peer-traffic-denied."""

from functools import partial

from auditor.analysis.addresses import IntervalSet, describe_space
from auditor.analysis.nsg import Coverage, first_denies, rules_in_order, vnet_tag_space
from auditor.analysis.routing import peered_by_address
from auditor.analysis.wording import name_list
from auditor.engine.rule import Rule
from auditor.model.ids import norm_id

LIMIT = 50  # peered VNets kept in evidence per rule

rule = Rule(
    id="NSG001",
    slug="peer-traffic-denied",
    title="NSG denies all traffic from a peered VNet",
    severity="medium",
    reads=("virtualNetworks", "networkSecurityGroups"),
    controls=("NS-1", "ALZ-NET"),
    flags=(
        "For a subnet of VNet A with an NSG and a VNet P peered with A: the first inbound rule (by priority, "
        "default rules included) whose source covers any of P's range and whose destination covers the subnet "
        "is a Deny for all ports and protocols."
    ),
    rationale=(
        "A peering that is Connected but whose traffic the NSG drops entirely looks healthy everywhere except "
        "in effective security rules. Often a broad Deny (a 'deny VirtualNetwork' lockdown or a deny of "
        "10.0.0.0/8) placed above the allows was meant for other ranges."
    ),
    remediation=(
        "If the peer should reach the subnet, add an Allow for its prefixes and the needed ports with a "
        "lower priority number than the deny; if the isolation is intended, remove the peering or waive the "
        "finding with the reason."
    ),
    docs="https://learn.microsoft.com/azure/virtual-network/network-security-group-how-it-works",
    example=(
        "hub (10.0.0.0/16) is peered with spoke; nsg-app on spoke's app subnet has deny-corp (priority 4000, "
        "Deny, source 10.0.0.0/8, all ports) and no allow for the hub above it -> deny-corp is flagged.\n"
        "An allow-hub rule (priority 300, source 10.0.0.0/16, port 443) above it passes: some hub traffic gets in."
    ),
    decisions=(
        "Rules are walked by priority per (subnet, peer). An Allow stops the walk for P when its source matches "
        "any of P's range and its destination matches any of the subnet, on any port: some of P's traffic is "
        "deliberately admitted. A Deny counts only when it covers every protocol and port and its destination "
        "covers the whole subnet; narrower denies are passed over. A Deny whose source covers only part of P "
        "is flagged for that part (the message names it). Application security groups cannot be resolved: an "
        "ASG Allow is assumed to admit P, an ASG Deny is passed over, so an unknown never produces a finding. "
        "Peers are VNets peered per the catalogue (Connected both sides, access allowed); the default "
        "AllowVnetInBound therefore always admits them, and the default DenyAllInBound is never reached. A "
        "peer whose access is disabled is left to PEER004: its owner removed it from the VirtualNetwork tag on "
        "purpose. One finding per deny rule, listing every peer and subnet it cuts off; the fingerprint is the "
        "rule alone, so it stays stable as peers come and go."
    ),
)


@rule.check
def check(snapshot):
    index = snapshot.index
    for nsg in snapshot.network_security_groups:
        subnet_keys = index.subnets_of(nsg.id)
        if not subnet_keys:
            continue
        ordered = rules_in_order(snapshot, nsg, inbound=True)
        denied: dict[str, dict[str, dict]] = {}  # rule key -> peer key -> {subnets, addresses}
        by_key = {}
        for subnet_key in subnet_keys:
            vnet = index.vnet_of_subnet[subnet_key]
            peers = {p: index.address_space(p) for p in sorted(index.peered_vnets(vnet.key))}
            if not peers:
                continue
            subnet = index.subnets[subnet_key]
            subnet_space = IntervalSet.of(subnet.address_prefixes) or index.address_space(vnet.key)
            tag = partial(vnet_tag_space, snapshot, vnet.key)  # computed only if a rule needs it
            by_address = peered_by_address(snapshot, vnet.key)
            for p, (pr, cov) in first_denies(ordered, subnet_space, tag, peers, by_address).items():
                space = peers[p]
                by_key[pr.rule.key] = pr
                entry = denied.setdefault(pr.rule.key, {}).setdefault(
                    p, {"subnets": [], "addresses": "", "whole": True})
                entry["subnets"].append(f"{vnet.name}/{subnet.name}")
                shared = space if cov == Coverage.FULL else space.intersection(pr.source.space(tag))
                entry["addresses"] = describe_space(shared)
                entry["whole"] = entry["whole"] and cov == Coverage.FULL
        for key, peers in denied.items():
            pr = by_key[key]
            r = pr.rule
            items = sorted(peers.items(), key=lambda kv: index.vnets[kv[0]].name.lower())
            first_key, first = items[0]
            subnets = sorted({s for _, e in items for s in e["subnets"]})
            part = "" if first["whole"] else f" (only {first['addresses']} of {index.vnets[first_key].name})"
            yield rule.finding(
                resource_id=r.id,
                related_ids=[nsg.id, *(index.vnets[k].id for k, _ in items[:LIMIT])],
                fingerprint_ids=[norm_id(r.id)],
                message=(
                    f"Rule {r.name} (priority {r.priority}, Deny, all ports and protocols, source "
                    f"{pr.source.describe()}) in NSG {nsg.name} is the first inbound rule matching traffic from peered "
                    f"VNet {name_list(index.vnets[k].name for k, _ in items)}{part} to subnet {name_list(subnets)}: "
                    f"everything from the peer is dropped although the peering is Connected."
                ),
                evidence={
                    "nsg": nsg.name, "priority": r.priority, "source": pr.source.describe(), "default_rule": r.is_default,
                    "peers": [{"vnet": index.vnets[k].name, "addresses": e["addresses"], "whole_peer": e["whole"],
                               "subnets": sorted(e["subnets"])}
                              for k, e in items[:LIMIT]],
                    "peer_count": len(items),
                },
            )
