"""`vnet-audit scan` and `collect`: the demo end to end, flags, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from auditor.input.collect.runner import demo_spec

CLI = str(Path(sys.executable).parent / "vnet-audit")
LEGACY = demo_spec()["subscriptions"]["legacy"]["id"]
VNETS = len(demo_spec()["vnets"])


def run(*args, cwd=None):
    return subprocess.run([CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_scan_demo_writes_reports_and_snapshot(tmp_path):
    out = tmp_path / "report"
    result = run("scan", "--demo", "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    snapshot = json.loads((out / "snapshot.json").read_text())
    assert snapshot["metadata"]["source"] == "demo" and len(snapshot["virtual_networks"]) == VNETS
    from reports import WRITERS

    for fmt in ("html", "csv", "json"):
        if fmt in WRITERS:
            assert (out / WRITERS[fmt][0]).is_file()
    findings = json.loads((out / "findings.json").read_text())
    assert findings["coverage"]["complete"] is False
    assert {"PEER001", "PEER005", "GW004", "ROUTE001"} <= {f["rule_id"] for f in findings["findings"]}
    assert f"subscription {LEGACY} is failed" in result.stderr  # coverage is never silent


def test_scan_demo_fail_on_incomplete_and_graph_source(tmp_path):
    result = run("scan", "--demo", "--source", "graph", "--out", str(tmp_path), "--format", "json", "--fail-on-incomplete", "-q")
    assert result.returncode == 3, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["findings.json", "history.sqlite", "snapshot.json"]
    assert json.loads((tmp_path / "snapshot.json").read_text())["metadata"]["inputs"] == ["demo-graph.yaml"]


def test_collect_demo_writes_the_snapshot(tmp_path):
    target = tmp_path / "estate.json"
    result = run("collect", "--demo", "-o", str(target))
    assert result.returncode == 0, result.stderr
    doc = json.loads(target.read_text())
    statuses = {s["subscription_id"]: s["status"] for s in doc["subscriptions"]}
    assert statuses.pop(LEGACY) == "failed" and set(statuses.values()) == {"complete"}
    assert f"collected {VNETS} VNets" in result.stderr and f"wrote {target}" in result.stderr


def test_collect_replays_a_cassette(tmp_path):
    from auditor.input.collect.generate import scope_of, write_cassettes

    spec = demo_spec()
    arm, _ = write_cassettes(spec, tmp_path, "mine")
    scope = scope_of(spec)
    args = [a for t in scope.tenants for a in ("--tenant", t)] + [a for s in scope.subscriptions for a in ("--subscription", s)]
    result = run("collect", "--replay", str(arm), *args, "-o", str(tmp_path / "s.json"), "-q", "--fail-on-incomplete")
    assert result.returncode == 3, result.stderr
    assert len(json.loads((tmp_path / "s.json").read_text())["virtual_networks"]) == VNETS


@pytest.mark.parametrize("args, message", [
    (["collect"], "nothing to scan: give --subscription"),
    (["collect", "--demo", "--replay", "x.yaml"], "--demo, --record and --replay exclude each other"),
    (["collect", "--replay", "missing.yaml", "--subscription", "s1"], "missing.yaml: no such cassette"),
    (["scan", "--demo", "--subscription", "s1"], "--demo replays its own scope"),
    (["collect", "--source", "csv", "--subscription", "s1"], "--source must be arm or graph"),
    (["collect", "--cloud", "Mars", "--replay", "{cassette}", "--subscription", "s1"], "unknown cloud 'Mars'"),
])
def test_usage_errors_are_one_line_exit_2(tmp_path, args, message):
    cassette = tmp_path / "c.yaml"
    cassette.write_text("interactions: []\nversion: 1\n")
    result = run(*[a.replace("{cassette}", str(cassette)) for a in args], cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.stderr


def test_no_credential_is_one_line_with_a_hint(tmp_path):
    # no Azure CLI, no managed identity, no environment: DefaultAzureCredential finds nothing
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith(("AZURE_", "IDENTITY_", "MSI_"))}
    env["PATH"] = str(Path(sys.executable).parent)  # no `az` on the path
    env["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = "http://127.0.0.1:9"  # the managed identity probe stays on loopback and fails at once
    result = subprocess.run([CLI, "scan", "--subscription", "00000000-0000-0000-0000-000000000001", "--out", str(tmp_path), "-q"],
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # azure-identity's per-credential warnings stay quiet
    assert lines[0].startswith("vnet-audit: error: could not sign in to Azure") and "az login" in lines[0]


@pytest.mark.parametrize("command", [["scan", "--demo"], ["evaluate", "snapshot-that-does-not-exist.json"]])
def test_a_format_typo_stops_before_anything_is_read(tmp_path, command):
    """A typo in --format must not throw away a finished collection: it is refused first."""
    done = subprocess.run([CLI, *command, "--format", "htm,json", "-o", str(tmp_path / "out")],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["vnet-audit: error: unknown --format htm; choose from json, html, csv, "
                                                "csv-excel, sarif, md, junit"]
    assert not (tmp_path / "out").exists()


SOURCE_HELP = """
import json, typer.main
{setup}
from auditor.cli import app
command = typer.main.get_command(app)
print(json.dumps({{name: next(p.help for p in command.commands[name].params if p.name == "source")
                  for name in ("scan", "collect")}}))
"""


def source_help(setup: str = "") -> dict[str, list[str]]:
    """The names `--source` help lists, per command (in a fresh interpreter: the help is made at import)."""
    result = subprocess.run([sys.executable, "-c", SOURCE_HELP.format(setup=setup)], capture_output=True,
                            text=True, timeout=120, check=True)
    return {command: [entry.split(":")[0].strip() for entry in text.rstrip(".").split(";")]
            for command, text in json.loads(result.stdout).items()}


def test_source_help_lists_exactly_the_sources_table():
    from auditor.input.collect.sources import SOURCES

    assert source_help() == {"scan": list(SOURCES), "collect": list(SOURCES)}
    added = "import auditor.input.collect.sources as s; s.SOURCES['csv'] = s.Source('x', 'offline')"
    assert source_help(added)["scan"] == [*SOURCES, "csv"]  # read from the table, not written twice
