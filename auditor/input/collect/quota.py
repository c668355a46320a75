"""Resource Graph's per-user query quota: pace queries by the headers every answer carries.

"Guidance for throttled requests in Azure Resource Graph" (learn.microsoft.com/azure/governance/
resource-graph/concepts/guidance-for-throttled-requests): each user has a quota of queries per time
window ("for example ... at most 15 queries within every 5-second window"; the value "is subject to
change"); every response carries `x-ms-user-quota-remaining` (queries left) and
`x-ms-user-quota-resets-after` (hh:mm:ss until the window resets); each page fetched with
$skipToken "takes one query quota"; when the remaining quota is 0, wait for the reset.
A query refused anyway (429 with Retry-After) is retried by azure-core's retry policy.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import HTTPPolicy

REMAINING = "x-ms-user-quota-remaining"
RESETS_AFTER = "x-ms-user-quota-resets-after"
QUOTA, WINDOW = 15, 5.0  # the documented default: queries per window, and its seconds
MAX_WAIT = 60.0  # the longest one query waits for the quota; then it goes, and a 429 is retried

_DURATION = re.compile(r"^\s*(?:(\d+)\.)?(\d+):(\d{1,2}):(\d{1,2}(?:\.\d+)?)\s*$")


def parse_duration(text: str | None) -> float | None:
    """Seconds in a .NET TimeSpan as Azure prints it: hh:mm:ss, optionally d. and .fraction."""
    match = _DURATION.match(text or "")
    if match is None:
        return None
    days, hours, minutes, seconds = match.groups()
    return ((int(days or 0) * 24 + int(hours)) * 60 + int(minutes)) * 60 + float(seconds)


def reading(headers: Mapping[str, str] | None) -> tuple[int, float] | None:
    """(queries left, seconds until the window resets) from an answer's headers, or None."""
    value = (headers or {}).get(REMAINING)
    try:
        remaining = int(value) if value is not None else None
    except ValueError:
        remaining = None
    if remaining is None:
        return None
    resets_after = parse_duration((headers or {}).get(RESETS_AFTER))
    return max(remaining, 0), WINDOW if resets_after is None else resets_after  # window: when unsaid


class GraphQuota:
    """One user's quota, shared by the threads that query with the user's client.

    Within a window the smallest count reported bounds what may be in flight: queries still
    unanswered may already have been counted. A new window allows what the answers showed the
    quota to be at least (the largest count reported, plus the query it counted), or, before any
    answer, the documented default, as Azure's own parallel sample starts. A service that
    answers without quota headers is not paced. Every wait ends after `max_wait` seconds.
    """

    def __init__(self, max_wait: float = MAX_WAIT, clock: Callable[[], float] = time.monotonic):
        self.max_wait, self.clock = max_wait, clock
        self._cond = threading.Condition()
        self._remaining: int | None = None  # None: not known in this window
        self._resets_at: float | None = None
        self._quota = QUOTA  # what a new window allows: the default until answers show it
        self._in_flight = 0
        self._paced = True  # until an answer comes without quota headers
        self._seen = False  # whether an answer has shown the quota

    def acquire(self) -> bool:
        """Wait until a query may go within the quota (True), or `max_wait` seconds (False); it goes."""
        deadline = self.clock() + self.max_wait
        with self._cond:
            within = self._may_send()
            while not within:
                now = self.clock()
                if now >= deadline:
                    break
                wake = deadline if self._resets_at is None else min(deadline, self._resets_at)
                self._cond.wait(max(wake - now, 0.001))
                within = self._may_send()
            self._in_flight += 1
            return within

    def release(self, headers: Mapping[str, str] | None) -> None:
        """The query's answer arrived (its headers) or it failed without one (None)."""
        with self._cond:
            self._in_flight -= 1
            quota = reading(headers)
            if quota is not None:
                remaining, resets_after = quota
                self._quota = remaining + 1 if not self._seen else max(self._quota, remaining + 1)
                self._paced = self._seen = True
                if self._remaining is None or remaining < self._remaining:
                    self._remaining, self._resets_at = remaining, self.clock() + resets_after
            elif headers is not None:
                self._paced = False
            self._cond.notify_all()

    def _may_send(self) -> bool:
        if self._resets_at is not None and self.clock() >= self._resets_at:  # a new window
            self._remaining = self._resets_at = None
        if not self._paced:
            return True
        allowed = self._quota if self._remaining is None else self._remaining
        return allowed - self._in_flight > 0


class QuotaPolicy(HTTPPolicy):
    """Holds each Resource Graph query (and each retry) until the user's quota allows it.

    A per-retry policy: a retry after 429 waits for the quota like any query.
    """

    def __init__(self, quota: GraphQuota | None = None):
        super().__init__()
        self.quota = quota or GraphQuota()

    def send(self, request: PipelineRequest) -> PipelineResponse:
        self.quota.acquire()
        headers: Any = None
        try:
            response = self.next.send(request)
            headers = response.http_response.headers
            return response
        finally:
            self.quota.release(headers)
