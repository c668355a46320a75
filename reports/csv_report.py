"""findings.csv: one row per finding, stable columns, safe to open in a spreadsheet.

A subscription whose input lacks resource types some rules read adds one coverage row (rule_id
`coverage`, no severity) naming the rules limited there, so a clean file is never a quiet gap."""

from __future__ import annotations

import unicodedata

import pandas as pd

from auditor.engine import Evaluation
from auditor.engine.limits import limited_line
from auditor.model.snapshot import Snapshot

COLUMNS = [
    "rule_id", "severity", "title", "resource_id", "resource_name", "subscription_id",
    "related_ids", "message", "remediation", "waived", "fingerprint",
]
CONTROLS_COLUMN = "controls"  # appended last, so readers of the earlier columns are unaffected
BASELINE_COLUMN = "baseline_status"  # only with --baseline: new or unchanged
COVERAGE_ROW = "coverage"  # the rule_id of a row about limited checks, not a finding
#: A spreadsheet treats a cell starting with one of these as a formula (or strips it).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def neutralise(value: str) -> str:
    """Prefix a would-be formula with a single quote so Excel/LibreOffice show it as text."""
    return "'" + value if looks_like_formula(value) else value


def looks_like_formula(value: str) -> bool:
    """True when the first visible character starts a formula.

    Spreadsheets skip leading spaces and invisible characters (zero-width, BOM, bidi marks),
    and read full-width and other compatibility forms (＝, ﹢) as their ASCII originals."""
    for char in value:
        if char in FORMULA_START:
            return True
        if char.isascii() and not char.isspace():
            return False  # the common case, without the Unicode lookups
        if not (char.isspace() or unicodedata.category(char) == "Cf"):
            return unicodedata.normalize("NFKC", char).startswith(FORMULA_START)
    return False


def frame(result: Evaluation) -> pd.DataFrame:
    rows = [
        {
            "rule_id": f.rule_id,
            "severity": f.severity.value,
            "title": f.title,
            "resource_id": f.resource_id,
            "resource_name": f.resource_name,
            "subscription_id": f.subscription_id or "",
            "related_ids": ";".join(f.related_ids),
            "message": f.message,
            "remediation": f.remediation,
            "waived": "true" if f.waived else "false",
            "fingerprint": f.fingerprint,
            BASELINE_COLUMN: f.baseline_status or "",
            CONTROLS_COLUMN: ";".join(f.controls),
        }
        for f in result.findings
    ]
    rows += [_limited_row(entry) for entry in result.coverage.get("limited", [])]
    columns = [*COLUMNS, BASELINE_COLUMN, CONTROLS_COLUMN] if result.baseline else [*COLUMNS, CONTROLS_COLUMN]
    df = pd.DataFrame(rows, columns=columns, dtype=object).fillna("")
    return df.map(lambda v: neutralise(str(v)))


def _limited_row(entry: dict) -> dict:
    sid = entry["subscription_id"]
    return {
        "rule_id": COVERAGE_ROW,
        "title": "Checks limited: the input lacks resource types they read",
        "resource_id": f"/subscriptions/{sid}",
        "resource_name": entry.get("display_name") or sid,
        "subscription_id": sid,
        "related_ids": ";".join(entry.get("rules", [])),
        "message": limited_line(entry),
        "remediation": "Add exports of the missing resource types for this subscription, or scan it live.",
    }


def render(result: Evaluation, snapshot: Snapshot | None = None) -> str:
    return frame(result).to_csv(index=False, lineterminator="\r\n")  # RFC 4180; a bare CR in a cell gets quoted


def render_excel(result: Evaluation, snapshot: Snapshot | None = None) -> str:
    """The same CSV with a UTF-8 byte order mark, so Excel reads non-ASCII names correctly."""
    return BOM + render(result, snapshot)
