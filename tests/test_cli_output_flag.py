"""One meaning for -o: `-o/--output` is where a command's outputs go (a file for one, a directory for
several); `--out` is a deprecated alias that still works and says so in one line."""

import sys
from pathlib import Path

import pytest
import typer.main

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import run_cli as run  # noqa: E402

from auditor.cli import app  # noqa: E402

EXPORTS = Path(__file__).parent / "data" / "exports"
AZ = [EXPORTS / "az_vnet_list.json", EXPORTS / "az_nsg_list.json"]
DEPRECATED = "vnet-audit: warning: --out is deprecated; use -o/--output (same meaning)"


def test_every_command_that_writes_takes_o_and_output():
    commands = typer.main.get_command(app).commands
    for name in ("import", "evaluate", "report", "scan", "collect", "schema"):
        (param,) = [p for p in commands[name].params if "-o" in p.opts]
        assert set(param.opts) == {"-o", "--output"}, name
    assert not any("-o" in p.opts for p in commands["diff"].params)  # diff writes to stdout only


@pytest.mark.parametrize("command", ["report", "scan"])
def test_old_out_still_works_with_one_warning(capsys, monkeypatch, tmp_path, command):
    args = [*AZ] if command == "report" else ["--demo"]
    code, _, err = run(capsys, monkeypatch, command, *args, "--format", "json", "--out", tmp_path / "old")
    assert code == 0 and (tmp_path / "old" / "findings.json").is_file()
    assert err.splitlines().count(DEPRECATED) == 1
    code, _, err = run(capsys, monkeypatch, command, *args, "--format", "json", "-o", tmp_path / "new")
    assert code == 0 and (tmp_path / "new" / "findings.json").is_file() and "deprecated" not in err
    code, _, err = run(capsys, monkeypatch, "-q", command, *args, "--format", "json", "--out", tmp_path / "q")
    assert code == 0 and "deprecated" not in err  # -q: errors only


def test_out_is_not_advertised(capsys, monkeypatch):
    out = run(capsys, monkeypatch, "scan", "-h")[1]
    assert "--output" in out and "--out " not in out and "--out\n" not in out
