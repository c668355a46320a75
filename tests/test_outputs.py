"""Outputs are written whole or not at all, never through a link, and a failure is one line and exit 2."""

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from auditor import cli, outputs
from auditor.outputs import write_atomic

EXPORTS = Path(__file__).parent / "data" / "exports"
VNETS = EXPORTS / "az_vnet_list.json"
VNET_AUDIT = Path(sys.executable).with_name("vnet-audit")


def run(capsys, monkeypatch, *args) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["vnet-audit", *map(str, args)])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    return exit_info.value.code or 0, capsys.readouterr().err


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vnet-audit: error: "), err
    assert "Traceback" not in err
    return lines[0]


def disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_write_replaces_the_file_and_keeps_its_mode(tmp_path):
    target = tmp_path / "findings.json"
    write_atomic(target, b"first")
    target.chmod(0o640)
    write_atomic(target, b"second")
    assert target.read_bytes() == b"second"
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["findings.json"]


def test_a_new_file_gets_the_usual_permissions(tmp_path):
    write_atomic(tmp_path / "new.json", b"{}")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "new.json").stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_a_failed_write_leaves_the_previous_file_and_no_temp_file(tmp_path, monkeypatch, failing):
    target = tmp_path / "findings.json"
    target.write_bytes(b'{"previous": true}\n')
    monkeypatch.setattr(outputs.os, failing, disk_full)
    with pytest.raises(OSError) as raised:
        write_atomic(target, b'{"new": true}\n')
    assert raised.value.errno == errno.ENOSPC and raised.value.filename == str(target)
    assert target.read_bytes() == b'{"previous": true}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["findings.json"]


def test_a_symlink_at_the_destination_is_refused_and_its_target_untouched(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"keep me")
    link = tmp_path / "findings.json"
    link.symlink_to(victim)
    with pytest.raises(OSError) as raised:
        write_atomic(link, b"overwritten")
    assert raised.value.filename == str(link) and "symbolic link" in raised.value.strerror
    assert victim.read_bytes() == b"keep me" and link.is_symlink()


def test_a_dangling_symlink_is_refused_too(tmp_path):
    link = tmp_path / "snapshot.json"
    link.symlink_to(tmp_path / "elsewhere.json")
    with pytest.raises(OSError):
        write_atomic(link, b"{}")
    assert not (tmp_path / "elsewhere.json").exists()


def test_a_missing_directory_names_the_destination(tmp_path):
    target = tmp_path / "missing" / "out.json"
    with pytest.raises(OSError) as raised:
        write_atomic(target, b"{}")
    assert raised.value.filename == str(target) and raised.value.errno == errno.ENOENT


def test_disk_full_in_evaluate_is_one_line_exit_2_and_the_old_findings_stay(tmp_path, capsys, monkeypatch):
    findings = tmp_path / "findings.json"
    code, err = run(capsys, monkeypatch, "evaluate", VNETS, "-o", findings)
    assert code == 0, err
    before = findings.read_bytes()
    monkeypatch.setattr(outputs.os, "fsync", disk_full)
    code, err = run(capsys, monkeypatch, "evaluate", VNETS, "--rules", "PEER001", "-o", findings)
    assert code == 2
    line = one_error_line(err)
    assert str(findings) in line and "No space left on device" in line
    assert findings.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["findings.json"]


@pytest.mark.parametrize("command", [
    ["import", VNETS], ["evaluate", VNETS], ["report", VNETS, "--format", "csv"], ["schema"],
    ["collect", "--demo", "--quiet"],
])
def test_every_command_refuses_a_symlinked_output(tmp_path, capsys, monkeypatch, command):
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    link = tmp_path / "out.json"
    link.symlink_to(victim)
    code, err = run(capsys, monkeypatch, *command, "-o", link)
    assert code == 2
    line = one_error_line(err)
    assert str(link) in line and "symbolic link" in line
    assert victim.read_bytes() == b"keep me"


def test_scan_refuses_a_symlinked_report_in_its_directory(tmp_path, capsys, monkeypatch):
    out = tmp_path / "report"
    out.mkdir()
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    (out / "findings.csv").symlink_to(victim)
    code, err = run(capsys, monkeypatch, "scan", "--demo", "--quiet", "--format", "json,csv", "-o", out)
    assert code == 2
    assert str(out / "findings.csv") in one_error_line(err)
    assert victim.read_bytes() == b"keep me"


@pytest.mark.skipif(not VNET_AUDIT.exists(), reason="vnet-audit is not installed next to this Python")
def test_installed_command_refuses_a_symlink_in_one_line(tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    link = tmp_path / "snapshot.json"
    link.symlink_to(victim)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run([VNET_AUDIT, "import", VNETS, "-o", link], capture_output=True, text=True, env=env)
    assert done.returncode == 2
    assert str(link) in one_error_line(done.stderr)
    assert victim.read_bytes() == b"keep me"
