"""The exit code of `scan`, `evaluate` and `report`, and the reason for it in words."""

from __future__ import annotations

from dataclasses import dataclass

from auditor.engine import Evaluation
from auditor.engine.baseline import new_findings
from auditor.engine.limits import incomplete_phrase
from auditor.engine.rule import Severity

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE, EXIT_RULE_ERROR = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class ExitPolicy:
    fail_on: Severity | None = None
    fail_on_new: Severity | None = None
    fail_on_incomplete: bool = False


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _at_or_above(findings, severity: Severity) -> list:
    return [f for f in findings if not f.waived and f.severity.rank >= severity.rank]


def _findings_phrase(found: list, severity: Severity, kind: str = "") -> str:
    worst = max(found, key=lambda f: f.severity.rank).severity.value
    return f"{_plural(len(found), kind + 'finding')} at or above {severity.value} (worst {worst})"


def decide(result: Evaluation, policy: ExitPolicy) -> tuple[int, str]:
    """Rule errors beat incomplete coverage, which beats findings: each makes the one after less
    trustworthy."""
    if result.errors:
        failed = ", ".join(e.rule_id for e in result.errors)
        return EXIT_RULE_ERROR, f"{_plural(len(result.errors), 'rule')} failed ({failed})"
    if policy.fail_on_incomplete and not result.coverage.get("complete", True):
        return EXIT_INCOMPLETE, f"{incomplete_phrase(result.coverage)}, with --fail-on-incomplete"
    reasons = []
    if policy.fail_on is not None and (found := _at_or_above(result.findings, policy.fail_on)):
        reasons.append(f"{_findings_phrase(found, policy.fail_on)}, with --fail-on {policy.fail_on.value}")
    if policy.fail_on_new is not None and (found := _at_or_above(new_findings(result), policy.fail_on_new)):
        reasons.append(f"{_findings_phrase(found, policy.fail_on_new, 'new ')}, "
                       f"with --fail-on-new {policy.fail_on_new.value}")
    if reasons:
        return EXIT_FINDINGS, "; ".join(reasons)
    return EXIT_OK, _why_ok(policy)


def _why_ok(policy: ExitPolicy) -> str:
    checks = [f"--fail-on {policy.fail_on.value}" if policy.fail_on else "",
              f"--fail-on-new {policy.fail_on_new.value}" if policy.fail_on_new else ""]
    given = " or ".join(c for c in checks if c)
    return f"nothing unwaived meets {given}" if given else "no --fail-on or --fail-on-new given"
