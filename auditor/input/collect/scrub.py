"""Secrets out of recorded HTTP interactions, by name and by shape, before a cassette is written.

A value is scrubbed when its name says it is a secret (a JSON key, header or form/query parameter
such as `sharedKey`, `client_secret`, `sig`, `x-ms-authorization-auxiliary`), or when it looks
like one wherever it appears: a JWT, a SAS `sig=`, an `AccountKey=` in a connection string.
Ids, names and paging tokens keep their values, so a cassette still replays.
"""

from __future__ import annotations

import json
import re
from typing import Any

SCRUBBED = "<scrubbed>"

#: a name part containing one of these marks a secret (sharedKey, clientSecret, x-ms-client-secret)
SECRET_PARTS = ("key", "secret", "password", "passwd", "pwd", "token", "credential", "assertion",
                "passphrase", "cookie")
#: a name part equal to one of these marks a secret ("sig" inside "assignment" does not)
SECRET_WORDS = frozenset({"sig", "signature", "sas", "authorization"})
#: names ending in one of these refer to a secret without holding it (keyVaultId, secretName, tokenType)
REFERENCE_ENDINGS = frozenset({"id", "ids", "uri", "url", "urls", "name", "names", "type", "types", "version",
                               "source", "expiry", "expires", "count", "enabled", "status", "state"})
#: paging cursors: opaque but not credentials, and replay matches on them
PAGING = frozenset({"skiptoken", "$skiptoken", "continuationtoken", "nextlink"})
#: headers that carry credentials whatever their name's parts say
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "x-ms-authorization-auxiliary", "cookie",
                            "set-cookie", "x-identity-header", "x-ms-client-secret", "secret"})
#: form fields that are secrets only in a form or query (an error body's "code" is not)
FORM_SECRETS = frozenset({"code"})

_NAME_PARTS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
# `name=` in forms, queries and connection strings; `%3D` is an encoded `=` (a SAS inside a URL),
# and a name may follow an encoded character (`%3Fsig%3D`)
_NAME_EQ = re.compile(r"(?:(?<=%[0-9A-Fa-f]{2})|(?<![\w.$-]))([A-Za-z_$][\w.$-]*)(?:=|%3D)", re.IGNORECASE)
_VALUE = re.compile(r"(?:(?!%26)[^&;\s\"'<>])+", re.IGNORECASE)


def _parts(name: str) -> list[str]:
    return [p.lower() for p in _NAME_PARTS.findall(name)]


def is_reference_name(name: str) -> bool:
    """True for a name that points at a secret or pages a list without holding a credential."""
    parts = _parts(name)
    return name.lower() in PAGING or (bool(parts) and parts[-1] in REFERENCE_ENDINGS)


def is_secret_name(name: str) -> bool:
    """True for a key, header or parameter name whose value is a credential."""
    if is_reference_name(name):
        return False
    return any(p in SECRET_WORDS or any(s in p for s in SECRET_PARTS) for p in _parts(name))


def scrub_text(text: str) -> str:
    """A string with every JWT and the value of every secret `name=value` pair replaced."""
    if "=" in text or "%3D" in text or "%3d" in text:
        text = _scrub_pairs(text)
    if "eyJ" in text:
        text = _JWT.sub(SCRUBBED, text)
    return text


def _scrub_pairs(text: str) -> str:
    out, pos = [], 0
    while match := _NAME_EQ.search(text, pos):
        name = match.group(1)
        out.append(text[pos:match.end()])
        pos = match.end()
        if is_secret_name(name) or name.lower() in FORM_SECRETS:
            out.append(SCRUBBED)
            value = _VALUE.match(text, pos)
            pos = value.end() if value else pos
    out.append(text[pos:])
    return "".join(out)


def scrub_json(doc: Any, secret: bool = False) -> Any:
    """A decoded JSON document with secret-named values and secret-shaped strings scrubbed.

    Inside a secret-named object or list (`"keys": [{"keyName": ..., "value": ...}]`) every
    string is a secret except under a reference name (`keyName`, `keyVaultId`)."""
    if isinstance(doc, dict):
        return {k: _scrub_member(k, v, secret) for k, v in doc.items()}
    if isinstance(doc, list):
        return [scrub_json(v, secret) for v in doc]
    if isinstance(doc, str):
        return SCRUBBED if secret else scrub_text(doc)
    return doc


def _scrub_member(key: str, value: Any, secret: bool) -> Any:
    if key == "tags" and isinstance(value, dict):  # tag names are the user's words, not field names
        return {k: scrub_json(v, secret) for k, v in value.items()}
    return scrub_json(value, not is_reference_name(key) and (secret or is_secret_name(key)))


def scrub_body(body: Any) -> Any:
    """A request or response body (bytes or text; JSON, a form or anything else), scrubbed."""
    if body in (None, b"", ""):
        return body
    if isinstance(body, bytes):
        try:
            return _scrub_body_text(body.decode("utf-8")).encode("utf-8")
        except UnicodeDecodeError:
            return body
    return _scrub_body_text(str(body))


def _scrub_body_text(text: str) -> str:
    try:
        doc = json.loads(text)
    except ValueError:
        return scrub_text(text)
    return json.dumps(scrub_json(doc))


def is_secret_header(name: str) -> bool:
    return name.lower() in SECRET_HEADERS or is_secret_name(name)


def scrub_request(request: Any) -> Any:
    """vcrpy's before_record_request hook."""
    for name in list(request.headers):
        value = request.headers[name]
        request.headers[name] = SCRUBBED if is_secret_header(name) else scrub_text(str(value))
    request.body = scrub_body(request.body)
    request.uri = scrub_text(request.uri)
    return request


def scrub_response(response: dict) -> dict:
    """vcrpy's before_record_response hook."""
    headers = response.get("headers") or {}
    for name in list(headers):
        if is_secret_header(name):
            headers[name] = [SCRUBBED]
        else:
            headers[name] = [scrub_text(str(v)) for v in headers[name]]
    body = response.get("body") or {}
    if body.get("string"):
        body["string"] = scrub_body(body["string"])
    return response
