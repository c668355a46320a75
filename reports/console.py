"""The few lines on stderr at the end of `scan`, `evaluate` and `report`: what was found, how complete
it is, what changed since the baseline, and why the command exits as it does."""

from __future__ import annotations

from auditor.engine import Evaluation
from auditor.engine.limits import incomplete_phrase, subscriptions_complete
from reports.common import SEVERITIES

TOP_RULES = 3


def summary_lines(result: Evaluation, code: int, reason: str) -> list[str]:
    s = result.summary
    by_sev = s.get("by_severity", {})
    counts = ", ".join(f"{by_sev.get(v, 0)} {v}" for v in SEVERITIES)
    lines = [f"{s.get('total', 0)} unwaived findings ({counts}); {s.get('waived', 0)} waived"]
    coverage = result.coverage
    total = coverage.get("subscriptions_total", 0)
    limited = f" ({incomplete_phrase(coverage)})" if coverage.get("limited") else ""
    lines.append(f"coverage: {subscriptions_complete(coverage)}/{total} subscriptions complete{limited}")
    if result.baseline:
        b = result.baseline
        lines.append(f"since baseline {b.get('file')}: {b.get('new', 0)} new, "
                     f"{b.get('unchanged', 0)} unchanged, {len(b.get('resolved', []))} resolved")
    runs = result.history.get("runs", []) if result.history else []
    if runs:
        lines.append(f"history {result.history.get('file')}: run {runs[-1]['run_id']} recorded"
                     + ("" if runs[-1]["new"] is None else f", {runs[-1]['new']} new and "
                        f"{runs[-1]['resolved']} resolved since the run before"))
    top = sorted(s.get("by_rule", {}).items(), key=lambda item: (-item[1], item[0]))[:TOP_RULES]
    if top:
        lines.append("top rules: " + ", ".join(f"{rule} ({n})" for rule, n in top))
    lines.append(f"exit {code}: {reason}")
    return [f"vnet-audit: {line}" for line in lines]
