"""The collector's HTTP session: proxy and CA-bundle environment read once per host, same answers as requests."""

from __future__ import annotations

import gc

import pytest
import requests

from auditor.input.collect import CollectScope, collect
from auditor.input.collect.auth import StaticTokenCredential
from auditor.input.collect.session import http_session
from fakes.fakearm import FakeArm

ARM = "https://management.azure.com/subscriptions/s/providers/Microsoft.Network/virtualNetworks?api-version=1"


@pytest.fixture
def environment(monkeypatch, tmp_path):
    bundle = tmp_path / "corporate-ca.pem"
    bundle.write_text("")
    for name in ("HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    monkeypatch.setenv("NO_PROXY", "login.internal")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    return str(bundle)


@pytest.mark.parametrize("url", [ARM, "https://login.internal/token", "http://169.254.169.254/metadata"])
def test_settings_match_what_requests_computes(environment, url):
    plain, cached = requests.Session(), http_session(4)
    expected = plain.merge_environment_settings(url, {}, None, True, None)
    assert cached.merge_environment_settings(url, {}, None, True, None) == expected
    assert cached.merge_environment_settings(url, {}, None, True, None) == expected  # from the cache
    if "management.azure.com" in url:
        assert expected["proxies"]["https"] == "http://proxy.corp:3128" and expected["verify"] == environment
    if "login.internal" in url:
        assert "https" not in expected["proxies"]


def test_the_environment_is_read_once_per_host_and_settings(environment, monkeypatch):
    session = http_session(4)
    calls = []
    original = requests.Session.merge_environment_settings
    monkeypatch.setattr(requests.Session, "merge_environment_settings",
                        lambda self, *args: calls.append(args[0]) or original(self, *args))
    for page in range(5):
        session.merge_environment_settings(f"{ARM}&$skiptoken={page}", {}, None, True, None)
    session.merge_environment_settings(ARM, {}, None, False, None)  # connection_verify=False: its own entry
    session.merge_environment_settings("https://management.usgovcloudapi.net/subscriptions", {}, None, True, None)
    assert len(calls) == 3


def test_callers_cannot_change_the_cached_answer(environment):
    session = http_session(4)
    first = session.merge_environment_settings(ARM, {}, None, True, None)
    first["verify"] = False
    assert session.merge_environment_settings(ARM, {}, None, True, None)["verify"] == environment


def test_collection_pauses_the_cyclic_gc_and_restores_it():
    spec = {"subscriptions": {"sub-a": {}}, "vnets": {"hub": {"subscription": "sub-a", "address_space": ["10.0.0.0/16"]}}}

    during: list[bool] = []

    def run(fake: FakeArm):
        return collect(CollectScope(all_subscriptions=True), StaticTokenCredential(), base_url_override=fake.base_url,
                       transport_kwargs={"connection_verify": fake.ca_file}, progress=lambda *_, **__: during.append(gc.isenabled()))

    with FakeArm(spec) as fake:
        assert gc.isenabled()
        assert len(run(fake).virtual_networks) == 1
        assert during and not any(during)
        assert gc.isenabled()
        gc.disable()
        try:
            run(fake)
            assert not gc.isenabled()  # left as the caller had it
        finally:
            gc.enable()


def test_a_resource_the_normalizer_rejects_is_a_coverage_error_with_its_message(monkeypatch):
    """Was: the whole collection stopped. Now the one subscription is partial and names the resource."""
    from auditor.errors import InputError
    from auditor.input.builder import SnapshotBuilder

    spec = {"subscriptions": {"sub-a": {}, "sub-b": {}},
            "vnets": {f"vnet-{i}": {"subscription": "sub-a" if i % 2 else "sub-b", "address_space": [f"10.{i}.0.0/16"]} for i in range(6)}}
    original = SnapshotBuilder.add

    def add(self, raw, origin, tenant_id=None):
        if raw.get("name") == "vnet-3":
            raise InputError("security rule /x has no numeric priority")
        return original(self, raw, origin, tenant_id)

    monkeypatch.setattr(SnapshotBuilder, "add", add)
    with FakeArm(spec, page_size=1) as fake:
        snapshot = collect(CollectScope(all_subscriptions=True), StaticTokenCredential(),
                           base_url_override=fake.base_url, transport_kwargs={"connection_verify": fake.ca_file})
    status = {s.display_name: (s.status.value, [(e.scope, e.code) for e in s.errors]) for s in snapshot.subscriptions}
    assert status == {"sub-a": ("partial", [("virtualNetworks", "InvalidResource")]), "sub-b": ("complete", [])}
    error = next(s for s in snapshot.subscriptions if s.errors).errors[0]
    assert "no numeric priority" in error.message and "vnet-3" in error.message
    assert sorted(v.name for v in snapshot.virtual_networks) == [f"vnet-{i}" for i in (0, 1, 2, 4, 5)]


def test_connections_share_one_tls_context_with_the_ca_loaded_once(monkeypatch):
    """urllib3 would load the CA bundle into a new context per connection; one per request in flight."""
    import urllib3.connection

    seen: list[tuple] = []
    wrap = urllib3.connection._ssl_wrap_socket_and_match_hostname

    def recording(**kwargs):
        seen.append((kwargs["ssl_context"], kwargs["ca_certs"]))
        return wrap(**kwargs)

    monkeypatch.setattr(urllib3.connection, "_ssl_wrap_socket_and_match_hostname", recording)
    spec = {"subscriptions": {f"s{n}": {} for n in range(4)}}
    with FakeArm(spec, latency=0.05) as fake:
        collect(CollectScope(all_subscriptions=True), StaticTokenCredential(), concurrency=8,
                base_url_override=fake.base_url, transport_kwargs={"connection_verify": fake.ca_file})
    contexts = {id(context) for context, _ in seen}
    assert len(seen) > 1 and len(contexts) == 1 and None not in {c for c, _ in seen}
    assert {ca for _, ca in seen} == {None}  # not loaded again by urllib3
