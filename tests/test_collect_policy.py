"""Read-only by construction: the SDK clients vnet-audit builds refuse every write."""

from __future__ import annotations

import pytest
from azure.core.pipeline.transport import HttpTransport

from auditor.input.collect.arm import ArmClients
from auditor.input.collect.auth import StaticTokenCredential, cloud
from auditor.input.collect.policies import ReadOnlyViolation, client_kwargs

SUB = "00000000-0000-0000-0000-0000000000aa"


class Reached(RuntimeError):
    """The request got past every policy to the wire."""


class Wire(HttpTransport):
    def __init__(self):
        self.sent = []

    def send(self, request, **kwargs):
        self.sent.append((request.method, request.url))
        raise Reached(request.method)

    def open(self):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *args):
        pass


@pytest.fixture
def clients():
    wire = Wire()
    return ArmClients(cloud("AzureCloud"), None, client_kwargs({"transport": wire, "retry_total": 0})), wire


def test_writes_are_refused_before_the_wire(clients):
    arm, wire = clients
    network = arm.network(StaticTokenCredential(), SUB)
    writes = {
        "PUT": lambda: network.virtual_networks.begin_create_or_update("rg", "vnet", {"location": "westeurope"}),
        "DELETE": lambda: network.virtual_networks.begin_delete("rg", "vnet"),
        "PATCH": lambda: network.virtual_networks.update_tags("rg", "vnet", {"tags": {"a": "b"}}),
        "POST": lambda: network.virtual_network_gateways.begin_reset("rg", "gw"),
    }
    for method, call in writes.items():
        with pytest.raises(ReadOnlyViolation, match=f"refused {method} /subscriptions/{SUB}/resourceGroups/rg/"):
            call()
    with pytest.raises(ReadOnlyViolation, match="refused POST .*/providers/Microsoft.Network/register"):
        arm.resources(StaticTokenCredential(), SUB).providers.register("Microsoft.Network")
    assert wire.sent == []


def test_reads_and_resource_graph_queries_pass(clients):
    from azure.mgmt.resourcegraph.models import QueryRequest

    arm, wire = clients
    with pytest.raises(Reached):
        list(arm.network(StaticTokenCredential(), SUB).virtual_networks.list_all())
    with pytest.raises(Reached):
        arm.graph(StaticTokenCredential()).resources(QueryRequest(subscriptions=[SUB], query="Resources | take 1"))
    with pytest.raises(Reached):
        list(arm.subscriptions(StaticTokenCredential()).subscriptions.list())
    assert [m for m, _ in wire.sent] == ["GET", "POST", "GET"]
    assert wire.sent[1][1].startswith("https://management.azure.com/providers/Microsoft.ResourceGraph/resources?")


def test_every_list_the_arm_source_makes_is_a_get_that_passes_the_guard(clients):
    from auditor.input.collect import arm as source

    arm, wire = clients
    credential = StaticTokenCredential()
    net = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network"
    parents = [  # one of each resource whose children are listed
        {"id": f"{net}/virtualHubs/vhub", "type": "Microsoft.Network/virtualHubs",
         "properties": {"virtualWan": {"id": "w"}}},
        {"id": f"{net}/virtualHubs/rs", "type": "Microsoft.Network/virtualHubs", "kind": "RouteServer",
         "properties": {}},
        {"id": f"{net}/networkManagers/m", "type": "Microsoft.Network/networkManagers"},
        {"id": f"{net}/networkManagers/m/networkGroups/g",
         "type": "Microsoft.Network/networkManagers/networkGroups"},
        {"id": f"{net}/networkManagers/m/securityAdminConfigurations/c",
         "type": "Microsoft.Network/networkManagers/securityAdminConfigurations"},
        {"id": f"{net}/networkManagers/m/securityAdminConfigurations/c/ruleCollections/r",
         "type": "Microsoft.Network/networkManagers/securityAdminConfigurations/ruleCollections"},
    ]
    lists = source.Lists(arm, credential)
    calls = (source.subscription_calls(arm, credential, SUB)
             + [lists.listing(scope, builder, SUB) for scope, builder in source.FOUND_LISTS.values()]
             + [c for p in parents for c in lists.children(p, SUB)])
    for call in calls:
        with pytest.raises(Reached):
            call.run(lambda item: None)
    expected = (len(source.SUBSCRIPTION_LISTS) + 1 + len(source.FOUND_LISTS)
                + sum(len(source.child_lists(p)) for p in parents))
    assert len(wire.sent) == len(calls) == expected == 18
    assert {m for m, _ in wire.sent} == {"GET"}
    children = sorted(url.split("?")[0].rsplit("/", 1)[-1] for _, url in wire.sent if "/resourceGroups/" in url)
    assert children == sorted(["hubVirtualNetworkConnections", "routingIntent", "ipConfigurations", "networkGroups",
                               "connectivityConfigurations", "securityAdminConfigurations", "staticMembers",
                               "ruleCollections", "rules"])


def test_guard_sits_after_the_retry_policy_so_every_attempt_is_checked():
    from azure.core.pipeline.policies import RetryPolicy

    from auditor.input.collect.policies import ReadOnlyPolicy

    wire = Wire()
    network = ArmClients(cloud("AzureCloud"), None, client_kwargs({"transport": wire})).network(StaticTokenCredential(), SUB)
    names = [type(getattr(p, "_policy", p)).__name__ for p in network._client._pipeline._impl_policies]
    assert names.index(ReadOnlyPolicy.__name__) == names.index(next(n for n in names if "Retry" in n)) + 1
    assert any(isinstance(getattr(p, "_policy", p), RetryPolicy) for p in network._client._pipeline._impl_policies)


def test_clouds_come_from_the_sdk():
    gov = cloud("AzureUSGovernment")
    assert gov.resource_manager == "https://management.usgovcloudapi.net/"
    assert gov.credential_scopes == ("https://management.core.usgovcloudapi.net/.default",)
    assert gov.authority == "login.microsoftonline.us"
    assert cloud("azurechinacloud").resource_manager == "https://management.chinacloudapi.cn/"
    wire = Wire()
    network = ArmClients(gov, None, client_kwargs({"transport": wire, "retry_total": 0})).network(StaticTokenCredential(), SUB)
    with pytest.raises(Reached):
        list(network.route_tables.list_all())
    assert wire.sent[0][1].startswith(f"https://management.usgovcloudapi.net/subscriptions/{SUB}/providers/Microsoft.Network/routeTables?")
    from auditor.errors import InputError

    with pytest.raises(InputError, match="unknown cloud 'AzureGermanCloud'"):
        cloud("AzureGermanCloud")


def _policies(client) -> list:
    return [getattr(p, "_policy", p) for p in client._client._pipeline._impl_policies]


def test_a_retry_after_is_waited_for_but_never_unbounded():
    from azure.core.pipeline import PipelineResponse
    from azure.core.rest import HttpRequest

    from auditor.input.collect.policies import RETRY_AFTER_MAX, BoundedRetryPolicy

    class Answer:
        def __init__(self, retry_after):
            self.headers = {"Retry-After": retry_after}

    arm = ArmClients(cloud("AzureCloud"), None, client_kwargs({"transport": Wire()}))
    network = arm.network(StaticTokenCredential(), SUB)
    assert any(isinstance(p, BoundedRetryPolicy) for p in _policies(network))
    retry = BoundedRetryPolicy(**client_kwargs())
    answer = lambda value: PipelineResponse(HttpRequest("GET", "https://x"), Answer(value), None)
    assert retry.get_retry_after(answer("7")) == 7
    assert retry.get_retry_after(answer("86400")) == RETRY_AFTER_MAX


def test_each_identity_has_its_own_resource_graph_quota():
    from auditor.input.collect.quota import QuotaPolicy

    arm = ArmClients(cloud("AzureCloud"), None, client_kwargs({"transport": Wire()}))
    first, second = (arm.graph(StaticTokenCredential()) for _ in range(2))
    quotas = [[p for p in _policies(client) if isinstance(p, QuotaPolicy)] for client in (first, second)]
    assert [len(q) for q in quotas] == [1, 1] and quotas[0][0].quota is not quotas[1][0].quota
    names = [type(p).__name__ for p in _policies(first)]
    assert names.index("QuotaPolicy") > names.index("BoundedRetryPolicy")  # a retry waits for the quota too
    assert not any(isinstance(p, QuotaPolicy) for p in _policies(arm.network(StaticTokenCredential(), SUB)))
