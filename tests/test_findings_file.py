"""A findings.json read back by `report`: the contract checked field by field, one line on damage."""

import json
import sys

import pytest

from auditor import cli
from auditor.engine import discover_rules, evaluate
from auditor.engine.findings_file import read_findings
from auditor.errors import InputError
from auditor.input.estates import build_snapshot, realistic_spec
from auditor.model.snapshot import CollectionError, CoverageStatus
from reports.json_report import render


@pytest.fixture(scope="module")
def document() -> dict:
    snapshot = build_snapshot(realistic_spec())
    snapshot.subscriptions[0].status = CoverageStatus.partial
    snapshot.subscriptions[0].errors = [CollectionError(scope="routeTables", code="429", message="throttled")]
    return json.loads(render(evaluate(snapshot, discover_rules())))


def test_a_written_findings_file_reads_back_as_it_was(document):
    result = read_findings(document, "findings.json")
    assert json.loads(render(result)) == document


def test_keys_a_newer_version_adds_are_kept(document):
    doc = {**document, "provenance": {"ci": "x"}, "scan": {**document["scan"], "region": "westeurope"}}
    result = read_findings(doc, "findings.json")
    assert result.scan["region"] == "westeurope"


def _set(doc: dict, path: str, value) -> dict:
    doc = json.loads(json.dumps(doc))
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    target = doc
    for key in parents:
        target = target[key]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return doc


DAMAGE = [
    ("summary", KeyError, "summary: required field is missing"),
    ("tool", "vnet-audit", "tool: Input should be a valid dictionary"),
    ("coverage.incomplete.0.subscription_id", 5,
     "coverage.incomplete[0].subscription_id: Input should be a valid string, got 5"),
    ("coverage.incomplete.0.errors.0.scope", KeyError,
     "coverage.incomplete[0].errors[0].scope: required field is missing"),
    ("coverage.complete", "perhaps", "coverage.complete: Input should be a valid boolean"),
    ("scan.counts.virtual_networks", 1.5, "scan.counts.virtual_networks: Input should be a valid integer"),
    ("scan.scanned_at", ["2025"], "scan.scanned_at: Input should be a valid string"),
    ("findings.0.severity", "dire",
     "findings[0].severity: Input should be 'critical', 'high', 'medium', 'low' or 'info'"),
    ("findings.0.fingerprint", KeyError, "findings[0].fingerprint: required field is missing"),
    ("findings", {}, "findings: Input should be a valid list"),
    ("summary.by_severity", [], "summary.by_severity: Input should be a valid dictionary"),
    ("schema_version", "2.0", "findings schema_version '2.0' is not supported"),
]


@pytest.mark.parametrize("path, value, problem", DAMAGE,
                         ids=[path + ("-missing" if value is KeyError else "") for path, value, _ in DAMAGE])
def test_damage_is_one_line_naming_the_field(document, path, value, problem):
    with pytest.raises(InputError) as raised:
        read_findings(_set(document, path, value), "out/findings.json")
    message = str(raised.value)
    assert message.startswith("out/findings.json: ") and problem in message and "\n" not in message


def report(monkeypatch, capsys, *args) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["vnet-audit", "report", *map(str, args)])
    with pytest.raises(SystemExit) as done:
        cli.main()
    return done.value.code or 0, capsys.readouterr().err


@pytest.mark.parametrize("content, problem", [
    (lambda doc: json.dumps(doc)[:-200], "invalid JSON at line 1"),
    (lambda doc: json.dumps([doc]), "item 0: not a resource"),
    (lambda doc: json.dumps({**doc, "coverage": None}), "coverage: Input should be a valid dictionary"),
    (lambda doc: json.dumps(doc).replace('"findings": [', '"findings": [{"\\n": 1}, ', 1),
     "findings[0].rule_id: required"),
])
def test_report_on_a_damaged_file_exits_2_with_one_line(tmp_path, monkeypatch, capsys, document, content, problem):
    path = tmp_path / "findings.json"
    path.write_text(content(document))
    code, err = report(monkeypatch, capsys, path, "--out", tmp_path / "out")
    assert code == 2 and "Traceback" not in err
    (line,) = err.strip().splitlines()
    assert line.startswith(f"vnet-audit: error: {path}: ") and problem in line


def test_report_on_an_intact_file_writes_every_format(tmp_path, monkeypatch, capsys, document):
    path = tmp_path / "findings.json"
    path.write_text(json.dumps(document))
    code, err = report(monkeypatch, capsys, path, "--format", "html,csv,json,sarif,md", "--out", tmp_path / "out")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "findings.csv", "findings.json", "findings.sarif", "report.html", "summary.md"]
    assert json.loads((tmp_path / "out" / "findings.json").read_text())["findings"] == document["findings"]


def test_input_error_messages_stay_one_line():
    assert str(InputError("keys: a\nb, c\r\u2028d")) == "keys: a\\nb, c\\r\\u2028d"
