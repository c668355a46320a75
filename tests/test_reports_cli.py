"""`vnet-audit report`: from a findings.json (with or without its snapshot) or from snapshots directly."""

import csv
import io
import json
import sys
from pathlib import Path

import pytest
import typer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import run_cli as run  # noqa: E402
from report_estates import realistic_spec  # noqa: E402

from auditor import cli  # noqa: E402
from auditor.engine import Evaluation  # noqa: E402
from auditor.input.synthetic import snapshot_from_spec  # noqa: E402
from reports import WRITERS, write_outputs  # noqa: E402




@pytest.fixture
def estate_files(tmp_path, capsys, monkeypatch):
    snap = tmp_path / "snapshot.json"
    snapshot_from_spec(realistic_spec()).write(snap)
    findings = tmp_path / "findings.json"
    code, _, _ = run(capsys, monkeypatch, "evaluate", snap, "--format", "json", "--output", findings)
    assert code == 0 and findings.exists()
    return snap, findings


def test_default_formats_from_snapshot(tmp_path, capsys, monkeypatch, estate_files):
    snap, findings = estate_files
    out = tmp_path / "out"
    code, _, err = run(capsys, monkeypatch, "report", snap, "--out", out)
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["findings.csv", "report.html"]
    html = (out / "report.html").read_text()
    assert 'id="topo"' in html
    rows = list(csv.DictReader(io.StringIO((out / "findings.csv").read_text())))
    assert len(rows) == len(json.loads(findings.read_text())["findings"])


def test_from_findings_alone_and_with_the_snapshot(tmp_path, capsys, monkeypatch, estate_files):
    snap, findings = estate_files
    expected = json.loads(findings.read_text())
    code, _, err = run(capsys, monkeypatch, "report", findings, "--out", tmp_path / "a", "--format", "html,csv,sarif,md,json")
    assert code == 0, err
    html = (tmp_path / "a" / "report.html").read_text()
    assert "built from findings alone" in html and 'id="topo"' not in html
    assert json.loads((tmp_path / "a" / "findings.json").read_text())["findings"] == expected["findings"]
    sarif = json.loads((tmp_path / "a" / "findings.sarif").read_text())
    assert len(sarif["runs"][0]["results"]) == len(expected["findings"])
    code, _, err = run(capsys, monkeypatch, "report", findings, snap, "--out", tmp_path / "b", "--format", "html")
    assert code == 0, err
    html = (tmp_path / "b" / "report.html").read_text()
    assert 'id="topo"' in html and "built from findings alone" not in html
    assert html.count("<tr data-severity=") == expected["summary"]["total"]


def test_csv_bom_and_exit_codes(tmp_path, capsys, monkeypatch, estate_files):
    snap, findings = estate_files
    code, _, _ = run(capsys, monkeypatch, "report", findings, "--format", "csv", "--csv-bom", "--out", tmp_path / "x.csv", "--fail-on", "high")
    assert code == 1
    assert (tmp_path / "x.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    code, _, _ = run(capsys, monkeypatch, "report", snap, "--format", "md", "--out", tmp_path / "s.md", "--fail-on-incomplete")
    assert code == 3 and "Coverage incomplete" in (tmp_path / "s.md").read_text()


@pytest.mark.parametrize("case", ["bad-findings", "two-findings", "rules-with-findings", "unknown-format", "missing"])
def test_user_errors_are_one_line_exit_2(tmp_path, capsys, monkeypatch, estate_files, case):
    snap, findings = estate_files
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"tool": {}, "summary": {}, "findings": [{"rule_id": "X"}]}))
    args = {
        "bad-findings": [bad],
        "two-findings": [findings, findings],
        "rules-with-findings": [findings, "--rules", "PEER001"],
        "unknown-format": [findings, "--format", "pdf"],
        "missing": [tmp_path / "nope.json"],
    }[case]
    code, _, err = run(capsys, monkeypatch, "report", *args, "--out", tmp_path / "o")
    assert code == 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vnet-audit: error: "), err


@pytest.mark.parametrize("command", ["evaluate", "report", "scan"])
def test_format_help_lists_exactly_the_writers(command):
    (option,) = [p for p in typer.main.get_command(cli.app).commands[command].params if "--format" in p.opts]
    listed = option.help.rsplit(":", 1)[1].strip().rstrip(".").split(", ")
    assert sorted(listed) == sorted(WRITERS), option.help


def test_unknown_format_errors_offer_the_writers(tmp_path, capsys, monkeypatch, estate_files):
    _, findings = estate_files
    choices = "choose from " + ", ".join(WRITERS)
    code, _, err = run(capsys, monkeypatch, "report", findings, "--format", "text", "--out", tmp_path / "o")
    assert code == 2 and err.rstrip().endswith(choices), err
    with pytest.raises(typer.BadParameter, match=choices):  # evaluate and scan
        write_outputs(Evaluation(), None, ["text"], tmp_path / "o")
