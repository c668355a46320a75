"""The Resource Graph source: one query over up to 1000 subscriptions at a time, paged by $skipToken.

Request: POST /providers/Microsoft.ResourceGraph/resources (the only POST the read-only
policy lets through), body {subscriptions, query, options: {resultFormat: objectArray, $top, $skipToken}}.
Rows are REST-shaped resources plus Graph columns; they go through the same normalizer as ARM.
"""

from __future__ import annotations

from typing import Any

from auditor.collect.calls import Call, Sink

BATCH = 1000  # Resource Graph's limit of subscriptions per query
PAGE = 1000  # Resource Graph's maximum $top

TYPES = (
    "microsoft.network/virtualnetworks",
    "microsoft.network/networksecuritygroups",
    "microsoft.network/routetables",
    "microsoft.network/virtualnetworkgateways",
    "microsoft.network/localnetworkgateways",
    "microsoft.network/connections",
)
QUERY = "Resources | where type in~ ({}) | order by id asc".format(", ".join(f"'{t}'" for t in TYPES))
SUBSCRIPTIONS_QUERY = (
    "ResourceContainers | where type =~ 'microsoft.resources/subscriptions' "
    "| project id, subscriptionId, tenantId, name, properties | order by id asc"
)
#: Graph-only columns; dropped so a Graph row normalizes exactly like the ARM resource (Graph lower-cases resourceGroup)
GRAPH_COLUMNS = ("subscriptionId", "tenantId", "resourceGroup", "managedBy", "sku", "plan", "identity", "zones", "extendedLocation", "kind")


def _row(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in GRAPH_COLUMNS or (k == "sku" and v)}


def query_pages(client: Any, query: str, *, subscriptions: list[str] | None = None,
                management_groups: list[str] | None = None, top: int = PAGE):
    """Every row of a query, following $skipToken."""
    from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

    skip_token = None
    while True:
        request = QueryRequest(
            subscriptions=subscriptions, management_groups=management_groups, query=query,
            options=QueryRequestOptions(result_format="objectArray", top=top, skip_token=skip_token),
        )
        response = client.resources(request)
        yield from response.data or []
        skip_token = response.skip_token
        if not skip_token:
            return


def batch_calls(client: Any, subscription_ids: list[str], page_size: int = PAGE) -> list[Call]:
    """One call per batch of subscriptions (each a chain of pages)."""
    calls = []
    for start in range(0, len(subscription_ids), BATCH):
        batch = subscription_ids[start:start + BATCH]

        def run(sink: Sink, batch: list[str] = batch) -> None:
            for row in query_pages(client, QUERY, subscriptions=batch, top=page_size):
                sink(_row(row))

        calls.append(Call("resourceGraph", batch, run))
    return calls
