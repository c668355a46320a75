"""summary.md: a short summary for a pull-request comment or `$GITHUB_STEP_SUMMARY`."""

from __future__ import annotations

import re

from auditor.engine import Evaluation, incomplete_reason
from auditor.engine.limits import limited_line
from auditor.model.snapshot import Snapshot
from reports.common import SEVERITIES

MAX_ROWS = 20
_SPECIAL = re.compile(r"([\\`*_\[\]()|~#])")
# GitHub links bare `scheme://` and `www.` text on its own; a zero-width joiner breaks the pattern
_AUTOLINK = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*:(?=//)|\bwww(?=\.)")
ZWJ = "\u200d"
_ICON = {"critical": "🟥", "high": "🟧", "medium": "🟨", "low": "🟦", "info": "⬜"}


def md(text: object) -> str:
    """Azure values as inert Markdown text: no tables broken, links (bare URLs too), markup or mentions."""
    s = _SPECIAL.sub(r"\\\1", str(text if text is not None else ""))
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("@", "&#64;")
    s = _AUTOLINK.sub(lambda m: m.group(0) + ZWJ, s)
    return " ".join(s.split())


def _baseline(result: Evaluation, max_rows: int) -> list[str]:
    """New and resolved findings since --baseline, before the totals; nothing without a baseline."""
    b = result.baseline
    if not b:
        return []
    new = [f for f in result.findings if f.baseline_status == "new" and not f.waived]
    resolved = b.get("resolved", [])
    out = ["### Since the baseline", "",
           f"Compared with {md(b.get('file'))}: {b.get('new', 0)} new, {b.get('unchanged', 0)} unchanged, "
           f"{len(resolved)} resolved.", ""]
    for f in new[:max_rows]:
        sev = f"{_ICON[f.severity.value]} {f.severity.value}"
        out.append(f"- 🆕 {sev} {md(f.rule_id)} {md(f.resource_name)}: {md(f.message)}")
    for e in resolved[:max_rows]:
        name = e.get("resource_id", "").rsplit("/", 1)[-1]
        out.append(f"- ✅ resolved {md(e.get('rule_id'))} {md(name)}: {md(e.get('message'))}")
    if len(new) > max_rows or len(resolved) > max_rows:
        out.append("- _more not shown; see the HTML or JSON report_")
    if new or resolved:
        out.append("")
    return out


def _trend(result: Evaluation, runs: int = 5) -> list[str]:
    """The last runs of the scan history, newest first; nothing without a history."""
    rows = result.history.get("runs", []) if result.history else []
    if not rows:
        return []
    out = [f"### Trend (last {min(runs, len(rows))} of {len(rows)} runs)", "",
           "| Run | Scanned (UTC) | " + " | ".join(SEVERITIES) + " | new | resolved |",
           "|---:|---|" + "---:|" * (len(SEVERITIES) + 2)]
    for r in reversed(rows[-runs:]):
        changes = " | ".join("–" if r[k] is None else str(r[k]) for k in ("new", "resolved"))
        out.append(f"| {r['run_id']} | {md(r['scanned_at'][:16].replace('T', ' '))} | "
                   + " | ".join(str(r[v]) for v in SEVERITIES) + f" | {changes} |")
    return [*out, ""]


def render(result: Evaluation, snapshot: Snapshot | None = None, max_rows: int = MAX_ROWS) -> str:
    s = result.summary
    active = [f for f in result.findings if not f.waived]
    out = ["## vnet-audit summary", ""]
    scan = result.scan
    counts = scan.get("counts", {})
    out.append(
        f"Scanned {counts.get('virtual_networks', 0)} VNets and {counts.get('peerings', 0)} peerings in "
        f"{result.coverage.get('subscriptions_total', 0)} subscriptions"
        + (f" on {md(scan['scanned_at'][:19].replace('T', ' '))} UTC" if scan.get("scanned_at") else "")
        + f" with {len(result.rules)} rules (vnet-audit {md(result.tool.get('version', ''))})."
    )
    out.append("")
    incomplete = result.coverage.get("incomplete", [])
    if incomplete:
        out.append(f"> [!WARNING]\n> **Coverage incomplete:** {len(incomplete)} subscription(s) could not be read completely; findings for them may be missing.")
        for sub in incomplete:
            name = f"{md(sub['display_name'])} ({md(sub['subscription_id'])})" if sub.get("display_name") else md(sub["subscription_id"])
            out.append(f"> - {name}: {md(sub.get('status'))}: {md(incomplete_reason(sub))} (details in the HTML report)")
        out.append("")
    limited = result.coverage.get("limited", [])
    if limited:
        out.append(f"> [!WARNING]\n> **Checks limited:** the input lacks resource types some rules read in "
                   f"{len(limited)} subscription(s); their findings there may be missing.")
        out.extend(f"> - {md(limited_line(sub))}" for sub in limited)
        out.append("")
    for error in result.errors:
        out.append(f"> [!CAUTION]\n> Rule {md(error.rule_id)} failed: {md(error.error)}")
        out.append("")
    out.extend(_baseline(result, max_rows))
    out.extend(_trend(result))
    by_sev = s.get("by_severity", {})
    out.append("| " + " | ".join(f"{_ICON[v]} {v}" for v in SEVERITIES) + " | waived |")
    out.append("|" + "---:|" * (len(SEVERITIES) + 1))
    out.append("| " + " | ".join(str(by_sev.get(v, 0)) for v in SEVERITIES) + f" | {s.get('waived', 0)} |")
    out.append("")
    if not active:
        out.append("No unwaived findings." if result.findings else "No findings.")
    else:
        out.append(f"### Findings ({len(active)})")
        out.append("")
        out.append("| Severity | Rule | Resource | Message | Controls |")
        out.append("|---|---|---|---|---|")
        for f in active[:max_rows]:
            sev = f"{_ICON[f.severity.value]} {f.severity.value}"
            controls = md(", ".join(f.controls)) or "–"
            out.append(f"| {sev} | {md(f.rule_id)} | {md(f.resource_name)} | {md(f.message)} | {controls} |")
        if len(active) > max_rows:
            out.append("")
            out.append(f"_{len(active) - max_rows} more finding(s) not shown; see the HTML, CSV or SARIF report for all {len(active)}._")
    if s.get("waived"):
        out.append("")
        out.append(f"{s['waived']} waived finding(s) not counted above.")
    return "\n".join(out) + "\n"
