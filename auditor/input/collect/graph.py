"""The Resource Graph source: the subscriptions split into a few batches queried in parallel,
each paged by $skipToken, all paced by the user's query quota (auditor.input.collect.quota).

Request: POST /providers/Microsoft.ResourceGraph/resources (the only POST the read-only
policy lets through), body {subscriptions, query, options: {resultFormat: objectArray, $top, $skipToken}}.
Rows are REST-shaped resources plus Graph columns; they go through the same normalizer as ARM.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from auditor.input.collect import raw
from auditor.input.collect.calls import Call, Sink
from auditor.input.collect.paging import PageGuard, page_of

if TYPE_CHECKING:
    from auditor.input.collect.arm import ArmClients

PAGE = 1000  # Resource Graph's maximum $top
# Batches: every page is one query of the user's quota (15 per 5 s by default), so subscriptions are
# split only as far as parallel chains of pages help. Azure's throttling guidance recommends groups
# of fewer than 300 subscriptions (the API takes 1000); a few chains already use a window's quota.
MAX_BATCH = 250
MIN_BATCH = 20  # a small estate stays one query
PARALLEL = 8  # batches when there are enough subscriptions; also the pool threads they may hold

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
    """Every row of a query, following $skipToken.

    The body is the SDK's QueryRequest, serialized as `client.resources()` would; the POST goes
    through the client's pipeline and the rows stay JSON (see auditor.input.collect.raw).
    """
    from azure.core.paging import ItemPaged
    from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions
    from azure.mgmt.resourcegraph.operations._resource_graph_client_operations import (
        build_resources_request,
    )

    guard = PageGuard()  # the skip token travels in the body, to the same endpoint

    def get_next(skip_token: str | None = None) -> Any:
        guard.token(skip_token) if skip_token else guard.count()
        body = QueryRequest(
            subscriptions=subscriptions, management_groups=management_groups, query=query,
            options=QueryRequestOptions(result_format="objectArray", top=top, skip_token=skip_token),
        ).serialize()
        request = build_resources_request(api_version=client._config.api_version, content_type="application/json", json=body)
        return raw.send(client, request)

    def extract_data(response: Any) -> tuple[str | None, Any]:
        token, rows = page_of(raw.body(response), "data", "$skipToken")
        return token, iter(rows)

    return ItemPaged(get_next, extract_data)


def batches(subscription_ids: list[str]) -> list[list[str]]:
    """The subscriptions in consecutive batches of near-equal size, one query (chain of pages) each."""
    n = len(subscription_ids)
    count = max(math.ceil(n / MAX_BATCH), min(PARALLEL, math.ceil(n / MIN_BATCH)), 1)
    size = max(math.ceil(n / count), 1)
    return [subscription_ids[start:start + size] for start in range(0, n, size)]


def read_calls(clients: ArmClients, credential: Any, subscription_ids: list[str],
               page_size: int | None = None) -> list[Call]:
    """One call per batch of subscriptions read with one credential; `page_size` is the query's $top."""
    client = clients.shared("graph", credential)
    calls = []
    for batch in batches(subscription_ids):

        def run(sink: Sink, batch: list[str] = batch) -> None:
            for row in query_pages(client, QUERY, subscriptions=batch, top=page_size or PAGE):
                sink(_row(row))

        calls.append(Call("resourceGraph", batch, run))
    return calls
