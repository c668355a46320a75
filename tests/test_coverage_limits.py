"""Checks an input limits: imported files cover only the resource types they hold, per subscription,
and every report (and the exit code) says which rules were limited where, instead of a clean pass."""

import csv
import io
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_reports_sarif import validate as validate_sarif  # noqa: E402

from auditor.engine import discover_rules, evaluate  # noqa: E402
from auditor.engine.findings_file import read_findings  # noqa: E402
from auditor.engine.limits import limited_checks, read_types  # noqa: E402
from auditor.engine.rule import Rule  # noqa: E402
from auditor.exit_status import EXIT_INCOMPLETE, EXIT_OK, ExitPolicy, decide  # noqa: E402
from auditor.input.importer import load_snapshot  # noqa: E402
from auditor.input.synthetic import snapshot_from_spec  # noqa: E402
from reports import console, csv_report, html_report, json_report, junit_report, markdown_report  # noqa: E402
from reports import sarif_report  # noqa: E402

EXPORTS = Path(__file__).parent / "data" / "exports"
SUBS = ["1f3c6a52-8d2e-4e0b-9a7c-0c2d5e6f7a81", "7b9e2d14-3c5a-4f61-8e27-94b0c1d2e3f4"]
LIVE = {
    "subscriptions": {"prod": {}},
    "vnets": {
        "hub": {"subscription": "prod", "address_space": "10.0.0.0/16"},
        "spoke": {"subscription": "prod", "address_space": "10.1.0.0/16"},
    },
    "peerings": [{"from": "hub", "to": "spoke"}, {"from": "spoke", "to": "hub"}],
}


def evaluated(*files: str, rules: str = ""):
    snapshot = load_snapshot([EXPORTS / f for f in files])
    chosen = [r for r in discover_rules() if r.id.startswith(rules)]
    return evaluate(snapshot, chosen), snapshot


@pytest.fixture(scope="module")
def nsg_only():
    return evaluated("az_nsg_list.json")


@pytest.fixture(scope="module")
def no_gateways():
    """VNets of both subscriptions, gateway rules only: no gateway listing anywhere."""
    return evaluated("az_vnet_list.json", rules="GW")


@pytest.fixture(scope="module")
def live():
    snapshot = snapshot_from_spec(LIVE)
    return evaluate(snapshot, discover_rules()), snapshot


def by_sub(result) -> dict[str, dict]:
    return {e["subscription_id"]: e for e in result.coverage["limited"]}


def test_every_rule_declares_what_it_reads():
    for rule in discover_rules():
        assert "microsoft.network/virtualnetworks" in read_types(rule), rule.id


def test_nsgs_without_vnets_limit_every_rule_reading_vnets(nsg_only):
    result, _ = nsg_only
    limited = by_sub(result)
    assert sorted(limited) == SUBS
    for entry in limited.values():
        vnets = next(m for m in entry["missing"] if m["name"] == "virtualNetworks")
        assert vnets["rules"] == sorted(r.id for r in result.rules)
        assert "networkSecurityGroups" not in [m["name"] for m in entry["missing"]]
    assert result.coverage["complete"] is False and result.coverage["subscriptions_incomplete"] == 0
    assert result.summary["coverage_complete"] is False


def test_missing_gateways_limit_only_the_rules_reading_them(no_gateways):
    result, _ = no_gateways
    for entry in by_sub(result).values():
        assert [m["name"] for m in entry["missing"]] == ["virtualNetworkGateways"]
        assert entry["rules"] == ["GW001", "GW002", "GW003", "GW004"]


def test_a_type_listed_for_one_subscription_covers_that_subscription_only():
    result, _ = evaluated("az_vnet_list.json", "az_vnet_gateway_list.json", rules="GW")
    missing = {sid: [m["name"] for m in e["missing"]] for sid, e in by_sub(result).items()}
    assert missing == {SUBS[1]: ["virtualNetworkGateways"]}


def test_a_live_scan_and_rules_reading_nothing_limit_nothing(live, nsg_only):
    result, _ = live
    assert result.coverage["limited"] == [] and result.coverage["complete"] is True
    _, snapshot = nsg_only
    silent = Rule(
        id="ZZZ001",
        slug="reads-nothing",
        title="t",
        severity="low",
        rationale="t",
        remediation="t",
        docs="https://example.invalid",
    )
    assert limited_checks(snapshot, [silent]) == []


def test_json_carries_the_limits_and_reads_them_back(nsg_only):
    result, snapshot = nsg_only
    doc = json.loads(json_report.render(result, snapshot))
    assert doc["coverage"]["subscriptions_limited"] == 2
    again = read_findings(doc, "findings.json")
    assert again.coverage["limited"] == doc["coverage"]["limited"]


def test_markdown_says_one_line_per_subscription(no_gateways):
    result, snapshot = no_gateways
    text = markdown_report.render(result, snapshot)
    lines = [
        line for line in text.splitlines() if "no virtualNetworkGateways in the input" in line
    ]
    assert len(lines) == 2 and all("GW001, GW002, GW003, GW004 limited" in line for line in lines)
    assert "Checks limited" in text


def test_csv_has_a_coverage_row_per_limited_subscription(no_gateways):
    result, snapshot = no_gateways
    rows = list(csv.DictReader(io.StringIO(csv_report.render(result, snapshot))))
    coverage = [r for r in rows if r["rule_id"] == csv_report.COVERAGE_ROW]
    assert sorted(r["subscription_id"] for r in coverage) == SUBS
    assert all(r["related_ids"] == "GW001;GW002;GW003;GW004" and r["severity"] == "" for r in coverage)
    assert len(rows) - len(coverage) == len(result.findings)


def test_sarif_notifies_per_subscription_and_stays_valid(no_gateways):
    result, snapshot = no_gateways
    doc = json.loads(sarif_report.render(result, snapshot))
    validate_sarif(doc)
    invocation = doc["runs"][0]["invocations"][0]
    notes = [n for n in invocation["toolExecutionNotifications"] if n["descriptor"]["id"] == "checks-limited"]
    assert sorted(n["properties"]["subscription_id"] for n in notes) == SUBS
    assert all("virtualNetworkGateways" in n["message"]["text"] for n in notes)
    assert invocation["properties"]["coverage_complete"] is False
    assert invocation["properties"]["subscriptions_limited"] == 2


def test_junit_skips_each_limited_rule_per_subscription(no_gateways):
    result, snapshot = no_gateways
    root = ET.fromstring(junit_report.render(result, snapshot))
    for suite in root:
        skipped = [c for c in suite if c.find("skipped") is not None and "limited" in c.get("name")]
        assert len(skipped) == 2, suite.get("name")
        assert "no virtualNetworkGateways in the input" in skipped[0].find("skipped").get(
            "message"
        )


def test_html_is_incomplete_and_names_the_limits(no_gateways, live):
    result, snapshot = no_gateways
    page = html_report.render(result, snapshot)
    assert "verdict verdict-incomplete" in page and "checks limited in 2 subscriptions" in page
    assert page.count("GW001, GW002, GW003, GW004 limited") == 2
    result, snapshot = live  # the control: the same wording is absent from a complete estate
    page = html_report.render(result, snapshot)
    assert "verdict verdict-pass" in page and "checks limited" not in page and " limited</li>" not in page


def test_console_summary_counts_limited_subscriptions(no_gateways):
    result, _ = no_gateways
    lines = console.summary_lines(result, 0, "reason")
    assert (
        "vnet-audit: coverage: 0/2 subscriptions complete (2 subscriptions with checks limited by the input)"
        in lines
    )


def test_fail_on_incomplete_exits_3_for_limited_checks(no_gateways, live):
    result, _ = no_gateways
    code, reason = decide(result, ExitPolicy(fail_on_incomplete=True))
    assert code == EXIT_INCOMPLETE and reason.startswith("2 subscriptions with checks limited by the input")
    assert decide(result, ExitPolicy())[0] == EXIT_OK
    assert decide(live[0], ExitPolicy(fail_on_incomplete=True))[0] == EXIT_OK
