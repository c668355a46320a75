"""SARIF 2.1.0 for GitHub code scanning and Azure DevOps.

Locations: an Azure finding has no source file, but code scanning needs a physical
location. Each result points at the input file (snapshot or export) that holds the
resource, at the line of its `"id"` when that file is readable, else line 1 of the first
input; the ARM resource id itself is the logical location (`kind: resource`), and the
finding fingerprint is the partial fingerprint, so re-scans deduplicate.
"""

from __future__ import annotations

import json

from auditor.engine import Evaluation
from auditor.engine.limits import limited_line
from auditor.engine.rule import Finding
from auditor.engine.ruledocs import controls_doc
from auditor.model.ids import norm_id
from auditor.model.snapshot import Snapshot
from reports.common import catalogue
from reports.locations import file_uri, id_lines

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
FINGERPRINT_KEY = "vnetAuditFingerprint/v1"
DEFAULT_URI = "snapshot.json"


def _descriptor(summary, rule) -> dict:
    severity = summary.severity.value
    full = rule.rationale if rule else summary.title
    remediation = rule.remediation if rule else ""
    help_text = f"{full}\n\nHow to fix: {remediation}\n\nDocs: {summary.docs}" if remediation else f"{full}\n\nDocs: {summary.docs}"
    help_md = f"{full}\n\n**How to fix:** {remediation}\n\n[Azure documentation]({summary.docs})" if remediation else f"{full}\n\n[Azure documentation]({summary.docs})"
    descriptor = {
        "id": summary.id,
        "name": summary.slug,
        "shortDescription": {"text": summary.title},
        "fullDescription": {"text": full},
        "help": {"text": help_text, "markdown": help_md},
        "defaultConfiguration": {"level": LEVEL[severity]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[severity],
            "severity": severity,
            "tags": ["security", "azure", "network", *summary.controls],
            "controls": controls_doc(summary.controls),
        },
    }
    if summary.docs:
        descriptor["helpUri"] = summary.docs
    return descriptor


def _result(f: Finding, rule_index: dict[str, int], where: tuple[str, int]) -> dict:
    uri, line = where
    result = {
        "ruleId": f.rule_id,
        "level": LEVEL[f.severity.value],
        "message": {"text": f.message},
        "locations": [{
            "physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": line}},
            "logicalLocations": [{"fullyQualifiedName": f.resource_id, "name": f.resource_name, "kind": "resource"}],
        }],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
        "properties": {"severity": f.severity.value, "subscription_id": f.subscription_id,
                       "evidence": f.evidence, "controls": f.controls},
    }
    if f.rule_id in rule_index:
        result["ruleIndex"] = rule_index[f.rule_id]
    if f.baseline_status:
        result["baselineState"] = f.baseline_status
    if f.related_ids:
        result["relatedLocations"] = [
            {"id": i, "logicalLocations": [{"fullyQualifiedName": rid, "kind": "resource"}]}
            for i, rid in enumerate(f.related_ids, 1)
        ]
    if f.waived:
        suppression = {"kind": "external", "status": "accepted",
                       "justification": f.waiver.justification if f.waiver else "waived"}
        if f.waiver:
            suppression["properties"] = {"owner": f.waiver.owner, "expires": f.waiver.expires, "source": f.waiver.source}
        result["suppressions"] = [suppression]
    return result


def _absent(entry: dict, rule_index: dict[str, int], where: tuple[str, int]) -> dict:
    """A baseline finding that is gone: SARIF's `baselineState: absent`, at level none (nothing to fix)."""
    uri, line = where
    result = {
        "ruleId": entry["rule_id"],
        "level": "none",
        "message": {"text": f"Resolved since the baseline: {entry.get('message', '')}"},
        "locations": [{
            "physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": line}},
            "logicalLocations": [{"fullyQualifiedName": entry["resource_id"], "kind": "resource"}],
        }],
        "partialFingerprints": {FINGERPRINT_KEY: entry["fingerprint"]},
        "baselineState": "absent",
    }
    if entry["rule_id"] in rule_index:
        result["ruleIndex"] = rule_index[entry["rule_id"]]
    return result


def _notifications(result: Evaluation) -> list[dict]:
    notes = []
    for sub in result.coverage.get("incomplete", []):
        reasons = "; ".join(f"{e.get('scope')}: {e.get('message')}" for e in sub.get("errors", [])) or sub.get("status")
        name = sub.get("display_name") or sub["subscription_id"]
        notes.append({
            "level": "warning",
            "descriptor": {"id": "coverage-incomplete"},
            "message": {"text": f"Subscription {name} ({sub['subscription_id']}) is {sub.get('status')}: {reasons}. "
                                "Findings may be missing for it."},
        })
    for sub in result.coverage.get("limited", []):
        notes.append({
            "level": "warning",
            "descriptor": {"id": "checks-limited"},
            "message": {"text": f"Subscription {limited_line(sub)}: findings of these rules may be missing for it."},
            "properties": {"subscription_id": sub["subscription_id"], "rules": sub.get("rules", []),
                           "missing_resource_types": [m["resource_type"] for m in sub.get("missing", [])]},
        })
    for error in result.errors:
        notes.append({
            "level": "error",
            "descriptor": {"id": "rule-error"},
            "associatedRule": {"id": error.rule_id},
            "message": {"text": f"Rule {error.rule_id} failed: {error.error}"},
        })
    return notes


def sarif(result: Evaluation) -> dict:
    rules = catalogue()
    descriptors = [_descriptor(s, rules.get(s.id)) for s in result.rules]
    rule_index = {s.id: i for i, s in enumerate(result.rules)}
    inputs = [str(i) for i in result.scan.get("inputs") or []]
    lines = id_lines(inputs)
    fallback = (file_uri(inputs[0]) if inputs else DEFAULT_URI, 1)
    invocation = {
        "executionSuccessful": not result.errors,
        "toolExecutionNotifications": _notifications(result),
        "properties": {"coverage_complete": result.coverage.get("complete", True),
                       "subscriptions_incomplete": result.coverage.get("subscriptions_incomplete", 0),
                       "subscriptions_limited": result.coverage.get("subscriptions_limited", 0)},
    }
    if result.scan.get("scanned_at"):
        invocation["startTimeUtc"] = result.scan["scanned_at"]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": result.tool.get("name", "vnet-audit"),
                "version": str(result.tool.get("version", "")),
                "rules": descriptors,
            }},
            "automationDetails": {"id": "vnet-audit/"},
            "invocations": [invocation],
            "results": [_result(f, rule_index, lines.get(norm_id(f.resource_id), fallback)) for f in result.findings]
            + [_absent(e, rule_index, lines.get(norm_id(e["resource_id"]), fallback))
               for e in result.baseline.get("resolved", [])],
            "properties": {"scan": {k: result.scan.get(k) for k in ("scanned_at", "source", "cloud", "run_by")}},
        }],
    }


def render(result: Evaluation, snapshot: Snapshot | None = None) -> str:
    return json.dumps(sarif(result), indent=2, default=str) + "\n"


