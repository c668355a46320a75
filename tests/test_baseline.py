"""--baseline and --fail-on-new: findings new, unchanged or resolved since a previous findings.json."""

import csv
import io
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import run_cli as run  # noqa: E402

from auditor.input.synthetic import snapshot_from_spec




def estate(*peerings: tuple[str, str]) -> dict:
    return {
        "subscriptions": {"prod": {}},
        "vnets": {name: {"subscription": "prod", "address_space": f"10.{i}.0.0/16"}
                  for i, name in enumerate(["hub", "spoke1", "spoke2", "spoke3"])},
        "peerings": [{"from": a, "to": b} for a, b in peerings],
    }


# before: hub-to-spoke1 and spoke2-to-hub are one-sided (PEER001, high)
BEFORE = estate(("hub", "spoke1"), ("spoke2", "hub"))
# after: hub-spoke1 fixed (resolved), spoke2-to-hub still one-sided (unchanged), hub-to-spoke3 one-sided (new)
AFTER = estate(("hub", "spoke1"), ("spoke1", "hub"), ("spoke2", "hub"), ("hub", "spoke3"))


@pytest.fixture
def two_scans(tmp_path, capsys, monkeypatch):
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    snapshot_from_spec(BEFORE).write(before)
    snapshot_from_spec(AFTER).write(after)
    baseline = tmp_path / "baseline.json"
    code, _, err = run(capsys, monkeypatch, "evaluate", before, "--rules", "PEER001", "-o", baseline)
    assert code == 0, err
    return after, baseline


def test_new_unchanged_and_resolved(tmp_path, capsys, monkeypatch, two_scans):
    after, baseline = two_scans
    code, out, err = run(capsys, monkeypatch, "evaluate", after, "--rules", "PEER001", "--baseline", baseline)
    assert code == 0, err
    doc = json.loads(out)
    status = {f["resource_name"]: f["baseline_status"] for f in doc["findings"]}
    assert status == {"spoke2-to-hub": "unchanged", "hub-to-spoke3": "new"}
    b = doc["baseline"]
    assert (b["file"], b["new"], b["unchanged"]) == (str(baseline), 1, 1)
    assert [e["resource_id"].rsplit("/", 1)[-1] for e in b["resolved"]] == ["hub-to-spoke1"]
    assert {"rule_id", "resource_id", "fingerprint", "message"} <= b["resolved"][0].keys()


def test_without_baseline_the_json_has_no_baseline_fields(capsys, monkeypatch, two_scans):
    after, _ = two_scans
    code, out, _ = run(capsys, monkeypatch, "evaluate", after, "--rules", "PEER001")
    doc = json.loads(out)
    assert "baseline" not in doc and all("baseline_status" not in f for f in doc["findings"])


def test_every_report_shows_the_comparison(tmp_path, capsys, monkeypatch, two_scans):
    after, baseline = two_scans
    out = tmp_path / "out"
    code, _, err = run(capsys, monkeypatch, "report", after, "--rules", "PEER001", "--baseline", baseline,
                       "--format", "csv,sarif,md,html,json", "--out", out)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO((out / "findings.csv").read_text())))
    assert {r["resource_name"]: r["baseline_status"] for r in rows} == {"spoke2-to-hub": "unchanged",
                                                                        "hub-to-spoke3": "new"}
    results = json.loads((out / "findings.sarif").read_text())["runs"][0]["results"]
    assert sorted(r["baselineState"] for r in results) == ["absent", "new", "unchanged"]
    md = (out / "summary.md").read_text()
    assert "Since the baseline" in md and "1 resolved" in md and "hub-to-spoke3" in md and "hub-to-spoke1" in md
    html = (out / "report.html").read_text()
    section = html[html.index('id="baseline"'):html.index('id="summary"')]
    assert "hub-to-spoke3" in section and "hub-to-spoke1" in section and "spoke2-to-hub" not in section
    # the findings.json written with a baseline carries it through `report` again
    again = tmp_path / "again.md"
    assert run(capsys, monkeypatch, "report", out / "findings.json", "--format", "md", "--out", again)[0] == 0
    assert "1 resolved" in again.read_text()


def test_without_baseline_csv_has_no_baseline_column(tmp_path, capsys, monkeypatch, two_scans):
    after, _ = two_scans
    code, out, _ = run(capsys, monkeypatch, "evaluate", after, "--rules", "PEER001", "--format", "csv")
    assert "baseline_status" not in out.splitlines()[0]


def test_fail_on_new_ignores_unchanged_findings(tmp_path, capsys, monkeypatch, two_scans):
    after, baseline = two_scans
    before = tmp_path / "before.json"
    # the same estate as the baseline: two high findings, both unchanged
    code, _, err = run(capsys, monkeypatch, "evaluate", before, "--rules", "PEER001", "--baseline", baseline,
                       "--fail-on-new", "high")
    assert code == 0, err
    code, _, _ = run(capsys, monkeypatch, "evaluate", before, "--rules", "PEER001", "--baseline", baseline,
                     "--fail-on", "high")
    assert code == 1, "--fail-on still counts unchanged findings"
    code, _, _ = run(capsys, monkeypatch, "evaluate", after, "--rules", "PEER001", "--baseline", baseline,
                     "--fail-on-new", "high")
    assert code == 1, "the new high finding fails"
    code, _, _ = run(capsys, monkeypatch, "evaluate", after, "--rules", "PEER001", "--baseline", baseline,
                     "--fail-on-new", "critical")
    assert code == 0


@pytest.mark.parametrize("case", ["missing", "not-json", "not-findings"])
def test_bad_baseline_is_one_line_exit_2(tmp_path, capsys, monkeypatch, two_scans, case):
    after, _ = two_scans
    bad = tmp_path / "bad.json"
    if case == "not-json":
        bad.write_text("{nope")
    elif case == "not-findings":
        bad.write_text(json.dumps({"findings": "x"}))
    code, _, err = run(capsys, monkeypatch, "evaluate", after, "--baseline", bad)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vnet-audit: error: ") and str(bad) in lines[0], err


def test_fail_on_new_needs_a_baseline(capsys, monkeypatch, two_scans):
    after, _ = two_scans
    code, _, err = run(capsys, monkeypatch, "evaluate", after, "--fail-on-new", "high")
    assert code == 2 and "--fail-on-new needs --baseline" in err


def test_sarif_with_a_baseline_validates(tmp_path, capsys, monkeypatch, two_scans):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from test_reports_sarif import validate

    after, baseline = two_scans
    code, out, _ = run(capsys, monkeypatch, "evaluate", after, "--rules", "PEER001", "--baseline", baseline,
                       "--format", "sarif")
    doc = json.loads(out)
    assert any(r["baselineState"] == "absent" for r in doc["runs"][0]["results"])
    validate(doc)
