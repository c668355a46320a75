"""Names in a topology description stand for ids: the derivation every synthetic module shares."""

from __future__ import annotations

import uuid
from typing import Any

_NS = uuid.UUID("6f1d7c52-51d4-4b8e-9a35-8d5d2b7b1c00")
NET = "Microsoft.Network"


def guid(kind: str, name: str) -> str:
    return str(uuid.uuid5(_NS, f"{kind}:{name}"))


def listed(value: Any) -> list:
    """A value given as one item or a list, as a list."""
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]
