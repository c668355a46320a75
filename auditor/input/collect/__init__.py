"""Live collection: read an Azure estate, read-only, into a Snapshot.

Public API (stable; used by the CLI, the fake-ARM tests and the benchmark)::

    from auditor.input.collect import CollectScope, collect

    scope = CollectScope(subscriptions=["<sub id>"])            # or all_subscriptions=True,
                                                                #    tenants=[...], management_groups=[...]
    snapshot = collect(
        scope,
        credential,                  # any azure-core TokenCredential, or None for DefaultAzureCredential
                                     # (or a callable tenant_id -> credential, for --tenant)
        source="arm",                # a key of auditor.input.collect.sources.SOURCES: "arm" | "graph"
        cloud="AzureCloud",          # AzureCloud | AzureUSGovernment | AzureChinaCloud
        concurrency=64,              # requests in flight, across subscriptions and list calls inside
                                     # one (within ARM's read limits: auditor.input.collect.throttling)
        base_url_override=None,      # e.g. "https://127.0.0.1:8443" for a fake ARM endpoint
        transport_kwargs=None,       # passed to every SDK client: connection_timeout, read_timeout,
                                     # retry_total, retry_backoff_factor, retry_backoff_max,
                                     # connection_verify, transport, ...
        progress=None,               # callable(event: str, **counts) or None
        limits=Limits(call_timeout=300, max_duration=None, stop=threading.Event()),  # wall-clock bounds
    )

A subscription that answers 403, keeps failing (after azure-core's retries) or times
out is recorded in `snapshot.subscriptions` with status failed/partial and its errors
(scope = the list call, code, message); the other subscriptions are still collected
and nothing that was read is dropped. A credential that cannot sign in, or a discovery
call (subscription listing, management group query) that fails, raises
`auditor.input.collect.errors.CollectFailed` (an InputError: one line, exit 2 in the CLI).

The requests each source makes are listed in `auditor.input.collect.arm` and `auditor.input.collect.graph`;
every client carries `policies.ReadOnlyPolicy` (GET only, plus the Resource Graph query POST).
Record/replay: `auditor.input.collect.cassettes` (collect with concurrency=1 under vcrpy);
cassettes from a topology description: `python -m auditor.input.collect.generate`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CollectScope", "Limits", "collect"]


def __getattr__(name: str) -> Any:
    """Loaded on first use: the sources table (and the CLI's help) must not import the Azure SDK."""
    if name in __all__:
        from auditor.input.collect import orchestrator

        return getattr(orchestrator, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
