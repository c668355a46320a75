"""Throttling, errors and unreadable scopes: what lands in the snapshot and its coverage."""

from __future__ import annotations

import json
import re
from urllib.parse import unquote

import pytest
import yaml

from auditor.engine import discover_rules, evaluate, select_rules
from auditor.input.collect import CollectScope, collect
from auditor.input.collect.auth import StaticTokenCredential
from auditor.input.collect.cassettes import VCR_CONCURRENCY, replaying
from auditor.input.collect.generate import (
    Cassette,
    error_body,
    forbidden_body,
    generate,
    scope_of,
)
from auditor.input.synthetic import guid
from auditor.model.snapshot import CoverageStatus

SPEC = yaml.safe_load("""
tenants: {contoso: {}, fabrikam: {}}
subscriptions:
  hub: {tenant: contoso, name: Hub}
  spoke: {tenant: contoso, name: Spoke}
  partner: {tenant: fabrikam, name: Partner}
vnets:
  hub: {subscription: hub, address_space: [10.0.0.0/16], subnets: {GatewaySubnet: 10.0.255.0/27}, gateway: {type: Vpn}}
  spoke1: {subscription: spoke, address_space: [10.1.0.0/16], subnets: {app: {prefix: 10.1.0.0/24, nsg: nsg-app, route_table: rt-app}}}
  spoke2: {subscription: spoke, address_space: [10.2.0.0/16]}
  partner: {subscription: partner, address_space: [172.20.0.0/16]}
peerings:
  - {from: hub, to: spoke1, allow_gateway_transit: true}
  - {from: spoke1, to: hub, use_remote_gateways: true}
  - {from: hub, to: partner}
  - {from: partner, to: hub}
  - {from: partner, to_id: /subscriptions/9b1c2d3e-8f4a-4c5d-9e6f-7a8b9c0d1e2f/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vendor, remote_prefixes: [172.31.0.0/16]}
nsgs: {nsg-app: {subscription: spoke, rules: [{name: https, priority: 100, ports: "443"}]}}
route_tables: {rt-app: {subscription: spoke, routes: [{name: default, prefix: 0.0.0.0/0, next_hop: VirtualAppliance, ip: 10.0.1.4}]}}
local_gateways: {onprem: {subscription: hub, prefixes: [192.168.0.0/16]}}
connections: {hub-onprem: {subscription: hub, gateway: hub, local_gateway: onprem}}
""")
HUB, SPOKE, PARTNER = (guid("subscription", n) for n in ("hub", "spoke", "partner"))
FAST = {"retry_backoff_factor": 0.001, "retry_backoff_max": 0.01, "retry_total": 2}


def unplayed(cassette) -> list[str]:
    """Recorded requests nobody asked for (subscription GETs are there for explicit scopes only)."""
    return [req.uri for n, (req, _) in enumerate(cassette.data)
            if not cassette.play_counts[n] and not re.search(r"/subscriptions/[0-9a-f-]+\?", req.uri)]


def inject(cassette: Cassette, path_end: str, status: int, times: int, headers: dict | None = None, sub: str | None = None) -> None:
    """Answer the first request for a path `times` times with `status` before the recorded answer."""
    index = next(n for n, i in enumerate(cassette.interactions)
                 if unquote(i["request"]["uri"]).split("?")[0].endswith(path_end) and (sub is None or sub in i["request"]["uri"]))
    url = cassette.interactions[index]["request"]["uri"]
    body = forbidden_body(sub or "x") if status == 403 else error_body(status)
    for _ in range(times):
        cassette.add("GET", url, status, body, headers, index=index)


def run(tmp_path, cassette: Cassette, source="arm", scope: CollectScope | None = None, credential=None, **kwargs):
    path = cassette.write(tmp_path / "c.yaml")
    with replaying(path) as played:
        snapshot = collect(scope or scope_of(SPEC), credential or StaticTokenCredential(), source=source,
                           transport_kwargs={**FAST, **kwargs}, concurrency=VCR_CONCURRENCY)
    return snapshot, played


def subs(snapshot):
    return {s.subscription_id: s for s in snapshot.subscriptions}


def test_429_with_retry_after_then_success(tmp_path, monkeypatch):
    from azure.core.pipeline.transport import RequestsTransport

    slept: list[float] = []
    monkeypatch.setattr(RequestsTransport, "sleep", lambda self, seconds: slept.append(seconds))
    cassette = generate(SPEC)["arm"]
    inject(cassette, "/providers/Microsoft.Network/virtualNetworks", 429, 1,
           {"Retry-After": "7", "x-ms-ratelimit-remaining-subscription-reads": "0"}, sub=SPOKE)
    snapshot, played = run(tmp_path, cassette)
    assert unplayed(played) == []  # the 429 and then the 200 were both asked for
    assert slept == [7.0]  # azure-core waited exactly what Retry-After said
    assert subs(snapshot)[SPOKE].status == CoverageStatus.complete and subs(snapshot)[SPOKE].errors == []
    assert {v.name for v in snapshot.virtual_networks} == {"hub", "spoke1", "spoke2", "partner"}


def test_403_on_one_subscription_while_others_succeed(tmp_path):
    cassette = generate(SPEC)["arm"]
    kinds = ("virtualNetworks", "networkSecurityGroups", "routeTables")
    for kind in kinds:
        inject(cassette, f"/providers/Microsoft.Network/{kind}", 403, 1, sub=SPOKE)
    cassette.interactions = [i for i in cassette.interactions  # the 403s replace the recorded answers
                             if not (SPOKE in i["request"]["uri"] and i["response"]["status"]["code"] == 200
                                     and any(f"/providers/Microsoft.Network/{k}?" in i["request"]["uri"] for k in kinds))]
    snapshot, _ = run(tmp_path, cassette)
    spoke = subs(snapshot)[SPOKE]
    assert spoke.status == CoverageStatus.partial  # its resource listing still answered
    assert sorted((e.scope, e.code) for e in spoke.errors) == [
        ("networkSecurityGroups", "AuthorizationFailed"), ("routeTables", "AuthorizationFailed"), ("virtualNetworks", "AuthorizationFailed")]
    assert "does not have authorization" in spoke.errors[0].message
    assert subs(snapshot)[HUB].status == subs(snapshot)[PARTNER].status == CoverageStatus.complete
    assert {v.name for v in snapshot.virtual_networks} == {"hub", "partner"}
    assert [g.name for g in snapshot.virtual_network_gateways] == ["hub-gw"]


def test_repeated_500s_record_the_call_and_keep_the_rest(tmp_path):
    cassette = generate(SPEC)["arm"]
    inject(cassette, "/providers/Microsoft.Network/routeTables", 500, FAST["retry_total"] + 1, sub=SPOKE)
    cassette.interactions = [i for i in cassette.interactions
                             if not (SPOKE in i["request"]["uri"] and "/routeTables" in i["request"]["uri"] and i["response"]["status"]["code"] == 200)]
    snapshot, played = run(tmp_path, cassette)
    spoke = subs(snapshot)[SPOKE]
    assert spoke.status == CoverageStatus.partial
    assert [(e.scope, e.code) for e in spoke.errors] == [("routeTables", "InternalServerError")]
    assert unplayed(played) == []  # first try plus retry_total retries
    assert snapshot.route_tables == []
    spoke1 = next(v for v in snapshot.virtual_networks if v.name == "spoke1")
    assert spoke1.subnets[0].route_table_id is not None  # the subnet's reference survives
    assert [n.name for n in snapshot.network_security_groups] == ["nsg-app"]


def test_failure_on_a_later_page_keeps_the_first_page(tmp_path):
    cassette = generate(SPEC, page_size=1)["arm"]
    second = next(i for i in cassette.interactions
                  if SPOKE in i["request"]["uri"] and "/virtualNetworks" in i["request"]["uri"] and "skiptoken" in i["request"]["uri"].lower())
    second["response"] = {**second["response"], "status": {"code": 503, "message": "Service Unavailable"},
                          "body": {"string": '{"error": {"code": "ServerBusy", "message": "busy"}}'}}
    snapshot, _ = run(tmp_path, cassette, retry_total=0)
    assert [(e.scope, e.code) for e in subs(snapshot)[SPOKE].errors] == [("virtualNetworks", "ServerBusy")]
    assert {v.name for v in snapshot.virtual_networks} == {"hub", "spoke1", "partner"}  # page 1 of the spoke kept


def test_graph_batch_failure_marks_its_subscriptions(tmp_path):
    cassette = generate(SPEC)["graph"]
    batch = next(i for i in cassette.interactions if i["request"]["method"] == "POST" and PARTNER in i["request"]["body"])
    batch["response"] = {**batch["response"], "status": {"code": 403, "message": "Forbidden"},
                         "body": {"string": '{"error": {"code": "AuthorizationFailed", "message": "no access"}}'}}
    snapshot, _ = run(tmp_path, cassette, source="graph")
    assert subs(snapshot)[PARTNER].status == CoverageStatus.failed
    assert [(e.scope, e.code) for e in subs(snapshot)[PARTNER].errors] == [("resourceGraph", "AuthorizationFailed")]
    assert subs(snapshot)[HUB].status == CoverageStatus.complete
    assert {v.name for v in snapshot.virtual_networks} == {"hub", "spoke1", "spoke2"}


@pytest.mark.parametrize("source", ["arm", "graph"])
def test_cross_tenant_peering_to_an_unreadable_vnet(tmp_path, source):
    """partner peers with a VNet in a subscription nobody scanned: ours is complete, the peering is kept (PEER005)."""
    snapshot, _ = run(tmp_path, generate(SPEC)[source], source=source)
    partner = next(v for v in snapshot.virtual_networks if v.name == "partner")
    vendor = next(p for p in partner.peerings if p.name == "partner-to-vendor")
    assert vendor.remote_virtual_network_id.startswith("/subscriptions/9b1c2d3e-8f4a-4c5d-9e6f-7a8b9c0d1e2f/")
    assert vendor.remote_address_space == ["172.31.0.0/16"]
    assert subs(snapshot)[PARTNER].status == CoverageStatus.complete
    assert not snapshot.is_scanned("9b1c2d3e-8f4a-4c5d-9e6f-7a8b9c0d1e2f")
    rules = select_rules(discover_rules(), ["PEER005"])
    findings = evaluate(snapshot, rules).findings
    assert [f.resource_id for f in findings] == [vendor.id]


def test_tenant_scope_uses_a_credential_per_tenant(tmp_path):
    from azure.core.credentials import AccessTokenInfo

    asked: list[str | None] = []

    class Recording:
        def get_token(self, *scopes, **kwargs):
            raise AssertionError("azure-core asks get_token_info")

        def get_token_info(self, *scopes, options=None):
            asked.append((options or {}).get("tenant_id"))
            assert scopes == ("https://management.azure.com/.default",)
            return AccessTokenInfo("t", 4102444800)

    snapshot, _ = run(tmp_path, generate(SPEC)["arm"], credential=Recording())
    assert set(asked) == {guid("tenant", "contoso"), guid("tenant", "fabrikam")} | ({None} if None in asked else set())
    assert guid("tenant", "fabrikam") in asked and guid("tenant", "contoso") in asked
    assert subs(snapshot)[PARTNER].tenant_id == guid("tenant", "fabrikam")
    assert all(s.status == CoverageStatus.complete for s in snapshot.subscriptions)


def test_explicit_subscription_only(tmp_path):
    snapshot, _ = run(tmp_path, generate(SPEC)["arm"], scope=CollectScope(subscriptions=[SPOKE.upper()]))
    assert [s.subscription_id for s in snapshot.subscriptions if s.status == CoverageStatus.complete] == [SPOKE]
    assert subs(snapshot)[SPOKE].display_name == "Spoke"
    assert {v.name for v in snapshot.virtual_networks} == {"spoke1", "spoke2"}


def test_management_group_scope_finds_subscriptions_with_resource_graph(tmp_path):
    from auditor.input.collect import graph

    cassette = generate(SPEC)["arm"]
    rows = [{"id": f"/subscriptions/{s}", "subscriptionId": s, "tenantId": guid("tenant", "contoso"), "name": n,
             "properties": {"state": "Enabled"}} for s, n in ((HUB, "Hub"), (SPOKE, "Spoke"))]
    cassette.add("POST", cassette.url("/providers/Microsoft.ResourceGraph/resources", api="2021-03-01"), 200,
                 {"totalRecords": 2, "count": 2, "resultTruncated": "false", "facets": [], "data": rows},
                 request_body={"managementGroups": ["mg-platform"], "query": graph.SUBSCRIPTIONS_QUERY,
                               "options": {"$top": 1000, "resultFormat": "objectArray"}}, index=0)
    snapshot, _ = run(tmp_path, cassette, scope=CollectScope(management_groups=["mg-platform"]))
    assert sorted(s.subscription_id for s in snapshot.subscriptions if s.status == CoverageStatus.complete) == sorted([HUB, SPOKE])
    assert {v.name for v in snapshot.virtual_networks} == {"hub", "spoke1", "spoke2"}


def test_unknown_request_is_a_coverage_error_not_a_crash(tmp_path):
    cassette = generate(SPEC)["arm"]
    cassette.interactions = [i for i in cassette.interactions if not (HUB in i["request"]["uri"] and "/routeTables" in i["request"]["uri"])]
    snapshot, _ = run(tmp_path, cassette)
    assert subs(snapshot)[HUB].status == CoverageStatus.partial
    assert [e.scope for e in subs(snapshot)[HUB].errors] == ["routeTables"]


MANAGED = yaml.safe_load("""
scan: {all_subscriptions: true}
subscriptions: {hub: {name: Hub}, spoke: {name: Spoke}}
vnets:
  hub: {subscription: hub, address_space: [10.0.0.0/16]}
  spoke1: {subscription: spoke, address_space: [10.1.0.0/16]}
network_managers:
  avnm: {subscription: hub, groups: {ng: {members: [hub, spoke1]}}, connectivity: {cc: {topology: Mesh, groups: [ng]}}}
""")


def test_a_failed_networkresources_query_is_partial_coverage_of_its_subscriptions(tmp_path):
    """Resource Graph: the network manager's children come from a second query, for its subscription only."""
    cassette = generate(MANAGED, page_size=10)["graph"]  # one page a query
    query = next(i for i in cassette.interactions
                 if i["request"]["method"] == "POST" and "networkresources" in i["request"]["body"])
    assert json.loads(query["request"]["body"])["subscriptions"] == [HUB]
    query["response"] = {**query["response"], "status": {"code": 403, "message": "Forbidden"},
                         "body": {"string": '{"error": {"code": "AuthorizationFailed", "message": "no access"}}'}}
    snapshot, played = run(tmp_path, cassette, source="graph", scope=scope_of(MANAGED))
    assert unplayed(played) == []
    assert subs(snapshot)[HUB].status == CoverageStatus.partial
    assert [(e.scope, e.code) for e in subs(snapshot)[HUB].errors] == [("resourceGraph:networkresources", "AuthorizationFailed")]
    assert subs(snapshot)[SPOKE].status == CoverageStatus.complete
    assert [m.name for m in snapshot.network_managers] == ["avnm"] and snapshot.network_managers[0].network_groups == []
    assert {v.name for v in snapshot.virtual_networks} == {"hub", "spoke1"}
