"""`vnet-audit rules`: the catalogue, each rule's documentation, and errors for unknown ids."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from auditor import cli
from auditor.engine import discover_rules
from auditor.engine.rule import Rule
from auditor.engine.ruledocs import render_rule

RULES = discover_rules()
RULE_IDS = [r.id for r in RULES]
VNET_AUDIT = Path(sys.executable).with_name("vnet-audit")


def vnet_audit(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["vnet-audit", *args])
    with pytest.raises(SystemExit) as done:
        cli.main()
    out, err = capsys.readouterr()
    return done.value.code or 0, out, err


def flat(text: str) -> str:
    return " ".join(text.split())


def test_catalogue_lists_every_rule_once(monkeypatch, capsys):
    code, out, err = vnet_audit(monkeypatch, capsys, "rules")
    assert code == 0 and err == ""
    lines = out.strip().splitlines()
    assert [line.split()[0] for line in lines] == RULE_IDS
    for rule, line in zip(RULES, lines):
        assert line.split()[1:3] == [rule.severity.value, rule.slug]
        controls = f"  [{', '.join(rule.controls)}]" if rule.controls else ""
        assert line.endswith(controls) and rule.title in line
        assert ("(with --intents" in line) == rule.uses_intents and ("opt-in: --rules" in line) == rule.opt_in


def test_issue_catalogue_is_installed():
    """The ids of the v1 catalogue are a contract; each keeps its slug and severity."""
    contract = {
        "PEER001": ("peering-one-sided", "high"), "PEER002": ("peering-disconnected", "high"),
        "PEER003": ("peering-not-in-sync", "medium"), "PEER004": ("peering-access-disabled", "medium"),
        "PEER005": ("peering-remote-out-of-scope", "info"), "TRANS001": ("assumed-transitivity", "high"),
        "TRANS002": ("forwarded-traffic-not-allowed", "high"), "TRANS003": ("next-hop-unreachable", "high"),
        "OVLP001": ("peered-overlap", "critical"), "OVLP002": ("hub-spokes-overlap", "high"),
        "OVLP003": ("on-premises-overlap", "high"), "OVLP004": ("address-space-overlap", "low"),
        "NSG001": ("peer-traffic-denied", "medium"), "NSG003": ("vnet-tag-exposes-peers", "medium"),
        "GW001": ("remote-gateway-unavailable", "high"), "GW002": ("gateway-transit-unused", "medium"),
        "GW003": ("transit-without-gateway", "low"), "GW004": ("conflicting-gateway-use", "medium"),
        "ROUTE001": ("peer-route-blackholed", "high"), "ROUTE002": ("gateway-route-without-gateway", "high"),
        "ROUTE003": ("peer-route-to-internet", "high"),
    }
    installed = {r.id: (r.slug, r.severity.value) for r in RULES}
    for rule_id, expected in contract.items():
        if rule_id in installed:  # rules land one by one; those present must match the contract
            assert installed[rule_id] == expected, rule_id


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
def test_rule_page_has_every_section(monkeypatch, capsys, rule):
    code, out, err = vnet_audit(monkeypatch, capsys, "rules", rule.id)
    assert code == 0 and err == ""
    first, title = out.splitlines()[:2]
    assert first.startswith(f"{rule.id} {rule.slug}") and f"[{rule.severity.value}]" in first
    assert title == rule.title
    text = flat(out)
    for heading, body in (("Why it matters:", rule.rationale), ("How to fix:", rule.remediation), ("Example:", rule.example)):
        assert body.strip(), f"{rule.id} has no {heading}"
        assert flat(f"{heading} {body}") in text, heading
    assert f"Docs: {rule.docs}" in out and rule.docs.startswith("https://")


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
def test_rule_json_round_trips(monkeypatch, capsys, rule):
    code, out, _ = vnet_audit(monkeypatch, capsys, "rules", rule.id, "--json")
    doc = json.loads(out)
    assert code == 0
    assert (doc["id"], doc["slug"], doc["severity"], doc["docs"]) == (rule.id, rule.slug, rule.severity.value, rule.docs)
    assert doc["why_it_matters"] == rule.rationale and doc["how_to_fix"] == rule.remediation and doc["example"] == rule.example


def test_lookup_by_slug_and_any_case(monkeypatch, capsys):
    rule = RULES[0]
    by_id = vnet_audit(monkeypatch, capsys, "rules", rule.id.lower())[1]
    by_slug = vnet_audit(monkeypatch, capsys, "rules", rule.slug.upper())[1]
    assert by_id == by_slug and by_id.startswith(rule.id)


def test_glob_lists_matching_rules(monkeypatch, capsys):
    code, out, _ = vnet_audit(monkeypatch, capsys, "rules", "GW00[12]", "--json")
    assert code == 0
    assert [d["id"] for d in json.loads(out)] == [r for r in RULE_IDS if r in ("GW001", "GW002")]


@pytest.mark.parametrize("unknown", ["PEER999", "nope-*"])
def test_unknown_rule_exits_2_with_one_line(monkeypatch, capsys, unknown):
    code, out, err = vnet_audit(monkeypatch, capsys, "rules", unknown)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("vnet-audit: error: ") and unknown in err and "Traceback" not in err


def test_catalogue_json_parses(monkeypatch, capsys):
    code, out, _ = vnet_audit(monkeypatch, capsys, "rules", "--json")
    docs = json.loads(out)
    assert code == 0 and [d["id"] for d in docs] == RULE_IDS
    assert all(set(d) >= {"id", "slug", "title", "severity", "why_it_matters", "how_to_fix", "example", "docs"} for d in docs)


def test_wrapping_keeps_flags_and_long_words_whole():
    flag = "--use-remote-gateways"
    url = "https://learn.microsoft.com/" + "x" * 100
    rule = Rule(id="T001", slug="t", title="t", severity="low", rationale="word " * 16 + flag + " more", remediation=url,
                docs="https://example.org", example="e")
    text = render_rule(rule)
    assert flag in text and url in text


def test_installed_console_script(tmp_path):
    done = subprocess.run([str(VNET_AUDIT), "rules", "--json"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and [d["id"] for d in json.loads(done.stdout)] == RULE_IDS
    done = subprocess.run([str(VNET_AUDIT), "rules", "NOPE001"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
