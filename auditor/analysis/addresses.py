"""Address prefixes as integer intervals: Azure's spellings, merging, overlap and containment.

IPv4 and IPv6 share one integer line (IPv6 shifted above the IPv4 range), so one
sorted list of [start, end] intervals answers overlap questions for both families.
"""

from __future__ import annotations

import bisect
import ipaddress
import re
from collections.abc import Hashable, Iterable
from functools import lru_cache
from itertools import chain

V6_OFFSET = 1 << 32
#: Every IPv4 address, and every IPv6 address, on the shared line.
V4_SPAN = (0, V6_OFFSET - 1)
V6_SPAN = (V6_OFFSET, V6_OFFSET + (1 << 128) - 1)
#: Spellings that mean every address of both families in NSG and admin rules. `0.0.0.0/0` is
#: every IPv4 address and no IPv6 one, `::/0` the reverse: they are plain prefixes.
ANY_SPELLINGS = frozenset({"*", "any"})


# Parsing is cached: large estates repeat the same few prefixes and tags in thousands of rules,
# and ipaddress is slow (and raises for every service tag). The results are immutable.
_CACHE = 1 << 18


@lru_cache(maxsize=_CACHE)
def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def to_network(prefix: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """A CIDR or bare IP as a network (host bits cleared); None for service tags and junk."""
    return _network((prefix or "").strip())


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_PLAIN_V4 = re.compile(rf"({_OCTET})\.({_OCTET})\.({_OCTET})\.({_OCTET})(?:/(3[0-2]|[12]?[0-9]))?")


def _v4(text: str) -> tuple[int, int, int] | None:
    """(first, last, prefix length) of a plain IPv4 CIDR or address, as ipaddress would read it
    (strict=False); None for anything else, which then goes through ipaddress."""
    m = _PLAIN_V4.fullmatch(text)
    if m is None:
        return None
    a, b, c, d, length = m.groups()
    bits = 32 if length is None else int(length)
    size = 1 << (32 - bits)
    start = ((int(a) << 24) | (int(b) << 16) | (int(c) << 8) | int(d)) & ~(size - 1)
    return start, start + size - 1, bits


@lru_cache(maxsize=_CACHE)
def is_any(prefix: str | None) -> bool:
    """`*` or `Any`: every address of both families (not `0.0.0.0/0` or `::/0`, one family each).
    Cached on the spelling as written (rules ask about the same prefixes many times)."""
    return (prefix or "").strip().lower() in ANY_SPELLINGS


@lru_cache(maxsize=_CACHE)
def is_family_wide(prefix: str | None) -> bool:
    """`*`, `Any` or a /0 of either family: a prefix that names no network in particular."""
    if is_any(prefix):
        return True
    span = interval(prefix)
    return span in (V4_SPAN, V6_SPAN)


def _interval(text: str) -> tuple[int, int] | None:
    if (fast := _v4(text)) is not None:
        return fast[0], fast[1]
    net = _network(text)
    if net is None:
        return None
    offset = V6_OFFSET if net.version == 6 else 0
    start = int(net.network_address) + offset
    return start, start + net.num_addresses - 1


@lru_cache(maxsize=_CACHE)
def interval(prefix: str | None) -> tuple[int, int] | None:
    return _interval((prefix or "").strip())


class IntervalSet:
    """A merged, sorted set of address intervals."""

    __slots__ = ("starts", "ends")

    def __init__(self, intervals: Iterable[tuple[int, int]] = ()):
        starts: list[int] = []
        ends: list[int] = []
        for start, end in sorted(intervals):
            if ends and start <= ends[-1] + 1:
                ends[-1] = max(ends[-1], end)
            else:
                starts.append(start)
                ends.append(end)
        self.starts = starts
        self.ends = ends

    @classmethod
    def _merged(cls, starts: list[int], ends: list[int]) -> IntervalSet:
        """From intervals already sorted, disjoint and not touching."""
        out = cls.__new__(cls)
        out.starts, out.ends = starts, ends
        return out

    @classmethod
    def of(cls, prefixes: Iterable[str]) -> IntervalSet:
        """Parse prefixes; `*`/`Any` become both families, a /0 its own family; service tags are ignored."""
        spans = []
        for p in prefixes:
            if is_any(p):
                spans.extend([V4_SPAN, V6_SPAN])
            elif (span := interval(p)) is not None:
                spans.append(span)
        return cls(spans)

    def __bool__(self) -> bool:
        return bool(self.starts)

    def __iter__(self):
        return iter(zip(self.starts, self.ends))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IntervalSet) and (self.starts, self.ends) == (other.starts, other.ends)

    def __repr__(self) -> str:
        return f"IntervalSet({list(self)})"

    def overlaps(self, other: IntervalSet) -> bool:
        return bool(self.intersection(other))

    def intersection(self, other: IntervalSet) -> IntervalSet:
        """Pieces of two merged sets' intervals: already sorted, disjoint and not touching."""
        if len(other.starts) == 1:  # one VNet's or one prefix's space: bisect instead of walking
            return self._clipped(other.starts[0], other.ends[0])
        if len(self.starts) == 1:
            return other._clipped(self.starts[0], self.ends[0])
        starts, ends, i, j = [], [], 0, 0
        a_starts, a_ends, b_starts, b_ends = self.starts, self.ends, other.starts, other.ends
        while i < len(a_starts) and j < len(b_starts):
            lo = max(a_starts[i], b_starts[j])
            hi = min(a_ends[i], b_ends[j])
            if lo <= hi:
                starts.append(lo)
                ends.append(hi)
            if a_ends[i] < b_ends[j]:
                i += 1
            else:
                j += 1
        return IntervalSet._merged(starts, ends)

    def _clipped(self, lo: int, hi: int) -> IntervalSet:
        """The set's addresses within [lo, hi]."""
        i = bisect.bisect_left(self.ends, lo)
        j = bisect.bisect_right(self.starts, hi, i)
        if i >= j:
            return EMPTY_SPACE
        starts, ends = self.starts[i:j], self.ends[i:j]
        starts[0], ends[-1] = max(starts[0], lo), min(ends[-1], hi)
        return IntervalSet._merged(starts, ends)

    def contains_point(self, value: int) -> bool:
        k = bisect.bisect_right(self.starts, value) - 1
        return k >= 0 and value <= self.ends[k]

    def covers(self, other: IntervalSet) -> bool:
        """Every address of `other` lies in this set (an empty `other` is covered)."""
        for start, end in zip(other.starts, other.ends):
            k = bisect.bisect_right(self.starts, start) - 1
            if k < 0 or end > self.ends[k]:
                return False
        return True

    def prefixes_overlapping(self, prefixes: Iterable[str]) -> list[str]:
        """The given prefixes that share at least one address with this set."""
        return [p for p in prefixes if self.overlaps(IntervalSet.of([p]))]


EMPTY_SPACE = IntervalSet()  # interval sets are never changed once built: one empty one serves all


def families(space: IntervalSet) -> tuple[IntervalSet, IntervalSet]:
    """The IPv4 and the IPv6 part of a space: traffic never crosses from one family to the other."""
    if not space.starts or space.ends[-1] < V6_OFFSET:
        return space, EMPTY_SPACE
    if space.starts[0] >= V6_OFFSET:
        return EMPTY_SPACE, space
    return space._clipped(*V4_SPAN), space._clipped(*V6_SPAN)


def ip_in(address: str, space: IntervalSet) -> bool:
    span = interval(address)
    return span is not None and space.contains_point(span[0])


# -- set operations ------------------------------------------------------------
def subtract(base: IntervalSet, other: IntervalSet) -> IntervalSet:
    """Addresses of `base` that are not in `other` (pieces already sorted, disjoint and not touching)."""
    starts: list[int] = []
    ends: list[int] = []
    o_starts, o_ends = other.starts, other.ends
    j = bisect.bisect_left(o_ends, base.starts[0]) if base.starts else 0  # skip what ends before base
    for start, end in zip(base.starts, base.ends):
        while j < len(o_starts) and o_ends[j] < start:
            j += 1
        k, cur = j, start
        while k < len(o_starts) and o_starts[k] <= end:
            if o_starts[k] > cur:
                starts.append(cur)
                ends.append(o_starts[k] - 1)
            cur = max(cur, o_ends[k] + 1)
            k += 1
        if cur <= end:
            starts.append(cur)
            ends.append(end)
    return IntervalSet._merged(starts, ends)


def span_minus(span: tuple[int, int], holes: Iterable[tuple[int, int]]) -> IntervalSet:
    """[lo, hi] without `holes`: disjoint intervals inside it, sorted by start (`subtract`'s
    result, without sorting and merging again)."""
    lo, hi = span
    starts, ends = [], []
    for start, end in holes:
        if start > lo:
            starts.append(lo)
            ends.append(start - 1)
        lo = end + 1
    if lo <= hi:
        starts.append(lo)
        ends.append(hi)
    return IntervalSet._merged(starts, ends)


def union(sets: Iterable[IntervalSet]) -> IntervalSet:
    return IntervalSet(span for s in sets for span in zip(s.starts, s.ends))


def overlaps(a: IntervalSet, b: IntervalSet) -> bool:
    """Like IntervalSet.overlaps, without building the intersection."""
    i = j = 0
    a_starts, a_ends, b_starts, b_ends = a.starts, a.ends, b.starts, b.ends
    while i < len(a_starts) and j < len(b_starts):
        if max(a_starts[i], b_starts[j]) <= min(a_ends[i], b_ends[j]):
            return True
        if a_ends[i] < b_ends[j]:
            i += 1
        else:
            j += 1
    return False


# -- keys by address -------------------------------------------------------------
def aligned_blocks(start: int, end: int) -> list[tuple[int, int]]:
    """[start, end] as the fewest blocks (first address, log2 of size), each at a multiple of its size."""
    out = []
    while start <= end:
        aligned = (start & -start).bit_length() - 1 if start else end.bit_length()
        bits = min(aligned, (end - start + 1).bit_length() - 1)
        out.append((start, bits))
        start += 1 << bits
    return out


class BlockIndex:
    """Which keys' address spaces overlap a given space, in time proportional to the answer
    (times the number of block sizes in use), however wide, nested or repeated the spaces are.

    Each space is split into aligned power-of-two blocks. Blocks of one size never overlap
    each other, so those meeting [lo, hi] are one run of that size's sorted starts: from the
    block holding lo to the last one starting by hi. A sorted-by-start list alone would have
    to scan back over every earlier interval once one wide space (10.0.0.0/8) is indexed.
    """

    __slots__ = ("_sizes",)

    def __init__(self, spaces: Iterable[tuple[Hashable, IntervalSet]]):
        by_size: dict[int, dict[int, list]] = {}
        for key, space in spaces:
            for start, end in zip(space.starts, space.ends):
                for block, bits in aligned_blocks(start, end):
                    by_size.setdefault(bits, {}).setdefault(block, []).append(key)
        self._sizes = []
        for bits, blocks in sorted(by_size.items()):
            starts = sorted(blocks)
            self._sizes.append((bits, starts, [blocks[b] for b in starts]))

    def overlapping(self, space: IntervalSet) -> set:
        """Keys whose space shares an address with `space`."""
        found: set = set()
        for lo, hi in zip(space.starts, space.ends):
            for bits, starts, keys in self._sizes:
                i = bisect.bisect_left(starts, lo >> bits << bits)
                found.update(chain.from_iterable(keys[i:bisect.bisect_right(starts, hi, i)]))
        return found

    def overlaps(self, lo: int, hi: int) -> bool:
        """Some key's space shares an address with [lo, hi]."""
        for bits, starts, _ in self._sizes:
            i = bisect.bisect_left(starts, lo >> bits << bits)
            if i < len(starts) and starts[i] <= hi:
                return True
        return False


# -- as text -------------------------------------------------------------------
def address_text(value: int) -> str:
    """A point of the line as an address: `10.1.2.4`, or IPv6 in its short form."""
    if value >= V6_OFFSET:
        return str(ipaddress.IPv6Address(value - V6_OFFSET))
    return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"


@lru_cache(maxsize=_CACHE)
def span_text(span: tuple[int, int]) -> str:
    """The interval as the fewest CIDRs, as ipaddress.summarize_address_range would list them."""
    start, end = span
    if start >= V6_OFFSET:
        first, last = ipaddress.IPv6Address(start - (V6_OFFSET)), ipaddress.IPv6Address(end - (V6_OFFSET))
        return ", ".join(str(n) for n in ipaddress.summarize_address_range(first, last))
    return ", ".join(f"{a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}/{32 - bits}"
                     for a, bits in aligned_blocks(start, end))


def describe_space(space: IntervalSet) -> str:
    return ", ".join(map(span_text, zip(space.starts, space.ends)))
