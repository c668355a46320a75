"""Safe to run unattended: tokens stay on the endpoint, paging ends, one bad answer stays one coverage error.

Against the loopback fake ARM (fakes/fakearm.py) with the real SDK clients.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from auditor.input.collect import CollectScope, collect
from auditor.input.collect.auth import StaticTokenCredential
from auditor.input.collect.paging import PageGuard
from auditor.input.synthetic import guid
from auditor.model.snapshot import CoverageStatus
from fakes.fakearm import FakeArm, Fault

SUBS = ["prod", "dev", "shared"]
FAST = {"retry_total": 1, "retry_backoff_factor": 0.01, "retry_backoff_max": 0.05, "read_timeout": 5}


def sub_id(name: str) -> str:
    return guid("subscription", name)


def spec() -> dict:
    vnets = {f"vnet-{s}-{i}": {"subscription": s, "address_space": [f"10.{n}.{i}.0/24"]}
             for n, s in enumerate(SUBS) for i in range(4)}
    return {"subscriptions": {s: {"name": s.title()} for s in SUBS}, "vnets": vnets}


@pytest.fixture
def fake():
    with FakeArm(spec(), page_size=3, graph_page_size=5) as server:
        yield server


def run(server: FakeArm, source: str = "arm", **limits):
    return collect(CollectScope(subscriptions=[sub_id(s) for s in SUBS]), StaticTokenCredential(), source=source,
                   concurrency=4, base_url_override=server.base_url,
                   transport_kwargs={"connection_verify": server.ca_file, **FAST}, **limits)


def coverage(snapshot) -> dict:
    names = {sub_id(s): s for s in SUBS}
    return {names[s.subscription_id]: s for s in snapshot.subscriptions}


def vnets_of(snapshot, sub: str) -> list[str]:
    return sorted(v.name for v in snapshot.virtual_networks if v.subscription_id == sub_id(sub))


class Listener:
    """A plain HTTP server on another loopback port: counts what arrives (nothing should)."""

    def __init__(self):
        hits = self.hits = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append((self.path, self.headers.get("Authorization")))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, scheme: str = "https") -> str:
        return f"{scheme}://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# -- 1. tokens go only to the cloud's own endpoint -------------------------------------------

@pytest.mark.parametrize("where", ["other-port", "other-host", "http"])
def test_next_link_to_another_endpoint_is_refused_and_the_subscription_is_partial(fake, where):
    listener = Listener()
    try:
        port = fake.base_url.rsplit(":", 1)[1]
        link = {"other-port": listener.url(), "other-host": f"https://localhost:{port}",
                "http": f"http://127.0.0.1:{port}"}[where] + f"/subscriptions/{sub_id('dev')}/x?$skiptoken=3"
        fake.add_fault(Fault("next_link", link=link, subscription=sub_id("dev"), path="virtualNetworks$"))
        snapshot = run(fake)
    finally:
        listener.close()
    assert listener.hits == []  # no request, so no token, went there
    assert [r.path for r in fake.requests_for("/x$")] == []
    cov = coverage(snapshot)
    assert cov["dev"].status == CoverageStatus.partial
    assert [(e.scope, e.code) for e in cov["dev"].errors] == [("virtualNetworks", "UntrustedNextLink")]
    assert vnets_of(snapshot, "dev") == ["vnet-dev-0", "vnet-dev-1", "vnet-dev-2"]  # the first page is kept
    assert cov["prod"].status == cov["shared"].status == CoverageStatus.complete


def test_page_guard_compares_scheme_host_and_port():
    guard = PageGuard("https://management.azure.com")
    assert guard.next_link("https://MANAGEMENT.azure.com:443/subscriptions?$skiptoken=1")
    assert guard.next_link("/subscriptions?$skiptoken=2")  # relative: the endpoint's own
    for link in ("https://management.azure.com.evil.example/x", "https://management.azure.com:8443/x",
                 "http://management.azure.com/x", "https://user@evil.example/x", "//evil.example/x"):
        with pytest.raises(Exception, match="nextLink leads to"):
            guard.next_link(link)


# -- 2. paging always ends ---------------------------------------------------------------------

def test_a_repeating_next_link_stops_the_call(fake):
    fake.add_fault(Fault("repeat", subscription=sub_id("prod"), path="virtualNetworks$"))
    snapshot = run(fake)
    cov = coverage(snapshot)
    assert [(e.scope, e.code) for e in cov["prod"].errors] == [("virtualNetworks", "PagingDidNotTerminate")]
    assert "paging did not terminate" in cov["prod"].errors[0].message
    assert cov["prod"].status == CoverageStatus.partial
    assert len(fake.requests_for("virtualNetworks$", subscription=sub_id("prod"))) == 2
    assert cov["dev"].status == CoverageStatus.complete


def test_a_repeating_skip_token_stops_the_query(fake):
    fake.add_fault(Fault("repeat", path="ResourceGraph"))
    snapshot = run(fake, source="graph")
    assert {(e.scope, e.code) for s in snapshot.subscriptions for e in s.errors} == {
        ("resourceGraph", "PagingDidNotTerminate")}
    assert len(fake.requests_for("ResourceGraph")) == 2
    assert all(s.status == CoverageStatus.partial for s in snapshot.subscriptions)


def test_more_pages_than_the_cap_stop_the_call(fake, monkeypatch):
    from auditor.input.collect import paging

    monkeypatch.setattr(paging, "MAX_PAGES", 2)  # 4 VNets at 3 a page is 2 pages: still fine
    fake.page_size = 1  # now 4 pages
    snapshot = run(fake)
    codes = {(e.scope, e.code) for e in coverage(snapshot)["dev"].errors}
    assert ("virtualNetworks", "PagingDidNotTerminate") in codes
    assert len(fake.requests_for("virtualNetworks$", subscription=sub_id("dev"))) == 2


# -- 3. fault isolation --------------------------------------------------------------------------

@pytest.mark.parametrize("body", [b"<html>busy</html>", b")]}'\n{\"value\": []}", b'["not", "a", "page"]', b'{"value": {"id": 1}}',
                                  b'{"value": [], "nextLink": 5}', b'{"value": ["x"]}'])
def test_a_malformed_page_is_a_coverage_error(fake, body):
    fake.add_fault(Fault("body", body=body, subscription=sub_id("dev"), path="virtualNetworks$"))
    snapshot = run(fake)
    cov = coverage(snapshot)
    assert [(e.scope, e.code) for e in cov["dev"].errors] == [("virtualNetworks", "MalformedResponse")]
    assert cov["dev"].status == CoverageStatus.partial
    assert cov["prod"].status == cov["shared"].status == CoverageStatus.complete
    assert len(vnets_of(snapshot, "prod")) == 4


@pytest.mark.parametrize("source", ["arm", "graph"])
@pytest.mark.parametrize("bad", ["prefix-type", "subnets-type"])
def test_a_resource_the_validation_refuses_is_a_coverage_error(fake, source, bad):
    vnet = fake.estate.by_kind[(sub_id("dev"), "virtualnetworks")][1]
    if bad == "prefix-type":
        vnet["properties"]["addressSpace"]["addressPrefixes"] = [42]
    else:
        vnet["properties"]["subnets"] = "app"
    snapshot = run(fake, source=source)
    cov = coverage(snapshot)
    assert [e.code for e in cov["dev"].errors] == ["InvalidResource"]
    assert cov["dev"].errors[0].scope == ("virtualNetworks" if source == "arm" else "resourceGraph")
    assert "vnet-dev-1" in cov["dev"].errors[0].message
    assert cov["dev"].status == CoverageStatus.partial
    assert vnets_of(snapshot, "dev") == ["vnet-dev-0", "vnet-dev-2", "vnet-dev-3"]
    assert cov["prod"].status == cov["shared"].status == CoverageStatus.complete
    assert len(vnets_of(snapshot, "prod")) == 4
