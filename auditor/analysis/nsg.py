"""NSG semantics: rule order, address and service-tag coverage, protocols and ports.

A security rule is parsed once per snapshot (`rules_in_order`). Address sides are
judged against a target range, in the context of one VNet (the VirtualNetwork tag
depends on it), as one of:

    NONE     the side matches no address of the target
    PARTIAL  it matches some addresses of the target, not all
    FULL     it matches every address of the target
    UNKNOWN  it may match (application security groups whose membership the snapshot lacks)

Service tags: `*` and `Any` match every address of both families; `0.0.0.0/0` is every IPv4
address and no IPv6 one, `::/0` the reverse (plain prefixes); `VirtualNetwork` expands to
`vnet_tag_space`; `Internet` is public space outside that tag, in both families; every other
tag (AzureLoadBalancer, Storage, AzureCloud, ...) names Azure service addresses and matches
nothing of a VNet or an on-premises range. Application security groups match their member
NICs' addresses when the caller can resolve them (`AsgSpace`, see `analysis.nics`).
See https://learn.microsoft.com/azure/virtual-network/network-security-groups-overview and
https://learn.microsoft.com/azure/virtual-network/service-tags-overview.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from operator import gt
from typing import TYPE_CHECKING

from auditor.analysis.addresses import (
    BlockIndex,
    IntervalSet,
    interval,
    is_any,
    overlaps,
    span_text,
    subtract,
    union,
)
from auditor.analysis.gateways import behind_gateways
from auditor.analysis.routing import path_groups
from auditor.model.ids import norm_id

if TYPE_CHECKING:
    from auditor.model.snapshot import (
        AdminRule,
        NetworkSecurityGroup,
        SecurityRule,
        Snapshot,
    )

ALL_ADDRESSES = IntervalSet.of(["0.0.0.0/0", "::/0"])
#: Never routed on the Internet: the Internet tag does not include these.
NON_PUBLIC = IntervalSet.of([
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.168.0.0/16", "224.0.0.0/3", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8",
])
PUBLIC = subtract(ALL_ADDRESSES, NON_PUBLIC)
ALL_PORTS = ((0, 65535),)
#: Ports that give a shell or desktop: SSH and RDP (RDP also runs over UDP).
ADMIN_PORTS = (22, 3389)


#: The VirtualNetwork tag's addresses, or a function computing them on demand.
TagSpace = IntervalSet | Callable[[], IntervalSet] | None
#: An application security group's member addresses by id; None when membership is unknown.
AsgSpace = Callable[[str], IntervalSet | None] | None


class Coverage(enum.IntEnum):
    NONE = 0
    UNKNOWN = 1
    PARTIAL = 2
    FULL = 3


def coverage_of(matched: IntervalSet, target: IntervalSet) -> Coverage:
    if not target or not overlaps(matched, target):
        return Coverage.NONE
    return Coverage.FULL if matched.covers(target) else Coverage.PARTIAL


# -- ports and protocols ---------------------------------------------------------
def parse_ports(values: Iterable[str]) -> tuple[tuple[int, int], ...]:
    """`*`, `80`, `1000-2000`, and comma lists, merged; unparsable entries are dropped."""
    return _parse_ports(tuple(str(v) for v in values))


@lru_cache(maxsize=1 << 14)
def _parse_ports(values: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    spans: list[tuple[int, int]] = []
    for value in values:
        for part in str(value).split(","):
            part = part.strip()
            if part in ("*", "any", "Any", ""):
                if part:
                    return ALL_PORTS
                continue
            lo, _, hi = part.partition("-")
            try:
                a, b = int(lo), int(hi or lo)
            except ValueError:
                continue
            spans.append((max(0, min(a, b)), min(65535, max(a, b))))
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return tuple(merged)


def ports_contain(ports: tuple[tuple[int, int], ...], port: int) -> bool:
    return any(a <= port <= b for a, b in ports)


def normalize_protocol(protocol: str | None) -> str:
    text = (protocol or "*").strip().lower()
    return "*" if text in ("*", "any", "all") else text


# -- address sides -------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Addresses:
    """One side (source or destination) of a rule."""

    any: bool
    literal: IntervalSet  # CIDRs and IPs written in the rule
    vnet_tag: bool
    internet_tag: bool
    other_tags: tuple[str, ...]
    asgs: tuple[str, ...]

    @classmethod
    def parse(cls, prefixes: Iterable[str], asg_ids: Iterable[str] = ()) -> Addresses:
        """Parsed once per distinct spelling: estates repeat the same few sides thousands of times."""
        return _parse_addresses(tuple(prefixes), tuple(asg_ids))

    @classmethod
    def _parse(cls, prefixes: tuple[str, ...], asg_ids: tuple[str, ...]) -> Addresses:
        any_, vnet, internet, literal, tags = False, False, False, [], []
        for raw in prefixes:
            text = (raw or "").strip()
            lower = text.lower()
            if not text:
                continue
            if is_any(text):
                any_ = True
            elif lower == "virtualnetwork":
                vnet = True
            elif lower == "internet":
                internet = True
            elif (span := interval(text)) is not None:
                literal.append(span)
            else:
                tags.append(text)
        return cls(any_, IntervalSet(literal), vnet, internet, tuple(tags), tuple(norm_id(a) for a in asg_ids))

    @property
    def literal_only(self) -> bool:
        return not (self.any or self.vnet_tag or self.internet_tag or self.other_tags or self.asgs)

    def space(self, vnet_tag_space: TagSpace = None) -> IntervalSet:
        """The addresses this side surely matches; ASGs add nothing (see `coverage`).
        `vnet_tag_space` may be a function, called only when a tag needs it."""
        if self.any:
            return ALL_ADDRESSES
        if not (self.vnet_tag or self.internet_tag):
            return self.literal
        parts = [self.literal]
        tag = (vnet_tag_space() if callable(vnet_tag_space) else vnet_tag_space) or IntervalSet()
        if self.vnet_tag:
            parts.append(tag)
        if self.internet_tag:
            parts.append(_internet_outside(tuple(tag.starts), tuple(tag.ends)))
        return union(parts)

    def asgs_unknown(self, asg_space: AsgSpace = None) -> bool:
        """Some application security group of this side has members the snapshot cannot tell."""
        return bool(self.asgs) and (asg_space is None or any(asg_space(a) is None for a in self.asgs))

    def asg_members(self, asg_space: AsgSpace = None) -> IntervalSet:
        """The addresses of the member NICs of this side's resolvable application security groups."""
        if not self.asgs or asg_space is None:
            return IntervalSet()
        return union(found for a in self.asgs if (found := asg_space(a)) is not None)

    def named(self, asg_space: AsgSpace = None) -> IntervalSet:
        """What the side matches inside the VirtualNetwork tag apart from the tag itself: written
        prefixes and resolvable application security groups (Internet adds nothing there)."""
        return union([self.literal, self.asg_members(asg_space)]) if self.asgs else self.literal

    def coverage(self, target: IntervalSet, vnet_tag_space: TagSpace = None, target_in_tag: bool = False,
                 asg_space: AsgSpace = None) -> Coverage:
        """How much of `target` this side matches, with the VirtualNetwork tag as given.
        `target_in_tag`: the caller knows the target lies inside the tag (a subnet of the
        VNet, a peered VNet), which spares computing the tag."""
        if self.any or (target_in_tag and self.vnet_tag):
            return Coverage.FULL if target else Coverage.NONE
        matched = self.named(asg_space) if target_in_tag else self.space(vnet_tag_space)
        if self.asgs and not target_in_tag:
            matched = union([matched, self.asg_members(asg_space)])
        found = coverage_of(matched, target)
        if found == Coverage.NONE and self.asgs_unknown(asg_space):
            return Coverage.UNKNOWN
        return found

    def describe(self) -> str:
        parts = (["*"] if self.any else []) + (["VirtualNetwork"] if self.vnet_tag else []) + (
            ["Internet"] if self.internet_tag else []) + list(self.other_tags)
        parts += [span_text(s) for s in self.literal] + [f"ASG {a.rsplit('/', 1)[-1]}" for a in self.asgs]
        return ", ".join(parts) or "(none)"


@lru_cache(maxsize=None)  # one entry per VNet's tag: a bounded cache would thrash on large estates
def _internet_outside(starts: tuple[int, ...], ends: tuple[int, ...]) -> IntervalSet:
    """The Internet tag of a VNet whose VirtualNetwork tag is (starts, ends): public space outside it
    (asked once per rule and VNet: every NSG has an Internet rule by default)."""
    return subtract(PUBLIC, IntervalSet(zip(starts, ends)))


# Every answer is kept: the rules that hold a side keep its Addresses alive anyway, and a bounded
# cache (65k) thrashed at 44,000 VNets (215k misses for 130k distinct sides; NSG003 grew with
# exponent 1.26 from 11,000 VNets).
@cache
def _parse_addresses(prefixes: tuple[str, ...], asg_ids: tuple[str, ...]) -> Addresses:
    return Addresses._parse(prefixes, asg_ids)


# -- parsed rules --------------------------------------------------------------
class ParsedRule:
    """A security rule (or a security admin rule, which has the same fields but no application
    security groups) with its sides, ports and protocol parsed on first use (a walk by
    priority usually stops long before the default rules).

    `access` is "allow", "deny" or, for admin rules only, "alwaysallow"; `allow` is true for
    both kinds of allow."""

    __slots__ = ("rule", "priority", "inbound", "access", "allow", "is_default", "_source", "_destination",
                 "_ports", "_protocol")

    def __init__(self, rule: SecurityRule | AdminRule):
        self.rule = rule
        self.priority = rule.priority if rule.priority is not None else 0
        # every rule of an estate passes here: Azure's own spellings skip the lower()
        d, a = rule.direction, rule.access
        self.inbound = d == "Inbound" or (d != "Outbound" and (d or "Inbound").lower() == "inbound")
        self.access = "allow" if a == "Allow" else "deny" if a == "Deny" else (a or "Allow").lower()
        self.allow = self.access != "deny"
        self.is_default = getattr(rule, "is_default", False)
        self._source = self._destination = self._ports = self._protocol = None

    @classmethod
    def parse(cls, rule: SecurityRule) -> ParsedRule:
        return cls(rule)

    @property
    def protocol(self) -> str:
        """"*", "tcp", "udp", "icmp", "esp" or "ah"."""
        if self._protocol is None:
            self._protocol = normalize_protocol(self.rule.protocol)
        return self._protocol

    @property
    def source(self) -> Addresses:
        if self._source is None:
            self._source = Addresses.parse(self.rule.source_address_prefixes,
                                           getattr(self.rule, "source_application_security_group_ids", ()))
        return self._source

    @property
    def destination(self) -> Addresses:
        if self._destination is None:
            self._destination = Addresses.parse(self.rule.destination_address_prefixes,
                                                getattr(self.rule, "destination_application_security_group_ids", ()))
        return self._destination

    @property
    def source_ports(self) -> tuple[tuple[int, int], ...]:
        return self._port_pair()[0]

    @property
    def destination_ports(self) -> tuple[tuple[int, int], ...]:
        return self._port_pair()[1]

    def _port_pair(self):
        if self._ports is None:
            self._ports = (parse_ports(self.rule.source_port_ranges or ["*"]),
                           parse_ports(self.rule.destination_port_ranges or ["*"]))
        return self._ports

    @property
    def all_traffic(self) -> bool:
        """Every protocol, every source and destination port."""
        return self.protocol == "*" and self.source_ports == ALL_PORTS and self.destination_ports == ALL_PORTS

    def reaches_port(self, port: int, protocols: Iterable[str] = ("tcp", "udp")) -> bool:
        """Carries traffic to destination `port` over one of `protocols` (from any source port)."""
        if self.protocol != "*" and self.protocol not in protocols:
            return False
        return ports_contain(self.destination_ports, port)

    @property
    def all_destination_ports(self) -> bool:
        return self.destination_ports == ALL_PORTS

    def label(self) -> str:
        return f"{self.rule.name} (priority {self.priority}, {self.rule.access})"

    def matches_query(self, protocol: str, port: int) -> Coverage:
        """Whether the rule matches traffic of `protocol` to destination `port` from any source
        port: FULL, PARTIAL (only some source ports) or NONE. Ports count for TCP and UDP only."""
        if self.protocol != "*" and self.protocol != protocol:
            return Coverage.NONE
        if protocol in ("tcp", "udp") and not ports_contain(self.destination_ports, port):
            return Coverage.NONE
        return Coverage.FULL if self.source_ports == ALL_PORTS else Coverage.PARTIAL


def rules_in_order(snapshot: Snapshot, nsg: NetworkSecurityGroup, inbound: bool = True) -> list[ParsedRule]:
    """Custom and default rules of one direction, by priority; parsed once per snapshot."""
    cache = snapshot.index.memo("nsg.rules")
    nsg_key = nsg.id  # the snapshot holds one NSG per id: its id as written is key enough here
    found = cache.get((nsg_key, inbound))
    if found is None:
        # each rule is wrapped once, both directions together; the snapshot keeps each list sorted by
        # (direction, priority): custom rules (100-4096) then default rules (65000+) is already
        # priority order; sort only if an import broke that
        by_direction: dict[bool, list[ParsedRule]] = {True: [], False: []}
        for rules in (nsg.security_rules, nsg.default_security_rules):
            for p in map(ParsedRule, rules):
                by_direction[p.inbound].append(p)
        for inbound_, parsed in by_direction.items():
            priorities = [p.priority for p in parsed]
            if any(map(gt, priorities, priorities[1:])):
                parsed.sort(key=lambda p: (p.priority, p.is_default))
            cache[(nsg_key, inbound_)] = parsed
        found = by_direction[inbound]
    return found


# -- the first rule deciding each peer ------------------------------------------
def first_denies(
    rules: Iterable[ParsedRule], subnet_space: IntervalSet, tag: TagSpace, peers: dict[str, IntervalSet],
    by_address: BlockIndex, asg_space: AsgSpace = None,
) -> dict[str, tuple[ParsedRule, Coverage]]:
    """The Deny entries of `first_decisions`."""
    decided = first_decisions(rules, subnet_space, tag, peers, by_address, asg_space)
    return {p: found for p, found in decided.items() if not found[0].allow}


def first_decisions(
    rules: Iterable[ParsedRule], subnet_space: IntervalSet, tag: TagSpace, peers: dict[str, IntervalSet],
    by_address: BlockIndex, asg_space: AsgSpace = None,
) -> dict[str, tuple[ParsedRule, Coverage]]:
    """Each peer whose traffic into the subnet some rule decides first, with that rule and how much
    of the peer its source covers; rules walked in the given (priority) order.

    An Allow (or an admin AlwaysAllow or Allow) decides a peer when its destination matches the subnet and its source matches
    the peer at all (an unresolvable ASG counts as matching); a Deny of every protocol and
    port whose destination covers the whole subnet decides a peer whose range its source
    covers in full or in part. `peers` are targets inside the VirtualNetwork tag; `by_address`
    indexes their spaces, so each rule looks only at the peers its written prefixes meet.
    `subnet_space` may be any destination inside the VNet (a NIC's addresses); `asg_space`
    resolves application security groups where the snapshot knows their members."""
    undecided = dict(peers)
    decided: dict[str, tuple[ParsedRule, Coverage]] = {}
    for pr in rules:
        if not undecided:
            break
        if not pr.allow and not pr.all_traffic:
            continue
        # the peers the source may match first: most rules of a long list name none of them
        candidates = _candidates(pr.source, undecided, by_address, pr.allow, asg_space)
        if not candidates:
            continue
        dest = pr.destination.coverage(subnet_space, tag, target_in_tag=True, asg_space=asg_space)
        if pr.allow and dest != Coverage.NONE:
            for p in candidates:
                cov = pr.source.coverage(undecided[p], tag, target_in_tag=True, asg_space=asg_space)
                if cov != Coverage.NONE:
                    del undecided[p]
                    decided[p] = (pr, cov)
        elif not pr.allow and dest == Coverage.FULL:
            for p in candidates:
                cov = pr.source.coverage(undecided[p], tag, target_in_tag=True, asg_space=asg_space)
                if cov in (Coverage.FULL, Coverage.PARTIAL):
                    del undecided[p]
                    decided[p] = (pr, cov)
    return decided


def _candidates(side: Addresses, undecided: dict[str, IntervalSet], by_address: BlockIndex,
                asg_matches: bool, asg_space: AsgSpace = None) -> list[str]:
    """The undecided peers the side may match, sorted: every one for `*` and the VirtualNetwork tag
    (and for unknown ASGs, when they count as matching), else those its prefixes and known ASGs meet."""
    if side.any or side.vnet_tag or (asg_matches and side.asgs_unknown(asg_space)):
        return list(undecided)
    return sorted(p for p in by_address.overlapping(side.named(asg_space)) if p in undecided)


# -- the VirtualNetwork tag ------------------------------------------------------
def vnet_tag_space(snapshot: Snapshot, vnet_id: str) -> IntervalSet:
    """What the VirtualNetwork service tag stands for in NSGs of this VNet.

    The VNet's own space; peered VNets (Connected on both sides, access allowed; a
    Connected peering to a VNet outside the snapshot counts with its recorded remote
    space); the VNets a Standard Virtual WAN hub or an AVNM connected group joins it to (their ranges
    are in its effective routes, as a peer's are); on-premises and VNet-to-VNet ranges behind the
    gateway the VNet uses (its own or, through useRemoteGateways, the remote one); and every prefix of
    the user-defined routes on its subnets (a 0.0.0.0/0 route makes the tag cover everything, as in Azure).
    """
    cache = snapshot.index.memo("nsg.vnet_tag")
    key = norm_id(vnet_id)
    if key in cache:
        return cache[key]
    index = snapshot.index
    vnet = index.vnets.get(key)
    parts = [index.address_space(key)]
    parts += [index.address_space(p) for p in index.peered_vnets(key)]
    parts += [index.address_space(m) for g in path_groups(snapshot) if g.transit == "yes" and key in g.members
              for m in g.members]
    if vnet is not None:
        for peering in vnet.peerings:
            if peering.state == "connected" and peering.allow_virtual_network_access \
                    and index.remote_vnet(peering) is None:
                parts.append(IntervalSet.of(peering.remote_address_space))
        parts += [IntervalSet.of([r.address_prefix]) for t in _route_tables_of_vnet(snapshot, key) for r in t.routes]
        parts += [behind_gateways(snapshot, key)]
    cache[key] = union(parts)
    return cache[key]


def _route_tables_of_vnet(snapshot: Snapshot, vnet_key: str) -> list:
    index = snapshot.index
    vnet = index.vnets.get(vnet_key)
    seen = {}
    for subnet in vnet.subnets if vnet else []:
        table = index.route_tables.get(norm_id(subnet.route_table_id)) if subnet.route_table_id else None
        if table is not None:
            seen[table.key] = table
    return list(seen.values())
