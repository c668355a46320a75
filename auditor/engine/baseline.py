"""Change since a previous findings.json: each finding is new or unchanged (by fingerprint), and the
previous file's findings that are gone are resolved."""

from __future__ import annotations

from auditor.engine.evaluation import Evaluation
from auditor.engine.rule import Finding

NEW, UNCHANGED = "new", "unchanged"


def compare(result: Evaluation, previous: Evaluation, origin: str) -> None:
    """Mark `result`'s findings and record the comparison in `result.baseline`."""
    before = {f.fingerprint: f for f in previous.findings}
    for finding in result.findings:
        finding.baseline_status = UNCHANGED if finding.fingerprint in before else NEW
    now = {f.fingerprint for f in result.findings}
    result.baseline = {
        "file": origin,
        "new": sum(f.baseline_status == NEW for f in result.findings),
        "unchanged": sum(f.baseline_status == UNCHANGED for f in result.findings),
        "resolved": [resolved_entry(f) for fp, f in before.items() if fp not in now],
    }


def resolved_entry(finding: Finding) -> dict:
    return {"rule_id": finding.rule_id, "severity": finding.severity.value,
            "resource_id": finding.resource_id, "fingerprint": finding.fingerprint, "message": finding.message}


def new_findings(result: Evaluation) -> list[Finding]:
    """Unwaived findings the baseline did not have."""
    return [f for f in result.findings if f.baseline_status == NEW and not f.waived]
