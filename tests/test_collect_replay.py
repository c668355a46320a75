"""Replay the demo estate through the real SDK clients, for both sources."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from auditor.input.collect import CollectScope, collect
from auditor.input.collect import arm as arm_source
from auditor.input.collect.auth import StaticTokenCredential
from auditor.input.collect.cassettes import VCR_CONCURRENCY, replaying
from auditor.input.collect.generate import generate, scope_of
from auditor.input.collect.runner import demo_spec
from auditor.model.ids import norm_id
from auditor.model.snapshot import CoverageStatus

ROOT = Path(__file__).resolve().parent.parent
CASSETTES = ROOT / "cassettes"
API_EXAMPLES = Path(__file__).resolve().parent / "data" / "azure-api-examples"
SPEC = demo_spec()
IDS = {name: body["id"] for name, body in SPEC["subscriptions"].items()}
FAST = {"retry_backoff_factor": 0.01}


def unplayed(cassette) -> list[str]:
    """Recorded requests nobody asked for (subscription GETs are there for explicit scopes only)."""
    return [req.uri for n, (req, _) in enumerate(cassette.data)
            if not cassette.play_counts[n] and not re.search(r"/subscriptions/[0-9a-f-]+\?", req.uri)]


def replay(source: str, path: Path | None = None, scope: CollectScope | None = None, **kwargs):
    with replaying(path or CASSETTES / f"demo-{source}.yaml") as cassette:
        snapshot = collect(scope or scope_of(SPEC), StaticTokenCredential(), source=source, transport_kwargs=FAST,
                           concurrency=VCR_CONCURRENCY, **kwargs)
    return snapshot, cassette


@pytest.fixture(scope="module")
def arm():
    return replay("arm")


@pytest.fixture(scope="module")
def graph():
    return replay("graph")


def test_bundled_cassettes_match_the_demo_estate(tmp_path):
    """cassettes/demo-*.yaml are what the generator makes of auditor/demo/estate.yaml (regenerate after edits)."""
    for source, cassette in generate(SPEC).items():
        bundled = yaml.safe_load((CASSETTES / f"demo-{source}.yaml").read_text(encoding="utf-8"))
        assert bundled["interactions"] == cassette.interactions, f"regenerate cassettes/demo-{source}.yaml"


@pytest.mark.parametrize("source", ["arm", "graph"])
def test_demo_replay_reads_every_resource(source, arm, graph):
    snapshot, cassette = {"arm": arm, "graph": graph}[source]
    assert snapshot.metadata.source == source
    vnets = {v.name: v for v in snapshot.virtual_networks}
    assert len(vnets) == len(SPEC["vnets"])
    hub = vnets["vnet-hub"]
    assert hub.address_prefixes == ["10.0.0.0/16"]
    assert {s.name for s in hub.subnets} == {"GatewaySubnet", "AzureFirewallSubnet", "snet-nva", "snet-mgmt", "RouteServerSubnet"}
    to_app = next(p for p in hub.peerings if p.name == "vnet-hub-to-vnet-spoke-app")
    assert (to_app.peering_state, to_app.allow_gateway_transit, to_app.allow_forwarded_traffic) == ("Connected", True, True)
    data_to_hub = vnets["vnet-spoke-data"].peerings[0]
    assert data_to_hub.allow_forwarded_traffic is False and data_to_hub.use_remote_gateways is False
    assert {g.name: g.gateway_type for g in snapshot.virtual_network_gateways} == {"vgw-hub": "Vpn", "ergw-dr": "ExpressRoute"}
    assert norm_id(snapshot.virtual_network_gateways[0].virtual_network_id or "") in {norm_id(v.id) for v in vnets.values()}
    assert [c.name for c in snapshot.connections] == ["cn-hub-datacenter"]
    assert snapshot.local_network_gateways[0].address_prefixes == ["192.168.0.0/16", "172.16.0.0/16"]
    rt_app = next(t for t in snapshot.route_tables if t.name == "rt-app")
    assert {r.name: r.next_hop_type for r in rt_app.routes}["drop-hub-mgmt"] == "None"
    assert [s.name for s in vnets["vnet-spoke-app"].subnets] == ["snet-web"]
    assert vnets["vnet-spoke-app"].subnets[0].route_table_id.lower().endswith("/routetables/rt-app")
    nsg_app = next(n for n in snapshot.network_security_groups if n.name == "nsg-app")
    assert len(nsg_app.default_security_rules) == 6 and nsg_app.security_rules[0].name == "deny-hub"


@pytest.mark.parametrize("source", ["arm", "graph"])
def test_demo_coverage_two_tenants_and_one_forbidden_subscription(source, arm, graph):
    snapshot, _ = {"arm": arm, "graph": graph}[source]
    subs = {s.subscription_id: s for s in snapshot.subscriptions}
    assert set(subs) == set(IDS.values())
    for name in ("connectivity", "prod", "dev", "partner"):
        assert subs[IDS[name]].status == CoverageStatus.complete and subs[IDS[name]].errors == []
    legacy = subs[IDS["legacy"]]
    assert legacy.status == CoverageStatus.failed
    assert {e.code for e in legacy.errors} == {"AuthorizationFailed"}
    assert "subscription" in {e.scope for e in legacy.errors}
    if source == "arm":
        assert {e.scope for e in legacy.errors} == {"subscription", "resources", *arm_source.SUBSCRIPTION_LISTS}
    tenants = {t.tenant_id: t.display_name for t in snapshot.tenants}
    assert tenants == {SPEC["tenants"]["contoso"]["id"]: "Contoso", SPEC["tenants"]["fabrikam"]["id"]: "Fabrikam"}
    assert subs[IDS["partner"]].tenant_id == SPEC["tenants"]["fabrikam"]["id"]
    assert subs[IDS["prod"]].display_name == "Contoso Production"


def _comparable(snapshot) -> dict:
    doc = json.loads(snapshot.to_json())
    doc.pop("metadata")
    for sub in doc["subscriptions"]:
        sub["errors"] = sorted({e["code"] for e in sub["errors"]})  # which calls failed differs by source
    return doc


def test_arm_and_graph_give_the_same_snapshot(arm, graph):
    assert _comparable(arm[0]) == _comparable(graph[0])


def test_same_snapshot_as_the_synthetic_estate(arm):
    from auditor.input.synthetic import snapshot_from_spec

    expected, got = _comparable(snapshot_from_spec(SPEC)), _comparable(arm[0])
    for key in ("virtual_networks", "network_security_groups", "route_tables", "virtual_network_gateways",
                "local_network_gateways", "connections", "network_interfaces", "application_security_groups",
                "virtual_wans", "virtual_hubs", "network_managers"):
        assert got[key] == expected[key], key
        assert got[key], f"the demo estate has no {key}"  # not vacuous
    assert [(s["subscription_id"], s["status"]) for s in got["subscriptions"]] == [
        (s["subscription_id"], s["status"]) for s in expected["subscriptions"]]


@pytest.mark.parametrize("source", ["arm", "graph"])
def test_paging_follows_next_links_and_skip_tokens(source, tmp_path):
    cassettes = generate(SPEC, page_size=2)
    path = cassettes[source].write(tmp_path / f"{source}.yaml")
    pages = [i for i in cassettes[source].interactions if "skiptoken" in unquote(i["request"]["uri"]).lower() or '"$skipToken"' in (i["request"]["body"] or "")]
    assert len(pages) >= 5
    snapshot, cassette = replay(source, path)
    assert len(snapshot.virtual_networks) == len(SPEC["vnets"])
    assert len(snapshot.network_managers[0].security_admin_configurations[0].rule_collections[0].rules) == 2
    hub_connections = sum(len(hub["connections"]) for hub in SPEC["virtual_hubs"].values())  # each a spoke-side peering
    assert sum(len(v.peerings) for v in snapshot.virtual_networks) == len(SPEC["peerings"]) + hub_connections
    assert unplayed(cassette) == []  # every page, and nothing else, was asked for


def test_generated_bodies_are_shaped_like_the_official_examples():
    arm_cassette = generate(SPEC)["arm"]
    graph_cassette = generate(SPEC)["graph"]

    def example(path):
        return json.loads((API_EXAMPLES / path).read_text(encoding="utf-8"))["responses"]["200"]["body"]

    def body(cassette, needle, method="GET"):
        for i in cassette.interactions:
            if i["request"]["method"] == method and needle in i["request"]["uri"] and i["response"]["status"]["code"] == 200:
                doc = json.loads(i["response"]["body"]["string"])
                if doc.get("value") or doc.get("data"):
                    return doc
        raise AssertionError(needle)

    for needle, ex in (("/providers/Microsoft.Network/virtualNetworks", "network/VirtualNetworkListAll.json"),
                       ("/providers/Microsoft.Network/networkSecurityGroups", "network/NetworkSecurityGroupListAll.json"),
                       ("/providers/Microsoft.Network/routeTables", "network/RouteTableListAll.json"),
                       ("/subscriptions?", "subscriptions/GetSubscriptions.json")):
        ours, theirs = body(arm_cassette, needle), example(ex)
        assert set(ours) <= set(theirs) | {"nextLink"}
        item, ref = ours["value"][0], theirs["value"][0]
        assert set(item) - {"etag", "tags"} <= set(ref), needle
        if "properties" in ref:
            assert set(item["properties"]) & set(ref["properties"]), needle
    graph_page = body(graph_cassette, "/providers/Microsoft.ResourceGraph/resources", "POST")
    assert set(graph_page) - {"$skipToken"} == set(example("resourcegraph/ResourcesBasicQuery.json")) - {"$skipToken"}
    assert graph_page["resultTruncated"] == "false" and graph_page["count"] == len(graph_page["data"])


NEW_LISTS = {  # request path ending -> Azure's example of the answer (1.1 types)
    "/providers/Microsoft.Network/networkInterfaces": "NetworkInterfaceList.json",
    "/providers/Microsoft.Network/applicationSecurityGroups": "ApplicationSecurityGroupListAll.json",
    "/providers/Microsoft.Network/virtualWans": "VirtualWANList.json",
    "/providers/Microsoft.Network/virtualHubs": "VirtualHubList.json",
    "/hubVirtualNetworkConnections": "HubVirtualNetworkConnectionList.json",
    "/ipConfigurations": "VirtualHubIpConfigurationList.json",
    "/routingIntent": "RoutingIntentGet.json",
    "/providers/Microsoft.Network/networkManagers": "NetworkManagerList.json",
    "/networkGroups": "NetworkManagerGroupList.json",
    "/staticMembers": "NetworkManagerStaticMemberList.json",
    "/connectivityConfigurations": "NetworkManagerConnectivityConfigurationList.json",
    "/securityAdminConfigurations": "NetworkManagerSecurityAdminConfigurationList.json",
    "/ruleCollections": "NetworkManagerAdminRuleCollectionList.json",
    "/rules": "NetworkManagerAdminRuleList.json",
}


def test_generated_lists_of_the_new_types_are_shaped_like_the_official_examples():
    """Every new list is answered {"value": [...]} with items shaped like Azure's examples (some examples
    show one item, RoutingIntentGet, or a bare array, HubVirtualNetworkConnectionList: their items are compared)."""
    seen = set()
    for i in generate(SPEC)["arm"].interactions:
        path = urlsplit(i["request"]["uri"]).path
        ending = next((e for e in NEW_LISTS if path.endswith(e)), None)
        doc = json.loads(i["response"]["body"]["string"])
        if ending is None or i["response"]["status"]["code"] != 200 or not doc["value"]:
            continue
        example = json.loads((API_EXAMPLES / "network" / NEW_LISTS[ending]).read_text(encoding="utf-8"))
        theirs = example["responses"]["200"]["body"]
        ref = theirs[0] if isinstance(theirs, list) else theirs["value"][0] if "value" in theirs else theirs
        assert set(doc) <= {"value", "nextLink"}, ending
        for item in doc["value"]:
            assert set(item) - {"etag", "tags", "type", "location", "kind"} <= set(ref), (ending, item["id"])
            assert set(item["properties"]) & set(ref["properties"]), (ending, item["id"])
        seen.add(ending)
    assert seen == set(NEW_LISTS)  # the demo answers every one of them with items


CATALOGUE = ["PEER001", "PEER002", "PEER003", "PEER004", "PEER005", "TRANS001", "TRANS002", "TRANS003", "OVLP001", "OVLP002",
             "OVLP003", "OVLP004", "NSG001", "NSG003", "GW001", "GW002", "GW003", "GW004", "ROUTE001", "ROUTE002", "ROUTE003"]


@pytest.mark.parametrize("source", ["arm", "graph"])
def test_the_demo_has_a_positive_case_of_every_rule(source, arm, graph):
    from auditor.engine import discover_rules, evaluate

    snapshot, _ = {"arm": arm, "graph": graph}[source]
    result = evaluate(snapshot, discover_rules())
    assert result.errors == []
    fired = {f.rule_id: f for f in result.findings}
    assert [r for r in CATALOGUE if r not in fired] == []
    assert fired["PEER005"].resource_name in {"vnet-hub-to-vnet-legacy", "vnet-partner-shared-to-vnet-vendor"}
    assert fired["GW004"].resource_name == "vnet-dr-hub-to-vnet-hub"
    assert fired["NSG001"].resource_name == "deny-hub"
