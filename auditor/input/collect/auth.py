"""Clouds and credentials: which ARM endpoint, which token audience, which login authority."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from azure.core import AzureClouds
from azure.core.credentials import AccessToken, AccessTokenInfo
from azure.identity import AzureAuthorityHosts
from azure.mgmt.core.tools import get_arm_endpoints

from auditor.errors import InputError

CLOUDS = {
    "AzureCloud": (AzureClouds.AZURE_PUBLIC_CLOUD, AzureAuthorityHosts.AZURE_PUBLIC_CLOUD),
    "AzureUSGovernment": (AzureClouds.AZURE_US_GOVERNMENT, AzureAuthorityHosts.AZURE_GOVERNMENT),
    "AzureChinaCloud": (AzureClouds.AZURE_CHINA_CLOUD, AzureAuthorityHosts.AZURE_CHINA),
}


@dataclass(frozen=True)
class Cloud:
    name: str
    setting: AzureClouds
    authority: str
    resource_manager: str
    credential_scopes: tuple[str, ...]


def cloud(name: str) -> Cloud:
    """The SDK's endpoints for an `az cloud` name (AzureCloud, AzureUSGovernment, AzureChinaCloud)."""
    match = {k.lower(): k for k in CLOUDS}.get((name or "").lower())
    if match is None:
        raise InputError(f"unknown cloud {name!r}; choose from {', '.join(CLOUDS)}")
    setting, authority = CLOUDS[match]
    endpoints = get_arm_endpoints(setting)
    return Cloud(match, setting, authority, endpoints["resource_manager"], tuple(endpoints["credential_scopes"]))


def default_credential(cloud_: Cloud) -> Any:
    """DefaultAzureCredential for the cloud: environment, workload identity, managed identity, Azure CLI, ..."""
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential(authority=cloud_.authority, additionally_allowed_tenants=["*"])


class TenantCredential:
    """Binds a credential to one tenant: every token request names it (azure-identity's `tenant_id`)."""

    def __init__(self, inner: Any, tenant_id: str):
        self.inner, self.tenant_id = inner, tenant_id

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        kwargs.setdefault("tenant_id", self.tenant_id)
        return self.inner.get_token(*scopes, **kwargs)

    def get_token_info(self, *scopes: str, options: dict | None = None) -> AccessTokenInfo:
        options = {"tenant_id": self.tenant_id, **(options or {})}
        if hasattr(self.inner, "get_token_info"):
            return self.inner.get_token_info(*scopes, options=options)
        token = self.inner.get_token(*scopes, tenant_id=options["tenant_id"])
        return AccessTokenInfo(token.token, token.expires_on)


class StaticTokenCredential:
    """A credential that needs no login: for cassette replay and loopback fakes."""

    def __init__(self, token: str = "replay-token"):
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self.token, 4102444800)  # 2100-01-01

    def get_token_info(self, *scopes: str, options: dict | None = None) -> AccessTokenInfo:
        return AccessTokenInfo(self.token, 4102444800)


CredentialFactory = Callable[[str | None], Any]


def credential_factory(credential: Any, cloud_: Cloud) -> CredentialFactory:
    """tenant id (or None) -> credential. Accepts a credential, a factory, or None (DefaultAzureCredential)."""
    if callable(credential) and not hasattr(credential, "get_token"):
        return credential
    base = credential if credential is not None else default_credential(cloud_)
    cache: dict[str | None, Any] = {}

    def for_tenant(tenant_id: str | None) -> Any:
        if tenant_id is None or isinstance(base, StaticTokenCredential):
            return base
        if tenant_id not in cache:
            cache[tenant_id] = TenantCredential(base, tenant_id)
        return cache[tenant_id]

    return for_tenant


def identity_of(credential: Any, scopes: tuple[str, ...]) -> str | None:
    """Who the scan ran as, from the access token's claims (user principal name, or the app id
    of a service principal / managed identity). Read only, never verified: it is a label for the
    report. None when the token is not a JWT (replay) or carries neither claim."""
    import base64
    import json

    try:
        token = credential.get_token(*scopes).token  # cached by azure-identity: the scan already fetched it
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except Exception:
        return None
    user = claims.get("upn") or claims.get("unique_name") or claims.get("preferred_username")
    if user:
        return str(user)
    app = claims.get("appid") or claims.get("azp")
    return f"app {app}" if app else None
