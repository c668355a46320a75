"""Values the rules read, checked where input becomes models: exports as `normalize` builds each
model, snapshot files once decoded. A value no rule can read (`10.0.0.0/33`, port `70000`, priority
5000) is an input error naming the resource and the field, not a finding silently missed.

Prefixes are read as the rules read them (`ipaddress`, strict=False), so host bits may be set.
Azure refuses them in VNet and subnet prefixes (InvalidCIDRNotation), so exports never hold them
there; where a prefix is kept as typed (NSG rules, on-premises prefixes of a local network gateway)
the rules read the network it names. Refusing them would stop an audit over a value read correctly.
Service tags are judged by shape, not by name: Azure adds tags and regions often, and an audit
must not stop at a real tag this version does not know.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from itertools import chain, filterfalse
from operator import attrgetter
from typing import Any, NamedTuple

from auditor.errors import InvalidValue
from auditor.model import snapshot as m

Problem = Callable[[Any], "str | None"]  # a value -> what is wrong with it, or None

# Large estates repeat a few thousand spellings in hundreds of thousands of rules.
_CACHE = 1 << 16
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
#: Most prefixes, read without ipaddress (which costs ten times as much).
_PLAIN_V4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}(?:/(?:3[0-2]|[12]?[0-9]))?")
#: `AzureCloud`, `Storage.WestEurope`, `AzureFrontDoor.Backend`: a name, then dotted qualifiers.
_SERVICE_TAG = re.compile(r"[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*")
_PORTS = re.compile(r"([0-9]{1,5})(?:-([0-9]{1,5}))?")


@lru_cache(maxsize=_CACHE)
def _is_prefix(text: str) -> bool:
    if _PLAIN_V4.fullmatch(text):
        return True
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=_CACHE)
def prefix_problem(text: str) -> str | None:
    """An IPv4 or IPv6 prefix (CIDR) or address."""
    return None if _is_prefix(text) else f"{text!r} is not an IPv4 or IPv6 prefix (CIDR) or address"


@lru_cache(maxsize=_CACHE)
def route_prefix_problem(text: str) -> str | None:
    """A prefix or address, or a service tag (Azure takes service tags as route prefixes)."""
    if _is_prefix(text) or _SERVICE_TAG.fullmatch(text):
        return None
    return f"{text!r} is not an address prefix (CIDR), IP address or service tag"


@lru_cache(maxsize=_CACHE)
def rule_prefix_problem(text: str) -> str | None:
    """An NSG rule's address: a prefix or address, `*`, or a service tag (`Any` among them)."""
    if text == "*" or _is_prefix(text) or _SERVICE_TAG.fullmatch(text):
        return None
    return f"{text!r} is not an address prefix (CIDR), IP address, '*' or service tag"


@lru_cache(maxsize=_CACHE)
def port_problem(text: str) -> str | None:
    """`*`, a port or a range N-M (0 <= N <= M <= 65535), or a comma list of them."""
    for part in text.split(","):
        part = part.strip()
        if part == "*":
            continue
        match = _PORTS.fullmatch(part)
        low, high = (int(match.group(1)), int(match.group(2) or match.group(1))) if match else (0, -1)
        if not low <= high <= 65535:
            return f"{text!r} is not a port or port range (0-65535)"
    return None


@lru_cache(maxsize=_CACHE)
def address_problem(text: str | None) -> str | None:
    """An IPv4 or IPv6 address, when there is one."""
    if text is None:
        return None
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return f"{text!r} is not an IP address"
    return None


def nic_address_problem(text: str | None) -> str | None:
    """A NIC's private address: an address, which some API versions print with a prefix length."""
    return address_problem(text.split("/")[0] if text else text)


def priority_problem(default_and_priority: tuple[bool, int]) -> str | None:
    """Custom rules take 100-4096; Azure's default rules sit at 65000-65500."""
    is_default, priority = default_and_priority
    low, high, kind = (65000, 65500, "a default") if is_default else (100, 4096, "a custom")
    return None if low <= priority <= high else f"{priority} is out of range for {kind} rule ({low}-{high})"


def asn_problem(asn: int | None) -> str | None:
    return None if asn is None or 0 <= asn <= 0xFFFFFFFF else f"{asn} is not a BGP ASN (0-4294967295)"


class Check(NamedTuple):
    """Fields of a model and what judges their values. `many`: each field is a list of values;
    otherwise the fields are one value together (a tuple when several; the last is named)."""

    fields: tuple[str, ...]
    problem: Problem
    many: bool


def _lists(*fields: str, problem: Problem) -> Check:
    return Check(fields, problem, many=True)


def _value(*fields: str, problem: Problem) -> Check:
    return Check(fields, problem, many=False)


_PEERING_SPACES = ("remote_address_space", "remote_virtual_network_address_space",
                   "local_address_space", "local_virtual_network_address_space")

#: What is checked, per model: its own fields only (children are models of their own).
CHECKS: dict[type, tuple[Check, ...]] = {
    m.VirtualNetwork: (_lists("address_prefixes", problem=prefix_problem),),
    m.Subnet: (_lists("address_prefixes", problem=prefix_problem),),
    m.Peering: (_lists(*_PEERING_SPACES, problem=prefix_problem),),
    m.SecurityRule: (
        _lists("source_address_prefixes", "destination_address_prefixes", problem=rule_prefix_problem),
        _lists("source_port_ranges", "destination_port_ranges", problem=port_problem),
        _value("is_default", "priority", problem=priority_problem),
    ),
    m.Route: (
        _value("address_prefix", problem=route_prefix_problem),
        _value("next_hop_ip_address", problem=address_problem),
    ),
    m.LocalNetworkGateway: (
        _lists("address_prefixes", problem=prefix_problem),
        _value("bgp_asn", problem=asn_problem),
    ),
    m.VirtualNetworkGateway: (_value("bgp_asn", problem=asn_problem),),
    m.AdminRule: (
        _lists("source_address_prefixes", "destination_address_prefixes", problem=rule_prefix_problem),
        _lists("source_port_ranges", "destination_port_ranges", problem=port_problem),
    ),
    m.NicIpConfiguration: (_value("private_ip_address", problem=nic_address_problem),),
}


#: Per model: (read, judge, field named, whether it reads a list), a list field at a time.
_READERS = {kind: [(attrgetter(name), c.problem, name, True) for c in checks if c.many for name in c.fields]
            + [(attrgetter(*c.fields), c.problem, c.fields[-1], False) for c in checks if not c.many]
            for kind, checks in CHECKS.items()}


def check(model: Any) -> Any:
    """The model, once its own fields are valid; else InvalidValue naming its id and the field."""
    for read, judge, name, many in _READERS.get(type(model), ()):
        if not many:
            if problem := judge(read(model)):
                raise InvalidValue(model.id, name, problem)
            continue
        for value in read(model):
            if problem := judge(value):
                raise InvalidValue(model.id, name, problem)
    return model


def check_snapshot(snapshot: m.Snapshot) -> None:
    """Every resource of a decoded snapshot. The distinct values of each field are gathered and
    judged once (hundreds of thousands of rules hold a few thousand spellings); only a bad value
    sends the check resource by resource, to name the first that holds it."""
    kinds = list(_models_by_kind(snapshot))
    values: dict[Problem, set] = {}
    for kind, models in kinds:
        gather = _rule_values if kind is m.SecurityRule else _values
        for spec, seen in zip(CHECKS[kind], gather(models(), CHECKS[kind])):
            values.setdefault(spec.problem, set()).update(seen)
    if _all_valid(values):
        return
    for _, models in kinds:
        for model in models():
            check(model)


def _models_by_kind(snapshot: m.Snapshot) -> Iterable[tuple[type, Callable[[], Iterable]]]:
    vnets, nsgs = snapshot.virtual_networks, snapshot.network_security_groups
    yield m.VirtualNetwork, lambda: vnets
    yield m.Subnet, lambda: chain.from_iterable(map(attrgetter("subnets"), vnets))
    yield m.Peering, lambda: chain.from_iterable(map(attrgetter("peerings"), vnets))
    yield m.SecurityRule, lambda: chain.from_iterable(
        chain.from_iterable(map(attrgetter("security_rules", "default_security_rules"), nsgs)))
    yield m.Route, lambda: chain.from_iterable(map(attrgetter("routes"), snapshot.route_tables))
    yield m.LocalNetworkGateway, lambda: snapshot.local_network_gateways
    yield m.VirtualNetworkGateway, lambda: snapshot.virtual_network_gateways
    yield m.AdminRule, lambda: (r for nm in snapshot.network_managers for c in nm.security_admin_configurations
                                for rc in c.rule_collections for r in rc.rules)
    yield m.NicIpConfiguration, lambda: (c for n in snapshot.network_interfaces for c in n.ip_configurations)


def _values(models: Iterable, checks: tuple[Check, ...]) -> list[set]:
    """The distinct values of each check, a pass in C per check (a kind has one or two)."""
    models = list(models)
    found = []
    for spec in checks:
        read = map(attrgetter(*spec.fields), models)
        if spec.many:
            read = chain.from_iterable(chain.from_iterable(read) if len(spec.fields) > 1 else read)
        found.append(set(read))
    return found


def _rule_values(rules: Iterable[m.SecurityRule], checks: tuple[Check, ...]) -> list[set]:
    """`_values` for security rules, in one pass written out: an estate holds hundreds of thousands,
    and each visit to one is a cache miss. Reads the fields of `CHECKS[m.SecurityRule]`, in order."""
    addresses, ports, priorities = found = [set(), set(), set()]
    add_addresses, add_ports, add_priority = addresses.update, ports.update, priorities.add
    for r in rules:
        add_addresses(r.source_address_prefixes, r.destination_address_prefixes)
        add_ports(r.source_port_ranges, r.destination_port_ranges)
        add_priority((r.is_default, r.priority))
    return found


def _all_valid(values: dict[Problem, set]) -> bool:
    """Prefixes first: fields that also take tags or `*` mostly repeat the prefixes of VNets and
    subnets, and a valid prefix is valid there too."""
    prefixes = values.pop(prefix_problem, set())
    if _any_problem(prefix_problem, prefixes):
        return False
    return not any(_any_problem(judge, seen - prefixes if judge in _TAKE_PREFIXES else seen)
                   for judge, seen in values.items())


def _any_problem(judge: Problem, values: Iterable) -> bool:
    if judge in _TAKE_PREFIXES:  # most values are plain IPv4, screened in C before the judge
        values = filterfalse(_PLAIN_V4.fullmatch, values)
    return any(map(judge, values))


#: Judges that take every prefix and address.
_TAKE_PREFIXES = frozenset({prefix_problem, route_prefix_problem, rule_prefix_problem})
