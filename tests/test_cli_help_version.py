"""The top-level `--version` and `-h`, in-process and through the installed script."""

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import run_cli as run  # noqa: E402

from auditor import __version__

VNET_AUDIT = Path(sys.executable).with_name("vnet-audit")


def test_version_flag_prints_the_version(capsys, monkeypatch):
    code, out, err = run(capsys, monkeypatch, "--version")
    assert (code, out, err) == (0, f"vnet-audit {__version__}\n", "")
    assert run(capsys, monkeypatch, "version")[1] == out  # the command says the same


@pytest.mark.parametrize("args", [["-h"], ["--help"], ["scan", "-h"], ["report", "-h"]])
def test_short_and_long_help(capsys, monkeypatch, args):
    code, out, _ = run(capsys, monkeypatch, *args)
    assert code == 0 and "Usage:" in out
    assert ("--version" in out) == (len(args) == 1)  # only the top level has --version


def test_installed_script_takes_both():
    done = subprocess.run([VNET_AUDIT, "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == f"vnet-audit {__version__}\n"
    done = subprocess.run([VNET_AUDIT, "-h"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "scan" in done.stdout
