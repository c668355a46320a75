"""Scan history (SQLite): runs recorded whole or not at all, trends, how long findings stay open,
retention, two writers at once, and the history as a baseline."""

import json
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from auditor.engine.discovery import discover_rules
from auditor.engine.evaluation import evaluate
from auditor.errors import InputError
from auditor.history import store
from auditor.history.store import Retention, record
from auditor.history.trend import for_reports, open_findings, runs_table
from auditor.input.synthetic import snapshot_from_spec
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent


def spec(one_sided: list[str], overlap: bool = False) -> dict:
    """A hub and spokes; the named spokes peer to the hub one-sidedly (PEER001), `overlap` makes two spokes overlap."""
    spokes = ["a", "b", "c"]
    vnets = {"hub": {"subscription": "prod", "address_space": "10.0.0.0/16"}}
    for i, s in enumerate(spokes, 1):
        vnets[s] = {"subscription": "prod", "address_space": f"10.{1 if overlap and s == 'b' else i}.0.0/16"}
    peerings = []
    for s in spokes:
        peerings.append({"from": s, "to": "hub"})
        if s not in one_sided:
            peerings.append({"from": "hub", "to": s})
    return {"subscriptions": {"prod": {}}, "vnets": vnets, "peerings": peerings}


def scan(spec_: dict, day: int):
    snap = snapshot_from_spec(spec_)
    snap.metadata.scanned_at = datetime(2026, 11, day, 2, 0, tzinfo=timezone.utc)
    return evaluate(snap, discover_rules()), snap


def fingerprints(result) -> set[str]:
    return {f.fingerprint for f in result.findings if not f.waived}


def test_trend_counts_new_and_resolved_between_runs(tmp_path):
    path = tmp_path / "h.sqlite"
    results = [scan(spec(["a"]), 1), scan(spec(["a", "b"]), 2), scan(spec(["b"]), 3)]
    for result, snap in results:
        record(path, result, snap)
    table = runs_table(path)
    assert list(table["run_id"]) == [1, 2, 3]
    sets = [fingerprints(r) for r, _ in results]
    assert sets[0] != sets[1] != sets[2], "the estates differ in findings"
    assert table["new"].isna()[0] and table["resolved"].isna()[0], "the first run has nothing to compare with"
    assert list(table["new"][1:]) == [len(sets[1] - sets[0]), len(sets[2] - sets[1])]
    assert list(table["resolved"][1:]) == [len(sets[0] - sets[1]), len(sets[1] - sets[2])]
    assert list(table["findings"]) == [len(s) for s in sets]
    assert list(table["high"]) == [r.summary["by_severity"]["high"] for r, _ in results]


def test_days_open_counts_from_the_latest_return(tmp_path):
    path = tmp_path / "h.sqlite"
    # a's finding: days 1, 2, gone on 3, back on 5; b's: from day 2 on
    for day, one_sided in ((1, ["a"]), (2, ["a", "b"]), (3, ["b"]), (5, ["a", "b"])):
        record(path, *scan(spec(one_sided), day))
    opened = open_findings(path).set_index("resource_name")
    assert opened.loc["a-to-hub", "days_open"] == 0, "a came back on day 5: open since day 5"
    assert opened.loc["b-to-hub", "days_open"] == 3, "b open since day 2"
    assert opened.loc["b-to-hub", "first_seen"].startswith("2026-11-02")
    view = for_reports(path)
    assert view["median_days_open"]["high"] == 1.5


def test_a_run_that_fails_midway_leaves_nothing(tmp_path, monkeypatch):
    path = tmp_path / "h.sqlite"
    record(path, *scan(spec(["a"]), 1))

    def boom(*_):
        raise RuntimeError("killed")

    monkeypatch.setattr(store, "_prune", boom)
    with pytest.raises(RuntimeError):
        record(path, *scan(spec(["a", "b"]), 2))
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone() == (1,)
        assert db.execute("SELECT COUNT(DISTINCT run_id) FROM findings").fetchone() == (1,)


def test_retention_by_count_and_age_keeps_the_latest(tmp_path):
    path = tmp_path / "h.sqlite"
    for day in range(1, 6):
        record(path, *scan(spec(["a"]), day), retention=Retention(keep=3))
    assert list(runs_table(path)["run_id"]) == [3, 4, 5]
    record(path, *scan(spec(["a"]), 6), retention=Retention(keep=None, max_age_days=1))
    assert list(runs_table(path)["run_id"]) == [6], "old runs go; the run just made stays"
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(DISTINCT run_id) FROM findings").fetchone() == (1,), "findings go with their run"


def test_two_scans_writing_at_once_both_land(tmp_path):
    path = tmp_path / "h.sqlite"
    snap_file = tmp_path / "snap.json"
    snapshot_from_spec(spec(["a"])).write(snap_file)
    script = (
        "import sys; from pathlib import Path\n"
        "from auditor.engine.discovery import discover_rules\nfrom auditor.engine.evaluation import evaluate\n"
        "from auditor.history.store import record\nfrom auditor.input.importer import load_snapshot\n"
        "snap = load_snapshot([Path(sys.argv[1])]); result = evaluate(snap, discover_rules())\n"
        "for _ in range(5): record(Path(sys.argv[2]), result, snap)\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, str(snap_file), str(path)], cwd=ROOT,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    table = runs_table(path)
    assert sorted(table["run_id"]) == list(range(1, 11))
    with sqlite3.connect(path) as db:
        per_run = db.execute("SELECT COUNT(*) FROM findings GROUP BY run_id").fetchall()
    assert len(per_run) == 10 and len(set(per_run)) == 1, "every run has all its findings"


def test_the_snapshot_is_kept_compressed_and_reads_back(tmp_path):
    path = tmp_path / "h.sqlite"
    result, snap = scan(spec(["a"]), 1)
    run = record(path, result, snap)
    assert json.loads(store.snapshot_json(path, run)) == json.loads(snap.to_json())
    assert path.stat().st_size < len(snap.to_json()) * 4


def test_not_a_history_file_is_one_line(tmp_path):
    other = tmp_path / "x.json"
    other.write_text("{}")
    with pytest.raises(InputError, match=r"x.json: cannot use as history"):
        runs_table(other)
    with pytest.raises(InputError, match="no such history file"):
        runs_table(tmp_path / "missing.sqlite")


def test_a_newer_history_schema_is_refused(tmp_path):
    path = tmp_path / "h.sqlite"
    record(path, *scan(spec(["a"]), 1))
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {store.SCHEMA_VERSION + 1}")
    with pytest.raises(InputError, match="newer than this vnet-audit"):
        runs_table(path)


def test_evaluate_records_and_the_history_is_a_baseline(tmp_path, capsys, monkeypatch):
    history = tmp_path / "h.sqlite"
    first, second = tmp_path / "1.json", tmp_path / "2.json"
    snapshot_from_spec(spec(["a"])).write(first)
    snapshot_from_spec(spec(["a", "b"])).write(second)
    code, _, err = run_cli(capsys, monkeypatch, "evaluate", first, "--history", history, "-o", tmp_path / "f1.json")
    assert code == 0 and "run 1 recorded" in err
    code, _, err = run_cli(capsys, monkeypatch, "evaluate", second, "--baseline", history, "--fail-on-new", "high",
                           "--history", history, "-f", "html,md", "-o", tmp_path / "out")
    assert code == 1, err
    assert "1 new" in err and "run 2 recorded, 1 new and 0 resolved" in err
    html = (tmp_path / "out" / "report.html").read_text()
    assert 'id="history"' in html and html.count('<rect class="sev-') >= 2
    assert "### Trend (last 2 of 2 runs)" in (tmp_path / "out" / "summary.md").read_text()
    code, out, _ = run_cli(capsys, monkeypatch, "history", history, "--format", "csv")
    assert code == 0 and out.splitlines()[0].startswith("run_id,scanned_at")
    assert len(out.splitlines()) == 3


def test_scan_records_in_the_output_directory_unless_told_not_to(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    code, _, _ = run_cli(capsys, monkeypatch, "scan", "--demo", "-o", out, "-f", "json", "-q")
    assert code == 0 and (out / "history.sqlite").is_file()
    other = tmp_path / "other"
    code, _, _ = run_cli(capsys, monkeypatch, "scan", "--demo", "-o", other, "-f", "json", "-q", "--no-history")
    assert code == 0 and not (other / "history.sqlite").exists()
