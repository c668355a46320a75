"""findings.junit.xml: one testsuite per rule, failures for findings, skipped for waived, inert text."""

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import run_cli  # noqa: E402
from report_estates import evaluated, realistic_spec  # noqa: E402

from auditor.engine import Evaluation, RuleError  # noqa: E402
from auditor.engine.evaluation import RuleSummary  # noqa: E402
from auditor.engine.rule import Finding  # noqa: E402
from reports import WRITERS, junit_report  # noqa: E402


def parsed(result: Evaluation) -> ET.Element:
    return ET.fromstring(junit_report.render(result).encode("utf-8"))


def test_counts_match_the_findings():
    result, _ = evaluated(realistic_spec())
    root = parsed(result)
    suites = root.findall("testsuite")
    assert len(suites) == len(result.rules)
    active = [f for f in result.findings if not f.waived]
    waived = [f for f in result.findings if f.waived]
    assert active and waived  # the estate has both, so the counts below are not vacuous
    assert int(root.get("failures")) == len(root.findall(".//failure")) == len(active)
    assert int(root.get("skipped")) == len(root.findall(".//skipped")) == len(waived)
    clean = [s for s in result.rules if s.findings == 0]
    passing = [c for c in root.iter("testcase") if len(c) == 0]
    assert clean and len(passing) == len(clean)
    assert int(root.get("tests")) == len(result.findings) + len(clean)
    for suite in suites:
        assert int(suite.get("tests")) == len(suite.findall("testcase"))


def test_a_failure_carries_message_severity_and_resource():
    result, _ = evaluated(realistic_spec())
    f = next(f for f in result.findings if not f.waived)
    cases = parsed(result).iter("testcase")
    failure = next(c.find("failure") for c in cases
                   if f.resource_id in c.get("name") and c.get("classname") == f"vnet-audit.{f.rule_id}")
    assert failure.get("message") == f.message and failure.get("type") == f.severity.value
    assert f"resource: {f.resource_id}" in failure.text and f"severity: {f.severity.value}" in failure.text


def test_azure_text_is_escaped_and_control_characters_do_not_break_the_xml():
    name = 'a<b>&"c\x01'
    f = Finding(rule_id="PEER001", severity="high", title="t", resource_id=f"/x/{name}", resource_name=name,
                message="</failure><testcase name='x'/>\x1b", remediation="r", fingerprint="f")
    rule = RuleSummary(id="PEER001", slug="s", title="t & <u>", severity="high", docs="", findings=1)
    root = parsed(Evaluation(rules=[rule], findings=[f]))
    case = root.find("testsuite/testcase")
    assert case.get("name").startswith('a<b>&"c\ufffd')
    assert case.find("failure").get("message") == "</failure><testcase name='x'/>\ufffd"
    assert len(root.findall(".//testcase")) == 1 and root.find("testsuite").get("name") == "PEER001 t & <u>"


def test_a_rule_that_failed_is_an_error():
    rule = RuleSummary(id="NSG001", slug="s", title="t", severity="high", docs="", findings=0)
    error = RuleError(rule_id="NSG001", error="boom", detail="Traceback")
    root = parsed(Evaluation(rules=[rule], errors=[error]))
    assert root.get("errors") == "1" and root.find(".//error").get("message") == "boom"
    assert root.find(".//error").text == "Traceback"


def test_the_format_is_offered_and_written(tmp_path, capsys, monkeypatch):
    assert WRITERS["junit"][0] == "findings.junit.xml"
    code, out, _ = run_cli(capsys, monkeypatch, "scan", "--help")
    assert code == 0 and "junit" in out
    code, _, err = run_cli(capsys, monkeypatch, "scan", "--demo", "--format", "junit", "-o", tmp_path, "-q")
    assert code == 0, err
    assert int(ET.parse(tmp_path / "findings.junit.xml").getroot().get("failures")) > 0
