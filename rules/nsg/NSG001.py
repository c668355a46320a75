"""NSG001 peer-traffic-denied."""

from dataclasses import dataclass, field
from functools import cached_property, partial

from auditor.analysis.addresses import IntervalSet, describe_space, families, union
from auditor.analysis.admin_rules import IF_DEPLOYED, admin_rules_for
from auditor.analysis.nics import (
    asg_space,
    nic_label,
    nic_space,
    nics_with_nsg_in,
    nsg_of_nic,
)
from auditor.analysis.nsg import (
    Coverage,
    first_decisions,
    first_denies,
    rules_in_order,
    vnet_tag_space,
)
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
        "For a subnet of VNet A and a VNet P peered with A: the first inbound rule (by priority, default rules "
        "included) whose source covers any of P's range and whose destination covers the subnet is a Deny for "
        "all ports and protocols; in the subnet's NSG, in the NSG of a NIC in the subnet (for the NIC's "
        "addresses), or a security admin rule of Azure Virtual Network Manager applying to A."
    ),
    rationale=(
        "A peering that is Connected but whose traffic the NSG drops entirely looks healthy everywhere except "
        "in effective security rules. Often a broad Deny (a 'deny VirtualNetwork' lockdown or a deny of "
        "10.0.0.0/8) placed above the allows was meant for other ranges."
    ),
    remediation=(
        "If the peer should reach the subnet, add an Allow for its prefixes and the needed ports with a "
        "lower priority number than the deny (for an admin Deny, in the security admin configuration: NSGs "
        "cannot override it); if the isolation is intended, remove the peering or waive the finding with the "
        "reason."
    ),
    docs="https://learn.microsoft.com/azure/virtual-network/network-security-group-how-it-works",
    example=(
        "hub (10.0.0.0/16) is peered with spoke; nsg-app on spoke's app subnet has deny-corp (priority 4000, "
        "Deny, source 10.0.0.0/8, all ports) and no allow for the hub above it -> deny-corp is flagged.\n"
        "An allow-hub rule (priority 300, source 10.0.0.0/16, port 443) above it passes: some hub traffic gets in."
    ),
    decisions=(
        "Rules are walked by priority per (subnet, peer) and per address family: IPv4 traffic meets only IPv4 "
        "addresses, so a Deny of 0.0.0.0/0 leaves a peer's IPv6 range alone and a Deny of ::/0 its IPv4 range, "
        "while `*`/Any covers both (https://learn.microsoft.com/azure/virtual-network/"
        "network-security-groups-overview). An Allow stops the walk for P when its source matches "
        "any of P's range and its destination matches any of the subnet, on any port: some of P's traffic is "
        "deliberately admitted. A Deny counts only when it covers every protocol and port and its destination "
        "covers the whole subnet (or the whole NIC); narrower denies are passed over. A Deny whose source "
        "covers only part of P is flagged for that part (the message names it). "
        "Order (https://learn.microsoft.com/azure/virtual-network/network-security-group-how-it-works, "
        "https://learn.microsoft.com/azure/virtual-network-manager/concept-security-admins): security admin "
        "rules first (static members of the rule collection's network groups; dynamic membership is unknown "
        "and adds nothing): an AlwaysAllow matching P ends the evaluation, so no NSG deny is reached for P; an "
        "admin Allow hands P to the NSGs; an admin Deny of all traffic is itself the blocker and is reported on "
        "the admin rule, naming its configuration, with 'if the configuration is deployed in the VNet's "
        "region' (deployment per region cannot be read). Then the subnet's NSG, then the NSG of each NIC in "
        "the subnet, for the NIC's addresses and only for peers the subnet NSG did not deny (the message names "
        "the NICs cut off). Application security groups are resolved through NIC membership where the "
        "snapshot holds the VNet's NICs (its subscription was read for network interfaces); elsewhere an ASG "
        "Allow is assumed to admit P and an ASG Deny is passed over, so an unknown never produces a finding. "
        "Peers are VNets peered per the catalogue (Connected both sides, access allowed); the default "
        "AllowVnetInBound therefore always admits them, and the default DenyAllInBound is never reached. A "
        "peer whose access is disabled is left to PEER004: its owner removed it from the VirtualNetwork tag on "
        "purpose. One finding per deny rule, listing every peer and subnet or NIC it cuts off; the fingerprint "
        "is the rule alone, so it stays stable as peers come and go."
    ),
)


@dataclass
class _Denial:
    """What one deny rule cuts off: per peer, the addresses and the subnets or NICs."""

    pr: object
    where: str  # "NSG nsg-app", "NSG nsg-vm1 (on NIC vm1-nic (VM vm1))" or the admin rule's origin
    name: str  # the NSG's name, or the admin rule's origin
    container_id: str
    layer: str  # subnet NSG | NIC NSG | security admin
    peers: dict = field(default_factory=dict)  # peer key -> {"subnets", "nics": sets, "spaces": list}

    def add(self, peer: str, subnet: str, nic: str | None, space: IntervalSet) -> None:
        entry = self.peers.setdefault(peer, {"subnets": set(), "nics": set(), "spaces": []})
        entry["subnets"].add(subnet)
        entry["nics"].update([nic] if nic else [])
        entry["spaces"].append(space)

    def targets(self, entry: dict) -> list[str]:
        return [f"NIC {n}" for n in entry["nics"]] if self.layer == "NIC NSG" else list(entry["subnets"])


class _Judge:
    """One VNet's subnets and NICs, one address family at a time."""

    def __init__(self, snapshot, vnet, found: dict[str, _Denial]):
        self.snapshot, self.vnet, self.found = snapshot, vnet, found
        self.tag = partial(vnet_tag_space, snapshot, vnet.key)  # computed only if a rule needs it

    # computed for the first subnet that has an NSG, a NIC with one, or admin rules
    @cached_property
    def by_family(self) -> list[dict[str, IntervalSet]]:
        """Per family (IPv4, IPv6), the peers' addresses of that family."""
        index = self.snapshot.index
        split = {p: families(index.address_space(p)) for p in sorted(index.peered_vnets(self.vnet.key))}
        return [{p: parts[f] for p, parts in split.items() if parts[f]} for f in (0, 1)]

    @cached_property
    def by_address(self):
        return peered_by_address(self.snapshot, self.vnet.key)

    @cached_property
    def asgs(self):
        return asg_space(self.snapshot, self.vnet.key)

    def subnet(self, subnet) -> None:
        index = self.snapshot.index
        key = subnet.key
        nsg = index.nsg_of_subnet(key)
        nics = [(nic, nsg_of_nic(self.snapshot, nic)) for nic in nics_with_nsg_in(self.snapshot, key)]
        admin = [a for a in admin_rules_for(self.snapshot, self.vnet.key, key) if a.parsed.all_traffic
                 or a.parsed.allow]
        if nsg is None and not nics and not admin:
            return
        label = f"{self.vnet.name}/{subnet.name}"
        subnet_space = IntervalSet.of(subnet.address_prefixes) or index.address_space(self.vnet.key)
        for space, peers in zip(families(subnet_space), self.by_family):
            if not space or not peers:
                continue
            peers = self._admin(admin, space, peers, label)
            if nsg is not None:
                denied = first_denies(rules_in_order(self.snapshot, nsg), space, self.tag, peers, self.by_address,
                                      self.asgs)
                self._record(denied, peers, (label, None), f"NSG {nsg.name}", nsg.name, nsg.id, "subnet NSG")
                peers = {p: s for p, s in peers.items() if p not in denied}
            for nic, nic_nsg in nics:
                nic_part = nic_space(nic).intersection(space)
                if nic_part and peers:
                    denied = first_denies(rules_in_order(self.snapshot, nic_nsg), nic_part, self.tag, peers,
                                          self.by_address, self.asgs)
                    self._record(denied, peers, (label, nic_label(nic)), f"NSG {nic_nsg.name} (on NIC {nic.name})",
                                 nic_nsg.name, nic_nsg.id, "NIC NSG")

    def _admin(self, admin, space, peers, label) -> dict[str, IntervalSet]:
        """The peers whose traffic the admin rules hand to the NSGs; records admin denies."""
        if not admin:
            return peers
        decided = first_decisions([a.parsed for a in admin], space, self.tag, peers, self.by_address)
        by_rule = {a.parsed.rule.key: a for a in admin}
        denied = {p: d for p, d in decided.items() if not d[0].allow}
        for p, (pr, _) in denied.items():
            applied = by_rule[pr.rule.key]
            self._record({p: denied[p]}, peers, (label, None), applied.origin, applied.origin,
                         applied.configuration.id, "security admin")
        # an AlwaysAllow ends the evaluation: no NSG deny is reached for that peer
        return {p: s for p, s in peers.items() if p not in decided or decided[p][0].access == "allow"}

    def _record(self, denied, peers, target, where, name, container_id, layer) -> None:
        for p, (pr, cov) in denied.items():
            entry = self.found.setdefault(pr.rule.key, _Denial(pr, where, name, container_id, layer))
            shared = peers[p] if cov == Coverage.FULL else peers[p].intersection(pr.source.space(self.tag))
            entry.add(p, *target, shared)


def _message(snapshot, d: _Denial, items, whole: bool) -> str:
    index = snapshot.index
    r = d.pr.rule
    first_key, first = items[0]
    part = "" if whole else f" (only {describe_space(union(first['spaces']))} of {index.vnets[first_key].name})"
    kind = "Security admin rule" if d.layer == "security admin" else "Rule"
    head = (f"{kind} {r.name} (priority {r.priority}, Deny, all ports and protocols, source {d.pr.source.describe()}) "
            f"in {d.where} is the first inbound rule matching traffic from peered VNet "
            f"{name_list(index.vnets[k].name for k, _ in items)}{part} to "
            f"{name_list(t for _, e in items for t in d.targets(e))}")
    what = "everything from the peer is" if whole else "all traffic from that part of the peer is"
    if d.layer == "security admin":
        return (f"{head}: {IF_DEPLOYED} (deployment per region cannot be read), {what} dropped although the "
                f"peering is Connected, and no NSG can allow it.")
    return f"{head}: {what} dropped although the peering is Connected."


@rule.check
def check(snapshot):
    index = snapshot.index
    found: dict[str, _Denial] = {}
    for vnet in snapshot.virtual_networks:
        if index.peered_vnets(vnet.key):
            judge = _Judge(snapshot, vnet, found)
            for subnet in vnet.subnets:
                judge.subnet(subnet)
    for key in sorted(found):
        d = found[key]
        r = d.pr.rule
        items = sorted(d.peers.items(), key=lambda kv: index.vnets[kv[0]].name.lower())
        whole = {k: union(e["spaces"]).covers(index.address_space(k)) for k, e in items}
        yield rule.finding(
            resource_id=r.id,
            related_ids=[d.container_id, *(index.vnets[k].id for k, _ in items[:LIMIT])],
            fingerprint_ids=[norm_id(r.id)],
            message=_message(snapshot, d, items, whole[items[0][0]]),
            evidence={
                "nsg" if d.layer != "security admin" else "admin_configuration": d.name,
                "layer": d.layer, "priority": r.priority, "source": d.pr.source.describe(),
                "default_rule": d.pr.is_default,
                "peers": [{"vnet": index.vnets[k].name, "addresses": describe_space(union(e["spaces"])),
                           "whole_peer": whole[k], "subnets": sorted(e["subnets"]),
                           **({"nics": sorted(e["nics"])} if e["nics"] else {})}
                          for k, e in items[:LIMIT]],
                "peer_count": len(items),
            },
        )
