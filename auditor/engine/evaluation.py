"""Run rules over a snapshot: findings, rule errors and coverage, as one Evaluation."""

from __future__ import annotations

import traceback
from collections import Counter
from typing import TYPE_CHECKING
from collections.abc import Iterable

from pydantic import BaseModel, Field

from auditor import __version__
from auditor.engine.limits import limited_checks
from auditor.engine.rule import Finding, Rule, Severity
from auditor.errors import InputError
from auditor.gc_pause import gc_paused
from auditor.model.snapshot import SCHEMA_VERSION, Snapshot, Subscription, to_builtins

if TYPE_CHECKING:
    from auditor.engine.intents import Intents

RESULTS_SCHEMA_VERSION = "1.0"


class RuleError(BaseModel):
    rule_id: str
    error: str
    detail: str


class RuleSummary(BaseModel):
    id: str
    slug: str
    title: str
    severity: Severity
    docs: str
    findings: int
    controls: list[str] = Field(default_factory=list)


class Evaluation(BaseModel):
    """Findings plus everything a reporter needs to say how complete they are."""

    schema_version: str = RESULTS_SCHEMA_VERSION
    tool: dict = Field(default_factory=lambda: {"name": "vnet-audit", "version": __version__})
    scan: dict = Field(default_factory=dict)
    coverage: dict = Field(default_factory=dict)
    rules: list[RuleSummary] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    errors: list[RuleError] = Field(default_factory=list)
    waivers: dict = Field(default_factory=dict)
    baseline: dict = Field(default_factory=dict)  # empty unless compared with a previous findings.json
    history: dict = Field(default_factory=dict)  # empty unless the run was recorded in a history file
    summary: dict = Field(default_factory=dict)

    def refresh_summary(self) -> None:
        active = [f for f in self.findings if not f.waived]
        self.summary = {
            "total": len(active),
            "waived": len(self.findings) - len(active),
            "by_severity": {s.value: sum(f.severity == s for f in active) for s in Severity},
            "by_rule": dict(sorted(Counter(f.rule_id for f in active).items())),
            "rules_run": len(self.rules),
            "rule_errors": len(self.errors),
            "coverage_complete": self.coverage.get("complete", True),
        }
        counts = Counter(f.rule_id for f in self.findings)
        for summary in self.rules:
            summary.findings = counts.get(summary.id, 0)

    def worst_active_severity(self) -> Severity | None:
        active = [f.severity for f in self.findings if not f.waived]
        return max(active, key=lambda s: s.rank) if active else None


def coverage_of(snapshot: Snapshot, rules: Iterable[Rule] = ()) -> dict:
    """Which subscriptions were read completely, and which of `rules` the input limits (`engine.limits`)."""
    def entry(s: Subscription) -> dict:
        return {
            "subscription_id": s.subscription_id,
            "display_name": s.display_name,
            "tenant_id": s.tenant_id,
            "status": s.status.value,
            "errors": [to_builtins(e) for e in s.errors],
        }

    incomplete = snapshot.incomplete_subscriptions
    limited = limited_checks(snapshot, rules)
    return {
        "complete": not incomplete and not limited,
        "subscriptions_total": len(snapshot.subscriptions),
        "subscriptions_incomplete": len(incomplete),
        "incomplete": [entry(s) for s in incomplete],
        "subscriptions_limited": len(limited),
        "limited": limited,
        "subscriptions": [entry(s) for s in snapshot.subscriptions],
    }


def incomplete_reason(entry: dict) -> str:
    """A coverage entry's errors, short: `AuthorizationFailed on virtualNetworks, routeTables; Timeout on ...`."""
    by_code: dict[str, list[str]] = {}
    for error in entry.get("errors", []):
        by_code.setdefault(error.get("code") or "error", []).append(error["scope"])
    return "; ".join(f"{code} on {', '.join(scopes)}" for code, scopes in by_code.items()) or entry.get("status", "")


def evaluate(snapshot: Snapshot, rules: list[Rule], intents: Intents | None = None) -> Evaluation:
    findings: list[Finding] = []
    errors: list[RuleError] = []
    # The snapshot outlives the evaluation, and so does most of what the rules build (the index's
    # memos, the findings): the cyclic collector would rescan the snapshot's millions of objects
    # on every collection the rules trigger (~40% of evaluate at 2,000 VNets), and the memos on
    # every full one (half of TRANS001's time on a chain of 50 hubs x 100 spokes). It is paused
    # while they run, and what they built joins the snapshot in the oldest generation.
    with gc_paused():
        for rule in rules:
            try:
                findings.extend(rule.run(snapshot, intents))
            except InputError:
                raise  # a user's mistake (an intent's scope too large): one line, not a rule failure
            except Exception as exc:  # one broken rule must not stop the others
                errors.append(RuleError(rule_id=rule.id, error=f"{type(exc).__name__}: {exc}",
                                        detail=traceback.format_exc()))
    findings.sort(key=lambda f: (-f.severity.rank, f.rule_id, f.resource_id.lower(), f.fingerprint))
    meta = snapshot.metadata
    result = Evaluation(
        scan={
            "scanned_at": meta.scanned_at.isoformat(),
            "source": meta.source,
            "cloud": meta.cloud,
            "run_by": meta.run_by,
            "inputs": meta.inputs,
            "snapshot_schema_version": SCHEMA_VERSION,
            "tenants": [to_builtins(t) for t in snapshot.tenants],
            "skipped_resource_types": meta.skipped_resource_types,
            "counts": {
                "virtual_networks": len(snapshot.virtual_networks),
                "peerings": sum(len(v.peerings) for v in snapshot.virtual_networks),
                "network_security_groups": len(snapshot.network_security_groups),
                "route_tables": len(snapshot.route_tables),
                "virtual_network_gateways": len(snapshot.virtual_network_gateways),
                "local_network_gateways": len(snapshot.local_network_gateways),
                "connections": len(snapshot.connections),
            },
        },
        coverage=coverage_of(snapshot, rules),
        rules=[
            RuleSummary(id=r.id, slug=r.slug, title=r.title, severity=r.severity, docs=r.docs, findings=0,
                        controls=list(r.controls))
            for r in rules
        ],
        findings=findings,
        errors=errors,
    )
    result.refresh_summary()
    return result
