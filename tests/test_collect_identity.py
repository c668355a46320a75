"""Who ran the scan: the Azure identity from the token's claims, never the secret itself."""

import base64
import json

from azure.core.credentials import AccessToken

from auditor.input.collect.auth import StaticTokenCredential, identity_of

SCOPES = ("https://management.azure.com/.default",)


class JwtCredential:
    def __init__(self, claims: dict):
        payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        self.token = f"eyJhbGciOiJub25lIn0.{payload}.signature"
        self.scopes = None

    def get_token(self, *scopes, **kwargs):
        self.scopes = scopes
        return AccessToken(self.token, 4102444800)


def test_user_principal_name_from_the_token():
    credential = JwtCredential({"upn": "auditor@contoso.com", "appid": "04b07795-8ddb-461a-bbee-02f9e1bf7b46"})
    assert identity_of(credential, SCOPES) == "auditor@contoso.com"
    assert credential.scopes == SCOPES


def test_service_principal_or_managed_identity_by_app_id():
    assert identity_of(JwtCredential({"appid": "11111111-2222-3333-4444-555555555555", "oid": "x"}), SCOPES) == \
        "app 11111111-2222-3333-4444-555555555555"


def test_no_identity_for_tokens_that_are_not_jwts_or_failing_credentials():
    class Failing:
        def get_token(self, *scopes, **kwargs):
            raise RuntimeError("no login")

    assert identity_of(StaticTokenCredential(), SCOPES) is None
    assert identity_of(Failing(), SCOPES) is None
    assert identity_of(JwtCredential({"oid": "only-an-object-id"}), SCOPES) is None
