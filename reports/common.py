"""Small helpers shared by the reporters: display attributes derived from findings, never new findings."""

from __future__ import annotations

import json
import re
from typing import Any

from auditor.engine.rule import Finding, Rule, Severity
from auditor.model.ids import norm_id
from auditor.model.snapshot import Snapshot

SEVERITIES = [s.value for s in sorted(Severity, key=lambda s: -s.rank)]
_VNET = re.compile(r"^(/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/virtualNetworks/[^/]+)", re.IGNORECASE)


def vnet_ids_of(finding: Finding, snapshot: Snapshot | None = None) -> list[str]:
    """The VNets a finding is about (original casing): from its ids, or the NSG/route table associations."""
    found: dict[str, str] = {}
    for rid in [finding.resource_id, *finding.related_ids]:
        m = _VNET.match(rid or "")
        if m:
            found.setdefault(norm_id(m.group(1)), m.group(1))
    if not found and snapshot is not None:
        index = snapshot.index
        for rid in [finding.resource_id, *finding.related_ids]:
            for key in index.vnets_of(rid):
                found.setdefault(key, index.vnets[key].id)
    return list(found.values())


def vnet_name(vnet_id: str) -> str:
    return vnet_id.rstrip("/").rsplit("/", 1)[-1]


def evidence_text(value: Any) -> str:
    """One evidence value as short text: scalars as is, lists joined, mappings as compact JSON."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ", ".join(evidence_text(v) for v in value) if value else "(none)"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def catalogue() -> dict[str, Rule]:
    """Installed rules by id, for help texts; empty when a rule pack fails to load."""
    from auditor.engine import RuleLoadError, discover_rules

    try:
        return {r.id: r for r in discover_rules()}
    except RuleLoadError:
        return {}


def subscription_names(coverage: dict) -> dict[str, str]:
    return {
        (s.get("subscription_id") or "").lower(): s.get("display_name") or s.get("subscription_id")
        for s in coverage.get("subscriptions", [])
    }
