"""Pipeline settings shared by every SDK client: read-only guard, retries, timeouts, ARM's read budget.

Retries, backoff, Retry-After and 5xx handling are azure-core's RetryPolicy, configured
through the standard client keywords (retry_total, retry_backoff_factor, ...); the one
change is that a Retry-After longer than RETRY_AFTER_MAX is cut to it (every wait bounded).
"""

from __future__ import annotations

import re
from typing import Any

from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import HTTPPolicy, RetryPolicy, SansIOHTTPPolicy

from auditor.input.collect.deadlines import bounded_wait, pause
from auditor.input.collect.throttling import ReadBudget, bucket_of

#: The one write-shaped call allowed: a Resource Graph query (it reads).
GRAPH_QUERY_PATH = re.compile(r"^/providers/Microsoft\.ResourceGraph/resources/?$", re.IGNORECASE)

#: The longest Retry-After waited for (ARM and Resource Graph ask for seconds, not minutes).
RETRY_AFTER_MAX = 120.0

#: Defaults; any of them can be overridden with `transport_kwargs`.
DEFAULT_CLIENT_KWARGS: dict[str, Any] = {
    "retry_total": 4,  # azure-core retries 408, 429, 500, 502, 503, 504 and connection errors
    "retry_backoff_factor": 0.8,
    "retry_backoff_max": 60,
    "connection_timeout": 10,
    "read_timeout": 60,
}


class ReadOnlyViolation(RuntimeError):
    """A request that could change the estate was about to leave the process."""


class ReadOnlyPolicy(SansIOHTTPPolicy):
    """Refuse everything except GET (and HEAD/OPTIONS), plus POST to the Resource Graph query endpoint.

    Installed after the retry policy, so retries and the SDK's automatic resource
    provider registration (a POST) pass through it too.
    """

    def on_request(self, request: PipelineRequest) -> None:
        http = request.http_request
        method = http.method.upper()
        if method in ("GET", "HEAD", "OPTIONS"):
            return
        path = _path_of(http.url)
        if method == "POST" and GRAPH_QUERY_PATH.match(path):
            return
        raise ReadOnlyViolation(f"vnet-audit is read-only: refused {method} {path}")


def _path_of(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path


def client_kwargs(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Keyword arguments for an azure-mgmt client: retry/timeout settings plus the read-only guard."""
    kwargs = {**DEFAULT_CLIENT_KWARGS, **(overrides or {})}
    extra = list(kwargs.pop("per_retry_policies", None) or [])
    kwargs["per_retry_policies"] = [ReadOnlyPolicy(), *extra]
    return kwargs


class BoundedRetryPolicy(RetryPolicy):
    """azure-core's RetryPolicy, but no wait is longer than RETRY_AFTER_MAX or what is left of the call."""

    def get_retry_after(self, response: PipelineResponse) -> float | None:
        seconds = super().get_retry_after(response)
        return None if seconds is None else bounded_wait(min(seconds, RETRY_AFTER_MAX))

    def get_backoff_time(self, settings: dict[str, Any]) -> float:
        return bounded_wait(super().get_backoff_time(settings))


def retry_policy(kwargs: dict[str, Any]) -> BoundedRetryPolicy:
    """A retry policy for one client (a policy instance belongs to one pipeline)."""
    return BoundedRetryPolicy(**kwargs)


class ReadBudgetPolicy(HTTPPolicy):
    """Holds each ARM request (and each retry) until its subscription's read bucket allows it.

    The wait is cut to what is left of the call and ends if the scan gives up on it; a request sent
    early anyway may get a 429, which the retry policy waits out."""

    def __init__(self, budget: ReadBudget):
        super().__init__()
        self.budget = budget

    def send(self, request: PipelineRequest) -> PipelineResponse:
        wait = self.budget.reserve(bucket_of(request.http_request.url))
        if wait > 0:
            pause(wait)
        return self.next.send(request)
