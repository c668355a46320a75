"""Faults, paging and timeouts through the real collector and SDK clients, against a loopback fake ARM.

The fake server (fakes/fakearm.py) serves a synthetic estate over HTTPS on 127.0.0.1 and
injects 403, 429 + Retry-After, repeated 500s and hangs per subscription, path or page.
Unlike cassette replay, the SDK really waits, times out and retries here.
"""

from __future__ import annotations

import json
import time

import pytest
import requests

from auditor.input.collect import CollectScope, collect
from auditor.input.collect.arm import SUBSCRIPTION_LISTS
from auditor.input.collect.auth import StaticTokenCredential
from auditor.input.synthetic import build_estate, guid, snapshot_from_spec
from auditor.model.ids import subscription_of
from auditor.model.snapshot import CoverageStatus, to_builtins
from fakes.fakearm import FakeArm, Fault

SUBS = ["prod", "dev", "shared"]
KINDS = ("virtual_networks", "network_security_groups", "route_tables",
         "virtual_network_gateways", "local_network_gateways", "connections")
FAST = {"retry_total": 2, "retry_backoff_factor": 0.01, "retry_backoff_max": 0.05, "read_timeout": 5}


def estate_spec(vnets_per_sub: int = 4) -> dict:
    """Three subscriptions, each with VNets, an NSG, a route table; prod has a VPN gateway + connection."""
    spec: dict = {"subscriptions": {s: {"name": s.title()} for s in SUBS}, "vnets": {}, "nsgs": {}, "route_tables": {}}
    for n, sub in enumerate(SUBS):
        for i in range(vnets_per_sub):
            subnets = {"app": {"prefix": f"10.{n}.{i * 4}.0/24", "nsg": f"nsg-{sub}", "route_table": f"rt-{sub}"}}
            vnet = {"subscription": sub, "address_space": [f"10.{n}.{i * 4}.0/22"], "subnets": subnets}
            if sub == "prod" and i == 0:
                subnets["GatewaySubnet"] = f"10.{n}.{i * 4 + 3}.0/27"
                vnet["gateway"] = {"type": "Vpn", "sku": "VpnGw1"}
            spec["vnets"][f"vnet-{sub}-{i}"] = vnet
        spec["nsgs"][f"nsg-{sub}"] = {"subscription": sub, "rules": [{"name": "ssh", "priority": 100, "ports": "22"}]}
        spec["route_tables"][f"rt-{sub}"] = {"subscription": sub, "routes": [{"name": "default", "prefix": "0.0.0.0/0", "ip": "10.0.0.4"}]}
    spec["local_gateways"] = {"onprem": {"subscription": "prod", "prefixes": ["192.168.0.0/16"]}}
    spec["connections"] = {"prod-onprem": {"subscription": "prod", "gateway": "vnet-prod-0", "local_gateway": "onprem"}}
    return spec


EXPECTED = snapshot_from_spec(estate_spec())


def sub_id(name: str) -> str:
    return guid("subscription", name)


@pytest.fixture
def fake():
    with FakeArm(estate_spec(), page_size=3) as server:
        yield server


def get(server: FakeArm, path: str, **kwargs) -> requests.Response:
    url = path if path.startswith("https://") else server.base_url + path
    return requests.get(url, verify=server.ca_file, timeout=kwargs.pop("timeout", 5), **kwargs)


def run(server: FakeArm, source: str = "arm", scope: CollectScope | None = None, concurrency: int = 8, **transport):
    return collect(scope or CollectScope(all_subscriptions=True), StaticTokenCredential(), source=source,
                   concurrency=concurrency, base_url_override=server.base_url,
                   transport_kwargs={"connection_verify": server.ca_file, **FAST, **transport})


def resources_of(snapshot, sub: str) -> dict[str, list[dict]]:
    """Every resource of one subscription, as data (what a report would see)."""
    sid = sub_id(sub)
    return {kind: [to_builtins(r) for r in getattr(snapshot, kind) if subscription_of(r.id) == sid] for kind in KINDS}


def coverage(snapshot) -> dict[str, object]:
    names = {sub_id(s): s for s in SUBS}
    return {names[s.subscription_id]: s for s in snapshot.subscriptions}


# -- the fake server itself -----------------------------------------------------------------

def test_fake_pages_list_all_with_next_link(fake):
    url = f"/subscriptions/{sub_id('prod')}/providers/Microsoft.Network/virtualNetworks?api-version=2024-05-01"
    names, pages = [], 0
    while url:
        body = get(fake, url).json()
        names += [v["name"] for v in body["value"]]
        url = body.get("nextLink")
        pages += 1
        assert url is None or "api-version=2024-05-01" in url
    assert names == [f"vnet-prod-{i}" for i in range(4)]
    assert pages == 2
    assert all(v["properties"]["subnets"] for v in get(fake, f"/subscriptions/{sub_id('prod')}/providers/Microsoft.Network/virtualNetworks").json()["value"])


def test_fake_generic_resource_list_is_filtered_and_has_no_properties(fake):
    flt = "resourceType eq 'Microsoft.Network/virtualNetworkGateways' or resourceType eq 'Microsoft.Network/connections'"
    body = get(fake, f"/subscriptions/{sub_id('prod')}/resources", params={"$filter": flt, "api-version": "2021-04-01"}).json()
    assert sorted(r["type"] for r in body["value"]) == ["Microsoft.Network/connections", "Microsoft.Network/virtualNetworkGateways"]
    assert all("properties" not in r for r in body["value"])
    gateway = next(r for r in body["value"] if r["type"].endswith("virtualNetworkGateways"))
    full = get(fake, gateway["id"] + "?api-version=2024-05-01").json()
    assert full["properties"]["gatewayType"] == "Vpn"
    rg_list = get(fake, f"/subscriptions/{sub_id('prod')}/resourceGroups/rg-network/providers/Microsoft.Network/localNetworkGateways").json()
    assert [r["name"] for r in rg_list["value"]] == ["onprem"]


def test_fake_resource_graph_pages_with_skip_token(fake):
    url = fake.base_url + "/providers/Microsoft.ResourceGraph/resources?api-version=2021-03-01"
    query = {"subscriptions": [sub_id(s) for s in SUBS],
             "query": "Resources | where type in~ ('microsoft.network/virtualnetworks', 'microsoft.network/routetables')",
             "options": {"$top": 5}}
    rows, tokens = [], 0
    while True:
        body = requests.post(url, json=query, verify=fake.ca_file, timeout=5).json()
        assert set(body) >= {"totalRecords", "count", "data", "facets", "resultTruncated"}
        assert body["count"] == len(body["data"]) and body["totalRecords"] == 15
        rows += body["data"]
        if not body.get("$skipToken"):
            break
        tokens += 1
        query["options"] = {"$top": 5, "$skipToken": body["$skipToken"]}
    assert tokens == 2
    assert sorted({r["type"] for r in rows}) == ["microsoft.network/routetables", "microsoft.network/virtualnetworks"]
    assert len({r["id"] for r in rows}) == 15
    assert {r["subscriptionId"] for r in rows} == {sub_id(s) for s in SUBS}


def test_fake_faults_target_one_subscription_and_count_down(fake):
    fake.add_fault(Fault("status", status=403, subscription=sub_id("dev")))
    fake.add_fault(Fault("status", status=429, retry_after=0.2, times=1, path="routeTables"))
    denied = get(fake, f"/subscriptions/{sub_id('dev')}/providers/Microsoft.Network/virtualNetworks")
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "AuthorizationFailed"
    assert get(fake, f"/subscriptions/{sub_id('prod')}/providers/Microsoft.Network/virtualNetworks").status_code == 200
    throttled = get(fake, f"/subscriptions/{sub_id('prod')}/providers/Microsoft.Network/routeTables")
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "0.2"
    assert throttled.headers["x-ms-ratelimit-remaining-subscription-reads"] == "0"
    assert get(fake, f"/subscriptions/{sub_id('prod')}/providers/Microsoft.Network/routeTables").status_code == 200
    assert [r.status for r in fake.requests_for("routeTables")] == [429, 200]


def test_fake_hang_outlasts_client_timeout_and_refuses_writes(fake):
    fake.add_fault(Fault("hang", seconds=2, path="networkSecurityGroups"))
    with pytest.raises(requests.exceptions.ReadTimeout):
        get(fake, f"/subscriptions/{sub_id('prod')}/providers/Microsoft.Network/networkSecurityGroups", timeout=0.3)
    put = requests.put(fake.base_url + f"/subscriptions/{sub_id('prod')}/resourcegroups/x", verify=fake.ca_file, timeout=5)
    assert put.status_code == 405


def test_forbidden_subscription_in_the_description():
    spec = estate_spec()
    spec["subscriptions"]["dev"]["fault"] = "forbidden"  # as auditor.input.collect.generate reads it
    with FakeArm(spec) as server:
        listed = [s["subscriptionId"] for s in get(server, "/subscriptions").json()["value"]]
        assert listed == [sub_id("prod"), sub_id("shared")]
        snapshot = run(server, scope=CollectScope(subscriptions=[sub_id(s) for s in SUBS]))
    cov = coverage(snapshot)
    assert cov["dev"].status == CoverageStatus.failed and {e.code for e in cov["dev"].errors} == {"AuthorizationFailed"}
    assert resources_of(snapshot, "shared") == resources_of(EXPECTED, "shared")


def test_fake_is_loopback_and_stops_itself():
    server = FakeArm(estate_spec(1), lifetime=0.5).start()
    assert server.base_url.startswith("https://127.0.0.1:")
    url = server.base_url + "/tenants"
    assert requests.get(url, verify=server.ca_file, timeout=5).status_code == 200
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and server._server is not None:
        time.sleep(0.05)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(url, verify=server.ca_file, timeout=2)
    assert build_estate(estate_spec(1)).subscriptions  # the estate itself is untouched


# -- the collector against it (real SDK clients, real azure-core retry policy) ---------------

def test_collects_whole_estate_with_paging_through_both_sources():
    with FakeArm(estate_spec(), page_size=2) as server:  # 3 subscriptions, 4 VNets each: 2 pages per list
        arm_snapshot = run(server)
        pages = [r for r in server.requests if "skiptoken" in r.query]
        assert {r.path.rsplit("/", 1)[-1] for r in pages} >= {"subscriptions", "virtualNetworks"}
        server.requests.clear()
        graph_snapshot = run(server, source="graph", graph_page_size=4)  # 21 rows: 6 pages
        posts = [r for r in server.requests if r.method == "POST"]
        assert len(posts) == 6 and all(r.status == 200 for r in posts)
    for sub in SUBS:
        assert resources_of(arm_snapshot, sub) == resources_of(EXPECTED, sub)
        assert resources_of(graph_snapshot, sub) == resources_of(EXPECTED, sub)
    assert all(s.status == CoverageStatus.complete and not s.errors for s in arm_snapshot.subscriptions + graph_snapshot.subscriptions)
    assert len(arm_snapshot.virtual_networks) == 12 and len(arm_snapshot.subscriptions) == 3


def test_403_on_one_subscription_while_others_succeed(fake):
    fake.add_fault(Fault("status", status=403, subscription=sub_id("dev")))
    snapshot = run(fake, scope=CollectScope(subscriptions=[sub_id(s) for s in SUBS]))
    cov = coverage(snapshot)
    assert cov["dev"].status == CoverageStatus.failed
    assert cov["dev"].errors and {e.code for e in cov["dev"].errors} == {"AuthorizationFailed"}
    assert "virtualNetworks" in {e.scope for e in cov["dev"].errors}
    assert not any(resources_of(snapshot, "dev").values())
    for sub in ("prod", "shared"):
        assert cov[sub].status == CoverageStatus.complete and not cov[sub].errors
        assert resources_of(snapshot, sub) == resources_of(EXPECTED, sub)
    assert not snapshot.is_scanned(sub_id("dev")) and snapshot.is_scanned(sub_id("prod"))
    denied = fake.requests_for("virtualNetworks$", subscription=sub_id("dev"))
    assert [r.status for r in denied] == [403]  # 403 is not retried


def test_429_with_retry_after_then_success(fake):
    fake.add_fault(Fault("status", status=429, retry_after=0.6, times=1,
                         subscription=sub_id("prod"), path="virtualNetworks$"))
    snapshot = run(fake)
    assert all(s.status == CoverageStatus.complete and not s.errors for s in snapshot.subscriptions)
    assert resources_of(snapshot, "prod") == resources_of(EXPECTED, "prod")
    throttled, retried = fake.requests_for("virtualNetworks$", subscription=sub_id("prod"))[:2]
    assert (throttled.status, retried.status) == (429, 200)
    assert retried.start - throttled.end >= 0.5  # Retry-After honoured, not the 0.01 s backoff


def test_429_on_resource_graph_then_success(fake):
    fake.add_fault(Fault("status", status=429, retry_after=0.3, times=2, path="ResourceGraph"))
    snapshot = run(fake, source="graph")
    assert all(s.status == CoverageStatus.complete for s in snapshot.subscriptions)
    for sub in SUBS:
        assert resources_of(snapshot, sub) == resources_of(EXPECTED, sub)
    assert [r.status for r in fake.requests_for("ResourceGraph")] == [429, 429, 200]


def test_repeated_500s_fail_one_call_and_keep_the_rest(fake):
    fake.add_fault(Fault("status", status=500, subscription=sub_id("shared"), path="routeTables$"))
    snapshot = run(fake)
    cov = coverage(snapshot)
    assert cov["shared"].status == CoverageStatus.partial
    assert [(e.scope, e.code) for e in cov["shared"].errors] == [("routeTables", "InternalServerError")]
    assert "500" in cov["shared"].errors[0].message
    got, want = resources_of(snapshot, "shared"), resources_of(EXPECTED, "shared")
    assert got["route_tables"] == []
    assert {k: v for k, v in got.items() if k != "route_tables"} == {k: v for k, v in want.items() if k != "route_tables"}
    assert len(fake.requests_for("routeTables$", subscription=sub_id("shared"))) == 1 + FAST["retry_total"]
    assert cov["prod"].status == cov["dev"].status == CoverageStatus.complete
    assert resources_of(snapshot, "prod") == resources_of(EXPECTED, "prod")


def test_500s_on_every_call_of_a_subscription_fail_it(fake):
    fake.add_fault(Fault("status", status=500, subscription=sub_id("prod")))
    snapshot = run(fake)
    cov = coverage(snapshot)
    assert cov["prod"].status == CoverageStatus.failed
    assert {e.scope for e in cov["prod"].errors} == {*SUBSCRIPTION_LISTS, "resources"}
    assert not any(resources_of(snapshot, "prod").values())
    assert resources_of(snapshot, "dev") == resources_of(EXPECTED, "dev")


def test_failure_on_a_later_page_keeps_the_first(fake):
    fake.add_fault(Fault("status", status=403, subscription=sub_id("dev"), path="virtualNetworks$", query="skiptoken"))
    snapshot = run(fake)
    cov = coverage(snapshot)
    assert cov["dev"].status == CoverageStatus.partial
    assert [(e.scope, e.code) for e in cov["dev"].errors] == [("virtualNetworks", "AuthorizationFailed")]
    first_page = [v["name"] for v in resources_of(EXPECTED, "dev")["virtual_networks"]][:3]  # page_size=3
    assert [v["name"] for v in resources_of(snapshot, "dev")["virtual_networks"]] == first_page
    assert resources_of(snapshot, "dev")["network_security_groups"] == resources_of(EXPECTED, "dev")["network_security_groups"]


@pytest.mark.parametrize("source", ["arm", "graph"])
def test_a_vnet_changed_while_its_list_is_paged_keeps_the_later_read(fake, source):
    """A resource edited between two pages comes back twice with different content: the scan keeps the newer one."""
    import copy

    dev_vnets = fake.estate.by_kind[(sub_id("dev"), "virtualnetworks")]
    changed = copy.deepcopy(dev_vnets[0])
    changed["properties"]["addressSpace"]["addressPrefixes"].append("172.16.0.0/24")
    # before the first request (the fake encodes each answer once); last on the ARM list, next to its twin for Graph
    dev_vnets.append(changed)
    snapshot = run(fake, source)
    vnet = next(v for v in snapshot.virtual_networks if v.key == changed["id"].lower())
    assert vnet.address_prefixes == changed["properties"]["addressSpace"]["addressPrefixes"]
    assert len(snapshot.virtual_networks) == len(EXPECTED.virtual_networks)
    assert coverage(snapshot)["dev"].status == CoverageStatus.complete


def test_per_resource_group_call_failure_is_partial(fake):
    fake.add_fault(Fault("status", status=403, path="resourceGroups/rg-network/providers/Microsoft.Network/connections$"))
    snapshot = run(fake)
    cov = coverage(snapshot)
    assert cov["prod"].status == CoverageStatus.partial
    assert [(e.scope, e.code) for e in cov["prod"].errors] == [("connections:rg-network", "AuthorizationFailed")]
    assert snapshot.connections == [] and len(snapshot.virtual_network_gateways) == 1
    assert cov["dev"].status == CoverageStatus.complete


def test_timeout_is_recorded_and_the_scan_completes(fake):
    fake.add_fault(Fault("hang", seconds=4, subscription=sub_id("dev"), path="networkSecurityGroups$"))
    started = time.monotonic()
    snapshot = run(fake, read_timeout=0.4, retry_total=1)
    elapsed = time.monotonic() - started
    cov = coverage(snapshot)
    assert cov["dev"].status == CoverageStatus.partial
    assert [(e.scope, e.code) for e in cov["dev"].errors] == [("networkSecurityGroups", "Timeout")]
    assert resources_of(snapshot, "dev")["virtual_networks"] == resources_of(EXPECTED, "dev")["virtual_networks"]
    assert resources_of(snapshot, "dev")["network_security_groups"] == []
    assert cov["prod"].status == cov["shared"].status == CoverageStatus.complete
    assert len(fake.requests_for("networkSecurityGroups$", subscription=sub_id("dev"))) <= 2  # first hang + 1 retry
    assert elapsed < 4  # gave up on the read timeout, did not wait for the hang to end


def test_whole_subscription_timing_out_is_failed(fake):
    fake.add_fault(Fault("hang", seconds=4, subscription=sub_id("shared")))
    snapshot = run(fake, scope=CollectScope(subscriptions=[sub_id(s) for s in SUBS]), read_timeout=0.4, retry_total=0)
    cov = coverage(snapshot)
    assert cov["shared"].status == CoverageStatus.failed
    assert cov["shared"].errors and {e.code for e in cov["shared"].errors} == {"Timeout"}
    assert cov["prod"].status == CoverageStatus.complete
    assert resources_of(snapshot, "prod") == resources_of(EXPECTED, "prod")


# -- through the CLI: a scan recorded against the fake, replayed by `vnet-audit scan` --------

@pytest.fixture
def one_page_fake():
    """One page per list: a recorded nextLink names the fake's loopback port, which a replay
    (against the cloud's endpoint) rightly refuses to follow."""
    with FakeArm(estate_spec()) as server:
        yield server


def test_cli_scan_fail_on_incomplete_exits_3(one_page_fake, tmp_path):
    """The CLI has no endpoint override: record the faulty scan (vcrpy) against the fake, replay it through `scan`."""
    from typer.testing import CliRunner

    from auditor.cli import app
    from auditor.input.collect.cassettes import recording
    fake = one_page_fake
    fake.add_fault(Fault("status", status=403, subscription=sub_id("dev")))
    cassette = tmp_path / "faulty.yaml"
    with recording(cassette):  # vcrpy records reliably from one thread only (its force_reset patching is global)
        recorded = run(fake, scope=CollectScope(subscriptions=[sub_id(s) for s in SUBS]), concurrency=1)
    assert [s.status for s in recorded.incomplete_subscriptions] == [CoverageStatus.failed]
    assert "replay-token" not in cassette.read_text() and "Bearer" not in cassette.read_text()

    subs = [arg for s in SUBS for arg in ("--subscription", sub_id(s))]
    runner = CliRunner()
    strict = runner.invoke(app, ["scan", *subs, "--replay", str(cassette), "--fail-on-incomplete", "--quiet",
                                 "--format", "json", "--out", str(tmp_path / "strict")])
    assert strict.exit_code == 3, strict.output
    lenient = runner.invoke(app, ["scan", *subs, "--replay", str(cassette), "--quiet", "--format", "json",
                                  "--out", str(tmp_path / "lenient")])
    assert lenient.exit_code == 0, lenient.output
    snapshot = json.loads((tmp_path / "strict" / "snapshot.json").read_text())
    status = {s["subscription_id"]: (s["status"], sorted({e["code"] for e in s["errors"]})) for s in snapshot["subscriptions"]}
    assert status == {sub_id("dev"): ("failed", ["AuthorizationFailed"]),
                      sub_id("prod"): ("complete", []), sub_id("shared"): ("complete", [])}
    assert len(snapshot["virtual_networks"]) == 8  # prod's and shared's, none dropped
    collected = runner.invoke(app, ["collect", *subs, "--replay", str(cassette), "--fail-on-incomplete", "--quiet",
                                    "--output", str(tmp_path / "snap.json")])
    assert collected.exit_code == 3, collected.output


def test_snapshot_names_the_azure_identity_that_ran_the_scan(fake):
    import base64
    import json as _json

    claims = base64.urlsafe_b64encode(_json.dumps({"upn": "auditor@contoso.com"}).encode()).rstrip(b"=").decode()
    snapshot = collect(CollectScope(all_subscriptions=True), StaticTokenCredential(f"e30.{claims}.sig"), source="arm",
                       concurrency=4, base_url_override=fake.base_url,
                       transport_kwargs={"connection_verify": fake.ca_file, **FAST})
    assert snapshot.metadata.run_by == "auditor@contoso.com"
    assert "e30." not in snapshot.to_json()  # the token itself is never stored
