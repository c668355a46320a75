"""Whether one flow (a source address, a destination address, a protocol and a port) passes the
filters in its way, in Azure's order (learn.microsoft.com/azure/virtual-network-manager/concept-security-admins,
learn.microsoft.com/azure/virtual-network/network-security-group-how-it-works):

    AVNM security admin rules of the VNet (AlwaysAllow ends evaluation, Deny drops, Allow goes on)
    inbound: the subnet's NSG, then the NIC's NSG; outbound: the NIC's, then the subnet's.

Each layer answers allowed, denied or unknown (naming what is missing: an application security group
whose members are not in the input, a service tag's Azure ranges, an unknown source port).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from auditor.analysis.addresses import IntervalSet, interval
from auditor.analysis.nsg import (
    NON_PUBLIC,
    Addresses,
    ParsedRule,
    parse_ports,
    ports_contain,
    rules_in_order,
    vnet_tag_space,
)
from auditor.model.ids import norm_id

if TYPE_CHECKING:
    from auditor.model.snapshot import AdminRule, NetworkInterface, Snapshot

#: Service tags whose addresses are documented and fixed (learn.microsoft.com/azure/virtual-network/service-tags-overview):
#: AzureLoadBalancer is the host's virtual IP. Other tags' ranges change weekly and are not in the input.
FIXED_TAGS = {"azureloadbalancer": IntervalSet.of(["168.63.129.16/32"])}
ALLOWED, DENIED, UNKNOWN = "allowed", "denied", "unknown"
PASSED = "passed"  # an admin Allow: the NSGs decide
_ANY_PROTOCOL = ("*", "any", "all")


@dataclass(frozen=True)
class Flow:
    source: str  # an address
    destination: str
    protocol: str  # tcp | udp | icmp | *
    port: int


@dataclass(frozen=True)
class Decision:
    verdict: str  # allowed | denied | unknown
    layer: str  # "admin rule", "subnet NSG", "NIC NSG", or "" when nothing filters
    rule_id: str | None
    text: str


def _contains(address: str, space: IntervalSet) -> bool:
    span = interval(address)
    return span is not None and space.contains_point(span[0])


def _side_matches(snapshot: Snapshot, side: Addresses, address: str, vnet_key: str, asgs_of) -> bool | None:
    """Does this rule side match the address? None when the input cannot say."""
    if side.any or _contains(address, side.literal):
        return True
    tag = None
    if side.vnet_tag or side.internet_tag:
        tag = vnet_tag_space(snapshot, vnet_key)
    if side.vnet_tag and _contains(address, tag):
        return True
    if side.internet_tag and not _contains(address, NON_PUBLIC) and not _contains(address, tag):
        return True
    if side.asgs:
        members = asgs_of(address)
        if members is None:
            return None
        if members & set(side.asgs):
            return True
    tags = [t.lower() for t in side.other_tags]
    if any(_contains(address, FIXED_TAGS[t]) for t in tags if t in FIXED_TAGS):
        return True
    if any(t not in FIXED_TAGS for t in tags) and not _contains(address, NON_PUBLIC):
        return None  # a public address may be in an Azure service tag's ranges: not in the input
    return False


def _protocol_matches(rule_protocol: str, protocol: str) -> bool:
    return rule_protocol in _ANY_PROTOCOL or protocol in _ANY_PROTOCOL or rule_protocol == protocol


def nsg_decision(snapshot: Snapshot, nsg_id: str, inbound: bool, flow: Flow, vnet_key: str, asgs_of, layer: str) -> Decision:
    nsg = snapshot.index.nsgs.get(norm_id(nsg_id))
    if nsg is None:
        return Decision(UNKNOWN, layer, nsg_id, f"{layer} {nsg_id.rsplit('/', 1)[-1]} is not in the input")
    for pr in rules_in_order(snapshot, nsg, inbound):
        if not _protocol_matches(pr.protocol, flow.protocol) or not ports_contain(pr.destination_ports, flow.port):
            continue
        source = _side_matches(snapshot, pr.source, flow.source, vnet_key, asgs_of)
        destination = _side_matches(snapshot, pr.destination, flow.destination, vnet_key, asgs_of)
        if source is False or destination is False:
            continue
        partial_ports = pr.source_ports != ((0, 65535),)
        if source is None or destination is None or partial_ports:
            why = "its source ports" if partial_ports else "application security group or service tag membership"
            return Decision(UNKNOWN, layer, pr.rule.id, f"{pr.label()} in {nsg.name} may match: {why} not known")
        verdict = ALLOWED if pr.allow else DENIED
        return Decision(verdict, layer, pr.rule.id, f"{pr.label()} in {layer} {nsg.name}")
    return Decision(DENIED, layer, None, f"no rule in {nsg.name} matches")  # unreachable with default rules


def admin_rules_for(snapshot: Snapshot, vnet_key: str) -> list[AdminRule]:
    """Security admin rules applying to a VNet (a static member of a rule collection's groups), by priority."""
    memo = snapshot.index.memo("flow.admin_rules")
    if not memo and snapshot.network_managers:
        memo[None] = []
        index = snapshot.index
        for manager in snapshot.network_managers:
            for config in manager.security_admin_configurations:
                for collection in config.rule_collections:
                    members: set[str] = set()
                    for group in collection.applies_to_group_ids:
                        members |= index.static_members(group)
                    for member in members:
                        memo.setdefault(member, []).extend(r for r in collection.rules if r.priority is not None)
        for rules in memo.values():
            rules.sort(key=lambda r: (r.priority, norm_id(r.id)))
    return memo.get(norm_id(vnet_key), [])


def admin_decision(snapshot: Snapshot, inbound: bool, flow: Flow, vnet_key: str) -> Decision | None:
    """The first admin rule matching the flow (an Allow passes it on to the NSGs); None when none does."""
    direction = "inbound" if inbound else "outbound"
    for rule in admin_rules_for(snapshot, vnet_key):
        if (rule.direction or "").lower() != direction or not _protocol_matches((rule.protocol or "any").lower(), flow.protocol):
            continue
        if not ports_contain(parse_ports(rule.destination_port_ranges or ["*"]), flow.port):
            continue
        source = _side_matches(snapshot, Addresses.parse(rule.source_address_prefixes), flow.source, vnet_key, lambda _: set())
        destination = _side_matches(snapshot, Addresses.parse(rule.destination_address_prefixes), flow.destination,
                                    vnet_key, lambda _: set())
        if source is False or destination is False:
            continue
        access = (rule.access or "").lower()
        text = f"admin rule {rule.name} (priority {rule.priority}, {rule.access}), if its configuration is deployed"
        if source is None or destination is None:
            return Decision(UNKNOWN, "admin rule", rule.id, f"{text} may match: service tag ranges not known")
        verdict = {"alwaysallow": ALLOWED, "deny": DENIED}.get(access, PASSED)
        return Decision(verdict, "admin rule", rule.id, text)
    return None


def filters(snapshot: Snapshot, flow: Flow, vnet_key: str, subnet_key: str, nic: NetworkInterface | None,
            inbound: bool) -> list[Decision]:
    """Each filter the flow meets at one end, in Azure's order, up to the one that stops it."""
    asgs_of = _asg_lookup(snapshot)
    out: list[Decision] = []
    admin = admin_decision(snapshot, inbound, flow, vnet_key)
    if admin is not None:
        out.append(admin)
        if admin.verdict != PASSED:
            return out  # AlwaysAllow: the NSGs never see it; Deny: nothing overrides it
    subnet = snapshot.index.subnets.get(subnet_key)
    layers = [("subnet NSG", subnet.network_security_group_id if subnet else None),
              ("NIC NSG", nic.network_security_group_id if nic else None)]
    for layer, nsg_id in (layers if inbound else layers[::-1]):
        if nsg_id:
            decision = nsg_decision(snapshot, nsg_id, inbound, flow, vnet_key, asgs_of, layer)
            out.append(decision)
            if decision.verdict != ALLOWED:
                return out
    return out


def _asg_lookup(snapshot: Snapshot):
    """address -> the ASG ids of the NIC ip configuration holding it (None when the input has no NICs)."""
    memo = snapshot.index.memo("flow.asgs")
    if not memo:
        memo[None] = None
        for nic in snapshot.network_interfaces:
            for config in nic.ip_configurations:
                if config.private_ip_address:
                    memo[config.private_ip_address.split("/")[0]] = {norm_id(a) for a in config.application_security_group_ids}
    has_nics = bool(snapshot.network_interfaces)
    return lambda address: memo.get(address, set() if has_nics else None)


__all__ = ["ALLOWED", "DENIED", "UNKNOWN", "Decision", "Flow", "ParsedRule", "admin_rules_for", "filters"]
