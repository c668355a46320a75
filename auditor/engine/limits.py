"""Checks an input limits: imported files cover only the resource types they hold, per subscription.

A rule reads some resource types (`Rule.reads`); in a subscription whose input holds none of one of
them (NSGs given without their VNets, gateways listed for some subscriptions only), the rule cannot
judge what it would find there. Reports name those rules per subscription instead of a clean pass.
A live scan (`Subscription.resource_types` None) lists every type and limits nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from auditor.input.normalize import TOP_LEVEL

if TYPE_CHECKING:
    from auditor.engine.rule import Rule
    from auditor.model.snapshot import Snapshot

PROVIDER = "microsoft.network/"
#: How reports name each type vnet-audit reads: its ARM resource type name.
_NAMES = ("virtualNetworks networkSecurityGroups routeTables virtualNetworkGateways localNetworkGateways "
          "connections networkInterfaces applicationSecurityGroups virtualWans virtualHubs networkManagers").split()
TYPE_NAMES = {PROVIDER + n.lower(): n for n in _NAMES if PROVIDER + n.lower() in TOP_LEVEL}


def full_type(name: str) -> str:
    """`virtualNetworkGateways` or `Microsoft.Network/virtualNetworkGateways` -> the lower-case type."""
    name = name.lower()
    return name if "/" in name else PROVIDER + name


def read_types(rule: Rule) -> list[str]:
    """The types a rule reads that vnet-audit collects (others cannot be missing from its input)."""
    return [t for t in dict.fromkeys(full_type(n) for n in rule.reads) if t in TOP_LEVEL]


def limited_checks(snapshot: Snapshot, rules: Iterable[Rule]) -> list[dict]:
    """Per subscription whose input lacks a type some rule reads: each missing type and its rules."""
    reads = [(rule.id, read_types(rule)) for rule in rules]
    order = {t: i for i, t in enumerate(TOP_LEVEL)}
    out = []
    for sub in snapshot.subscriptions:
        if sub.resource_types is None:
            continue
        missing: dict[str, list[str]] = {}
        for rule_id, types in reads:
            for rtype in types:
                if not sub.covers(rtype):
                    missing.setdefault(rtype, []).append(rule_id)
        if missing:
            by_type = [
                {"resource_type": t, "name": TYPE_NAMES.get(t, t), "rules": sorted(missing[t])}
                for t in sorted(missing, key=order.__getitem__)
            ]
            out.append(
                {
                    "subscription_id": sub.subscription_id,
                    "display_name": sub.display_name,
                    "rules": sorted({r for entry in by_type for r in entry["rules"]}),
                    "missing": by_type,
                }
            )
    return out


def limited_reason(entry: dict) -> str:
    """`no virtualNetworkGateways, routeTables in the input: GW001, ROUTE001 limited` (the types
    and the rules any of them limits; findings.json keeps which rule each type limits)."""
    types = ", ".join(m["name"] for m in entry.get("missing", []))
    return f"no {types} in the input: {', '.join(entry.get('rules', []))} limited"


def limited_line(entry: dict) -> str:
    """One line per subscription: `prod (0000...): no virtualNetworkGateways in the input: GW001 limited`."""
    sid = entry.get("subscription_id", "")
    name = f"{entry['display_name']} ({sid})" if entry.get("display_name") else sid
    return f"{name}: {limited_reason(entry)}"


def subscriptions_complete(coverage: dict) -> int:
    """Subscriptions read completely and with every type the rules read."""
    short = {
        e["subscription_id"].lower() for e in [*coverage.get("incomplete", []), *coverage.get("limited", [])]
    }
    return coverage.get("subscriptions_total", 0) - len(short)


def incomplete_phrase(coverage: dict) -> str:
    """`1 subscription incomplete and 2 with checks limited by the input`, for summaries and exit reasons."""
    incomplete = coverage.get("subscriptions_incomplete", 0)
    limited = coverage.get("subscriptions_limited", 0)
    parts = []
    if incomplete:
        parts.append(f"{_subscriptions(incomplete)} incomplete")
    if limited:
        parts.append(f"{limited if incomplete else _subscriptions(limited)} with checks limited by the input")
    return " and ".join(parts)


def _subscriptions(n: int) -> str:
    return f"{n} subscription{'' if n == 1 else 's'}"
