"""Controls mapping: each rule's MCSB / Azure Landing Zone controls, in every format."""

import csv
import io
import json
import re
import sys
from pathlib import Path

import jsonschema
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import SARIF_SCHEMA  # noqa: E402
from report_estates import evaluated, realistic_spec  # noqa: E402

from auditor.engine import discover_rules  # noqa: E402
from auditor.engine.controls import CONTROLS, control_label  # noqa: E402
from auditor.engine.findings_file import read_findings  # noqa: E402
from auditor.engine.rule import Rule  # noqa: E402
from auditor.engine.ruledocs import render_catalogue, render_rule  # noqa: E402
from reports import csv_report, html_report, json_report, markdown_report, sarif_report  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def realistic():
    return evaluated(realistic_spec())


def test_every_control_is_a_cited_learn_page():
    assert {c.framework for c in CONTROLS.values()} == {"MCSB", "ALZ"}
    for c in CONTROLS.values():
        assert c.url.startswith("https://learn.microsoft.com/") and c.title
    assert control_label("NS-9") == "MCSB NS-9 Connect on-premises or cloud network privately"
    assert control_label("ALZ-IP").startswith("ALZ-IP Network topology")


def test_rules_name_known_controls_on_the_line_after_reads():
    rules = discover_rules()
    assert any(r.controls for r in rules) and all(set(r.controls) <= set(CONTROLS) for r in rules)
    assert all("ALZ-IP" in r.controls for r in rules if r.id.startswith("OVLP"))
    for path in sorted((ROOT / "rules").glob("*/[A-Z]*.py")):
        lines = path.read_text().splitlines()
        at = next(i for i, line in enumerate(lines) if line.strip().startswith("reads="))
        assert lines[at + 1].strip().startswith("controls="), path.name


def test_an_unknown_control_is_refused():
    with pytest.raises(ValueError, match="NS-99"):
        Rule(id="X1", slug="x", title="x", severity="low", rationale="", remediation="", docs="",
             controls=("NS-99",))


def test_findings_and_rule_summaries_carry_their_rules_controls(realistic):
    result, _ = realistic
    by_rule = {r.id: r.controls for r in discover_rules()}
    assert result.findings and all(f.controls == list(by_rule[f.rule_id]) for f in result.findings)
    assert all(s.controls == list(by_rule[s.id]) for s in result.rules)


def test_json_round_trips_and_an_older_file_without_controls_still_loads(realistic):
    result, snapshot = realistic
    doc = json.loads(json_report.render(result, snapshot))
    assert all("controls" in f for f in doc["findings"]) and all("controls" in r for r in doc["rules"])
    back = read_findings(doc, "findings.json")
    assert [f.controls for f in back.findings] == [f.controls for f in result.findings]
    for part in doc["findings"] + doc["rules"]:
        del part["controls"]
    old = read_findings(doc, "old.json")
    assert len(old.findings) == len(result.findings) and all(f.controls == [] for f in old.findings)


def test_csv_appends_a_controls_column(realistic):
    result, snapshot = realistic
    text = csv_report.render(result, snapshot)
    assert text.splitlines()[0].endswith(",fingerprint,controls")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["controls"] for r in rows] == [";".join(f.controls) for f in result.findings]
    assert any(";" in r["controls"] for r in rows)


def test_sarif_rules_tag_their_controls_and_stay_schema_valid(realistic):
    result, snapshot = realistic
    doc = json.loads(sarif_report.render(result, snapshot))
    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(doc)
    descriptors = {d["id"]: d for d in doc["runs"][0]["tool"]["driver"]["rules"]}
    for s in result.rules:
        props = descriptors[s.id]["properties"]
        assert set(s.controls) <= set(props["tags"])
        assert [c["id"] for c in props["controls"]] == s.controls
        assert all(c["url"].startswith("https://learn.microsoft.com/") for c in props["controls"])
    assert any(descriptors[s.id]["properties"]["controls"] for s in result.rules)


def test_markdown_has_a_controls_column(realistic):
    result, snapshot = realistic
    text = markdown_report.render(result, snapshot)
    assert "| Severity | Rule | Resource | Message | Controls |" in text
    first = next(f for f in result.findings if not f.waived)
    row = next(line for line in text.splitlines() if line.startswith("| ") and first.resource_name in line)
    assert row.rstrip(" |").endswith(", ".join(first.controls))


def test_rules_command_text_and_json_show_controls():
    rules = discover_rules()
    text = render_catalogue(rules)
    nsg3 = next(line for line in text.splitlines() if line.startswith("NSG003"))
    assert nsg3.endswith("[NS-1, ALZ-NET, ALZ-SEC]")
    peer5 = next(line for line in text.splitlines() if line.startswith("PEER005"))
    assert "[" not in peer5  # maps to nothing rather than a guess
    doc = json.loads(render_catalogue(rules, as_json=True))
    nsg3_doc = next(d for d in doc if d["id"] == "NSG003")
    assert nsg3_doc["controls"][0]["title"] == "Establish network segmentation boundaries"
    one = render_rule(next(r for r in rules if r.id == "OVLP001"))
    assert "Controls:" in one and "plan-for-ip-addressing" in one


def test_html_shows_chips_and_a_control_filter(realistic):
    result, snapshot = realistic
    page = html_report.render(result, snapshot)
    assert '<select id="f-control" data-filter="control">' in page
    active = {c for f in result.findings if not f.waived for c in f.controls}
    options = re.findall(r'<option value="([^"]+)">(?:MCSB|ALZ)', page)
    assert set(options) == {c.lower() for c in active}
    assert options.index("ns-9") < options.index("alz-net")  # MCSB first, then the design areas
    assert page.count('class="chip"') >= len([f for f in result.findings if not f.waived and f.controls])
