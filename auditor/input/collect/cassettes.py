"""Record and replay a collection's HTTP interactions with vcrpy.

* `recording(path)`: writes every request/response; Authorization headers, cookies,
  tokens in bodies (access/refresh/id tokens), client secrets and client assertions are scrubbed.
* `replaying(path)`: serves them back (no network); use `StaticTokenCredential`, which needs no login.

Requests match on method, host-independent path (case-insensitive, as ARM is), the query
without `api-version` (so an SDK upgrade does not invalidate cassettes), and, for Resource
Graph queries, the query text, subscriptions and $skipToken in the body. Identical requests
replay in recorded order (a 429 then a 200).

Collect with `concurrency=1` inside these blocks: vcrpy briefly un-patches the HTTP
connection classes process-wide whenever it creates a connection, so a parallel thread
can slip past the cassette to the real network.
"""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qsl, urlsplit

import vcr

from auditor.errors import InputError

#: the concurrency to collect with while vcrpy is active (see above)
VCR_CONCURRENCY = 1
SCRUBBED = "<scrubbed>"
SECRET_FIELDS = ("access_token", "refresh_token", "id_token", "client_secret", "client_assertion", "assertion",
                 "password", "token", "accessToken", "refreshToken", "idToken", "clientSecret")
SECRET_HEADERS = ("authorization", "cookie", "set-cookie", "x-ms-client-secret", "x-identity-header", "secret")
_FORM_SECRET = re.compile(r"(?i)\b(client_secret|client_assertion|assertion|refresh_token|password|code)=([^&\s]+)")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


# -- matching -----------------------------------------------------------------------------
def _path(r: Any) -> str:
    return urlsplit(r.uri).path.rstrip("/").lower()


def _query(r: Any) -> list[tuple[str, str]]:
    return sorted((k.lower(), v) for k, v in parse_qsl(urlsplit(r.uri).query, keep_blank_values=True) if k.lower() != "api-version")


def match_path(r1: Any, r2: Any) -> None:
    assert _path(r1) == _path(r2), f"path {_path(r1)} != {_path(r2)}"


def match_query(r1: Any, r2: Any) -> None:
    assert _query(r1) == _query(r2), f"query {_query(r1)} != {_query(r2)}"


def _graph_key(r: Any) -> Any:
    if r.method.upper() != "POST":
        return None
    body = r.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        doc = json.loads(body or "{}")
    except ValueError:
        return body
    options = doc.get("options") or {}
    return (sorted(s.lower() for s in doc.get("subscriptions") or []), sorted(doc.get("managementGroups") or []),
            " ".join(str(doc.get("query", "")).split()), options.get("$skipToken"))


def match_graph_body(r1: Any, r2: Any) -> None:
    assert _graph_key(r1) == _graph_key(r2), "Resource Graph query body differs"


MATCH_ON = ("method", "arm_path", "arm_query", "graph_body")


# -- scrubbing ----------------------------------------------------------------------------
def _scrub_text(text: str) -> str:
    try:
        doc = json.loads(text)
    except ValueError:
        return _JWT.sub(SCRUBBED, _FORM_SECRET.sub(lambda m: f"{m.group(1)}={SCRUBBED}", text))
    return json.dumps(_scrub_json(doc))


def _scrub_json(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: (SCRUBBED if k in SECRET_FIELDS and isinstance(v, str) else _scrub_json(v)) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_scrub_json(v) for v in doc]
    if isinstance(doc, str):
        return _JWT.sub(SCRUBBED, doc)
    return doc


def _scrub_body(body: Any) -> Any:
    if body in (None, b"", ""):
        return body
    if isinstance(body, bytes):
        try:
            return _scrub_text(body.decode("utf-8")).encode("utf-8")
        except UnicodeDecodeError:
            return body
    return _scrub_text(str(body))


def scrub_request(request: Any) -> Any:
    for name in list(request.headers):
        if name.lower() in SECRET_HEADERS:
            request.headers[name] = SCRUBBED
    request.body = _scrub_body(request.body)
    request.uri = _FORM_SECRET.sub(lambda m: f"{m.group(1)}={SCRUBBED}", request.uri)
    return request


def scrub_response(response: dict) -> dict:
    headers = response.get("headers") or {}
    for name in list(headers):
        if name.lower() in SECRET_HEADERS:
            headers[name] = [SCRUBBED]
    body = response.get("body") or {}
    if body.get("string"):
        body["string"] = _scrub_body(body["string"])
    return response


# -- record / replay ----------------------------------------------------------------------
def make_vcr(**overrides: Any) -> vcr.VCR:
    v = vcr.VCR(
        serializer="yaml",
        match_on=MATCH_ON,
        before_record_request=scrub_request,
        before_record_response=scrub_response,
        decode_compressed_response=True,
        **overrides,
    )
    v.register_matcher("arm_path", match_path)
    v.register_matcher("arm_query", match_query)
    v.register_matcher("graph_body", match_graph_body)
    return v


@contextmanager
def recording(path: Path | str) -> Iterator[Any]:
    """Record every HTTP interaction inside the block to `path` (overwritten), scrubbed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    with make_vcr(record_mode="all").use_cassette(str(path)) as cassette:
        yield cassette


@contextmanager
def replaying(path: Path | str, allow_repeats: bool = False) -> Iterator[Any]:
    """Serve the block's HTTP requests from `path`; a request it does not hold fails like a network error."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such cassette")
    with make_vcr(record_mode="none").use_cassette(str(path), allow_playback_repeats=allow_repeats) as cassette:
        yield cassette
