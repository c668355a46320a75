"""Declared intents (`--intents FILE`, YAML): flows that must be allowed or must be denied, checked over
every pair of endpoints in their scopes, like AWS Network Access Analyzer's match paths.

    require:
      - {name: app-to-sql, from: {vnets: [vnet-spoke-app]}, to: {subnets: [vnet-spoke-data/snet-sql]},
         ports: [1433], protocol: tcp}
    forbid:
      - {name: no-spoke-ssh, from: {names: ["vnet-spoke-*"]}, to: {names: ["vnet-spoke-*"]}, ports: [22, 3389]}

A scope selects subnets: `vnets` or `subnets` (names or ids), `names` (VNet name globs), `tags`
(VNet tags, all must match), `subscriptions` (ids or display names), or `internet: true`. An intent's
`exclude` list leaves out pairs, like Network Access Analyzer's exclude paths:
`exclude: [{from: {vnets: [vnet-jumphost]}}]` (a side left out matches any end). Each subnet
stands for its first usable address (see `auditor.analysis.reach`). A pair whose ends are the same
subnet is skipped, and so is a pair inside one VNet unless a scope names subnets: an intent between
VNets says nothing about traffic within one. A forbid intent between subnets is decided for every pair
at once (`analysis.all_pairs`), however many; one with the Internet or IPv6-only subnets at an end, and
every require intent, is traced pair by pair, only to VNets routing can take it to (`routable_vnets`),
and more than `MAX_PAIRS` such flows are refused with a hint to narrow its scopes.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from auditor.errors import InputError
from auditor.model.ids import norm_id
from auditor.yaml_file import key_problem, read_yaml

if TYPE_CHECKING:
    from auditor.analysis.endpoints import Endpoint
    from auditor.analysis.reach import Trace
    from auditor.model.snapshot import Snapshot

MAX_PAIRS = 200_000


class Scope(msgspec.Struct, forbid_unknown_fields=True):
    vnets: list[str] | None = None
    subnets: list[str] | None = None
    names: list[str] | None = None
    tags: dict[str, str] | None = None
    subscriptions: list[str] | None = None
    internet: bool = False


class Exclude(msgspec.Struct, forbid_unknown_fields=True, rename={"source": "from", "destination": "to"}):
    """Pairs an intent leaves out, like Network Access Analyzer's exclude paths: both ends must match
    (a side left out matches any end)."""

    source: Scope | None = None
    destination: Scope | None = None


class Intent(msgspec.Struct, forbid_unknown_fields=True, rename={"source": "from", "destination": "to"}):
    name: str
    source: Scope
    destination: Scope
    exclude: list[Exclude] = msgspec.field(default_factory=list)
    ports: list[int] = msgspec.field(default_factory=lambda: [443])
    protocol: str = "tcp"
    description: str | None = None


#: Topology policy checks, each a rule (TOPO001-TOPO004), on when `roles` are declared.
POLICIES = ("no-spoke-to-spoke-peering", "one-hub-per-spoke", "default-route-through-hub", "isolated-unreachable")
ROLES = ("hub", "spoke", "shared", "isolated")


class Intents(msgspec.Struct, forbid_unknown_fields=True):
    require: list[Intent] = msgspec.field(default_factory=list)
    forbid: list[Intent] = msgspec.field(default_factory=list)
    #: VNets by role (hub, spoke, shared, isolated), each a scope (names, tags, vnets, subscriptions).
    roles: dict[str, Scope] = msgspec.field(default_factory=dict)
    #: The topology policy checks to run (default: all of POLICIES once roles are declared).
    policy: list[str] | None = None

    def checks(self, name: str) -> bool:
        return bool(self.roles) and (self.policy is None or name in self.policy)


def load_intents(path: Path) -> Intents:
    """The file, or one line naming it and the first problem."""
    doc = read_yaml(path, "intents file")
    return parse_intents(doc, str(path))


def parse_intents(doc: object, origin: str) -> Intents:
    """Intents from YAML data; one line naming `origin` and the first problem."""
    try:
        intents = msgspec.convert(doc or {}, Intents)
    except msgspec.ValidationError as exc:
        raise InputError(f"{origin}: {key_problem(exc)}") from None
    for role in intents.roles:
        if role not in ROLES:
            raise InputError(f"{origin}: unknown role {role!r} (roles: {', '.join(ROLES)})")
    for name in intents.policy or ():
        if name not in POLICIES:
            raise InputError(f"{origin}: unknown policy {name!r} (policies: {', '.join(POLICIES)})")
    for intent in [*intents.require, *intents.forbid]:
        if intent.protocol.lower() not in ("tcp", "udp", "icmp", "any"):
            raise InputError(f"{origin}: intent {intent.name}: protocol must be tcp, udp, icmp or any")
        if any(not 0 <= p <= 65535 for p in intent.ports):
            raise InputError(f"{origin}: intent {intent.name}: ports must be 0-65535")
    return intents


def endpoints(snapshot: Snapshot, scope: Scope) -> list[Endpoint]:
    """The subnets (or the Internet) a scope selects, each as an endpoint."""
    from auditor.analysis.endpoints import (
        INTERNET_SOURCE,
        Endpoint,
        endpoint_of_subnet,
        workload_subnets,
    )

    if scope.internet:
        return [Endpoint("Internet", INTERNET_SOURCE)]
    out = []
    for vnet in snapshot.virtual_networks:
        if not _vnet_selected(snapshot, scope, vnet):
            continue
        for subnet in workload_subnets(vnet):
            if scope.subnets is None or _subnet_named(scope.subnets, vnet.name, subnet):
                out.append(endpoint_of_subnet(snapshot, subnet.key))
    return out


def vnets_in_role(snapshot: Snapshot, intents: Intents, role: str) -> set[str]:
    """Keys of the VNets a declared role selects (empty when the role is not declared)."""
    scope = intents.roles.get(role)
    return {v.key for v in snapshot.virtual_networks if scope is not None and _vnet_selected(snapshot, scope, v)}


def _vnet_selected(snapshot: Snapshot, scope: Scope, vnet) -> bool:
    checks = []
    if scope.vnets is not None:
        checks.append(vnet.name.lower() in {v.lower() for v in scope.vnets} or vnet.key in {norm_id(v) for v in scope.vnets})
    if scope.subnets is not None:
        checks.append(any(s.split("/")[0].lower() == vnet.name.lower() or norm_id(s).startswith(vnet.key + "/")
                          for s in scope.subnets))
    if scope.names is not None:
        checks.append(any(fnmatch.fnmatchcase(vnet.name.lower(), p.lower()) for p in scope.names))
    if scope.tags is not None:
        checks.append(all(vnet.tags.get(k) == v for k, v in scope.tags.items()))
    if scope.subscriptions is not None:
        sub = snapshot.index.subscriptions.get((vnet.subscription_id or "").lower())
        wanted = {s.lower() for s in scope.subscriptions}
        checks.append(sub is not None and (sub.subscription_id.lower() in wanted or (sub.display_name or "").lower() in wanted))
    return bool(checks) and all(checks)


def _subnet_named(names: list[str], vnet_name: str, subnet) -> bool:
    wanted = {n.lower() for n in names}
    return f"{vnet_name}/{subnet.name}".lower() in wanted or subnet.key in {norm_id(n) for n in names}


@dataclass
class Outcome:
    intent: Intent
    kind: str  # require | forbid
    port: int
    trace: Trace
    others: list[Outcome] = field(default_factory=list)  # forbidden flows decided by the same resource
    more: int = 0  # and how many more of them were not kept


KEPT = 20  # forbidden flows kept (traced in full) per intent and deciding resource ...
OTHERS = 2_000  # ... while the intent has kept fewer than this many besides each resource's first
BATCH = 256  # sources decided together (numpy works on all their flows at once)


class _Kept:
    """The forbidden flows of one intent that break it, by deciding resource in order of first appearance:
    the first of each is kept, then up to KEPT - 1 more while the intent's OTHERS last; the rest are counted.
    Both ways of finding the flows (pair by pair, or all at once) keep the same ones."""

    def __init__(self):
        self.groups: dict[str, list] = {}  # deciding resource -> its kept flows (traced, or what `make` traces)
        self.others = 0

    def room(self, group: str) -> bool:
        """Whether the next flow of this group is kept."""
        kept = self.groups.get(group)
        return kept is None or (len(kept) < KEPT and self.others < OTHERS)

    def add(self, group: str, flow) -> None:
        """Keep a flow `room` allowed."""
        kept = self.groups.get(group)
        if kept is None:
            self.groups[group] = [flow]
        else:
            kept.append(flow)
            self.others += 1

    def outcomes(self, intent: Intent, totals: dict[str, int], make) -> list[Outcome]:
        """One Outcome per group: `make(flow)` is a kept flow's trace, `totals` counts every flow of a group."""
        out = []
        for group, flows in self.groups.items():
            first, *others = [Outcome(intent, "forbid", t.port, t) for t in map(make, flows)]
            first.others, first.more = others, totals[group] - len(flows)
            out.append(first)
        return out


def check(snapshot: Snapshot, intents: Intents) -> Iterator[Outcome]:
    """The (intent, pair in scope, port) flows that break their intent (a forbidden one allowed, a required
    one denied), each traced; memoized per snapshot and intents. Forbidden flows are grouped by the resource
    that lets them through (`_Kept`)."""
    memo = snapshot.index.memo("intents.outcomes")
    key = id(intents)
    if key not in memo:
        outcomes = [o for intent in intents.require for o in _required(snapshot, intent)]
        for intent in intents.forbid:
            outcomes += forbidden(snapshot, intent)
        memo[key] = outcomes
    return iter(memo[key])


def _required(snapshot: Snapshot, intent: Intent) -> Iterator[Outcome]:
    from auditor.analysis.reach import trace

    sources, destinations = endpoints(snapshot, intent.source), endpoints(snapshot, intent.destination)
    for src, dst in _pairs(snapshot, intent, "require", sources, destinations):
        for port in intent.ports:
            t = trace(snapshot, src, dst, intent.protocol, port)
            if t.verdict == "denied":
                yield Outcome(intent, "require", port, t)


def forbidden(snapshot: Snapshot, intent: Intent, all_at_once: bool = True) -> list[Outcome]:
    """The forbidden flows the estate allows: every pair at once (`analysis.all_pairs`) when every end is an
    IPv4 subnet (and `all_at_once`), else pair by pair (`reach.trace`, at most MAX_PAIRS). Both give the
    same outcomes; at once, only the kept flows are traced."""
    from auditor.analysis.all_pairs import handles
    from auditor.analysis.reach import trace

    sources, destinations = endpoints(snapshot, intent.source), endpoints(snapshot, intent.destination)
    if all_at_once and all(handles(e) for e in [*sources, *destinations]):
        kept, totals = _all_at_once(snapshot, intent, sources, destinations)
        return kept.outcomes(intent, totals, lambda flow: trace(snapshot, flow[0], flow[1], intent.protocol, flow[2]))
    kept, totals = _Kept(), {}
    for src, dst in _pairs(snapshot, intent, "forbid", sources, destinations):
        for port in intent.ports:
            t = trace(snapshot, src, dst, intent.protocol, port)
            if t.verdict != "allowed":
                continue
            group = norm_id(t.decided_by)
            totals[group] = totals.get(group, 0) + 1
            if kept.room(group):
                kept.add(group, t)  # traced already
    return kept.outcomes(intent, totals, lambda t: t)


def _all_at_once(snapshot: Snapshot, intent: Intent, sources: list[Endpoint], destinations: list[Endpoint]):
    """(`_Kept`, flows per group) of a forbid intent, every pair of its scopes decided at once."""
    import numpy as np

    from auditor.analysis.all_pairs import AllPairs

    pairs = AllPairs(snapshot, destinations, intent.protocol, intent.ports)
    ends = [destinations[k] for k in pairs.order.tolist()]  # by sorted position
    excluded = [(a, np.array([b is None or _key(d) in b for d in ends], dtype=bool))
                for a, b in _excluded(snapshot, intent)]
    kept, counts, open_ = _Kept(), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    for start in range(0, len(sources), BATCH):
        batch = sources[start:start + BATCH]
        left_out = []
        for src in batch:
            masks = [b for a, b in excluded if a is None or _key(src) in a]
            left_out.append(np.logical_or.reduce(masks) if masks else None)
        flows = pairs.flows(batch, same_vnet=_within_vnets(intent), left_out=left_out)
        if len(pairs.names) > len(counts):
            grow = len(pairs.names) - len(counts)
            counts = np.concatenate([counts, np.zeros(grow, dtype=np.int64)])
            open_ = np.concatenate([open_, np.ones(grow, dtype=bool)])
        np.add.at(counts, flows.deciders, 1)
        candidates = np.flatnonzero(open_[flows.deciders])  # flows some group may still keep
        if kept.others >= OTHERS:  # only a group's first flow can still be kept
            _, first = np.unique(flows.deciders[candidates], return_index=True)
            candidates = candidates[np.sort(first)]
        for k in candidates.tolist():
            number = flows.deciders[k]
            if not open_[number]:
                continue
            group = pairs.names[number]
            if kept.room(group):
                kept.add(group, (batch[flows.sources[k]], ends[flows.positions[k]], intent.ports[flows.ports[k]]))
            open_[number] = kept.room(group)
    return kept, {group: int(counts[pairs.number(group)]) for group in kept.groups}


def _key(end: Endpoint) -> str:
    return end.subnet_key or end.label  # the Internet has no subnet


def _keys(snapshot: Snapshot, scope: Scope | None) -> set[str] | None:
    """The ends a scope of an exclude path selects (None: any end)."""
    return None if scope is None else {_key(e) for e in endpoints(snapshot, scope)}


def _within_vnets(intent: Intent) -> bool:
    """Whether pairs inside one VNet count: only when a scope names subnets (an intent between VNets
    says nothing about traffic inside one)."""
    return intent.source.subnets is not None or intent.destination.subnets is not None


def _excluded(snapshot: Snapshot, intent: Intent) -> list[tuple[set[str] | None, set[str] | None]]:
    """The (sources, destinations) of each exclude path, as end keys (None: any end)."""
    return [(_keys(snapshot, e.source), _keys(snapshot, e.destination)) for e in intent.exclude]


def _pairs(snapshot: Snapshot, intent: Intent, kind: str, sources: list[Endpoint],
           destinations: list[Endpoint]) -> list[tuple[Endpoint, Endpoint]]:
    """The pairs of the intent's ends it covers: a forbidden flow only where routing can take it; more than
    `MAX_PAIRS` (times ports) is refused, naming the intent, before anything is traced."""
    from auditor.analysis.reach import routable_vnets

    within_vnets, excluded = _within_vnets(intent), _excluded(snapshot, intent)
    pairs = []
    for src in sources:
        reach = routable_vnets(snapshot, src.subnet_key) if kind == "forbid" and src.subnet_key else None
        for dst in destinations:
            if src.subnet_key is not None and src.subnet_key == dst.subnet_key:
                continue
            if src.vnet_key == dst.vnet_key and src.vnet_key is not None and not within_vnets:
                continue
            if reach is not None and dst.vnet_key not in reach:
                continue
            if any((a is None or _key(src) in a) and (b is None or _key(dst) in b) for a, b in excluded):
                continue
            pairs.append((src, dst))
        if len(pairs) * len(intent.ports) > MAX_PAIRS:
            raise InputError(f"intent {intent.name}: more than {MAX_PAIRS} flows to trace (routing alone lets them "
                             f"through); narrow its scopes, e.g. to one hub's spokes")
    return pairs


def grouped(outcomes: list[Outcome], key=None) -> dict[tuple[str, str], list[Outcome]]:
    """Outcomes by (intent name, `key(outcome)`: by default the resource that decided them), in a stable
    order: one finding each."""
    groups: dict[tuple[str, str], list[Outcome]] = {}
    for outcome in outcomes:
        by = key(outcome) if key else outcome.trace.decided_by
        groups.setdefault((outcome.intent.name, norm_id(by)), []).append(outcome)
    return dict(sorted(groups.items()))


def flows_text(outcomes: list[Outcome], limit: int = 5) -> str:
    """`a/app -> b/db:1433, ...` for a message."""
    shown = [f"{o.trace.source.label.removeprefix('subnet ')} -> {o.trace.destination.label.removeprefix('subnet ')}:{o.port}"
             for o in outcomes[:limit]]
    total = len(outcomes) + (outcomes[0].more if outcomes else 0)
    more = f" and {total - len(shown)} more" if total > len(shown) else ""
    return ", ".join(shown) + more


def flows_evidence(outcomes: list[Outcome], limit: int = 20) -> list[dict]:
    return [{"from": o.trace.source.label, "to": o.trace.destination.label, "port": o.port, "protocol": o.intent.protocol,
             "reason": o.trace.reason, "path": [h.text for h in o.trace.hops]} for o in outcomes[:limit]]
