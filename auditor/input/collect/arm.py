"""The ARM source: per subscription, the network client's subscription-wide lists, plus
gateways, local network gateways and connections found through the resource listing.

Requests (all GET, paged by nextLink), per subscription S:
  /subscriptions/S                                                    (explicit scope only)
  /subscriptions/S/providers/Microsoft.Network/virtualNetworks        (subnets, peerings inline)
  /subscriptions/S/providers/Microsoft.Network/networkSecurityGroups
  /subscriptions/S/providers/Microsoft.Network/routeTables
  /subscriptions/S/resources?$filter=resourceType eq '...' or ...     then, per resource group G:
  /subscriptions/S/resourceGroups/G/providers/Microsoft.Network/{virtualNetworkGateways|localNetworkGateways|connections}

Each is built by the SDK's own request builder (the one the typed list method calls) and sent
through the client's pipeline by `raw.pages`, which keeps the JSON (see auditor.input.collect.raw).
Clients are made once per credential (tenant) and kind: they share the HTTP session, and
their authentication policy asks the credential for a token once, not once per subscription.
A Resource Graph client (one per credential, i.e. per user) paces its queries by the user's quota.
"""

from __future__ import annotations

import threading
from typing import Any

from auditor.input.collect import raw
from auditor.input.collect.calls import Call, Sink
from auditor.input.collect.policies import retry_policy
from auditor.input.collect.quota import QuotaPolicy
from auditor.model.ids import resource_group_of

#: resource type -> (scope name, network request builder) for types without a subscription-wide list
PER_GROUP = {
    "microsoft.network/virtualnetworkgateways": ("virtualNetworkGateways", "build_virtual_network_gateways_list_request"),
    "microsoft.network/localnetworkgateways": ("localNetworkGateways", "build_local_network_gateways_list_request"),
    "microsoft.network/connections": ("connections", "build_virtual_network_gateway_connections_list_request"),
}
#: subscription-wide lists: scope name -> network request builder
SUBSCRIPTION_LISTS = {
    "virtualNetworks": "build_virtual_networks_list_all_request",
    "networkSecurityGroups": "build_network_security_groups_list_all_request",
    "routeTables": "build_route_tables_list_all_request",
}
TYPE_FILTER = " or ".join(
    f"resourceType eq '{t}'" for t in ("Microsoft.Network/virtualNetworkGateways", "Microsoft.Network/localNetworkGateways", "Microsoft.Network/connections")
)
#: network clients bind a subscription, but raw requests carry theirs in the path: one client serves all
ANY_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


def network_request(builder: str, **kwargs: Any) -> Any:
    from azure.mgmt.network.operations import _operations

    return getattr(_operations, builder)(**kwargs)


class ArmClients:
    """Builds the SDK clients (cheap: they share the session); `shared()` keeps one per kind and credential."""

    def __init__(self, cloud: Any, base_url: str | None, kwargs: dict):
        self.cloud, self.base_url, self.kwargs = cloud, base_url, kwargs
        self._shared: dict[tuple[str, int], tuple[Any, Any]] = {}
        self._lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        """The ARM endpoint every client sends to: paging links may lead only here."""
        return self.base_url or self.cloud.resource_manager

    def _common(self) -> dict:
        return {"base_url": self.endpoint, "cloud_setting": self.cloud.setting,
                "credential_scopes": list(self.cloud.credential_scopes), "retry_policy": retry_policy(self.kwargs),
                **self.kwargs}

    def shared(self, kind: str, credential: Any) -> Any:
        """One client of `kind` (network, resources, subscriptions, graph) per credential, made on first use."""
        key = (kind, id(credential))
        with self._lock:
            if key not in self._shared:
                args = (credential, ANY_SUBSCRIPTION) if kind in ("network", "resources") else (credential,)
                self._shared[key] = (getattr(self, kind)(*args), credential)  # the credential kept alive: id stays unique
            return self._shared[key][0]

    def network(self, credential: Any, subscription_id: str) -> Any:
        from azure.mgmt.network import NetworkManagementClient

        return NetworkManagementClient(credential, subscription_id, **self._common())

    def resources(self, credential: Any, subscription_id: str) -> Any:
        from azure.mgmt.resource.resources import ResourceManagementClient

        return ResourceManagementClient(credential, subscription_id, **self._common())

    def subscriptions(self, credential: Any) -> Any:
        from azure.mgmt.resource.subscriptions import SubscriptionClient

        return SubscriptionClient(credential, **self._common())

    def graph(self, credential: Any) -> Any:
        from azure.mgmt.resourcegraph import ResourceGraphClient

        common = self._common()
        common["per_retry_policies"] = [*common.get("per_retry_policies", []), QuotaPolicy()]
        return ResourceGraphClient(credential, **common)


def _drain(items: Any, sink: Sink) -> None:
    for item in items:  # each item reaches the sink as soon as its page arrives: a later failure loses nothing
        sink(item)


def subscription_calls(clients: ArmClients, credential: Any, subscription_id: str) -> list[Call]:
    """The independent list calls for one subscription (the resource listing leads to per-group calls)."""
    sid = subscription_id
    network = clients.shared("network", credential)

    def pages(client: Any, request: Any, api_version: str | None = None) -> Any:
        return raw.pages(client, request, endpoint=clients.endpoint, api_version=api_version)

    def listing(scope: str, builder: str) -> Call:
        request = network_request(builder, subscription_id=sid)
        return Call(scope, [sid], lambda sink: _drain(pages(network, request), sink))

    def per_group(rg: str, builder: str) -> Any:
        request = network_request(builder, resource_group_name=rg, subscription_id=sid)
        return lambda sink: _drain(pages(network, request), sink)

    def typed_resources(sink: Sink) -> list[Call]:
        from azure.mgmt.resource.resources.operations._operations import (
            build_resources_list_request,
        )

        resources = clients.shared("resources", credential)
        api_version = resources._config.api_version
        groups: dict[tuple[str, str], str] = {}
        request = build_resources_list_request(subscription_id=sid, filter=TYPE_FILTER, api_version=api_version)
        for resource in pages(resources, request, api_version):
            rtype = (resource.get("type") or "").lower()
            rg = resource_group_of(resource.get("id") or "")
            if rtype in PER_GROUP and rg:
                groups.setdefault((rtype, rg.lower()), rg)
        follow = []
        for (rtype, _), rg in sorted(groups.items()):
            scope, builder = PER_GROUP[rtype]
            follow.append(Call(f"{scope}:{rg}", [sid], per_group(rg, builder)))
        return follow

    return [*(listing(scope, builder) for scope, builder in SUBSCRIPTION_LISTS.items()),
            Call("resources", [sid], typed_resources)]


def read_calls(clients: ArmClients, credential: Any, subscription_ids: list[str],
               page_size: int | None = None) -> list[Call]:
    """Every subscription's calls (ARM lists take no page size: `page_size` is for Resource Graph)."""
    return [call for sid in subscription_ids for call in subscription_calls(clients, credential, sid)]
