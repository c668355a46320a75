"""Address-space overlap at scale: interval sweeps instead of pairwise loops.

`overlapping_pairs` finds which keyed intervals overlap in O(n log n + pairs).
`OverlapIndex` answers "which VNets overlap this one, and how many" for a whole
estate: VNets with the same address space share one group, so 10,000 VNets that
all use 10.0.0.0/16 form a single group and cost a single lookup each.
"""

from __future__ import annotations

import heapq
import ipaddress
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Iterator, Mapping
from functools import lru_cache

from auditor.analysis.addresses import V6_OFFSET, interval, to_network

Span = tuple[int, int]


span_of = interval  # cached in auditor.analysis.addresses: estates repeat the same prefixes many times


def prefix_spans(prefixes: Iterable[str]) -> tuple[Span, ...]:
    """The distinct intervals of the parseable prefixes, sorted; service tags and junk are dropped."""
    return tuple(sorted({span for p in prefixes if (span := span_of(p)) is not None}))


@lru_cache(maxsize=1 << 16)
def network_key(prefix: str) -> str:
    """A prefix spelled canonically (host bits cleared, lower case), for set comparison."""
    net = to_network(prefix)
    return str(net) if net is not None else (prefix or "").strip().lower()


def network_set(prefixes: Iterable[str]) -> set[str]:
    return {network_key(p) for p in prefixes if (p or "").strip()}


def overlapping_pairs(items: Iterable[tuple[int, int, Hashable]]) -> set[tuple[Hashable, Hashable]]:
    """Pairs of distinct keys whose intervals (start, end, key) share an address.

    A sweep over starts with a heap of open intervals: every interval still open when
    another starts overlaps it, so the work is O(n log n + number of overlapping pairs).
    Keys must be orderable; each pair comes once, as (smaller key, larger key).
    """
    pairs: set[tuple[Hashable, Hashable]] = set()
    open_: list[tuple[int, int, Hashable]] = []  # heap of (end, seq, key)
    for seq, (start, end, key) in enumerate(sorted(items, key=lambda t: (t[0], t[1]))):
        while open_ and open_[0][0] < start:
            heapq.heappop(open_)
        for _, _, other in open_:
            if other != key:
                pairs.add((other, key) if other < key else (key, other))
        heapq.heappush(open_, (end, seq, key))
    return pairs


def overlap_detail(a: Iterable[str], b: Iterable[str]) -> list[tuple[str, str]]:
    """(prefix of a, prefix of b) for every overlapping pair; for messages and evidence (small lists)."""
    b_spans = [(p, span_of(p)) for p in b]
    out = []
    for pa in a:
        sa = span_of(pa)
        if sa is None:
            continue
        for pb, sb in b_spans:
            if sb is not None and sa[0] <= sb[1] and sb[0] <= sa[1]:
                out.append((pa, pb))
    return out


def describe(detail: list[tuple[str, str]]) -> str:
    """'10.0.0.0/16 with 10.0.1.0/24, fd00::/48 with fd00::/56' (identical prefixes once)."""
    return ", ".join(a if span_of(a) == span_of(b) else f"{a} with {b}" for a, b in detail)


class OverlapIndex:
    """Which keys (VNets) overlap which, by address space, without comparing all pairs.

    Keys with identical spans form one group; the overlap relation is computed between
    distinct spans with `overlapping_pairs`, then lifted to groups. Counting the VNets
    that overlap a VNet is a sum of group sizes; listing them is a lazy merge.
    """

    def __init__(self, spaces: Mapping[str, Iterable[str]]):
        by_signature: dict[tuple[Span, ...], list[str]] = defaultdict(list)
        for key, prefixes in spaces.items():
            signature = prefix_spans(prefixes)
            if signature:
                by_signature[signature].append(key)
        self.members: list[list[str]] = []
        self.group_of: dict[str, int] = {}
        groups_with_span: dict[Span, list[int]] = defaultdict(list)
        for gid, (signature, keys) in enumerate(sorted(by_signature.items())):
            self.members.append(sorted(keys))
            for key in keys:
                self.group_of[key] = gid
            for span in signature:
                groups_with_span[span].append(gid)
        self._spans_of = sorted(by_signature)
        span_neighbours: dict[Span, list[Span]] = defaultdict(list)
        for a, b in overlapping_pairs((s, e, (s, e)) for s, e in groups_with_span):
            span_neighbours[a].append(b)
            span_neighbours[b].append(a)
        self._groups_with_span = groups_with_span
        self._span_neighbours = span_neighbours
        self._neighbours: dict[int, frozenset[int]] = {}
        self._labels: dict[int, list[Counter]] = {}

    def neighbours(self, gid: int) -> frozenset[int]:
        """Groups overlapping group `gid`, itself included."""
        found = self._neighbours.get(gid)
        if found is None:
            out: set[int] = set()
            for span in self._spans_of[gid]:
                out.update(self._groups_with_span[span])
                for other in self._span_neighbours.get(span, ()):
                    out.update(self._groups_with_span[other])
            found = self._neighbours[gid] = frozenset(out)
        return found

    def count(self, key: str) -> int:
        """How many other keys overlap `key`."""
        gid = self.group_of.get(key)
        if gid is None:
            return 0
        return sum(len(self.members[g]) for g in self.neighbours(gid)) - 1

    def overlaps(self, a: str, b: str) -> bool:
        ga, gb = self.group_of.get(a), self.group_of.get(b)
        return a != b and ga is not None and gb is not None and gb in self.neighbours(ga)

    def count_among(self, key: str, others: Iterable[str]) -> int:
        """How many of `others` (not `key` itself) overlap `key`."""
        gid = self.group_of.get(key)
        if gid is None:
            return 0
        near, group_of = self.neighbours(gid), self.group_of
        return sum(1 for o in others if o != key and group_of.get(o, -1) in near)

    def count_alike(self, key: str, label_of: Mapping[str, Hashable]) -> int:
        """How many other keys overlap `key` and carry the same label (a routed domain, say)."""
        gid = self.group_of.get(key)
        if gid is None:
            return 0
        counts = self._labels.get(id(label_of))
        if counts is None:
            counts = [Counter(label_of.get(k) for k in keys) for keys in self.members]
            self._labels[id(label_of)] = counts
        label = label_of.get(key)
        return sum(counts[g][label] for g in self.neighbours(gid)) - 1

    def overlapping(self, key: str) -> Iterator[str]:
        """The other keys overlapping `key`, in sorted order, lazily."""
        gid = self.group_of.get(key)
        if gid is None:
            return iter(())
        merged = heapq.merge(*(self.members[g] for g in sorted(self.neighbours(gid))))
        return (k for k in merged if k != key)


def overlap_clusters(items: Iterable[tuple[int, int, Hashable]]) -> list[tuple[tuple[Span, ...], set[Hashable]]]:
    """Keys whose intervals (start, end, key) overlap, directly or through a chain, as clusters.

    One sorted sweep merges overlapping intervals into ranges; a range holding two or more
    keys is an overlap, and overlap ranges that share a key are joined into one cluster.
    Returns [(merged ranges, keys)] ordered by first range; O(n log n), output bounded by n.
    """
    merged: list[list] = []  # [start, end, keys]
    for start, end, key in sorted(items, key=lambda t: (t[0], t[1])):
        if merged and start <= merged[-1][1]:
            last = merged[-1]
            last[1] = max(last[1], end)
            last[2].add(key)
        else:
            merged.append([start, end, {key}])
    ranges = [r for r in merged if len(r[2]) > 1]
    parent = list(range(len(ranges)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_range: dict[Hashable, int] = {}
    for i, (_, _, keys) in enumerate(ranges):
        for key in keys:
            j = root(first_range.setdefault(key, i))
            if j != root(i):
                parent[max(j, root(i))] = min(j, root(i))
    clusters: dict[int, tuple[list[Span], set[Hashable]]] = {}
    for i, (start, end, keys) in enumerate(ranges):
        spans, members = clusters.setdefault(root(i), ([], set()))
        spans.append((start, end))
        members.update(keys)
    return [(tuple(spans), members) for _, (spans, members) in sorted(clusters.items())]


def span_cidrs(span: Span) -> list[str]:
    """An interval of the shared IPv4/IPv6 line as the fewest CIDRs ('10.1.0.0/16')."""
    start, end = span
    if start >= V6_OFFSET:
        first, last = ipaddress.IPv6Address(start - V6_OFFSET), ipaddress.IPv6Address(end - V6_OFFSET)
    else:
        first, last = ipaddress.IPv4Address(start), ipaddress.IPv4Address(end)
    return [str(net) for net in ipaddress.summarize_address_range(first, last)]


def within(prefixes: Iterable[str], spans: Iterable[Span]) -> list[str]:
    """The prefixes (original spelling) that lie inside one of `spans`."""
    spans = list(spans)
    return [p for p in prefixes if (s := span_of(p)) is not None and any(a <= s[0] and s[1] <= b for a, b in spans)]


def near_vnets(index, key: str) -> set[str]:
    """The VNet, its peers and its peers' peers: the overlaps OVLP001 and the shared-hub findings cover."""
    out = {key}
    for peer in index.peered_vnets(key):
        out.add(peer)
        out.update(index.peered_vnets(peer))
    return out
