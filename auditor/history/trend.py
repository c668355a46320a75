"""What the history says, as tables pandas builds: findings per severity over past scans, and how long
each open finding has been open (since the first scan of its current unbroken run of scans)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd

from auditor.history.store import SEVERITIES, connect

TREND_RUNS = 30  # scans shown in a trend


def runs_table(path: Path, last: int = TREND_RUNS) -> pd.DataFrame:
    """One row per scan, oldest first: counts per severity, total, and new and resolved since the scan before."""
    with connect(path) as db:
        runs = pd.read_sql_query(
            f"SELECT run_id, scanned_at, subscriptions, subscriptions_complete, findings, waived, {', '.join(SEVERITIES)}"
            " FROM runs ORDER BY run_id DESC LIMIT ?", db, params=(last + 1,))
        seen = pd.read_sql_query(
            "SELECT run_id, fingerprint FROM findings WHERE waived = 0 AND run_id >= ?", db,
            params=(int(runs["run_id"].min()) if len(runs) else 0,))
    runs = runs.sort_values("run_id").reset_index(drop=True)
    sets = seen.groupby("run_id")["fingerprint"].agg(set).to_dict()
    before: list[set] = [set(), *(sets.get(r, set()) for r in runs["run_id"][:-1])]
    now = [sets.get(r, set()) for r in runs["run_id"]]
    runs["new"] = [len(n - b) for n, b in zip(now, before)]
    runs["resolved"] = [len(b - n) for n, b in zip(now, before)]
    if len(runs) > last:  # the extra, older scan only served to count the first one's changes
        return runs.iloc[1:].reset_index(drop=True)
    runs[["new", "resolved"]] = runs[["new", "resolved"]].astype("Int64")
    if len(runs):
        runs.loc[0, ["new", "resolved"]] = pd.NA  # the first scan recorded has nothing to compare with
    return runs


def open_findings(path: Path, run_id: int | None = None) -> pd.DataFrame:
    """The findings of a scan (the latest by default) with `first_seen` and `days_open`: a finding that
    went away and came back counts from its return."""
    with connect(path) as db:
        runs = pd.read_sql_query("SELECT run_id, scanned_at FROM runs ORDER BY run_id", db)
        if run_id is None:
            run_id = int(runs["run_id"].max()) if len(runs) else None
        current = pd.read_sql_query(
            "SELECT fingerprint, rule_id, severity, resource_name, waived FROM findings WHERE run_id = ?", db,
            params=(run_id,))
        history = pd.read_sql_query(
            "SELECT f.fingerprint, f.run_id FROM findings f JOIN findings c ON c.fingerprint = f.fingerprint"
            " AND c.run_id = ? WHERE f.run_id <= ?", db, params=(run_id, run_id))
    if current.empty:
        return current.assign(first_seen=[], days_open=[])
    order = {r: i for i, r in enumerate(runs["run_id"])}
    history["position"] = history["run_id"].map(order)
    latest = order[run_id]
    streak_start = history.groupby("fingerprint")["position"].agg(lambda p: _streak_start(set(p), latest))
    scanned = runs["scanned_at"].tolist()
    current["first_seen"] = current["fingerprint"].map(lambda fp: scanned[streak_start[fp]])
    now = _parse(scanned[latest])
    current["days_open"] = current["first_seen"].map(lambda t: (now - _parse(t)).days)
    return current.sort_values(["days_open", "fingerprint"], ascending=[False, True]).reset_index(drop=True)


def _streak_start(positions: set[int], latest: int) -> int:
    start = latest
    while start - 1 in positions:
        start -= 1
    return start


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text)  # Python 3.11 reads a trailing Z


def for_reports(path: Path) -> dict:
    """What the reports show: the trend rows and, per open finding (by fingerprint), since when it is open."""
    runs = runs_table(path)
    opened = open_findings(path)
    ages = opened[opened["waived"] == 0]
    by_severity = ages.groupby("severity")["days_open"].median().to_dict() if len(ages) else {}
    return {
        "file": str(path),
        "runs": [_plain(r) for r in runs.to_dict("records")],
        "open_since": {r["fingerprint"]: {"first_seen": r["first_seen"], "days_open": int(r["days_open"])}
                       for r in opened.to_dict("records")},
        "median_days_open": {s: float(by_severity[s]) for s in SEVERITIES if s in by_severity},
    }


def _plain(row: dict) -> dict:
    """Numpy and NaN values as JSON's."""
    return {k: (None if pd.isna(v) else v.item() if hasattr(v, "item") else v) for k, v in row.items()}


def text_tables(runs: pd.DataFrame, opened: pd.DataFrame, longest: int = 50) -> str:
    """The two tables for a terminal: runs (newest first) and the open findings open longest."""
    shown = runs.iloc[::-1].assign(scanned_at=runs["scanned_at"].str[:16].str.replace("T", " "))
    shown["coverage"] = shown["subscriptions_complete"].astype(str) + "/" + shown["subscriptions"].astype(str)
    shown = shown[["run_id", "scanned_at", *SEVERITIES, "findings", "waived", "new", "resolved", "coverage"]]
    active = opened[opened["waived"] == 0]
    lines = [shown.to_string(index=False), "", f"Open findings ({len(active)}), longest open first:"]
    if len(active):
        table = active.assign(first_seen=active["first_seen"].str[:10])
        lines.append(table[["days_open", "first_seen", "severity", "rule_id", "resource_name"]].head(longest).to_string(index=False))
    return "\n".join(lines)
