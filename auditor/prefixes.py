"""Address prefixes as integer intervals: Azure's spellings, merging, overlap and containment.

IPv4 and IPv6 share one integer line (IPv6 shifted above the IPv4 range), so one
sorted list of [start, end] intervals answers overlap questions for both families.
"""

from __future__ import annotations

import bisect
import ipaddress
from collections.abc import Iterable

_V6_OFFSET = 1 << 32
#: Spellings that mean "every address" in NSG rules and route tables.
ANY_SPELLINGS = frozenset({"*", "any", "0.0.0.0/0", "::/0"})


def to_network(prefix: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """A CIDR or bare IP as a network (host bits cleared); None for service tags and junk."""
    text = (prefix or "").strip()
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def is_any(prefix: str) -> bool:
    text = (prefix or "").strip().lower()
    if text in ANY_SPELLINGS:
        return True
    net = to_network(text)
    return net is not None and net.prefixlen == 0


def interval(prefix: str) -> tuple[int, int] | None:
    net = to_network(prefix)
    if net is None:
        return None
    offset = _V6_OFFSET if net.version == 6 else 0
    start = int(net.network_address) + offset
    return start, start + net.num_addresses - 1


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
    def of(cls, prefixes: Iterable[str]) -> IntervalSet:
        """Parse prefixes; `*`/`Any`/`/0` become everything, service tags are ignored."""
        spans = []
        for p in prefixes:
            if is_any(p):
                spans.extend([(0, _V6_OFFSET - 1), (_V6_OFFSET, _V6_OFFSET + (1 << 128) - 1)])
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
        out, i, j = [], 0, 0
        while i < len(self.starts) and j < len(other.starts):
            lo = max(self.starts[i], other.starts[j])
            hi = min(self.ends[i], other.ends[j])
            if lo <= hi:
                out.append((lo, hi))
            if self.ends[i] < other.ends[j]:
                i += 1
            else:
                j += 1
        return IntervalSet(out)

    def contains_point(self, value: int) -> bool:
        k = bisect.bisect_right(self.starts, value) - 1
        return k >= 0 and value <= self.ends[k]

    def covers(self, other: IntervalSet) -> bool:
        """Every address of `other` lies in this set (an empty `other` is covered)."""
        for start, end in other:
            k = bisect.bisect_right(self.starts, start) - 1
            if k < 0 or end > self.ends[k]:
                return False
        return True

    def prefixes_overlapping(self, prefixes: Iterable[str]) -> list[str]:
        """The given prefixes that share at least one address with this set."""
        return [p for p in prefixes if self.overlaps(IntervalSet.of([p]))]


def ip_in(address: str, space: IntervalSet) -> bool:
    span = interval(address)
    return span is not None and space.contains_point(span[0])
