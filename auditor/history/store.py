"""The history file: one SQLite database, its schema documented in docs/history.md for BI tools.

Writes are one transaction per scan (`BEGIN IMMEDIATE`): a scan that dies midway leaves nothing
behind, and two scans writing at once take turns (each waits at most `BUSY_TIMEOUT` seconds).
Write-ahead logging lets reports and BI tools read while a scan writes.
"""

from __future__ import annotations

import json
import sqlite3
import time
import zlib
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.errors import InputError

if TYPE_CHECKING:
    from auditor.engine.evaluation import Evaluation
    from auditor.model.snapshot import Snapshot

SCHEMA_VERSION = 1  # PRAGMA user_version
BUSY_TIMEOUT = 30.0  # seconds another scan may hold the write lock before this one gives up
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    scanned_at TEXT NOT NULL,            -- when the estate was read (UTC, ISO 8601)
    recorded_at TEXT NOT NULL,           -- when this row was written
    tool_version TEXT NOT NULL,
    source TEXT NOT NULL,                -- arm | graph | import | demo
    subscriptions INTEGER NOT NULL,
    subscriptions_complete INTEGER NOT NULL,
    findings INTEGER NOT NULL,           -- unwaived
    waived INTEGER NOT NULL,
    critical INTEGER NOT NULL, high INTEGER NOT NULL, medium INTEGER NOT NULL,
    low INTEGER NOT NULL, info INTEGER NOT NULL,
    snapshot_zlib BLOB                   -- the snapshot JSON, zlib-compressed (NULL once pruned)
);
CREATE TABLE IF NOT EXISTS findings (
    run_id INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    severity TEXT NOT NULL,
    title TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    resource_name TEXT NOT NULL,
    subscription_id TEXT,
    message TEXT NOT NULL,
    waived INTEGER NOT NULL,
    PRIMARY KEY (run_id, fingerprint)
);
CREATE INDEX IF NOT EXISTS findings_by_fingerprint ON findings (fingerprint, run_id);
CREATE TABLE IF NOT EXISTS coverage (
    run_id INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    subscription_id TEXT NOT NULL,
    display_name TEXT,
    status TEXT NOT NULL,                -- complete | partial | failed
    errors TEXT NOT NULL,                -- JSON list of {scope, code, message}
    PRIMARY KEY (run_id, subscription_id)
);
"""
SEVERITIES = ("critical", "high", "medium", "low", "info")


@dataclass(frozen=True)
class Retention:
    """How much history to keep: the last `keep` runs, and none older than `max_age_days` (None: no limit)."""

    keep: int | None = 400
    max_age_days: int | None = None


@contextmanager
def connect(path: Path, write: bool = False) -> Iterator[sqlite3.Connection]:
    """The history database; one line naming the file when it is not one."""
    if not write and not path.is_file():
        raise InputError(f"{path}: no such history file")
    try:
        with closing(sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)) as db:
            db.execute("PRAGMA foreign_keys = ON")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise InputError(f"{path}: history schema {version} is newer than this vnet-audit's ({SCHEMA_VERSION}); upgrade")
            if write and version < SCHEMA_VERSION:
                _create(db)
            elif not write and version == 0:
                raise InputError(f"{path}: not a vnet-audit history file")
            yield db
    except sqlite3.DatabaseError as exc:
        raise InputError(f"{path}: cannot use as history ({exc})") from None


def _create(db: sqlite3.Connection) -> None:
    """The schema, in WAL mode. Two scans creating the file at once may find it locked without SQLite
    waiting (switching to WAL takes an exclusive lock): each tries again until BUSY_TIMEOUT, and the tables
    are created only if missing."""
    deadline = time.monotonic() + BUSY_TIMEOUT
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")
            db.executescript(f"BEGIN IMMEDIATE; {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
            return
        except sqlite3.OperationalError as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def record(path: Path, result: Evaluation, snapshot: Snapshot | None, retention: Retention = Retention()) -> int:
    """Add one scan; returns its run id. All or nothing."""
    counts = result.summary.get("by_severity", {})
    coverage = result.coverage
    subs = coverage.get("subscriptions", [])
    blob = zlib.compress(snapshot.to_json().encode(), 6) if snapshot is not None else None
    with connect(path, write=True) as db:
        db.execute("BEGIN IMMEDIATE")
        try:
            run_id = db.execute(
                "INSERT INTO runs (scanned_at, recorded_at, tool_version, source, subscriptions, subscriptions_complete,"
                " findings, waived, critical, high, medium, low, info, snapshot_zlib)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (result.scan.get("scanned_at") or _now(), _now(), result.tool.get("version", ""),
                 result.scan.get("source", ""), len(subs), sum(s.get("status") == "complete" for s in subs),
                 result.summary.get("total", 0), result.summary.get("waived", 0),
                 *(counts.get(s, 0) for s in SEVERITIES), blob),
            ).lastrowid
            db.executemany(
                "INSERT OR IGNORE INTO findings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(run_id, f.fingerprint, f.rule_id, f.severity.value, f.title, f.resource_id, f.resource_name,
                  f.subscription_id, f.message, int(f.waived)) for f in result.findings],
            )
            db.executemany(
                "INSERT OR IGNORE INTO coverage VALUES (?, ?, ?, ?, ?)",
                [(run_id, s["subscription_id"], s.get("display_name"), s.get("status", "complete"),
                  json.dumps(s.get("errors", []))) for s in subs],
            )
            _prune(db, retention)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    return run_id


def _prune(db: sqlite3.Connection, retention: Retention) -> None:
    if retention.keep is not None:
        db.execute("DELETE FROM runs WHERE run_id NOT IN (SELECT run_id FROM runs ORDER BY run_id DESC LIMIT ?)",
                   (retention.keep,))
    if retention.max_age_days is not None:
        cutoff = (datetime.now(UTC) - timedelta(days=retention.max_age_days)).isoformat()
        db.execute("DELETE FROM runs WHERE scanned_at < ? AND run_id <> (SELECT MAX(run_id) FROM runs)", (cutoff,))


def _now() -> str:
    return datetime.now(UTC).isoformat()


def snapshot_json(path: Path, run_id: int) -> bytes | None:
    """A run's snapshot, as it was written (None when pruned or not kept)."""
    with connect(path) as db:
        row = db.execute("SELECT snapshot_zlib FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    return zlib.decompress(row[0]) if row and row[0] is not None else None


def is_history_file(path: Path) -> bool:
    """An SQLite file (by its header), which vnet-audit reads as a history."""
    try:
        with path.open("rb") as f:
            return f.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def last_scan(path: Path) -> Evaluation:
    """The latest complete scan in the history (the latest of any when none is complete) as an
    Evaluation holding its findings: a baseline. An incomplete scan's findings are partial."""
    from auditor.engine.evaluation import Evaluation
    from auditor.engine.rule import Finding

    with connect(path) as db:
        run = db.execute("SELECT COALESCE((SELECT MAX(run_id) FROM runs WHERE subscriptions_complete = subscriptions),"
                         " (SELECT MAX(run_id) FROM runs))").fetchone()[0]
        if run is None:
            raise InputError(f"{path}: the history holds no scan yet")
        rows = db.execute("SELECT rule_id, severity, title, resource_id, resource_name, subscription_id, message,"
                          " fingerprint, waived FROM findings WHERE run_id = ?", (run,)).fetchall()
    findings = [Finding(rule_id=r[0], severity=r[1], title=r[2], resource_id=r[3], resource_name=r[4],
                        subscription_id=r[5], message=r[6], fingerprint=r[7], waived=bool(r[8]), remediation="")
                for r in rows]
    return Evaluation(findings=findings)
