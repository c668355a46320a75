"""The ARM source: per subscription, the network client's subscription-wide lists, plus
gateways, local network gateways and connections found through the resource listing, plus the
children of Virtual WAN hubs, Route Servers and network managers found in the lists.

Requests (all GET, paged by nextLink), per subscription S:
  /subscriptions/S                                                    (explicit scope only)
  /subscriptions/S/providers/Microsoft.Network/virtualNetworks        (subnets, peerings inline)
  /subscriptions/S/providers/Microsoft.Network/{networkSecurityGroups|routeTables|networkInterfaces}
  /subscriptions/S/resources?$filter=resourceType eq '...' or ...     then, per resource group G:
  /subscriptions/S/resourceGroups/G/providers/Microsoft.Network/{virtualNetworkGateways|localNetworkGateways|connections}
  and, per type the listing shows in S:
  /subscriptions/S/providers/Microsoft.Network/{applicationSecurityGroups|virtualWans|virtualHubs|
      networkManagers}
and, per resource P listed (P = /subscriptions/S/resourceGroups/G/providers/Microsoft.Network/...):
  P = virtualHubs/H, a Virtual WAN hub:   P/hubVirtualNetworkConnections, P/routingIntent
  P = virtualHubs/H, a Route Server:      P/ipConfigurations (its RouteServerSubnet)
  P = networkManagers/M:                  P/networkGroups, P/connectivityConfigurations,
                                          P/securityAdminConfigurations
  P = networkManagers/M/networkGroups/N:  P/staticMembers
  P = .../securityAdminConfigurations/C:  P/ruleCollections, and per collection R: P/ruleCollections/R/rules

Each is built by the SDK's own request builder (the one the typed list method calls) and sent
through the client's pipeline by `raw.pages`, which keeps the JSON (see auditor.input.collect.raw).
Children are listed by calls of their own, run in parallel as their parents arrive.
Clients are made once per credential (tenant) and kind: they share the HTTP session, and
their authentication policy asks the credential for a token once, not once per subscription.
A Resource Graph client (one per credential, i.e. per user) paces its queries by the user's quota;
the ARM clients pace each subscription's reads by ARM's documented bucket (auditor.input.collect.throttling).
"""

from __future__ import annotations

import threading
from typing import Any

from auditor.input.collect import raw
from auditor.input.collect.calls import Call, Sink
from auditor.input.collect.errors import MalformedResponse
from auditor.input.collect.policies import ReadBudgetPolicy, retry_policy
from auditor.input.collect.quota import QuotaPolicy
from auditor.input.collect.throttling import ReadBudget
from auditor.model.ids import resource_group_of, subscription_of

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
    "networkInterfaces": "build_network_interfaces_list_all_request",
}
# Types most subscriptions do not hold: their subscription-wide list is asked for only when the
# resource listing shows one (a request saved per type and subscription; NICs, numerous, are
# listed outright rather than paged through the resource listing too).
#: resource type -> (scope name, network request builder) for subscription-wide lists of types found
FOUND_LISTS = {
    "microsoft.network/applicationsecuritygroups": (
        "applicationSecurityGroups", "build_application_security_groups_list_all_request"),
    "microsoft.network/virtualwans": ("virtualWans", "build_virtual_wans_list_request"),
    "microsoft.network/virtualhubs": ("virtualHubs", "build_virtual_hubs_list_request"),
    "microsoft.network/networkmanagers": (
        "networkManagers", "build_network_managers_list_by_subscription_request"),
}
#: lists of a listed resource's children, by the resource's type: (scope name, network request builder)
CHILD_LISTS = {
    "microsoft.network/networkmanagers": (
        ("networkGroups", "build_network_groups_list_request"),
        ("connectivityConfigurations", "build_connectivity_configurations_list_request"),
        ("securityAdminConfigurations", "build_security_admin_configurations_list_request"),
    ),
    "microsoft.network/networkmanagers/networkgroups": (
        ("staticMembers", "build_static_members_list_request"),),
    "microsoft.network/networkmanagers/securityadminconfigurations": (
        ("ruleCollections", "build_admin_rule_collections_list_request"),),
    "microsoft.network/networkmanagers/securityadminconfigurations/rulecollections": (
        ("rules", "build_admin_rules_list_request"),),
}
# Connections and routing intent belong to Virtual WAN hubs, ip configurations to Route Servers
# (a virtualHubs resource of kind RouteServer, with no WAN): each hub is asked only for its own.
VIRTUAL_WAN_HUB_LISTS = (
    ("hubVirtualNetworkConnections", "build_hub_virtual_network_connections_list_request"),
    ("routingIntent", "build_routing_intent_list_request"),
)
ROUTE_SERVER_LISTS = (("ipConfigurations", "build_virtual_hub_ip_configuration_list_request"),)
#: the request builders' parameter for each name in a parent's id, by the type segment before it
PARENT_NAMES = {
    "virtualhubs": "virtual_hub_name", "networkmanagers": "network_manager_name",
    "networkgroups": "network_group_name", "securityadminconfigurations": "configuration_name",
    "rulecollections": "rule_collection_name",
}
_VIRTUAL_HUBS = "microsoft.network/virtualhubs"
_PROVIDER = "/providers/microsoft.network/"
TYPE_FILTER = " or ".join(f"resourceType eq '{t}'" for t in (
    "Microsoft.Network/virtualNetworkGateways", "Microsoft.Network/localNetworkGateways",
    "Microsoft.Network/connections", "Microsoft.Network/applicationSecurityGroups",
    "Microsoft.Network/virtualWans", "Microsoft.Network/virtualHubs", "Microsoft.Network/networkManagers"))
#: network clients bind a subscription, but raw requests carry theirs in the path: one client serves all
ANY_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


def network_request(builder: str, **kwargs: Any) -> Any:
    from azure.mgmt.network.operations import _operations

    return getattr(_operations, builder)(**kwargs)


class ArmClients:
    """Builds the SDK clients (cheap: they share the session); `shared()` keeps one per kind and credential.

    The ARM clients of one credential share its read budget (ARM's buckets are per principal and
    subscription, whichever client asks); the Resource Graph client paces by the user's query quota."""

    def __init__(self, cloud: Any, base_url: str | None, kwargs: dict):
        self.cloud, self.base_url, self.kwargs = cloud, base_url, kwargs
        self._shared: dict[tuple[str, int], tuple[Any, Any]] = {}
        self._budgets: dict[int, ReadBudget] = {}
        self._lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        """The ARM endpoint every client sends to: paging links may lead only here."""
        return self.base_url or self.cloud.resource_manager

    def _common(self, policy: Any) -> dict:
        return {"base_url": self.endpoint, "cloud_setting": self.cloud.setting,
                "credential_scopes": list(self.cloud.credential_scopes), "retry_policy": retry_policy(self.kwargs),
                **self.kwargs, "per_retry_policies": [*self.kwargs.get("per_retry_policies", []), policy]}

    def _arm(self, credential: Any) -> dict:
        return self._common(ReadBudgetPolicy(self._budgets.setdefault(id(credential), ReadBudget())))

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

        return NetworkManagementClient(credential, subscription_id, **self._arm(credential))

    def resources(self, credential: Any, subscription_id: str) -> Any:
        from azure.mgmt.resource.resources import ResourceManagementClient

        return ResourceManagementClient(credential, subscription_id, **self._arm(credential))

    def subscriptions(self, credential: Any) -> Any:
        from azure.mgmt.resource.subscriptions import SubscriptionClient

        return SubscriptionClient(credential, **self._arm(credential))

    def graph(self, credential: Any) -> Any:
        from azure.mgmt.resourcegraph import ResourceGraphClient

        return ResourceGraphClient(credential, **self._common(QuotaPolicy()))


def is_virtual_wan_hub(hub: dict) -> bool:
    """A Virtual WAN hub names its WAN; a Route Server (kind RouteServer) has none."""
    properties = hub.get("properties")
    wan = properties.get("virtualWan") if isinstance(properties, dict) else None
    route_server = str(hub.get("kind") or "").lower() == "routeserver"
    return isinstance(wan, dict) and bool(wan.get("id")) and not route_server


def child_lists(resource: dict) -> tuple[tuple[str, str], ...]:
    """The lists of a listed resource's children: (scope name, request builder)."""
    rtype = str(resource.get("type") or "").lower()
    if rtype == _VIRTUAL_HUBS:
        return VIRTUAL_WAN_HUB_LISTS if is_virtual_wan_hub(resource) else ROUTE_SERVER_LISTS
    return CHILD_LISTS.get(rtype, ())


def parent_arguments(parent_id: str) -> tuple[dict, str] | None:
    """The request builder's arguments naming a parent resource, and 'group/name[/child...]' to name
    the call by; None for an id that is not a network resource in a resource group."""
    at = parent_id.lower().find(_PROVIDER)
    rg = resource_group_of(parent_id)
    if at < 0 or not rg:
        return None
    segments = parent_id[at + len(_PROVIDER):].strip("/").split("/")
    kwargs = {"resource_group_name": rg}
    for kind, name in zip(segments[0::2], segments[1::2]):
        if kind.lower() not in PARENT_NAMES or not name:
            return None
        kwargs[PARENT_NAMES[kind.lower()]] = name
    return kwargs, "/".join([rg, *segments[1::2]])


class Lists:
    """List calls through one network client: each item goes to the sink as its page arrives, and a
    call's follow-ups list the children of the items it read (`only`: just these scope names)."""

    def __init__(self, clients: ArmClients, credential: Any, only: frozenset[str] | None = None):
        self.network = clients.shared("network", credential)
        self.endpoint = clients.endpoint
        self.only = only

    def call(self, scope: str, subscription_id: str, request: Any) -> Call:
        def run(sink: Sink) -> list[Call]:
            follow = []
            # each item reaches the sink as soon as its page arrives: a later failure loses nothing read
            for item in raw.pages(self.network, request, endpoint=self.endpoint):
                sink(item)
                follow += self.children(item, subscription_id)
            return follow

        return Call(scope, [subscription_id], run)

    def listing(self, scope: str, builder: str, subscription_id: str) -> Call:
        return self.call(scope, subscription_id, network_request(builder, subscription_id=subscription_id))

    def children(self, resource: dict, subscription_id: str) -> list[Call]:
        """One call per list of the resource's children (none for most resources)."""
        lists = [(scope, b) for scope, b in child_lists(resource) if self.only is None or scope in self.only]
        if not lists:
            return []
        rid = resource.get("id")
        sid = subscription_of(rid if isinstance(rid, str) else None) or subscription_id
        named = parent_arguments(rid) if isinstance(rid, str) else None
        if named is None:  # its children cannot be asked for: the coverage says so
            why = f"cannot list the children of {rid!r}: not a resource id"
            return [Call(f"{scope}:{rid}", [sid], _refuse(why)) for scope, _ in lists]
        kwargs, where = named
        return [self.call(f"{scope}:{where}", sid, network_request(builder, subscription_id=sid, **kwargs))
                for scope, builder in lists]


def _refuse(message: str) -> Any:
    def run(sink: Sink) -> None:
        raise MalformedResponse(message)

    return run


def subscription_calls(clients: ArmClients, credential: Any, subscription_id: str) -> list[Call]:
    """The independent list calls for one subscription (the resource listing leads to per-group calls and
    the lists of the types it shows, lists of hubs and network managers to lists of their children)."""
    sid = subscription_id
    lists = Lists(clients, credential)

    def typed_resources(sink: Sink) -> list[Call]:
        from azure.mgmt.resource.resources.operations._operations import (
            build_resources_list_request,
        )

        resources = clients.shared("resources", credential)
        api_version = resources._config.api_version
        groups: dict[tuple[str, str], str] = {}
        found: set[str] = set()
        request = build_resources_list_request(subscription_id=sid, filter=TYPE_FILTER, api_version=api_version)
        for resource in raw.pages(resources, request, endpoint=clients.endpoint, api_version=api_version):
            rtype = (resource.get("type") or "").lower()
            rg = resource_group_of(resource.get("id") or "")
            if rtype in PER_GROUP and rg:
                groups.setdefault((rtype, rg.lower()), rg)
            elif rtype in FOUND_LISTS:
                found.add(rtype)
        follow = [lists.listing(*FOUND_LISTS[rtype], sid) for rtype in sorted(found)]
        for (rtype, _), rg in sorted(groups.items()):
            scope, builder = PER_GROUP[rtype]
            request = network_request(builder, resource_group_name=rg, subscription_id=sid)
            follow.append(lists.call(f"{scope}:{rg}", sid, request))
        return follow

    return [*(lists.listing(scope, builder, sid) for scope, builder in SUBSCRIPTION_LISTS.items()),
            Call("resources", [sid], typed_resources)]


def read_calls(clients: ArmClients, credential: Any, subscription_ids: list[str],
               page_size: int | None = None) -> list[Call]:
    """Every subscription's calls (ARM lists take no page size: `page_size` is for Resource Graph)."""
    return [call for sid in subscription_ids for call in subscription_calls(clients, credential, sid)]
