"""`vnet-audit diff` output: one line per change (text), or the changes as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict

from auditor.model.diff import ADDED, REMOVED, Change

_SIGN = {ADDED: "+", REMOVED: "-"}


def _shown(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return json.dumps(value) if isinstance(value, (bool, type(None))) else str(value)


def as_text(changes: list[Change]) -> str:
    lines = []
    for c in changes:
        if c.change in _SIGN:
            lines.append(f"{_SIGN[c.change]} {c.kind} {c.id}")
            continue
        lines.append(f"~ {c.kind} {c.id}")
        lines += [f"    {name}: {_shown(v['old'])} -> {_shown(v['new'])}" for name, v in c.fields.items()]
    return "\n".join(lines) + "\n" if lines else ""


def as_json(changes: list[Change]) -> str:
    return json.dumps({"identical": not changes, "changes": [asdict(c) for c in changes]}, indent=2) + "\n"
