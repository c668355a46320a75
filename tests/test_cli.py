"""The command-line contract: import/evaluate outputs, exit codes, and one-line errors for bad input.

Runs `auditor.cli.main` (the console script's entry point, which turns InputError into
exit 2) in-process, and the installed `vnet-audit` for a sample of cases.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import run_cli as run  # noqa: E402

from auditor import cli
from auditor.engine import discover_rules
from auditor.engine.rule import Rule

EXPORTS = Path(__file__).parent / "data" / "exports"
AZ_FILES = [EXPORTS / f for f in ("az_vnet_list.json", "az_nsg_list.json", "az_route_table_list.json",
                                  "az_vnet_gateway_list.json", "az_local_gateway_list.json", "az_vpn_connection_list.json")]
CONN = "1f3c6a52-8d2e-4e0b-9a7c-0c2d5e6f7a81"
VNET_AUDIT = Path(sys.executable).with_name("vnet-audit")




def assert_one_error_line(err: str, *expected: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected exactly one line on stderr, got:\n{err}"
    assert lines[0].startswith("vnet-audit: error: "), lines[0]
    assert "Traceback" not in err
    for text in expected:
        assert text in lines[0], f"{text!r} not in {lines[0]!r}"


# -- import and evaluate ----------------------------------------------------------------------

def test_import_then_evaluate_writes_the_findings_contract(tmp_path, capsys, monkeypatch):
    snapshot = tmp_path / "snapshot.json"
    code, _, err = run(capsys, monkeypatch, "import", *AZ_FILES, EXPORTS / "az_account_list.json", "-o", snapshot)
    assert code == 0, err
    assert "3 VNets" in err and "2 subscriptions" in err
    doc = json.loads(snapshot.read_text())
    assert doc["schema_version"] and len(doc["virtual_networks"]) == 3

    findings = tmp_path / "findings.json"
    code, _, err = run(capsys, monkeypatch, "evaluate", snapshot, "--format", "json", "--output", findings)
    assert code == 0, err
    result = json.loads(findings.read_text())
    assert {"schema_version", "tool", "coverage", "findings", "summary"} <= result.keys()
    assert result["tool"]["name"] == "vnet-audit"
    coverage = result["coverage"]
    assert coverage["subscriptions_total"] == 2 and coverage["subscriptions_incomplete"] == 0
    # gateways are listed for one subscription, route tables for the other: the checks reading them are limited
    missing = {e["subscription_id"]: [m["name"] for m in e["missing"]] for e in coverage["limited"]}
    assert "virtualNetworkGateways" not in missing[CONN] and "routeTables" in missing[CONN]
    assert coverage["complete"] is False
    one_sided = [f for f in result["findings"] if f["rule_id"] == "PEER001"]
    assert [f["resource_name"] for f in one_sided] == ["spoke2-to-hub"]
    assert result["summary"]["total"] == len([f for f in result["findings"] if not f["waived"]])


def test_evaluate_takes_raw_exports_directly(tmp_path, capsys, monkeypatch):
    via_snapshot = tmp_path / "a.json"
    direct = tmp_path / "b.json"
    snapshot = tmp_path / "snapshot.json"
    assert run(capsys, monkeypatch, "import", *AZ_FILES, "-o", snapshot)[0] == 0
    assert run(capsys, monkeypatch, "evaluate", snapshot, "--rules", "PEER*", "-o", via_snapshot)[0] == 0
    assert run(capsys, monkeypatch, "evaluate", *AZ_FILES, "--rules", "PEER*", "-o", direct)[0] == 0
    assert json.loads(direct.read_text())["findings"] == json.loads(via_snapshot.read_text())["findings"]
    mixed = tmp_path / "c.json"  # Resource Graph export plus az account listing
    assert run(capsys, monkeypatch, "evaluate", EXPORTS / "graph_network.json", EXPORTS / "az_account_list.json",
               "--rules", "PEER*", "-o", mixed)[0] == 0
    assert json.loads(mixed.read_text())["findings"] == json.loads(direct.read_text())["findings"]


def test_evaluate_to_stdout(capsys, monkeypatch):
    code, out, _ = run(capsys, monkeypatch, "evaluate", *AZ_FILES, "--rules", "PEER001")
    assert code == 0
    assert [f["rule_id"] for f in json.loads(out)["findings"]] == ["PEER001"]


# -- exit codes ------------------------------------------------------------------------------

def test_fail_on_high_exits_1_with_a_high_finding(capsys, monkeypatch):
    code, out, _ = run(capsys, monkeypatch, "evaluate", *AZ_FILES, "--rules", "PEER001", "--fail-on", "high")
    assert code == 1
    assert json.loads(out)["findings"][0]["severity"] == "high"


def test_fail_on_critical_ignores_high_findings(capsys, monkeypatch):
    code, out, _ = run(capsys, monkeypatch, "evaluate", *AZ_FILES, "--rules", "PEER001", "--fail-on", "critical")
    assert code == 0
    assert json.loads(out)["findings"], "the high finding is still reported"


def test_no_fail_on_means_exit_0_despite_findings(capsys, monkeypatch):
    code, out, _ = run(capsys, monkeypatch, "evaluate", *AZ_FILES, "--rules", "PEER001")
    assert code == 0 and json.loads(out)["findings"]


def _snapshot_with_failed_subscription(tmp_path, capsys, monkeypatch) -> Path:
    snapshot = tmp_path / "snapshot.json"
    assert run(capsys, monkeypatch, "import", *AZ_FILES, "-o", snapshot)[0] == 0
    doc = json.loads(snapshot.read_text())
    sub = next(s for s in doc["subscriptions"] if s["subscription_id"] == CONN)
    sub["status"] = "failed"
    sub["errors"] = [{"scope": "virtualNetworks", "code": "AuthorizationFailed", "message": "The client does not have authorization"}]
    snapshot.write_text(json.dumps(doc))
    return snapshot


def test_fail_on_incomplete_exits_3(tmp_path, capsys, monkeypatch):
    snapshot = _snapshot_with_failed_subscription(tmp_path, capsys, monkeypatch)
    code, out, err = run(capsys, monkeypatch, "evaluate", snapshot, "--rules", "PEER001", "--fail-on-incomplete")
    assert code == 3
    assert CONN in err and "AuthorizationFailed on virtualNetworks" in err  # the warning names the subscription and why
    coverage = json.loads(out)["coverage"]
    assert coverage["complete"] is False and coverage["incomplete"][0]["subscription_id"] == CONN


def test_incomplete_coverage_without_the_flag_exits_0(tmp_path, capsys, monkeypatch):
    snapshot = _snapshot_with_failed_subscription(tmp_path, capsys, monkeypatch)
    code, _, err = run(capsys, monkeypatch, "evaluate", snapshot, "--rules", "PEER001")
    assert code == 0
    assert "warning" in err and CONN in err


def test_a_rule_that_raises_exits_4_and_the_others_still_report(capsys, monkeypatch):
    broken = Rule(id="ZZZ999", slug="always-broken", title="Broken", severity="low", rationale="test",
                  remediation="test", docs="https://example.invalid")

    @broken.check
    def check(snapshot):
        raise KeyError("boom")

    monkeypatch.setattr("auditor.engine.discover_rules", lambda: [*discover_rules(), broken])
    monkeypatch.setattr(cli, "discover_rules", lambda: [*discover_rules(), broken])  # the name cli imported
    code, out, err = run(capsys, monkeypatch, "evaluate", *AZ_FILES, "--rules", "PEER001,ZZZ999")
    assert code == 4
    assert "ZZZ999" in err and "boom" in err and "Traceback" not in err
    result = json.loads(out)
    assert [f["rule_id"] for f in result["findings"]] == ["PEER001"]
    assert result["summary"]["rule_errors"] == 1


def test_rule_error_beats_fail_on(capsys, monkeypatch):
    broken = Rule(id="ZZZ998", slug="broken-too", title="Broken", severity="low", rationale="t", remediation="t", docs="https://example.invalid")
    broken.check(lambda snapshot: [][0])
    monkeypatch.setattr("auditor.engine.discover_rules", lambda: [*discover_rules(), broken])
    monkeypatch.setattr(cli, "discover_rules", lambda: [*discover_rules(), broken])
    code, _, _ = run(capsys, monkeypatch, "evaluate", *AZ_FILES, "--rules", "PEER001,ZZZ998", "--fail-on", "high")
    assert code == 4


# -- rule selection ----------------------------------------------------------------------------

def _rule_ids(out: str) -> list[str]:
    return [r["id"] for r in json.loads(out)["rules"]]


def test_rules_glob_selects(capsys, monkeypatch):
    code, out, _ = run(capsys, monkeypatch, "evaluate", *AZ_FILES, "--rules", "PEER00*")
    assert code == 0
    ids = _rule_ids(out)
    assert ids and all(i.startswith("PEER00") for i in ids) and {"PEER001", "PEER002"} <= set(ids)


def test_rules_by_slug_and_skip_rules(capsys, monkeypatch):
    code, out, _ = run(capsys, monkeypatch, "evaluate", *AZ_FILES, "--rules", "peering-one-sided")
    assert (code, _rule_ids(out)) == (0, ["PEER001"])
    code, out, _ = run(capsys, monkeypatch, "evaluate", *AZ_FILES, "--rules", "PEER00*", "--skip-rules", "PEER001,peering-disconnected")
    ids = _rule_ids(out)
    assert code == 0 and "PEER001" not in ids and "PEER002" not in ids
    assert "PEER001" not in {f["rule_id"] for f in json.loads(out)["findings"]}


@pytest.mark.parametrize("flag", ["--rules", "--skip-rules"])
def test_a_pattern_matching_nothing_is_a_usage_error(capsys, monkeypatch, flag):
    code, out, err = run(capsys, monkeypatch, "evaluate", *AZ_FILES, flag, "NOPE*")
    assert code == 2 and out == ""
    assert_one_error_line(err, "NOPE*")


# -- malformed input: one line naming the file, exit 2 ---------------------------------------------

def _latin1(path: Path) -> None:
    path.write_bytes('[{"id": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/café", "type": "Microsoft.Network/virtualNetworks"}]'.encode("latin-1"))


def _write(text: str):
    return lambda path: path.write_text(text, encoding="utf-8")


def _snapshot_doc(infinity_as: str = "Infinity", **changes):
    def make(path: Path):
        doc = {"schema_version": "1.0", "metadata": {"scanned_at": "2025-01-01T00:00:00Z"}, "virtual_networks": []}
        doc.update(changes)
        path.write_text(json.dumps(doc).replace("Infinity", infinity_as), encoding="utf-8")
    return make


VNET_ID = f"/subscriptions/{CONN}/resourceGroups/rg-hub/providers/Microsoft.Network/virtualNetworks/vnet-x"
NSG_ID = VNET_ID.replace("virtualNetworks/vnet-x", "networkSecurityGroups/nsg")
RULE_ID = f"{NSG_ID}/securityRules/ssh"
ROUTE_ID = VNET_ID.replace("virtualNetworks/vnet-x", "routeTables/rt") + "/routes/to-fw"


def _vnet(address_space: list) -> list:
    return [{"id": VNET_ID, "type": "Microsoft.Network/virtualNetworks",
             "properties": {"addressSpace": {"addressPrefixes": address_space}}}]


def _nsg(**rule: object) -> list:
    props = {"priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp", "sourceAddressPrefix": "*",
             "destinationAddressPrefix": "*", "sourcePortRange": "*", "destinationPortRange": "22", **rule}
    return [{"id": NSG_ID, "type": "Microsoft.Network/networkSecurityGroups",
             "properties": {"securityRules": [{"id": RULE_ID, "properties": props}]}}]


def _route(next_hop_ip: str) -> list:
    route = {"id": ROUTE_ID, "properties": {"addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance",
                                            "nextHopIpAddress": next_hop_ip}}
    return [{"id": ROUTE_ID.rsplit("/routes/", 1)[0], "type": "Microsoft.Network/routeTables", "properties": {"routes": [route]}}]
MALFORMED = {
    "invalid-json": (_write('[{"id": "/subscriptions/x", "name": }]'), "invalid JSON at line 1"),
    "truncated-json": (_write('{"value": [{"id": "/subscriptions/x"'), "invalid JSON"),
    "empty": (_write(""), "file is empty"),
    "whitespace-only": (_write("  \n\n"), "file is empty"),
    "a-number": (_write("42"), "not a recognised shape"),
    "a-string": (_write('"hello"'), "not a recognised shape"),
    "dict-without-data-or-value": (_write('{"foo": [1, 2]}'), "not a recognised shape"),
    "value-not-a-list": (_write('{"value": {"id": "x"}}'), "'value' must be a list"),
    "graph-table-format": (_write('{"data": {"columns": [], "rows": []}, "count": 0}'), "table format"),
    "item-not-an-object": (_write("[1, 2]"), "item 0: expected a resource object"),
    "missing-id": (_write('[{"name": "vnet1", "type": "Microsoft.Network/virtualNetworks", "properties": {}}]'), "has no id"),
    "wrong-setting-type": (_write(json.dumps([{"id": VNET_ID, "type": "Microsoft.Network/virtualNetworks",
                                               "properties": {"dhcpOptions": ["10.0.0.4"]}}])), "item 0"),
    "non-numeric-priority": (_write(json.dumps([{"id": VNET_ID.replace("virtualNetworks/vnet-x", "networkSecurityGroups/nsg"),
                                                 "type": "Microsoft.Network/networkSecurityGroups",
                                                 "properties": {"securityRules": [{"id": "/subscriptions/x/r", "properties": {"priority": "high"}}]}}])),
                             "securityRules[0].properties.priority: expected int or null, got 'high'"),
    "latin-1": (_latin1, "not UTF-8"),
    "findings-file": (_write('{"schema_version": "1.0", "tool": {}, "coverage": {}, "findings": [], "summary": {}}'), "findings file"),
    "snapshot-newer-major": (_snapshot_doc(schema_version="2.0"), "schema_version 2.0 is not supported"),
    # recognised as a snapshot by its head alone, so the damage further on is found by the typed decode
    "snapshot-truncated": (_write('{"schema_version": "1.1", "metadata": {"scanned_at": "2025-01-01T00:00:00Z"}, '
                                  '"virtual_networks": [{"id": "'), "invalid JSON at line 1"),
    "snapshot-version-garbage": (_snapshot_doc(schema_version="latest"), "schema_version 'latest'"),
    "snapshot-invalid-field": (_snapshot_doc(virtual_networks=[{"id": VNET_ID, "name": "v", "address_prefixes": "10.0.0.0/16"}]),
                               "invalid vnet-audit snapshot at virtual_networks[0].address_prefixes: expected array, got '10.0.0.0/16'"),
    "snapshot-unknown-field": (_snapshot_doc(virtual_networks=[{"id": VNET_ID, "name": "v", "adress_prefixes": []}]),
                               "virtual_networks[0]: object contains unknown field adress_prefixes"),
    # values the rules could not read: each names the item, the resource and the field
    "vnet-prefix-too-long": (_write(json.dumps(_vnet(["10.0.0.0/33"]))),
                             f"item 0 ({VNET_ID}): address_prefixes: '10.0.0.0/33' is not an IPv4 or IPv6 prefix"),
    "vnet-prefix-not-an-address": (_write(json.dumps(_vnet(["banana"]))), f"({VNET_ID}): address_prefixes: 'banana'"),
    "subnet-prefix-garbled": (_write(json.dumps([{"id": VNET_ID, "type": "Microsoft.Network/virtualNetworks", "properties": {
                                  "subnets": [{"id": f"{VNET_ID}/subnets/app", "properties": {"addressPrefix": "10.0.1.0/2a"}}]}}])),
                              f"item 0 ({VNET_ID}/subnets/app): address_prefixes: '10.0.1.0/2a' is not"),
    "nsg-prefix-too-long": (_write(json.dumps(_nsg(sourceAddressPrefix="10.0.0.0/33"))),
                            f"item 0 ({RULE_ID}): source_address_prefixes: '10.0.0.0/33' is not an address prefix"),
    "nsg-priority-out-of-range": (_write(json.dumps(_nsg(priority=5000))),
                                  f"item 0 ({RULE_ID}): priority: 5000 is out of range for a custom rule (100-4096)"),
    "nsg-priority-not-an-integer": (_write(json.dumps(_nsg(priority=100.5))), "priority: expected int or null, got 100.5"),
    "nsg-priority-not-finite": (_write(json.dumps(_nsg(priority=1e400)).replace("Infinity", "1e400")),
                                "securityRules[0].properties.priority: number out of range"),
    "nsg-port-out-of-range": (_write(json.dumps(_nsg(destinationPortRanges=["443", "70000"]))),
                              f"item 0 ({RULE_ID}): destination_port_ranges: '70000' is not a port or port range (0-65535)"),
    "nsg-port-range-reversed": (_write(json.dumps(_nsg(sourcePortRange="2000-1000"))),
                                f"({RULE_ID}): source_port_ranges: '2000-1000' is not a port"),
    "route-next-hop-not-an-ip": (_write(json.dumps(_route("10.0.1.256"))),
                                 f"item 0 ({ROUTE_ID}): next_hop_ip_address: '10.0.1.256' is not an IP address"),
    "snapshot-subnet-prefix": (_snapshot_doc(virtual_networks=[{"id": VNET_ID, "name": "vnet-x", "subnets": [
                                   {"id": f"{VNET_ID}/subnets/app", "name": "app", "address_prefixes": ["10.0.300.0/24"]}]}]),
                               f"{VNET_ID}/subnets/app: address_prefixes: '10.0.300.0/24' is not"),
    "snapshot-empty-rule-prefix": (_snapshot_doc(network_security_groups=[{"id": NSG_ID, "name": "nsg", "security_rules": [
                                       {"id": RULE_ID, "name": "ssh", "priority": 100, "direction": "Inbound", "access": "Allow",
                                        "destination_address_prefixes": [""]}]}]),
                                   f"{RULE_ID}: destination_address_prefixes: '' is not an address prefix"),
    "snapshot-priority-not-finite": (_snapshot_doc(network_security_groups=[{"id": NSG_ID, "name": "nsg", "security_rules": [
                                         {"id": RULE_ID, "name": "ssh", "priority": float("inf"), "direction": "Inbound",
                                          "access": "Allow"}]}], infinity_as="1e400"),
                                     "invalid vnet-audit snapshot at network_security_groups[0].security_rules[0].priority"),
    "snapshot-rule-priority": (_snapshot_doc(network_security_groups=[{"id": NSG_ID, "name": "nsg", "security_rules": [
                                   {"id": RULE_ID, "name": "ssh", "priority": 99, "direction": "Inbound", "access": "Allow"}]}]),
                               f"{RULE_ID}: priority: 99 is out of range for a custom rule (100-4096)"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
@pytest.mark.parametrize("command", ["import", "evaluate"])
def test_malformed_input_is_one_line_naming_the_file(tmp_path, capsys, monkeypatch, case, command):
    make, problem = MALFORMED[case]
    bad = tmp_path / f"{case}.json"
    make(bad)
    code, out, err = run(capsys, monkeypatch, command, EXPORTS / "az_vnet_list.json", bad, "-o", tmp_path / "out.json")
    assert code == 2
    assert_one_error_line(err, str(bad), problem)
    assert not (tmp_path / "out.json").exists(), "nothing is written on bad input"


def test_utf16_with_bom_is_accepted(tmp_path, capsys, monkeypatch):
    """PowerShell 5's `>` writes UTF-16 LE with a BOM."""
    exported = tmp_path / "vnets-utf16.json"
    exported.write_bytes((EXPORTS / "az_vnet_list.json").read_text(encoding="utf-8").encode("utf-16"))
    bom8 = tmp_path / "nsgs-utf8-bom.json"
    bom8.write_bytes(b"\xef\xbb\xbf" + (EXPORTS / "az_nsg_list.json").read_bytes())
    code, _, err = run(capsys, monkeypatch, "import", exported, bom8, "-o", tmp_path / "s.json")
    assert code == 0, err
    doc = json.loads((tmp_path / "s.json").read_text())
    assert len(doc["virtual_networks"]) == 3 and len(doc["network_security_groups"]) == 2


def test_missing_file(tmp_path, capsys, monkeypatch):
    missing = tmp_path / "nope.json"
    code, _, err = run(capsys, monkeypatch, "import", missing, "-o", tmp_path / "s.json")
    assert code == 2
    assert_one_error_line(err, str(missing), "No such file")


def test_directory_as_input(tmp_path, capsys, monkeypatch):
    code, _, err = run(capsys, monkeypatch, "evaluate", tmp_path)
    assert code == 2
    assert_one_error_line(err, str(tmp_path), "cannot read")


def test_conflicting_duplicates_name_both_files(tmp_path, capsys, monkeypatch):
    vnets = json.loads((EXPORTS / "az_vnet_list.json").read_text())
    vnets[0]["addressSpace"]["addressPrefixes"] = ["10.50.0.0/16"]
    changed = tmp_path / "later-export.json"
    changed.write_text(json.dumps(vnets))
    code, _, err = run(capsys, monkeypatch, "import", EXPORTS / "az_vnet_list.json", changed, "-o", tmp_path / "s.json")
    assert code == 2
    assert_one_error_line(err, str(changed), str(EXPORTS / "az_vnet_list.json"), "vnet-hub", "conflicting", "address_prefixes")


def test_conflicting_inline_and_separate_peering_name_both_files(tmp_path, capsys, monkeypatch):
    peerings = json.loads((EXPORTS / "az_vnet_peering_list_hub.json").read_text())
    peerings[0]["peeringState"] = "Disconnected"
    changed = tmp_path / "peerings.json"
    changed.write_text(json.dumps(peerings))
    code, _, err = run(capsys, monkeypatch, "import", EXPORTS / "az_vnet_list.json", changed, "-o", tmp_path / "s.json")
    assert code == 2
    assert_one_error_line(err, str(changed), str(EXPORTS / "az_vnet_list.json"), "hub-to-spoke1", "peering_state")


def test_no_arguments_shows_usage_not_a_traceback(capsys, monkeypatch):
    code, out, err = run(capsys, monkeypatch, "evaluate")
    assert code == 2 and "Traceback" not in err + out


# -- the installed command ------------------------------------------------------------------------

@pytest.mark.skipif(not VNET_AUDIT.exists(), reason="vnet-audit is not installed next to this Python")
def test_installed_command_contract(tmp_path):
    snapshot, findings = tmp_path / "snapshot.json", tmp_path / "findings.json"
    done = subprocess.run([VNET_AUDIT, "import", *AZ_FILES, "-o", snapshot], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    done = subprocess.run([VNET_AUDIT, "evaluate", snapshot, "--rules", "PEER001", "--fail-on", "high", "--output", findings],
                          capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    assert {"schema_version", "tool", "coverage", "findings", "summary"} <= json.loads(findings.read_text()).keys()


@pytest.mark.skipif(not VNET_AUDIT.exists(), reason="vnet-audit is not installed next to this Python")
@pytest.mark.parametrize("case", ["invalid-json", "latin-1", "snapshot-newer-major", "missing-id"])
def test_installed_command_bad_input(tmp_path, case):
    make, problem = MALFORMED[case]
    bad = tmp_path / f"{case}.json"
    make(bad)
    done = subprocess.run([VNET_AUDIT, "evaluate", bad], capture_output=True, text=True)
    assert done.returncode == 2
    assert_one_error_line(done.stderr, str(bad), problem)
    assert done.stdout == ""


@pytest.mark.parametrize("command", ["import", "evaluate"])
def test_unwritable_output_is_one_line(tmp_path, capsys, monkeypatch, command):
    target = tmp_path / "missing-dir" / "out.json"
    code, _, err = run(capsys, monkeypatch, command, EXPORTS / "az_vnet_list.json", "-o", target)
    assert code == 2
    assert_one_error_line(err, str(target), "cannot write")


def test_an_input_too_large_for_memory_is_one_line(capsys, monkeypatch):
    import auditor.input.importer as importer

    def exhausted(*_args, **_kwargs):
        raise MemoryError

    monkeypatch.setattr(importer, "InputFile", exhausted)
    code, _, err = run(capsys, monkeypatch, "evaluate", *AZ_FILES)
    assert code == 2
    assert_one_error_line(err, "not enough memory for this input")
