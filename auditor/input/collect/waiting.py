"""Calls waiting for one of the collection's threads, taken in order, fairly across subscriptions.

Only as many calls as there are threads are handed to the pool; the rest wait here, so the
scheduler watches the deadlines of running calls only. A subscription with many calls (one per
resource group holding gateways, say) would otherwise fill every thread, each waiting on that
subscription's read budget while other subscriptions' calls queue behind: a subscription gets at
most FAIR_SHARE threads while the calls ahead of the line belong to others.
"""

from __future__ import annotations

from collections import Counter, deque
from itertools import islice

from auditor.input.collect.calls import Call

FAIR_SHARE = 8  # threads one subscription (or batch) holds while others' calls wait
LOOKAHEAD = 64  # calls looked at for one whose subscription is under its share


def owner(call: Call) -> tuple[str, ...]:
    """Whose share a call counts against: its subscription, a Resource Graph batch, or discovery."""
    return tuple(call.subscription_ids)


class Waiting:
    def __init__(self) -> None:
        self._calls: deque[Call] = deque()
        self.running: Counter[tuple[str, ...]] = Counter()

    def __len__(self) -> int:
        return len(self._calls)

    def add(self, call: Call) -> None:
        self._calls.append(call)

    def take(self) -> Call:
        """The first call whose owner is under its share (or the first, when none is); counted as running."""
        chosen = 0
        for n, call in enumerate(islice(self._calls, LOOKAHEAD)):
            if self.running[owner(call)] < FAIR_SHARE:
                chosen = n
                break
        call = self._calls[chosen]
        del self._calls[chosen]
        self.running[owner(call)] += 1
        return call

    def finished(self, call: Call) -> None:
        key = owner(call)
        self.running[key] -= 1
        if not self.running[key]:
            del self.running[key]

    def clear(self) -> list[Call]:
        calls, self._calls = list(self._calls), deque()
        return calls
