"""The trend section: findings per severity over the runs in the history file, and the open findings
that have been open longest (the tables come from `auditor.history.trend`)."""

from __future__ import annotations

from auditor.engine.evaluation import Evaluation

SEVERITIES = ("critical", "high", "medium", "low", "info")
BAR, GAP, HEIGHT = 18, 6, 90  # px
LONGEST = 10


def trend_view(result: Evaluation) -> dict | None:
    """Stacked bars (one per run, oldest first), the rows of the table, and the longest-open findings."""
    history = result.history
    if not history or not history.get("runs"):
        return None
    runs = history["runs"]
    peak = max((sum(r[s] for s in SEVERITIES) for r in runs), default=0) or 1
    bars = []
    for position, run in enumerate(runs):
        y = HEIGHT
        segments = []
        for severity in SEVERITIES:
            h = run[severity] * HEIGHT / peak
            if h:
                y -= h
                segments.append({"severity": severity, "y": round(y, 1), "h": round(h, 1), "count": run[severity]})
        bars.append({"x": position * (BAR + GAP), "run": run, "segments": segments})
    since = history.get("open_since", {})
    open_rows = [(since[f.fingerprint]["days_open"], f) for f in result.findings
                 if not f.waived and f.fingerprint in since]
    open_rows.sort(key=lambda item: (-item[0], -item[1].severity.rank, item[1].rule_id))
    return {
        "file": history.get("file"),
        "bars": bars,
        "width": len(runs) * (BAR + GAP),
        "height": HEIGHT,
        "bar": BAR,
        "runs": runs,
        "longest": [{"days": d, "f": f} for d, f in open_rows[:LONGEST]],
        "median_days_open": history.get("median_days_open", {}),
    }
