"""Recording scrubs secrets; what it keeps still replays through the SDK."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import yaml

from auditor.input.collect import CollectScope, collect
from auditor.input.collect.auth import StaticTokenCredential
from auditor.input.collect.cassettes import (
    VCR_CONCURRENCY,
    recording,
    replaying,
    scrub_request,
)

SUB = "11111111-2222-3333-4444-555555555555"
JWT = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJ0aWQiOiJjb250b3NvIn0.c2lnbmF0dXJlLXNlY3JldA"
SECRET = "Sup3r~Secret.Value"
VNET = {"name": "vnet1", "id": f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet1",
        "type": "Microsoft.Network/virtualNetworks", "location": "westeurope",
        "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}, "subnets": [], "virtualNetworkPeerings": []}}


class Stub(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _json(self, doc, status=200):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Set-Cookie", f"session={SECRET}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self._json({"token_type": "Bearer", "expires_in": 3599, "access_token": JWT, "refresh_token": "0.ARrefresh" + SECRET, "id_token": JWT})

    def do_GET(self):
        if "error" in self.path:
            return self._json({"error": {"code": "AuthorizationFailed", "message": "no access"}}, 403)
        path = self.path.split("?")[0]
        if path == f"/subscriptions/{SUB}":
            return self._json({"id": path, "subscriptionId": SUB, "tenantId": "t1", "displayName": "Recorded", "state": "Enabled"})
        self._json({"value": [VNET] if path.endswith("/virtualNetworks") else []})


@pytest.fixture
def stub():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_recording_scrubs_tokens_secrets_and_assertions(stub, tmp_path):
    path = tmp_path / "rec.yaml"
    with recording(path):
        token = requests.post(f"{stub}/tenant/oauth2/v2.0/token", data={
            "client_id": "app", "client_secret": SECRET, "client_assertion": JWT, "grant_type": "client_credentials",
            "scope": "https://management.azure.com/.default"}).json()
        assert token["access_token"] == JWT  # the caller still sees the real answer
        requests.get(f"{stub}/subscriptions/{SUB}/providers/Microsoft.Network/virtualNetworks?api-version=2024-05-01",
                     headers={"Authorization": f"Bearer {JWT}"})
        requests.get(f"{stub}/subscriptions/{SUB}/providers/Microsoft.Network/error", headers={"Authorization": f"Bearer {JWT}"})
    text = path.read_text(encoding="utf-8")
    for secret in (SECRET, JWT, JWT.split(".")[1], "0.ARrefresh"):
        assert secret not in text
    doc = yaml.safe_load(text)
    token_request, vnets, error = doc["interactions"]
    assert "client_secret=%3Cscrubbed%3E" in token_request["request"]["body"] or "client_secret=<scrubbed>" in token_request["request"]["body"]
    assert json.loads(token_request["response"]["body"]["string"])["access_token"] == "<scrubbed>"
    assert vnets["request"]["headers"]["Authorization"] == ["<scrubbed>"]
    assert vnets["response"]["headers"]["Set-Cookie"] == ["<scrubbed>"]
    assert json.loads(vnets["response"]["body"]["string"]) == {"value": [VNET]}  # resource data is untouched
    assert json.loads(error["response"]["body"]["string"])["error"]["code"] == "AuthorizationFailed"


def test_a_recorded_cassette_replays_through_the_sdk_on_any_host(stub, tmp_path):
    from auditor.input.collect.arm import SUBSCRIPTION_LISTS, TYPE_FILTER

    path = tmp_path / "rec.yaml"
    with recording(path):
        for kind in SUBSCRIPTION_LISTS:
            requests.get(f"{stub}/subscriptions/{SUB}/providers/Microsoft.Network/{kind}?api-version=2023-01-01",
                         headers={"Authorization": f"Bearer {JWT}"})
        requests.get(f"{stub}/subscriptions/{SUB}/resources", params={"$filter": TYPE_FILTER, "api-version": "2021-01-01"})
        requests.get(f"{stub}/subscriptions/{SUB}?api-version=2021-01-01")
    with replaying(path) as played:  # other host, other api-versions, through the real SDK clients
        snapshot = collect(CollectScope(subscriptions=[SUB]), StaticTokenCredential(), concurrency=VCR_CONCURRENCY)
    assert played.all_played
    assert [v.name for v in snapshot.virtual_networks] == ["vnet1"]
    assert [(s.display_name, s.tenant_id, s.status.value) for s in snapshot.subscriptions] == [("Recorded", "t1", "complete")]


def test_scrub_request_handles_assertions_in_query_and_json():
    from vcr.request import Request

    request = Request("POST", f"https://login.microsoftonline.com/t/oauth2/token?client_assertion={JWT}",
                      json.dumps({"clientSecret": SECRET, "nested": {"password": SECRET}, "note": f"Bearer {JWT}"}),
                      {"Authorization": f"Bearer {JWT}", "x-ms-client-secret": SECRET})
    scrubbed = scrub_request(request)
    flat = scrubbed.uri + str(scrubbed.body) + json.dumps(dict(scrubbed.headers))
    assert SECRET not in flat and JWT not in flat
