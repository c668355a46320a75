"""The Resource Graph source: the subscriptions split into a few batches queried in parallel,
each paged by $skipToken, all paced by the user's query quota (auditor.input.collect.quota).

Request: POST /providers/Microsoft.ResourceGraph/resources (the only POST the read-only
policy lets through), body {subscriptions, query, options: {resultFormat: objectArray, $top, $skipToken}}.
Rows are REST-shaped resources plus Graph columns; they go through the same normalizer as ARM.

The `resources` table holds the top-level types and Route Servers' ip configurations; network
managers' children (groups, static members, configurations, rule collections, rules) are in the
`networkresources` table, queried next for the subscriptions of a batch that hold a network manager.
No table holds Virtual WAN hubs' connections or routing intent: they are listed per hub through
ARM (GET, as the ARM source does). Tables:
https://learn.microsoft.com/azure/governance/resource-graph/reference/supported-tables-resources
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from auditor.input.collect import raw
from auditor.input.collect.arm import VIRTUAL_WAN_HUB_LISTS, Lists
from auditor.input.collect.calls import Call, Sink
from auditor.input.collect.paging import PageGuard, page_of
from auditor.model.ids import subscription_of

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
    "microsoft.network/networkinterfaces",
    "microsoft.network/applicationsecuritygroups",
    "microsoft.network/virtualwans",
    "microsoft.network/virtualhubs",
    "microsoft.network/virtualhubs/ipconfigurations",
    "microsoft.network/networkmanagers",
)
NETWORK_MANAGERS = "microsoft.network/networkmanagers"
NETWORK_RESOURCES_TYPES = tuple(f"{NETWORK_MANAGERS}/{child}" for child in (
    "networkgroups", "networkgroups/staticmembers", "connectivityconfigurations",
    "securityadminconfigurations", "securityadminconfigurations/rulecollections",
    "securityadminconfigurations/rulecollections/rules"))


def _query(table: str, types: tuple[str, ...]) -> str:
    return f"{table} | where type in~ ({', '.join(repr(t) for t in types)}) | order by id asc"


QUERY = _query("Resources", TYPES)
NETWORK_RESOURCES_QUERY = _query("networkresources", NETWORK_RESOURCES_TYPES)
#: children no Graph table holds: listed per Virtual WAN hub through ARM
ARM_ONLY = frozenset(scope for scope, _ in VIRTUAL_WAN_HUB_LISTS)
SUBSCRIPTIONS_QUERY = (
    "ResourceContainers | where type =~ 'microsoft.resources/subscriptions' "
    "| project id, subscriptionId, tenantId, name, properties | order by id asc"
)
#: Graph-only columns; dropped so a Graph row normalizes exactly like the ARM resource (Graph lower-cases resourceGroup)
GRAPH_COLUMNS = ("subscriptionId", "tenantId", "resourceGroup", "managedBy", "sku", "plan", "identity", "zones", "extendedLocation", "kind")


def _row(row: dict) -> dict:
    # sku and kind are also ARM fields (a Route Server's kind, an admin rule's): kept when set
    return {k: v for k, v in row.items() if k not in GRAPH_COLUMNS or (k in ("sku", "kind") and v)}


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
    """One call per batch of subscriptions read with one credential; `page_size` is the query's $top.

    A batch's call leads to one `networkresources` query for its subscriptions with a network
    manager, and to ARM lists of each Virtual WAN hub's connections and routing intent."""
    client = clients.shared("graph", credential)
    lists = Lists(clients, credential, only=ARM_ONLY)
    top = page_size or PAGE

    def network_resources(batch: list[str]) -> Call:
        def run(sink: Sink) -> None:
            for row in query_pages(client, NETWORK_RESOURCES_QUERY, subscriptions=batch, top=top):
                sink(_row(row))

        return Call("resourceGraph:networkresources", batch, run)

    calls = []
    for batch in batches(subscription_ids):

        def run(sink: Sink, batch: list[str] = batch) -> list[Call]:
            follow, managed = [], set()
            for row in query_pages(client, QUERY, subscriptions=batch, top=top):
                resource = _row(row)
                sink(resource)
                if str(resource.get("type") or "").lower() == NETWORK_MANAGERS:
                    managed.add(subscription_of(str(resource.get("id") or "")))
                follow += lists.children(resource, str(row.get("subscriptionId") or batch[0]))
            with_managers = [sid for sid in batch if sid.lower() in managed]
            return [network_resources(with_managers)] + follow if with_managers else follow

        calls.append(Call("resourceGraph", batch, run))
    return calls
