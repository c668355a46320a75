"""Waivers: loading and validating waiver files, applying them, and their effect on exit codes."""

import json
import sys
from datetime import date

import pytest
import yaml

from auditor import cli
from auditor.engine import discover_rules, evaluate, select_rules
from auditor.engine.waivers import apply_waivers, load_waivers, warnings
from auditor.errors import InputError
from auditor.input.synthetic import snapshot_from_spec

SUB = "11111111-2222-3333-4444-555555555555"
ESTATE = {
    "subscriptions": {"prod": {"id": SUB}},
    "vnets": {
        "hub": {"subscription": "prod", "address_space": "10.0.0.0/16"},
        "spoke1": {"subscription": "prod", "address_space": "10.1.0.0/16"},
        "spoke2": {"subscription": "prod", "address_space": "10.2.0.0/16"},
    },
    # two one-sided peerings: PEER001 fires on hub-to-spoke1 and hub-to-spoke2
    "peerings": [{"from": "hub", "to": "spoke1"}, {"from": "hub", "to": "spoke2"}],
}
PEERING1 = f"/subscriptions/{SUB}/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/hub/virtualNetworkPeerings/hub-to-spoke1"
TODAY = date(2025, 6, 1)


def entry(**overrides):
    base = {"rule": "PEER001", "resource": PEERING1, "justification": "decommissioning spoke1", "expires": "2025-12-31", "owner": "net-team"}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def write(tmp_path, entries, name="waivers.yaml"):
    path = tmp_path / name
    doc = {"waivers": entries}
    path.write_text(json.dumps(doc) if name.endswith(".json") else yaml.safe_dump(doc), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def snapshot():
    return snapshot_from_spec(ESTATE)


def run(snapshot, waivers, today=TODAY):
    result = evaluate(snapshot, select_rules(discover_rules(), ["PEER001"]))
    apply_waivers(result, waivers, today=today)
    return result


def by_name(result):
    return {f.resource_name: f for f in result.findings}


# -- applying ---------------------------------------------------------------------
def test_waived_finding_stays_listed_with_its_waiver(tmp_path, snapshot):
    path = write(tmp_path, [entry()])
    result = run(snapshot, load_waivers(path))
    found = by_name(result)
    assert set(found) == {"hub-to-spoke1", "hub-to-spoke2"}
    waived = found["hub-to-spoke1"]
    assert waived.waived and waived.waiver.justification == "decommissioning spoke1"
    assert waived.waiver.expires == "2025-12-31" and waived.waiver.owner == "net-team"
    assert waived.waiver.source == f"{path}#waivers[0]"
    assert not found["hub-to-spoke2"].waived and found["hub-to-spoke2"].waiver is None
    assert result.waivers["applied"] == 1 and result.waivers["expired"] == [] and result.waivers["stale"] == []
    assert result.summary["total"] == 1 and result.summary["waived"] == 1
    assert result.worst_active_severity().value == "high"


def test_resource_matching_ignores_case_and_accepts_globs(tmp_path, snapshot):
    upper = write(tmp_path, [entry(resource=PEERING1.upper())], "upper.yaml")
    assert by_name(run(snapshot, load_waivers(upper)))["hub-to-spoke1"].waived
    glob = write(tmp_path, [entry(rule="peer*", resource="*/virtualNetworks/HUB/*")], "glob.yaml")
    result = run(snapshot, load_waivers(glob))
    assert all(f.waived for f in result.findings) and result.waivers["applied"] == 2
    assert result.worst_active_severity() is None


def test_rule_slug_matches(tmp_path, snapshot):
    path = write(tmp_path, [entry(rule="peering-one-sided")])
    assert by_name(run(snapshot, load_waivers(path)))["hub-to-spoke1"].waived


def test_rule_glob_matches_ids_not_slugs(tmp_path, snapshot):
    # "peer*" would match slugs of other rules (peer-traffic-denied); a glob only matches ids
    path = write(tmp_path, [entry(rule="peering-one-*")])
    result = run(snapshot, load_waivers(path))
    assert not any(f.waived for f in result.findings) and len(result.waivers["stale"]) == 1


def test_fingerprint_waiver(tmp_path, snapshot):
    target = by_name(run(snapshot, []))["hub-to-spoke2"]
    path = write(tmp_path, [entry(rule=None, resource=None, fingerprint=target.fingerprint.upper())], "fp.json")
    found = by_name(run(snapshot, load_waivers(path)))
    assert found["hub-to-spoke2"].waived and not found["hub-to-spoke1"].waived


def test_fingerprint_and_rule_must_both_match(tmp_path, snapshot):
    target = by_name(run(snapshot, []))["hub-to-spoke2"]
    path = write(tmp_path, [entry(rule="PEER002", resource="*", fingerprint=target.fingerprint)])
    result = run(snapshot, load_waivers(path))
    assert not any(f.waived for f in result.findings)
    assert len(result.waivers["stale"]) == 1


def test_other_rule_or_resource_does_not_match(tmp_path, snapshot):
    path = write(tmp_path, [entry(rule="PEER002"), entry(resource=PEERING1 + "-other")])
    result = run(snapshot, load_waivers(path))
    assert not any(f.waived for f in result.findings)
    assert [w["source"].rsplit("#", 1)[1] for w in result.waivers["stale"]] == ["waivers[0]", "waivers[1]"]


def test_expired_waiver_stops_applying_and_is_listed(tmp_path, snapshot):
    path = write(tmp_path, [entry(expires="2025-05-31")])
    result = run(snapshot, load_waivers(path))
    assert not any(f.waived for f in result.findings)
    assert result.waivers["applied"] == 0 and result.waivers["stale"] == []
    (expired,) = result.waivers["expired"]
    assert expired["expires"] == "2025-05-31" and expired["matches"] == 1 and expired["owner"] == "net-team"


def test_waiver_applies_through_its_expiry_day(tmp_path, snapshot):
    path = write(tmp_path, [entry(expires="2025-06-01")])
    assert by_name(run(snapshot, load_waivers(path), today=date(2025, 6, 1)))["hub-to-spoke1"].waived
    assert not by_name(run(snapshot, load_waivers(path), today=date(2025, 6, 2)))["hub-to-spoke1"].waived


def test_first_current_waiver_wins_and_later_match_is_not_stale(tmp_path, snapshot):
    path = write(tmp_path, [entry(expires="2020-01-01", owner="old"), entry(owner="first"), entry(owner="second")])
    result = run(snapshot, load_waivers(path))
    assert by_name(result)["hub-to-spoke1"].waiver.owner == "first"
    assert result.waivers["stale"] == [] and len(result.waivers["expired"]) == 1


@pytest.mark.parametrize("rule", ["*", "**", "[A-Z]*", "?*"])
@pytest.mark.parametrize("resource", ["*", "**"])
def test_a_waiver_matching_everything_is_listed_and_still_applies(tmp_path, snapshot, rule, resource):
    result = run(snapshot, load_waivers(write(tmp_path, [entry(rule=rule, resource=resource)])))
    assert all(f.waived for f in result.findings)
    (broad,) = result.waivers["matches_everything"]
    assert broad["rule"] == rule and broad["matches"] == 2
    (line,) = [w for w in warnings(result) if "every rule" in w]
    assert "waivers[0]" in line and "net-team" in line and "2025-12-31" in line


@pytest.mark.parametrize("rule, resource", [("PEER001", "*"), ("PEER*", "*"), ("peering-one-sided", "*"),
                                            ("*", PEERING1), ("*", "*/hub/*")])
def test_a_waiver_naming_rules_or_resources_is_not_everything(tmp_path, snapshot, rule, resource):
    """`resource: "*"` for one rule or one group is the documented way to waive a rule everywhere."""
    result = run(snapshot, load_waivers(write(tmp_path, [entry(rule=rule, resource=resource)])))
    assert result.waivers["matches_everything"] == []
    assert not [w for w in warnings(result) if "every rule" in w]


def test_a_fingerprint_waiver_is_not_everything(tmp_path, snapshot):
    fingerprint = run(snapshot, []).findings[0].fingerprint
    path = write(tmp_path, [entry(rule="*", resource="*", fingerprint=fingerprint)])
    assert run(snapshot, load_waivers(path)).waivers["matches_everything"] == []


@pytest.mark.parametrize("expires, horizon_days, far", [("2026-06-01", 365, False), ("2026-06-02", 365, True),
                                                        ("2025-06-11", 10, False), ("2025-06-12", 10, True),
                                                        ("2025-06-01", 0, False), ("9999-12-31", 365, True)])
def test_a_waiver_expiring_beyond_the_horizon_warns_and_still_applies(tmp_path, snapshot, expires, horizon_days, far):
    result = evaluate(snapshot, select_rules(discover_rules(), ["PEER001"]))
    waivers = load_waivers(write(tmp_path, [entry(expires=expires)]))
    apply_waivers(result, waivers, today=TODAY, horizon_days=horizon_days)
    assert by_name(result)["hub-to-spoke1"].waived
    assert [w["expires"] for w in result.waivers["beyond_horizon"]] == ([expires] if far else [])
    lines = [w for w in warnings(result) if "days ahead" in w]
    expected = (f"waiver {result.waivers['file']}#waivers[0] expires on {expires}, more than {horizon_days} days "
                "ahead (owner net-team); a waiver is meant to be reviewed, so renew it nearer the time")
    assert lines == ([expected] if far else [])


def test_reapplying_clears_previous_waivers(tmp_path, snapshot):
    result = evaluate(snapshot, select_rules(discover_rules(), ["PEER001"]))
    apply_waivers(result, load_waivers(write(tmp_path, [entry()])), today=TODAY)
    apply_waivers(result, [], today=TODAY)
    assert not any(f.waived for f in result.findings) and result.summary["waived"] == 0


def test_bare_list_and_json_files_load(tmp_path):
    bare = tmp_path / "bare.yaml"
    bare.write_text(yaml.safe_dump([entry()]))
    assert len(load_waivers(bare).waivers) == 1
    loaded = load_waivers(write(tmp_path, [entry()], "w.json"))
    assert loaded.waivers[0].expires == date(2025, 12, 31)


# -- invalid files ------------------------------------------------------------------
@pytest.mark.parametrize(
    "content,name,fragment",
    [
        ("waivers: [rule: PEER001\n", "w.yaml", "invalid YAML at line"),
        ('{"waivers": [', "w.json", "invalid JSON at line 1"),
        ("", "w.yaml", "file is empty"),
        ("just text", "w.yaml", "expected a mapping"),
        ("waivers: {}", "w.yaml", "waivers:"),
        ("waivers: [1]", "w.yaml", "waivers[0]"),
        ("wavers: []", "w.yaml", "wavers: unknown key"),
    ],
)
def test_malformed_files_are_one_line_input_errors(tmp_path, content, name, fragment):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(InputError) as err:
        load_waivers(path)
    message = str(err.value)
    assert "\n" not in message and str(path) in message and fragment in message, message


@pytest.mark.parametrize(
    "overrides,fragment",
    [
        ({"justification": None}, "waivers[1].justification: required field is missing"),
        ({"justification": "   "}, "waivers[1].justification"),
        ({"expires": None}, "waivers[1].expires: required field is missing"),
        ({"owner": None}, "waivers[1].owner: required field is missing"),
        ({"expires": "2025-13-01"}, "waivers[1].expires: '2025-13-01' is not a valid date"),
        ({"expires": "31/12/2025"}, "waivers[1].expires: expected a date YYYY-MM-DD"),
        ({"expires": "2025-12-31T00:00:00"}, "waivers[1].expires: expected a date YYYY-MM-DD"),
        ({"expiry": "2025-12-31"}, "waivers[1].expiry: unknown key"),
        ({"rule": None, "resource": None}, "waivers[1]: an entry needs `fingerprint`"),
        ({"resource": None}, "waivers[1]: `rule` needs `resource`"),
        ({"rule": None}, "waivers[1]: `resource` needs `rule`"),
    ],
)
def test_invalid_entries_name_entry_and_field(tmp_path, overrides, fragment):
    path = write(tmp_path, [entry(), entry(**overrides)])
    with pytest.raises(InputError) as err:
        load_waivers(path)
    assert fragment in str(err.value) and str(path) in str(err.value), str(err.value)


def test_unquoted_yaml_date_is_accepted(tmp_path):
    path = tmp_path / "w.yaml"
    path.write_text("waivers:\n- rule: PEER001\n  resource: '*'\n  justification: j\n  expires: 2026-01-31\n  owner: o\n")
    assert load_waivers(path).waivers[0].expires == date(2026, 1, 31)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="waiver file .*nope.yaml: cannot read"):
        load_waivers(tmp_path / "nope.yaml")


# -- through the CLI ------------------------------------------------------------------
def vnet_audit(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["vnet-audit", *map(str, args)])
    with pytest.raises(SystemExit) as done:
        cli.main()
    out, err = capsys.readouterr()
    return done.value.code, out, err


@pytest.fixture
def snapshot_file(tmp_path, snapshot):
    path = tmp_path / "snapshot.json"
    snapshot.write(path)
    return path


def test_cli_waived_findings_no_longer_fail(tmp_path, monkeypatch, capsys, snapshot_file):
    args = ["evaluate", snapshot_file, "--rules", "PEER001", "--fail-on", "high"]
    code, _, _ = vnet_audit(monkeypatch, capsys, *args)
    assert code == 1
    waivers = write(tmp_path, [entry(resource="*", expires="2999-12-31")])
    code, out, err = vnet_audit(monkeypatch, capsys, *args, "--waivers", waivers)
    assert code == 0, err
    doc = json.loads(out)
    assert len(doc["findings"]) == 2 and all(f["waived"] and f["waiver"]["owner"] == "net-team" for f in doc["findings"])
    assert doc["waivers"]["applied"] == 2


def test_cli_expired_waiver_fails_and_warns(tmp_path, monkeypatch, capsys, snapshot_file):
    waivers = write(tmp_path, [entry(resource="*", expires="2001-01-01")])
    code, out, err = vnet_audit(monkeypatch, capsys, "evaluate", snapshot_file, "--rules", "PEER001", "--fail-on", "high", "--waivers", waivers)
    assert code == 1
    assert "expired on 2001-01-01" in err
    assert json.loads(out)["waivers"]["expired"][0]["matches"] == 2


def test_cli_stale_waiver_warns(tmp_path, monkeypatch, capsys, snapshot_file):
    waivers = write(tmp_path, [entry(rule="PEER002", expires="2999-12-31")])
    code, out, err = vnet_audit(monkeypatch, capsys, "evaluate", snapshot_file, "--rules", "PEER001", "--waivers", waivers)
    assert code == 0
    assert "matches no finding" in err and json.loads(out)["waivers"]["stale"][0]["rule"] == "PEER002"


def test_cli_warns_about_a_waiver_for_everything_until_9999(tmp_path, monkeypatch, capsys, snapshot_file):
    waivers = write(tmp_path, [entry(rule="*", resource="*", expires="9999-12-31")])
    code, out, err = vnet_audit(monkeypatch, capsys, "evaluate", snapshot_file, "--fail-on", "high",
                                "--waivers", waivers)
    assert code == 0, "it still applies"
    warned = [line for line in err.splitlines() if line.startswith("vnet-audit: warning: waiver")]
    assert len(warned) == 2
    assert "every rule and every resource" in warned[0] and "more than 365 days ahead" in warned[1]
    assert json.loads(out)["waivers"]["horizon_days"] == 365


def test_cli_waiver_horizon_is_an_option(tmp_path, monkeypatch, capsys, snapshot_file):
    waivers = write(tmp_path, [entry(expires="2999-12-31")])
    args = ["evaluate", snapshot_file, "--rules", "PEER001", "--waivers", waivers]
    assert "days ahead" in vnet_audit(monkeypatch, capsys, *args)[2]
    code, _, err = vnet_audit(monkeypatch, capsys, *args, "--waiver-horizon-days", "400000")
    assert code == 0 and "days ahead" not in err
    code, _, err = vnet_audit(monkeypatch, capsys, *args, "--waiver-horizon-days", "-1")
    assert code == 2 and "--waiver-horizon-days" in err


def test_cli_report_warns_when_reapplying_waivers_to_a_findings_file(tmp_path, monkeypatch, capsys, snapshot_file):
    findings = tmp_path / "findings.json"
    assert vnet_audit(monkeypatch, capsys, "evaluate", snapshot_file, "--rules", "PEER001", "-o", findings)[0] == 0
    waivers = write(tmp_path, [entry(rule="*", resource="*")])
    code, _, err = vnet_audit(monkeypatch, capsys, "report", findings, "--format", "md", "-o", tmp_path / "s.md",
                              "--waivers", waivers, "--waiver-horizon-days", "36500")
    assert code == 0 and "every rule and every resource" in err and "days ahead" not in err


def test_cli_invalid_waiver_file_exits_2_with_one_line(tmp_path, monkeypatch, capsys, snapshot_file):
    waivers = write(tmp_path, [entry(justification=None)])
    code, out, err = vnet_audit(monkeypatch, capsys, "evaluate", snapshot_file, "--waivers", waivers)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "waivers[0].justification" in err and str(waivers) in err
