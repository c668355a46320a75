"""Cassette scrubbing by name and by shape: each secret is gone, ids, names and paging survive."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import yaml
from vcr.request import Request

from auditor.input.collect.cassettes import recording
from auditor.input.collect.scrub import (
    SCRUBBED,
    is_secret_name,
    scrub_body,
    scrub_request,
    scrub_response,
    scrub_text,
)

SUB = "11111111-2222-3333-4444-555555555555"
JWT = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJvaWQiOiJhdXgifQ.YXV4aWxpYXJ5LXNpZ25hdHVyZQ"
SHARED_KEY = "Shar3dK3y-vpn-psk"
AUTH_KEY = "a1b2c3d4-er-authorization-key"
SIG = "k5Jq%2BvR8Yp3Wm0Zt%3D"
ACCOUNT_KEY = "bWFkZS11cC1zdG9yYWdlLWtleQ=="
KV_ID = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1"
STORAGE = "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey="
SERVICE_BUS = "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey="
VNETS = f"/subscriptions/{SUB}/providers/Microsoft.Network/virtualNetworks"
CONN_ID = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/connections/c1"


@pytest.mark.parametrize(
    "name, secret",
    [
        ("sharedKey", True),
        ("authorizationKey", True),
        ("primaryKey", True),
        ("keys", True),
        ("radiusServerSecret", True),
        ("client_secret", True),
        ("access_token", True),
        ("idToken", True),
        ("password", True),
        ("sig", True),
        ("signature", True),
        ("x-ms-authorization-auxiliary", True),
        ("x-ms-client-secret", True),
        ("AccountKey", True),
        ("SharedAccessKey", True),
        ("credentials", True),
        ("keyVaultId", False),
        ("keyVaultSecretId", False),
        ("secretName", False),
        ("token_type", False),
        ("SharedAccessKeyName", False),
        ("authorizationSource", False),
        ("roleAssignments", False),
        ("designation", False),
        ("$skipToken", False),
        ("$skiptoken", False),
        ("nextLink", False),
        ("code", False),
        ("api-version", False),
        ("authorizations", False),
        ("peeringState", False),
        ("x-ms-request-id", False),
    ],
)
def test_secret_names(name, secret):
    assert is_secret_name(name) is secret


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            f"https://acct.blob.core.windows.net/c?sv=2022-11-02&se=2030-01-01&sig={SIG}&sp=r",
            f"https://acct.blob.core.windows.net/c?sv=2022-11-02&se=2030-01-01&sig={SCRUBBED}&sp=r",
        ),
        (
            f"{STORAGE}{ACCOUNT_KEY};EndpointSuffix=core.windows.net",
            f"{STORAGE}{SCRUBBED};EndpointSuffix=core.windows.net",
        ),
        (
            f"{SERVICE_BUS}{ACCOUNT_KEY}",
            f"{SERVICE_BUS}{SCRUBBED}",
        ),
        (
            f"https://x/y?url=https%3A%2F%2Fa%2Fb%3Fsig%3D{SIG}%26se%3D1",
            f"https://x/y?url=https%3A%2F%2Fa%2Fb%3Fsig%3D{SCRUBBED}%26se%3D1",
        ),
        (f"Bearer {JWT}", f"Bearer {SCRUBBED}"),
        (
            "client_id=app&client_secret=s3cr3t&code=0.AXauthcode&grant_type=authorization_code",
            f"client_id=app&client_secret={SCRUBBED}&code={SCRUBBED}&grant_type=authorization_code",
        ),
        (
            f"{VNETS}?api-version=2024-05-01&$skiptoken=page1",
            f"{VNETS}?api-version=2024-05-01&$skiptoken=page1",
        ),
        (
            "Resources | where type =~ 'microsoft.network/virtualnetworks'",
            "Resources | where type =~ 'microsoft.network/virtualnetworks'",
        ),
    ],
)
def test_secret_shapes_in_text(text, expected):
    assert scrub_text(text) == expected


def test_realistic_arm_bodies_lose_their_secrets_and_keep_their_data():
    connection = {
        "id": CONN_ID,
        "name": "c1",
        "tags": {"apiKeyOwner": "netops", "note": f"sig={SIG}"},
        "properties": {
            "connectionType": "ExpressRoute",
            "sharedKey": SHARED_KEY,
            "authorizationKey": AUTH_KEY,
            "connectionStatus": "Connected",
            "virtualNetworkGateway1": {"id": CONN_ID + "/gw"},
            "ipsecPolicies": [],
            "keyVault": {"keyVaultId": KV_ID, "secretName": "psk"},
        },
    }
    storage_keys = {"keys": [{"keyName": "key1", "value": ACCOUNT_KEY, "permissions": "FULL"}]}
    graph = {"totalRecords": 2, "$skipToken": "ew0KICAiJGlkIjogIjEwMCINCn0=", "data": [connection]}
    body = json.dumps({"value": [connection], "storage": storage_keys, "graph": graph}).encode()
    doc = json.loads(scrub_body(body))
    props = doc["value"][0]["properties"]
    assert props["sharedKey"] == SCRUBBED and props["authorizationKey"] == SCRUBBED
    assert props["keyVault"] == {"keyVaultId": KV_ID, "secretName": "psk"}
    assert props["connectionStatus"] == "Connected" and props["virtualNetworkGateway1"] == {
        "id": CONN_ID + "/gw"
    }
    assert doc["value"][0]["tags"] == {"apiKeyOwner": "netops", "note": f"sig={SCRUBBED}"}
    assert doc["storage"] == {"keys": [{"keyName": "key1", "value": SCRUBBED, "permissions": SCRUBBED}]}
    assert doc["graph"]["$skipToken"] == graph["$skipToken"] and doc["graph"]["totalRecords"] == 2
    flat = json.dumps(doc)
    for secret in (SHARED_KEY, AUTH_KEY, SIG, ACCOUNT_KEY):
        assert secret not in flat


def test_error_bodies_keep_their_code():
    body = {
        "error": {
            "code": "AuthorizationFailed",
            "message": "The client 'a@contoso.com' cannot read keyVaultId x",
        }
    }
    assert json.loads(scrub_body(json.dumps(body))) == body


def test_auxiliary_token_and_cookies_in_headers_and_jwts_in_any_header():
    request = Request(
        "GET",
        f"https://management.azure.com/subscriptions/{SUB}?api-version=2022-12-01",
        None,
        {
            "Authorization": f"Bearer {JWT}",
            "x-ms-authorization-auxiliary": f"Bearer {JWT}, Bearer {JWT}",
            "Cookie": "esctx=abc",
            "x-ms-client-request-id": "req-1",
            "x-custom": f"token {JWT}",
        },
    )
    headers = dict(scrub_request(request).headers)
    assert (
        headers["Authorization"] == headers["x-ms-authorization-auxiliary"] == headers["Cookie"] == SCRUBBED
    )
    assert headers["x-ms-client-request-id"] == "req-1" and headers["x-custom"] == f"token {SCRUBBED}"
    response = scrub_response(
        {
            "headers": {
                "Set-Cookie": ["fpc=secret"],
                "Location": [f"https://a/b?sig={SIG}"],
                "x-ms-request-id": ["r1"],
            },
            "body": {"string": b""},
        }
    )
    assert response["headers"] == {
        "Set-Cookie": [SCRUBBED],
        "Location": [f"https://a/b?sig={SCRUBBED}"],
        "x-ms-request-id": ["r1"],
    }


class SecretStub(BaseHTTPRequestHandler):
    """Answers like ARM with a connection's keys, a SAS link and a token in a header."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        body = json.dumps(
            {
                "value": [
                    {
                        "id": CONN_ID,
                        "name": "c1",
                        "properties": {
                            "sharedKey": SHARED_KEY,
                            "authorizationKey": AUTH_KEY,
                            "keyVaultId": KV_ID,
                            "diagnostics": f"https://acct.blob.core.windows.net/c?sv=2022-11-02&sig={SIG}",
                            "storage": f"{STORAGE}{ACCOUNT_KEY}",
                        },
                    }
                ]
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("x-ms-echo", f"Bearer {JWT}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def stub():
    server = ThreadingHTTPServer(("127.0.0.1", 0), SecretStub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_recording_through_vcrpy_scrubs_every_pattern(stub, tmp_path):
    path = tmp_path / "rec.yaml"
    with recording(path):
        requests.get(
            f"{stub}/subscriptions/{SUB}/providers/Microsoft.Network/connections?api-version=2024-05-01"
            f"&$skiptoken=page1&sig={SIG}",
            headers={"Authorization": f"Bearer {JWT}", "x-ms-authorization-auxiliary": f"Bearer {JWT}"},
        )
    text = path.read_text(encoding="utf-8")
    for secret in (JWT, JWT.split(".")[1], SHARED_KEY, AUTH_KEY, SIG, ACCOUNT_KEY):
        assert secret not in text
    (interaction,) = yaml.safe_load(text)["interactions"]
    request, response = interaction["request"], interaction["response"]
    assert request["uri"].endswith(f"&$skiptoken=page1&sig={SCRUBBED}")
    assert request["headers"]["x-ms-authorization-auxiliary"] == [SCRUBBED]
    assert response["headers"]["x-ms-echo"] == [f"Bearer {SCRUBBED}"]
    props = json.loads(response["body"]["string"])["value"][0]["properties"]
    assert props["keyVaultId"] == KV_ID and props["sharedKey"] == SCRUBBED
    assert props["storage"] == f"{STORAGE}{SCRUBBED}"


def test_a_new_recording_replaces_the_old_cassette_only_when_done(stub, tmp_path):
    path = tmp_path / "rec.yaml"
    path.write_text("previous cassette\n", encoding="utf-8")
    with recording(path):
        requests.get(
            f"{stub}/subscriptions/{SUB}/providers/Microsoft.Network/connections?api-version=2024-05-01"
        )
        assert path.read_text(encoding="utf-8") == "previous cassette\n"
    assert len(yaml.safe_load(path.read_text(encoding="utf-8"))["interactions"]) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["rec.yaml"]
