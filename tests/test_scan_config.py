"""`scan --config FILE`: options from YAML, flags over the file, one-line errors before any work."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import run_cli as run  # noqa: E402

from auditor.config import ScanConfig, load_config, scan_params
from auditor.errors import InputError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scan.yaml"
    path.write_text(text)
    return path


def one_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vnet-audit: error: "), err
    return lines[0]


def test_a_file_alone_runs_the_scan(tmp_path, capsys, monkeypatch):
    out = tmp_path / "report"
    config = write(tmp_path, f"""
formats: [json, md]
out: {out}
fail_on_incomplete: true
concurrency: 4
rules: ["PEER*"]
history: {tmp_path / "state" / "h.sqlite"}
history_keep: 2
""")
    (tmp_path / "state").mkdir()
    for _ in range(3):
        code, _, err = run(capsys, monkeypatch, "scan", "--demo", "--config", config, "-q")
        assert code == 3, err  # the demo's legacy subscription cannot be read
    assert sorted(p.name for p in out.iterdir()) == ["findings.json", "snapshot.json", "summary.md"]
    with sqlite3.connect(tmp_path / "state" / "h.sqlite") as db:
        assert db.execute("SELECT run_id FROM runs ORDER BY run_id").fetchall() == [(2,), (3,)]
    rules = {r["id"] for r in json.loads((out / "findings.json").read_text())["rules"]}
    assert rules and all(r.startswith("PEER") for r in rules)


def test_flags_override_the_file(tmp_path, capsys, monkeypatch):
    text = f"formats: json,md\nout: {tmp_path / 'from-file'}\nrules: [PEER*]\nfail_on: info\n"
    config = write(tmp_path, text)
    out = tmp_path / "from-flag"
    code, _, err = run(capsys, monkeypatch, "scan", "--demo", "--config", config, "--out", out,
                       "--format", "json", "--rules", "ROUTE001", "-q")
    assert code == 1, err  # fail_on from the file still applies
    assert sorted(p.name for p in out.iterdir()) == ["findings.json", "history.sqlite", "snapshot.json"]
    assert not (tmp_path / "from-file").exists()
    findings = json.loads((out / "findings.json").read_text())["findings"]
    assert findings and {f["rule_id"] for f in findings} == {"ROUTE001"}


def test_an_unknown_key_is_one_line_naming_it(tmp_path, capsys, monkeypatch):
    config = write(tmp_path, "formats: [json]\nfail-on: high\n")
    code, _, err = run(capsys, monkeypatch, "scan", "--config", config)
    assert code == 2
    assert "unknown key 'fail-on'" in one_error(err) and str(config) in err
    nested = write(tmp_path, "scope: {subscription: [abc]}\n")
    code, _, err = run(capsys, monkeypatch, "scan", "--config", nested)
    assert code == 2 and "unknown key 'scope.subscription'" in one_error(err)


def test_a_wrong_type_is_one_line_naming_the_key(tmp_path, capsys, monkeypatch):
    for text, key in [("concurrency: many\n", "concurrency: expected `int`, got `str`"),
                      ("concurrency: 0\n", "concurrency: expected `int` >= 1"),
                      ("fail_on: severe\n", "fail_on: invalid enum value 'severe'"),
                      ("scope: {all_subscriptions: maybe}\n", "scope.all_subscriptions: expected `bool`"),
                      ("- json\n", "a mapping of keys, not list")]:
        code, _, err = run(capsys, monkeypatch, "scan", "--demo", "--config", write(tmp_path, text))
        assert code == 2, err
        assert key in one_error(err)


def test_a_missing_file_is_one_line(tmp_path, capsys, monkeypatch):
    code, _, err = run(capsys, monkeypatch, "scan", "--demo", "--config", tmp_path / "nope.yaml")
    assert code == 2 and "nope.yaml: config file not found" in one_error(err)


def test_the_file_is_checked_before_collecting(tmp_path, capsys, monkeypatch):
    sub = "00000000-0000-0000-0000-000000000000"
    config = write(tmp_path, f"formats: [json, pdf]\nscope: {{subscriptions: [{sub}]}}\n")
    code, _, err = run(capsys, monkeypatch, "scan", "--config", config, "--out", tmp_path / "r")
    assert code == 2 and "unknown --format pdf" in one_error(err)
    assert not (tmp_path / "r").exists()


def test_scan_params_names_and_types(tmp_path):
    config = load_config(write(tmp_path, "scope: {subscriptions: [a, b], tenants: [t]}\n"
                                         "formats: [html, junit]\nbaseline: prev/findings.json\n"))
    assert scan_params(config) == {"subscription": ["a", "b"], "tenant": ["t"], "format": "html,junit",
                                   "baseline": Path("prev/findings.json")}
    assert scan_params(ScanConfig()) == {}


def test_load_config_errors_are_input_errors(tmp_path):
    bad = write(tmp_path, "formats: [json\n")
    try:
        load_config(bad)
    except InputError as exc:
        assert "not valid YAML at line" in str(exc)
    else:
        raise AssertionError("no error for broken YAML")


def test_the_readme_example_is_a_valid_config(tmp_path):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Nightly in a pipeline", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    params = scan_params(load_config(write(tmp_path, example)))
    assert params["all_subscriptions"] is True and params["format"] == "html,json,sarif,md,junit"
