"""What went wrong with a call, in one line: (code, message) for the snapshot's coverage."""

from __future__ import annotations

from azure.core.exceptions import (
    ClientAuthenticationError,
    DecodeError,
    HttpResponseError,
    ServiceRequestError,
    ServiceRequestTimeoutError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)

from auditor.errors import InputError


class CollectFailed(InputError):
    """Collection cannot start or go on at all (no login, discovery refused); one line for the user."""


class CallStopped(Exception):
    """The collector itself ended a call; `code` is what the snapshot's coverage records."""

    code = "CallStopped"


class UntrustedNextLink(CallStopped):
    """A paging link to another endpoint: following it would send the token there."""

    code = "UntrustedNextLink"


class PagingDidNotTerminate(CallStopped):
    code = "PagingDidNotTerminate"


class MalformedResponse(CallStopped):
    """A page or resource not shaped as the API documents it."""

    code = "MalformedResponse"


class CallTimedOut(CallStopped):
    code = "Timeout"


class Interrupted(CallStopped):
    code = "Interrupted"


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def describe(exc: BaseException) -> tuple[str | None, str]:
    if isinstance(exc, CallStopped):
        return exc.code, _one_line(str(exc) or exc.code)
    if isinstance(exc, DecodeError):
        return MalformedResponse.code, _one_line(f"not JSON: {exc}")
    if isinstance(exc, HttpResponseError) and exc.status_code is not None:
        error = getattr(exc, "error", None)
        code = getattr(error, "code", None) or str(exc.status_code)
        message = getattr(error, "message", None) or exc.reason or str(exc)
        return code, _one_line(f"HTTP {exc.status_code}: {message}")
    if isinstance(exc, (ServiceRequestTimeoutError, ServiceResponseTimeoutError)) or "timed out" in str(exc).lower():
        return "Timeout", _one_line(f"timed out: {exc}")
    if isinstance(exc, ServiceRequestError):
        return "ConnectionError", _one_line(str(exc))
    if isinstance(exc, ServiceResponseError):
        return "ConnectionError", _one_line(str(exc))
    return type(exc).__name__, _one_line(str(exc) or type(exc).__name__)


def is_login_failure(exc: BaseException) -> bool:
    """The credential could not produce a token: every call would fail the same way."""
    from azure.identity import CredentialUnavailableError

    if isinstance(exc, CredentialUnavailableError):
        return True
    return isinstance(exc, ClientAuthenticationError) and getattr(exc, "response", None) is None


def login_hint(exc: BaseException) -> str:
    """One line for a credential that produced no token (azure-identity's own text lists every source it tried)."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return _one_line(
        f"could not sign in to Azure ({first}). Run `az login`, set AZURE_CLIENT_ID/AZURE_TENANT_ID/"
        "AZURE_CLIENT_SECRET (or a federated token), or run where a managed identity is available",
        400,
    )
