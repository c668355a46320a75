"""Secrets out of log text: Authorization and cookie values, bearer tokens, JWTs, token fields."""

from __future__ import annotations

import re

MASK = "REDACTED"

_VALUE = r"(['\"]?\s*[:=]\s*['\"]?)(?:(?:bearer|basic)\s+)?[^'\"\r\n,;&}\s]+"
_PATTERNS = [
    re.compile(r"(?i)\bbearer\s+[\w\-.~+/]+=*"),
    re.compile(r"\beyJ[\w-]*\.[\w-]+\.[\w-]*"),  # a JWT: base64url header "{..."
]
_FIELDS = re.compile(r"(?i)\b(authorization|cookie|set-cookie|x-ms-[\w-]*token|(?:access|refresh|id)_token"
                     r"|client_secret|client_assertion|password|sig)" + _VALUE)


def redact(text: str) -> str:
    """The text with every secret-looking value replaced by REDACTED."""
    text = _FIELDS.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    for pattern in _PATTERNS:
        text = pattern.sub(MASK, text)
    return text
