"""The ARM source: per subscription, the network client's subscription-wide lists, plus
gateways, local network gateways and connections found through the resource listing.

Requests (all GET, paged by nextLink), per subscription S:
  /subscriptions/S                                                    (explicit scope only)
  /subscriptions/S/providers/Microsoft.Network/virtualNetworks        (subnets, peerings inline)
  /subscriptions/S/providers/Microsoft.Network/networkSecurityGroups
  /subscriptions/S/providers/Microsoft.Network/routeTables
  /subscriptions/S/resources?$filter=resourceType eq '...' or ...     then, per resource group G:
  /subscriptions/S/resourceGroups/G/providers/Microsoft.Network/{virtualNetworkGateways|localNetworkGateways|connections}
"""

from __future__ import annotations

from typing import Any

from auditor.collect.calls import Call, Sink, as_rest
from auditor.ids import resource_group_of

#: resource type -> (scope name, network client operation group) for types without a subscription-wide list
PER_GROUP = {
    "microsoft.network/virtualnetworkgateways": ("virtualNetworkGateways", "virtual_network_gateways"),
    "microsoft.network/localnetworkgateways": ("localNetworkGateways", "local_network_gateways"),
    "microsoft.network/connections": ("connections", "virtual_network_gateway_connections"),
}
TYPE_FILTER = " or ".join(
    f"resourceType eq '{t}'" for t in ("Microsoft.Network/virtualNetworkGateways", "Microsoft.Network/localNetworkGateways", "Microsoft.Network/connections")
)


class ArmClients:
    """Builds the SDK clients for one subscription (cheap: they share the session)."""

    def __init__(self, cloud: Any, base_url: str | None, kwargs: dict):
        self.cloud, self.base_url, self.kwargs = cloud, base_url, kwargs

    def _common(self) -> dict:
        return {"base_url": self.base_url or self.cloud.resource_manager, "cloud_setting": self.cloud.setting,
                "credential_scopes": list(self.cloud.credential_scopes), **self.kwargs}

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

        return ResourceGraphClient(credential, **self._common())


def _drain(pages: Any, sink: Sink) -> None:
    for item in pages:  # each item reaches the sink as soon as its page arrives: a later failure loses nothing
        sink(as_rest(item))


def subscription_calls(clients: ArmClients, credential: Any, subscription_id: str) -> list[Call]:
    """The independent list calls for one subscription (the resource listing leads to per-group calls)."""
    sid = subscription_id
    network = clients.network(credential, sid)

    def listing(scope: str, group: str) -> Call:
        return Call(scope, [sid], lambda sink: _drain(getattr(network, group).list_all(), sink))

    def typed_resources(sink: Sink) -> list[Call]:
        groups: dict[tuple[str, str], str] = {}
        for resource in clients.resources(credential, sid).resources.list(filter=TYPE_FILTER):
            rtype = (resource.type or "").lower()
            rg = resource_group_of(resource.id or "")
            if rtype in PER_GROUP and rg:
                groups.setdefault((rtype, rg.lower()), rg)
        follow = []
        for (rtype, _), rg in sorted(groups.items()):
            scope, group = PER_GROUP[rtype]
            follow.append(Call(f"{scope}:{rg}", [sid], lambda sink, g=group, r=rg: _drain(getattr(network, g).list(r), sink)))
        return follow

    return [
        listing("virtualNetworks", "virtual_networks"),
        listing("networkSecurityGroups", "network_security_groups"),
        listing("routeTables", "route_tables"),
        Call("resources", [sid], typed_resources),
    ]
