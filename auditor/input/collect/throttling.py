"""ARM's documented read limits, and the concurrency the collector may use within them.

"Understand how Azure Resource Manager throttles requests" (learn.microsoft.com/azure/
azure-resource-manager/management/request-limits-and-throttling): since 2024 ARM throttles with a
token bucket per subscription, per security principal and per operation type (and per region):
reads may burst to 250 and then refill at 25 a second; tenant-level reads have a bucket of their own
of the same size. Beyond it ARM answers 429 with Retry-After (azure-core's retry policy waits).
The limits are per subscription, not per client, so many requests in flight across subscriptions
stay within them: one subscription gets a handful of list calls, far below a bucket. A subscription
with hundreds of resource groups holding gateways gets one call per group; `ReadBudget` paces
those at the documented rate instead of spending retries on 429s.
"""

from __future__ import annotations

import threading
import time
from typing import Callable
from urllib.parse import urlsplit

from auditor.model.ids import subscription_of

BURST, REFILL = 250, 25.0  # reads per subscription (and per tenant): the bucket, and tokens a second
DEFAULT_CONCURRENCY = 64  # requests in flight; see the module docstring for why ARM allows it
TENANT = "tenant"  # the bucket of requests that name no subscription (/subscriptions, /tenants)


def bucket_of(url: str) -> str:
    """The bucket a request counts against: its subscription, or the tenant's."""
    return subscription_of(urlsplit(url).path) or TENANT


class ReadBudget:
    """One principal's read buckets, shared by its clients' threads.

    `reserve` takes a token now and says how long to wait before sending: a bucket may go below
    zero, and each request waits its turn at the refill rate (no request is refused)."""

    def __init__(self, burst: int = BURST, refill: float = REFILL, clock: Callable[[], float] = time.monotonic):
        self.burst, self.refill, self.clock = burst, refill, clock
        self._tokens: dict[str, tuple[float, float]] = {}  # bucket -> (tokens, when counted)
        self._lock = threading.Lock()

    def reserve(self, bucket: str) -> float:
        """Seconds to wait before the request may go."""
        with self._lock:
            now = self.clock()
            tokens, then = self._tokens.get(bucket, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - then) * self.refill) - 1
            self._tokens[bucket] = tokens, now
        return 0.0 if tokens >= 0 else -tokens / self.refill
