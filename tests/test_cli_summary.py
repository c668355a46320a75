"""The few lines on stderr at the end of scan, evaluate and report."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_baseline import AFTER, BEFORE, run  # noqa: E402

from auditor.input.synthetic import snapshot_from_spec  # noqa: E402

EXPORTS = Path(__file__).parent / "data" / "exports"
AZ = [EXPORTS / "az_vnet_list.json", EXPORTS / "az_nsg_list.json"]
AZ_SUBSCRIPTIONS = {"1f3c6a52-8d2e-4e0b-9a7c-0c2d5e6f7a81", "7b9e2d14-3c5a-4f61-8e27-94b0c1d2e3f4"}


def summary(err: str) -> list[str]:
    lines = [line for line in err.splitlines() if line.startswith("vnet-audit: ")]
    assert lines and lines[-1].startswith("vnet-audit: exit "), err
    return lines


def test_counts_coverage_top_rules_and_exit_reason(capsys, monkeypatch, tmp_path):
    code, _, err = run(capsys, monkeypatch, "evaluate", *AZ, "--fail-on", "high", "-o", tmp_path / "f.json")
    assert code == 1
    lines = summary(err)
    assert [line.split(": no ")[0] for line in lines[:2]] == [
        f"vnet-audit: warning: subscription {sid}" for sid in sorted(AZ_SUBSCRIPTIONS)]  # no route tables, ...
    # the files hold no gateways: GW001/GW003 cannot say a gateway is missing
    assert lines[2:] == [
        "vnet-audit: 1 unwaived findings (0 critical, 1 high, 0 medium, 0 low, 0 info); 0 waived",
        "vnet-audit: coverage: 0/2 subscriptions complete (2 subscriptions with checks limited by the input)",
        "vnet-audit: top rules: PEER001 (1)",
        "vnet-audit: exit 1: 1 finding at or above high (worst high), with --fail-on high",
    ]


def test_exit_0_says_why(capsys, monkeypatch, tmp_path):
    code, _, err = run(capsys, monkeypatch, "evaluate", *AZ, "--fail-on", "critical", "-o", tmp_path / "f.json")
    assert code == 0 and summary(err)[-1] == "vnet-audit: exit 0: nothing unwaived meets --fail-on critical"
    code, _, err = run(capsys, monkeypatch, "report", *AZ, "--out", tmp_path / "r")
    assert code == 0 and summary(err)[-1] == "vnet-audit: exit 0: no --fail-on or --fail-on-new given"


def test_new_since_baseline_and_incomplete_coverage(capsys, monkeypatch, tmp_path):
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    snapshot_from_spec(BEFORE).write(before)
    spec = {**AFTER, "subscriptions": {"prod": {}, "lost": {"coverage": "failed", "error": "denied"}}}
    snapshot_from_spec(spec).write(after)
    baseline = tmp_path / "baseline.json"
    assert run(capsys, monkeypatch, "evaluate", before, "--rules", "PEER001", "-o", baseline)[0] == 0
    code, _, err = run(capsys, monkeypatch, "evaluate", after, "--rules", "PEER001", "--baseline", baseline,
                       "--fail-on-new", "high", "-o", tmp_path / "f.json")
    lines = summary(err)
    assert code == 1
    assert "vnet-audit: coverage: 1/2 subscriptions complete" in lines
    assert f"vnet-audit: since baseline {baseline}: 1 new, 1 unchanged, 1 resolved" in lines
    assert lines[-1] == "vnet-audit: exit 1: 1 new finding at or above high (worst high), with --fail-on-new high"
    code, _, err = run(capsys, monkeypatch, "evaluate", after, "--rules", "PEER001", "--fail-on-incomplete",
                       "-o", tmp_path / "f.json")
    assert code == 3 and summary(err)[-1] == "vnet-audit: exit 3: 1 subscription incomplete, with --fail-on-incomplete"


@pytest.mark.parametrize("quiet", [False, True])
def test_scan_quiet_suppresses_it(capsys, monkeypatch, tmp_path, quiet):
    code, _, err = run(capsys, monkeypatch, "scan", "--demo", "--format", "json", "--out", tmp_path,
                       *(["-q"] if quiet else []))
    assert code == 0
    assert ("vnet-audit: exit 0" in err) is not quiet
