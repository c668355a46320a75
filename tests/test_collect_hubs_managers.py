"""Virtual WAN hubs, Route Servers, network managers, NICs and ASGs through the real collector and SDK
clients, against the loopback fake ARM: what each source reads, and what a failed child list costs."""

from __future__ import annotations

import pytest
import yaml

from auditor.input.collect import CollectScope, collect
from auditor.input.collect.auth import StaticTokenCredential
from auditor.input.synthetic import guid, snapshot_from_spec
from auditor.model.ids import subscription_of
from auditor.model.snapshot import CoverageStatus, to_builtins
from fakes.fakearm import FakeArm, Fault

SPEC = yaml.safe_load("""
subscriptions: {conn: {name: Connectivity}, prod: {name: Production}}
vnets:
  hub: {subscription: conn, address_space: 10.0.0.0/16,
        subnets: {GatewaySubnet: 10.0.255.0/27, RouteServerSubnet: 10.0.254.0/27}}
  spoke1: {subscription: prod, address_space: 10.1.0.0/16, subnets: {app: 10.1.1.0/24}}
  spoke2: {subscription: prod, address_space: 10.2.0.0/16, subnets: {app: 10.2.1.0/24}}
  spoke3: {subscription: prod, address_space: 10.3.0.0/16, subnets: {app: 10.3.1.0/24}}
asgs: {asg-web: {subscription: prod}}
nics: {vm1-nic: {subscription: prod, vnet: spoke1, subnet: app, ip: 10.1.1.4, nsg: nsg-vm1, asgs: [asg-web]}}
nsgs: {nsg-vm1: {subscription: prod, rules: [{name: rdp, priority: 100, source: Internet, ports: "3389"}]}}
virtual_wans: {vwan: {subscription: conn}}
virtual_hubs:
  vhub-we: {subscription: conn, virtual_wan: vwan, address_prefix: 10.100.0.0/23, firewall: true,
            routing_intent: [PrivateTraffic], connections: {spoke2: {}, spoke3: {internet_security: true}}}
route_servers: {rs-hub: {vnet: hub}}
network_managers:
  avnm:
    subscription: conn
    groups: {ng-mesh: {members: [spoke1, spoke2]}, ng-all: {members: [spoke1, spoke2, spoke3]}}
    connectivity: {cc-mesh: {topology: Mesh, groups: [ng-mesh]}}
    security_admin:
      sac: {collections: {rc: {groups: [ng-all], rules: [
        {name: deny-ssh, priority: 10, access: Deny, protocol: Tcp, source: Internet, ports: "22"},
        {name: allow-mgmt, priority: 5, access: AlwaysAllow, source: 10.0.0.0/16}]}}}
""")
CONN, PROD = guid("subscription", "conn"), guid("subscription", "prod")
KINDS = ("virtual_networks", "network_security_groups", "network_interfaces", "application_security_groups",
         "virtual_wans", "virtual_hubs", "network_managers")
EXPECTED = snapshot_from_spec(SPEC)
FAST = {"retry_total": 2, "retry_backoff_factor": 0.01, "retry_backoff_max": 0.05, "read_timeout": 5}
HUB_CONNECTIONS = "virtualHubs/vhub-we/hubVirtualNetworkConnections$"


@pytest.fixture
def fake():
    with FakeArm(SPEC, page_size=2) as server:  # two hub connections, three static members: more than one page
        yield server


def run(server: FakeArm, source: str = "arm", **transport):
    transport = {"connection_verify": server.ca_file, **FAST, **transport}
    return collect(CollectScope(all_subscriptions=True), StaticTokenCredential(), source=source, concurrency=8,
                   base_url_override=server.base_url, transport_kwargs=transport)


def resources(snapshot, sid: str | None = None) -> dict[str, list[dict]]:
    def wanted(resource) -> bool:
        return sid is None or subscription_of(resource.id) == sid

    return {kind: [to_builtins(r) for r in getattr(snapshot, kind) if wanted(r)] for kind in KINDS}


def coverage(snapshot) -> dict:
    return {s.subscription_id: s for s in snapshot.subscriptions}


def without(data: dict[str, list[dict]], kind: str, field: str) -> dict[str, list[dict]]:
    """`data` with `field` emptied on every resource of `kind` (what a failed child list leaves)."""
    return {**data, kind: [{**r, field: []} for r in data[kind]]}


@pytest.mark.parametrize("source", ["arm", "graph"])
def test_both_sources_read_the_new_types_as_the_estate_describes_them(fake, source):
    snapshot = run(fake, source)
    assert resources(snapshot) == resources(EXPECTED)
    assert all(s.status == CoverageStatus.complete and not s.errors for s in snapshot.subscriptions)
    hubs = {h.name: h for h in snapshot.virtual_hubs}  # not vacuous: every child list arrived
    assert len(hubs["vhub-we"].virtual_network_connections) == 2 and hubs["vhub-we"].routing_intents
    assert hubs["rs-hub"].is_route_server and hubs["rs-hub"].route_server_vnet_id.endswith("/hub")
    sac = snapshot.network_managers[0].security_admin_configurations[0]
    assert {r.access for r in sac.rule_collections[0].rules} == {"Deny", "AlwaysAllow"}
    assert sorted(len(g.static_members) for g in snapshot.network_managers[0].network_groups) == [2, 3]


def test_every_request_of_either_source_is_a_read(fake):
    run(fake, "arm")
    run(fake, "graph")
    methods = {(r.method, "ResourceGraph" in r.path) for r in fake.requests}
    assert methods == {("GET", False), ("POST", True)}
    assert fake.requests_for("networkManagers/avnm/securityAdminConfigurations/sac/ruleCollections/rc/rules$")


def test_403_on_network_managers_marks_the_subscription_partial_and_keeps_the_rest(fake):
    fake.add_fault(Fault("status", status=403, subscription=CONN, path="Microsoft.Network/networkManagers$"))
    snapshot = run(fake)
    conn = coverage(snapshot)[CONN]
    assert conn.status == CoverageStatus.partial
    assert [(e.scope, e.code) for e in conn.errors] == [("networkManagers", "AuthorizationFailed")]
    assert snapshot.network_managers == []
    assert {k: v for k, v in resources(snapshot).items() if k != "network_managers"} == \
        {k: v for k, v in resources(EXPECTED).items() if k != "network_managers"}
    assert fake.requests_for("networkGroups") == []  # nothing listed, nothing to follow
    assert coverage(snapshot)[PROD].status == CoverageStatus.complete


@pytest.mark.parametrize("source", ["arm", "graph"])
def test_403_on_a_hubs_connections_names_the_call_and_keeps_the_rest(fake, source):
    fake.add_fault(Fault("status", status=403, path=HUB_CONNECTIONS))
    snapshot = run(fake, source)
    conn = coverage(snapshot)[CONN]
    assert conn.status == CoverageStatus.partial
    assert [(e.scope, e.code) for e in conn.errors] == [
        ("hubVirtualNetworkConnections:rg-network/vhub-we", "AuthorizationFailed")]
    assert resources(snapshot) == without(resources(EXPECTED), "virtual_hubs", "virtual_network_connections")
    hub = next(h for h in snapshot.virtual_hubs if h.name == "vhub-we")
    assert hub.virtual_network_connections == [] and hub.routing_intents  # its routing intent still read
    assert coverage(snapshot)[PROD].status == CoverageStatus.complete


def test_a_graph_scan_reads_hub_connections_and_routing_intent_through_arm(fake):
    snapshot = run(fake, "graph")
    arm_reads = sorted((r.method, r.path.rsplit("/", 1)[-1]) for r in fake.requests
                       if "ResourceGraph" not in r.path and r.path not in ("/subscriptions", "/tenants"))
    assert arm_reads == [("GET", "hubVirtualNetworkConnections"), ("GET", "routingIntent")]  # nothing else
    hub = next(h for h in snapshot.virtual_hubs if h.name == "vhub-we")
    assert {c.name for c in hub.virtual_network_connections} == {"vhub-we-to-spoke2", "vhub-we-to-spoke3"}
    assert [p.name for p in hub.routing_intents] == ["vhub-we-intent"]


def test_graph_asks_networkresources_only_for_subscriptions_with_a_network_manager(fake):
    run(fake, "graph")
    managed = [r for r in fake.requests if "ResourceGraph" in r.path and r.subscription == CONN]
    assert managed, "the networkresources query goes to the one subscription with a network manager"
    spec = {**SPEC, "network_managers": {}}
    with FakeArm(spec, page_size=2) as server:
        run(server, "graph")
        queries = [r for r in server.requests if "ResourceGraph" in r.path]
        assert queries and all(r.subscription == ",".join(sorted([CONN, PROD])) for r in queries)


def test_a_failed_rule_list_keeps_the_configuration_and_the_other_lists(fake):
    fake.add_fault(Fault("status", status=500, path="ruleCollections/rc/rules$"))
    snapshot = run(fake)
    conn = coverage(snapshot)[CONN]
    assert conn.status == CoverageStatus.partial
    assert [(e.scope, e.code) for e in conn.errors] == [("rules:rg-network/avnm/sac/rc", "InternalServerError")]
    manager = snapshot.network_managers[0]
    assert [c.name for c in manager.security_admin_configurations[0].rule_collections] == ["rc"]
    assert manager.security_admin_configurations[0].rule_collections[0].rules == []
    assert len(manager.network_groups) == 2 and manager.connectivity_configurations


def test_throttled_child_list_is_retried_and_complete(fake):
    fake.add_fault(Fault("status", status=429, retry_after=0.2, times=1, path="ng-all/staticMembers$"))
    snapshot = run(fake)
    assert all(s.status == CoverageStatus.complete and not s.errors for s in snapshot.subscriptions)
    assert resources(snapshot) == resources(EXPECTED)
    assert [r.status for r in fake.requests_for("ng-all/staticMembers$")][:2] == [429, 200]


def test_a_managers_lists_run_in_parallel():
    with FakeArm(SPEC, page_size=50, latency=0.3) as server:
        run(server)
        ends = ("/networkGroups", "/connectivityConfigurations", "/securityAdminConfigurations")
        children = [r for r in server.requests if r.path.endswith(ends)]
    assert len(children) == 3
    assert max(r.start for r in children) < min(r.end for r in children)  # all three in flight at once


def test_lists_of_types_a_subscription_does_not_hold_are_not_asked_for(fake):
    run(fake)

    def listed(sid: str) -> set[str]:
        lists = f"/subscriptions/{sid}/providers/microsoft.network/"
        return {r.path.rsplit("/", 1)[-1] for r in fake.requests if r.path.lower().startswith(lists)}

    assert listed(CONN) >= {"virtualWans", "virtualHubs", "networkManagers"}
    assert "applicationSecurityGroups" in listed(PROD)  # prod holds asg-web
    assert not listed(PROD) & {"virtualWans", "virtualHubs", "networkManagers"}
    assert "applicationSecurityGroups" not in listed(CONN)


def test_a_failed_resource_listing_is_the_call_named_for_the_types_it_would_have_shown(fake):
    fake.add_fault(Fault("status", status=403, subscription=CONN, path="/resources$"))
    snapshot = run(fake)
    conn = coverage(snapshot)[CONN]
    assert conn.status == CoverageStatus.partial
    assert [(e.scope, e.code) for e in conn.errors] == [("resources", "AuthorizationFailed")]
    assert snapshot.virtual_hubs == snapshot.virtual_wans == snapshot.network_managers == []
    assert resources(snapshot, CONN)["virtual_networks"] == resources(EXPECTED, CONN)["virtual_networks"]
    assert resources(snapshot, PROD) == resources(EXPECTED, PROD)
