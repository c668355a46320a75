"""Every flow between many subnets at once: which pairs the estate allows, and what decides each, as
`reach.trace` would tell pair by pair (tests/test_all_pairs.py compares the two), without tracing pairs.

A pair's trace splits into parts that each depend on one end:
- the source's outbound filters, at every destination address (`filtering.decision_table`);
- where routing takes every destination address from the source's subnet: the walk of `reach`, over
  address ranges instead of one address. What follows an appliance depends on the appliance, not on
  the source, so it is walked once per appliance and shared (`_Routing`);
- the filters at each appliance (at the source's address) and at the destination (at the source's address).
numpy then looks each pair up in these tables. Only IPv4 subnet ends are handled here (`handles`).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from auditor.analysis.addresses import V4_SPAN, interval
from auditor.analysis.effective_routes import EffectiveRoute, RouteTableView, routes_of
from auditor.analysis.endpoints import Endpoint, nic_with, subnets_holding
from auditor.analysis.filtering import decision_table
from auditor.analysis.nsg import NON_PUBLIC
from auditor.analysis.reach import appliance_at, expressroute_only, gateways_used
from auditor.model.ids import norm_id

if TYPE_CHECKING:
    from auditor.model.snapshot import Snapshot

V4_END = V4_SPAN[1]
MAX_DEPTH = 32  # appliances one after another (reach.MAX_HOPS)

# What routing does with a destination address: the kinds of `_Outcome`.
DROP, ARRIVE, HOLDER, GATEWAY, INTERNET = range(5)


@dataclass(frozen=True)
class _Outcome:
    kind: int
    vnet_key: str | None = None  # ARRIVE: the VNet; GATEWAY: the VNet whose gateway it leaves by
    by: str | None = None  # who carries it (ARRIVE, HOLDER) or decides it (GATEWAY, INTERNET)
    checks: tuple = ()  # appliances passed: (subnet key, appliance address, NIC id or None)


_DROPPED = _Outcome(DROP)


@dataclass(frozen=True)
class _Via:
    """A range sent to an appliance: what follows is the appliance's shared walk."""

    context: str  # the appliance's subnet
    check: tuple


def handles(end: Endpoint) -> bool:
    """A subnet end at an IPv4 address: what this module decides."""
    span = interval(end.address)
    return end.subnet_key is not None and end.nic is None and span is not None and span[1] <= V4_END


def _segments(routes: RouteTableView) -> list[tuple[int, int, EffectiveRoute | None]]:
    """The IPv4 part of the route table's pieces (`RouteTableView.pieces`)."""
    return [(start, min(end, V4_END), route) for start, end, route in routes.pieces if start <= V4_END]


class _Routing:
    """Where routing takes every IPv4 destination from a subnet, as pieces (start, end, outcome), mirroring
    `reach._walk` and `reach._next`; the walk after each appliance is memoized."""

    def __init__(self, snapshot: Snapshot):
        self.snapshot = snapshot
        self.shared: dict[str, list] = {}  # appliance subnet -> its pieces (forwarded traffic)
        self.appliances: dict[tuple[str, str], object] = {}  # (VNet, next hop address) -> `_appliance`
        self.sources: dict[int, list] = {}  # id of effective routes -> the pieces from a subnet with them

    def from_source(self, subnet_key: str) -> list[tuple[int, int, _Outcome | _Via]]:
        """The pieces from a source subnet; subnets that share their effective routes share them."""
        key = id(routes_of(self.snapshot, subnet_key))  # the memo of `routes_of` keeps each one alive
        if key not in self.sources:
            self.sources[key], _ = self._walk(subnet_key, False, frozenset(), 0, refer=True)
        return self.sources[key]

    def after(self, context: str) -> list[tuple[int, int, _Outcome]]:
        """The pieces of traffic an appliance in `context` forwards (computed on first use)."""
        if context not in self.shared:
            pieces, _ = self._walk(context, True, frozenset(), 0, refer=False)
            self.shared[context] = pieces
        return self.shared[context]

    def _walk(self, subnet_key: str, forwarded: bool, busy: frozenset, depth: int, refer: bool):
        """(pieces, contexts of `busy` the result depended on: a loop back to them ends it there)."""
        if (subnet_key, forwarded) in busy:
            return [(0, V4_END, _DROPPED)], {(subnet_key, forwarded)}
        if depth >= MAX_DEPTH:
            return [(0, V4_END, _DROPPED)], set(busy)
        busy = busy | {(subnet_key, forwarded)}
        index = self.snapshot.index
        vnet = index.vnet_of_subnet[subnet_key]
        pieces: list = []
        depends: set = set()
        for start, end, route in _segments(routes_of(self.snapshot, subnet_key)):
            step = self._step(vnet, route, forwarded)
            if not isinstance(step, tuple):
                pieces.append((start, end, step))
                continue
            context, check = step
            if refer:
                pieces.append((start, end, _Via(context, check)))
                continue
            if context in self.shared and not busy & {(context, True)}:
                after = self.shared[context]
            else:
                after, hit = self._walk(context, True, busy, depth + 1, refer=False)
                depends |= hit
            pieces += [(max(s, start), min(e, end), _Outcome(o.kind, o.vnet_key, o.by, (check, *o.checks)))
                       for s, e, o in _clipped(after, start, end)]
        depends.discard((subnet_key, forwarded))
        return pieces, depends

    def _step(self, vnet, route: EffectiveRoute | None, forwarded: bool):
        """The outcome of a route (`reach._next`), or (appliance subnet, check) to go on from."""
        if route is None:
            return _DROPPED
        snapshot, index = self.snapshot, self.snapshot.index
        hop = route.next_hop_type.lower()
        if hop == "vnetlocal":
            return _Outcome(ARRIVE, vnet.key, route.via)
        if hop in ("vnetpeering", "vnetglobalpeering"):
            peering = index.peerings.get(norm_id(route.via))
            remote = index.remote_vnet(peering) if peering else None
            if remote is None:
                return _DROPPED
            back = index.reverse_peering(peering)
            if forwarded and back is not None and not back.allow_forwarded_traffic:
                return _DROPPED
            return _Outcome(ARRIVE, remote.key, peering.id)
        if hop in ("virtualhub", "connectedgroup"):
            return _Outcome(HOLDER, by=route.via)
        if hop == "virtualappliance":
            key = (vnet.key, route.next_hop_ip or "")
            if key not in self.appliances:
                self.appliances[key] = self._appliance(*key)
            return self.appliances[key]
        if hop == "virtualnetworkgateway":
            gateways = gateways_used(snapshot, vnet.key)
            if not gateways or (route.source == "User" and expressroute_only(gateways)):
                return _DROPPED
            return _Outcome(GATEWAY, vnet.key, gateways[0].id)
        if hop == "internet":
            return _Outcome(INTERNET, by=route.via)
        return _DROPPED

    def _appliance(self, vnet_key: str, ip: str):
        """(the appliance's subnet, its check) or a drop (`reach._appliance`)."""
        found = appliance_at(self.snapshot, vnet_key, ip)
        if found is None or (found[1] is not None and not found[1].enable_ip_forwarding):
            return _DROPPED
        subnet_key, nic = found
        return subnet_key, (subnet_key, interval(ip)[0], nic.id if nic else None)


def _clipped(pieces: list, start: int, end: int) -> list:
    i = bisect.bisect_right([p[0] for p in pieces], start) - 1
    out = []
    for piece in pieces[max(i, 0):]:
        if piece[0] > end:
            break
        if piece[1] >= start:
            out.append(piece)
    return out


@dataclass
class _Reached:
    """Destinations routing takes a flow to (sorted positions), column by column: whether it arrives there,
    leaves at an edge (a gateway to on-premises, the Internet) where no filter of the destination applies, who
    decides when no rule does, and the appliance checks on the way (numbers: after the first, the first)."""

    positions: np.ndarray
    arrives: np.ndarray
    edge: np.ndarray
    carrier: np.ndarray
    chained: np.ndarray
    entry: np.ndarray

    def part(self, i: int, j: int, entry: int) -> _Reached:
        return _Reached(self.positions[i:j], self.arrives[i:j], self.edge[i:j], self.carrier[i:j], self.chained[i:j],
                        np.full(j - i, entry))

    @classmethod
    def joined(cls, parts: list[_Reached]) -> _Reached:
        if len(parts) == 1:
            return parts[0]
        if not parts:
            empty = np.zeros(0, dtype=np.int64)
            return cls(empty, empty.astype(bool), empty.astype(bool), empty, empty, empty)
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                     ("positions", "arrives", "edge", "carrier", "chained", "entry")))


@dataclass
class Flows:
    """Allowed flows, one per element: the source (its index in the batch), the destination (sorted position),
    the port (index) and who decides (number)."""

    sources: np.ndarray
    positions: np.ndarray
    ports: np.ndarray
    deciders: np.ndarray


class AllPairs:
    """The allowed flows from each source to a fixed list of IPv4 subnet destinations (`handles`)."""

    def __init__(self, snapshot: Snapshot, destinations: list[Endpoint], protocol: str, ports: list[int]):
        self.snapshot, self.protocol, self.ports = snapshot, protocol.lower(), ports
        self.routing = _Routing(snapshot)
        self.names: list[str | None] = [None]  # deciders, VNets and subnets by number; 0 is none
        self._numbers: dict[str | None, int] = {None: 0}
        self._outcomes: dict[_Outcome, int] = {}
        self._checks: dict[tuple, int] = {(): 0}
        self._table = np.zeros((64, 4), dtype=np.int64)  # per outcome number: kind, VNet, by, checks
        self._after: dict[str, _Reached] = {}  # appliance subnet -> where what it forwards ends
        self._direct: dict[tuple[int, int, int], _Reached] = {}  # (outcome, first, last position) -> ...
        self._last: tuple | None = None  # (a walk, what `_reached` made of it)
        self._destinations(destinations)

    def number(self, name: str | None) -> int:
        """The number of an id (compared as ARM ids are, case-insensitively)."""
        name = norm_id(name) if name is not None else None
        found = self._numbers.get(name)
        if found is None:
            found = self._numbers[name] = len(self.names)
            self.names.append(name)
        return found

    def _outcome(self, outcome: _Outcome) -> int:
        found = self._outcomes.get(outcome)
        if found is None:
            found = self._outcomes[outcome] = len(self._outcomes)
            if found == len(self._table):  # room for twice as many
                self._table = np.concatenate([self._table, np.zeros_like(self._table)])
            checks = self._checks.setdefault(outcome.checks, len(self._checks))
            self._table[found] = (outcome.kind, self.number(outcome.vnet_key), self.number(outcome.by), checks)
        return found

    def _destinations(self, destinations: list[Endpoint]) -> None:
        snapshot, index = self.snapshot, self.snapshot.index
        addresses = np.array([interval(d.address)[0] for d in destinations], dtype=np.int64)
        self.order = np.argsort(addresses, kind="stable")  # sorted position -> position given
        ends = [destinations[k] for k in self.order.tolist()]
        self.addresses = addresses[self.order]
        self._sorted = self.addresses.tolist()
        self.vnet = np.array([self.number(d.vnet_key) for d in ends], dtype=np.int64)
        self.subnet = np.array([self.number(d.subnet_key) for d in ends], dtype=np.int64)
        holders = [subnets_holding(snapshot, d.address) for d in ends]
        # a route into the destination's VNet ends in its subnet, not in an overlapping one (`reach._arrive`)
        self.holder_ok = np.array([[k for k in h if index.vnet_of_subnet[k].key == d.vnet_key][:1] == [d.subnet_key]
                                   for d, h in zip(ends, holders)], dtype=bool)
        self.unique_vnet = np.array([self.number(index.vnet_of_subnet[h[0]].key) if len(h) == 1 else -1
                                     for h in holders], dtype=np.int64)
        self.public = np.array([not NON_PUBLIC.contains_point(a) for a in self._sorted], dtype=bool)
        self.inbound = {port: self._inbound(ends, port) for port in self.ports}

    def _inbound(self, ends: list[Endpoint], port: int) -> _Stacked:
        """Every destination's inbound filters as one table keyed by (sorted position, source address)."""
        tables = []
        for k, d in enumerate(ends):
            nic = nic_with(self.snapshot, d.address, d.subnet_key)
            tables.append(decision_table(self.snapshot, nic.id if nic else d.subnet_key, True, self.protocol, port,
                                         self._sorted[k]))
        return _Stacked(tables, lambda verdict: self.number(verdict.rule.rule.id) if verdict.rule is not None else 0)

    def _after_appliance(self, context: str) -> _Reached:
        """Where traffic an appliance in `context` forwards ends: the destinations it does not drop."""
        found = self._after.get(context)
        if found is None:
            pieces = [p for p in self.routing.after(context) if p[2].kind != DROP]
            starts = np.array([p[0] for p in pieces], dtype=np.int64)
            ends = np.array([p[1] for p in pieces], dtype=np.int64)
            numbers = np.array([self._outcome(p[2]) for p in pieces], dtype=np.int64)
            piece = np.searchsorted(starts, self.addresses, "right") - 1
            live = np.zeros(0, dtype=np.int64)
            if pieces:  # destinations inside a piece (between pieces: dropped)
                live = np.flatnonzero((piece >= 0) & (self.addresses <= ends[np.maximum(piece, 0)]))
            found = self._after[context] = self._resolved(live, numbers[piece[live]])
        return found

    def _resolved(self, positions: np.ndarray, numbers: np.ndarray) -> _Reached:
        """What routing outcomes (by number) mean at these destinations (`reach._next`, `reach._arrive`)."""
        kinds, vnets, bys, chained = self._table[numbers].T
        here, through = self.vnet[positions], self.unique_vnet[positions]
        leaves = (kinds == GATEWAY) & ((through == -1) | (through == vnets))  # towards on-premises
        arrives = (((kinds == ARRIVE) & (vnets == here)) | ((kinds == HOLDER) & (through == here))
                   | ((kinds == GATEWAY) & ~leaves & (through == here))) & self.holder_ok[positions]
        edge = leaves | ((kinds == INTERNET) & self.public[positions])
        carrier = np.where(edge | (bys != 0), bys, here)
        return _Reached(positions, arrives, edge, carrier, chained, np.zeros(len(positions), dtype=np.int64))

    def flows(self, sources: list[Endpoint], same_vnet: bool, left_out: list[np.ndarray | None]) -> Flows:
        """Every allowed flow from these sources, pair by pair in the order given (sources, then destinations),
        then port by port. Left out: each source's own subnet, its VNet's other subnets unless `same_vnet`,
        and where its `left_out` mask (by sorted position) is True."""
        reached, entries = zip(*(self._reached(src.subnet_key) for src in sources))
        batch = _Reached.joined(list(reached))
        lengths = [len(r.positions) for r in reached]
        owner = np.repeat(np.arange(len(sources)), lengths)  # the source of each element
        bounds = np.cumsum([0, *lengths]).tolist()
        positions = batch.positions
        addresses = np.array([interval(src.address)[0] for src in sources], dtype=np.int64)
        own_subnet = np.array([self.number(s.subnet_key) for s in sources])[owner]
        keep = (batch.arrives | batch.edge) & (self.subnet[positions] != own_subnet)
        if not same_vnet:
            keep &= self.vnet[positions] != np.array([self.number(s.vnet_key) for s in sources])[owner]
        for k, mask in enumerate(left_out):
            if mask is not None:
                keep[bounds[k]:bounds[k + 1]] &= ~mask[positions[bounds[k]:bounds[k + 1]]]
        found = []
        for p, port in enumerate(self.ports):
            allowed = keep & self._checks_pass(batch, entries, bounds, addresses, port)
            allowed &= self._outbound(sources, addresses, port, owner, positions)
            codes, rules = self.inbound[port].at(positions, addresses[owner])  # the destinations' filters
            allowed &= batch.edge | (codes != 2)
            decided = np.where(~batch.edge & (codes == 1), rules, batch.carrier)
            found.append((owner[allowed], positions[allowed], np.full(int(allowed.sum()), p), decided[allowed]))
        owners, positions, ports, deciders = (np.concatenate(column) for column in zip(*found))
        order = np.lexsort((ports, self.order[positions], owners))
        return Flows(owners[order], positions[order], ports[order], deciders[order])

    def _reached(self, subnet_key: str) -> tuple[_Reached, set[int]]:
        """Where routing takes the destinations from a source subnet, and the numbers of the appliance checks
        met first (`_Reached.entry`)."""
        pieces = self.routing.from_source(subnet_key)
        last = self._last
        if last is not None and last[0] is pieces:  # the subnets of a VNet come one after another
            return last[1]
        parts, used = [], set()
        for start, end, step in pieces:
            a = bisect.bisect_left(self._sorted, start)
            b = bisect.bisect_right(self._sorted, end, a)
            if a == b or (isinstance(step, _Outcome) and step.kind == DROP):
                continue
            if isinstance(step, _Via):
                after = self._after_appliance(step.context)
                i, j = np.searchsorted(after.positions, (a, b)).tolist()
                number = self._checks.setdefault((step.check,), len(self._checks))
                used.add(number)
                parts.append(after.part(i, j, number))
            else:
                key = (self._outcome(step), a, b)
                if key not in self._direct:  # subnets of one VNet share their pieces
                    self._direct[key] = self._resolved(np.arange(a, b), np.full(b - a, key[0]))
                parts.append(self._direct[key])
        found = _Reached.joined(parts), used
        self._last = pieces, found
        return found

    def _checks_pass(self, batch: _Reached, entries: tuple[set[int], ...], bounds: list[int], addresses: np.ndarray,
                     port: int) -> np.ndarray:
        """The appliances on each flow's way let its source address through (`reach._appliance`): the first
        (`entry`; per source, the numbers in `entries`), then any after it (`chained`)."""
        ok = np.ones(len(batch.positions), dtype=bool)
        by_number = {n: checks for checks, n in self._checks.items()}
        for k, used in enumerate(entries):
            for number in used:
                if not all(self._passes(c, int(addresses[k]), port) for c in by_number[number]):
                    part = slice(bounds[k], bounds[k + 1])
                    ok[part] &= batch.entry[part] != number
        if batch.chained.any():
            for k in range(len(entries)):
                part = slice(bounds[k], bounds[k + 1])
                chained = batch.chained[part]
                for number in np.unique(chained[chained != 0]).tolist():
                    if not all(self._passes(c, int(addresses[k]), port) for c in by_number[number]):
                        ok[part] &= chained != number
        return ok

    def _passes(self, check: tuple, address: int, port: int) -> bool:
        subnet_key, ip, nic_id = check
        verdict = decision_table(self.snapshot, nic_id or subnet_key, True, self.protocol, port, ip).at(address)
        return verdict is None or _code(verdict) != 2

    def _outbound(self, sources: list[Endpoint], addresses: np.ndarray, port: int, owner: np.ndarray,
                  positions: np.ndarray) -> np.ndarray:
        """Each source's outbound filters let its flows' destination addresses through: the sources' tables
        as one, keyed by (source, destination address)."""
        tables = [decision_table(self.snapshot, src.subnet_key, False, self.protocol, port, int(addresses[k]))
                  for k, src in enumerate(sources)]
        codes, _ = _Stacked(tables).at(owner, self.addresses[positions])
        return codes != 2


class _Stacked:
    """Decision tables of several ends (IPv4 part) as one, keyed by (end << 32 | remote address): each piece's
    code (`_code`) and rule number (`rule_number`, 0 for none)."""

    def __init__(self, tables: list, rule_number=lambda verdict: 0):
        starts, lasts, codes, rules = [], [], [], []
        for k, table in enumerate(tables):
            for start, end, verdict in zip(table.starts, table.ends, table.verdicts):
                if start > V4_END:
                    break
                starts.append((k << 32) | start)
                lasts.append((k << 32) | min(end, V4_END))
                codes.append(_code(verdict))
                rules.append(rule_number(verdict))
        self.starts, self.lasts = np.array(starts, dtype=np.int64), np.array(lasts, dtype=np.int64)
        self.codes, self.rules = np.array(codes, dtype=np.int8), np.array(rules, dtype=np.int64)

    def at(self, ends: np.ndarray, addresses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(code, rule number) for each (end, address); 0 and 0 where no piece covers it."""
        if not len(self.starts):
            return np.zeros(len(ends), dtype=np.int8), np.zeros(len(ends), dtype=np.int64)
        queries = (ends << 32) | addresses
        i = np.maximum(np.searchsorted(self.starts, queries, "right") - 1, 0)
        covered = (self.starts[i] <= queries) & (queries <= self.lasts[i])
        return np.where(covered, self.codes[i], 0), np.where(covered, self.rules[i], 0)


def _code(verdict) -> int:
    """`reach._filtered` in one number: 0 passed with no rule deciding, 1 allowed by a rule, 2 stopped."""
    if verdict.rule is None:
        return 0
    return 1 if verdict.access in ("allow", "pass") else 2
