"""JUnit XML, so Azure DevOps (PublishTestResults) and other CI show findings as tests.

One testsuite per rule run; in it one failing testcase per unwaived finding, one skipped
testcase per waived finding, and a single passing testcase when the rule found nothing; one
skipped testcase per subscription whose input lacks a resource type the rule reads.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from auditor.engine import Evaluation
from auditor.engine.rule import Finding
from auditor.model.snapshot import Snapshot

# XML 1.0 cannot carry most control characters, even escaped; they become U+FFFD.
_NOT_XML = {c: "\ufffd" for c in range(0x20) if c not in (0x9, 0xA, 0xD)}


def _text(value: object) -> str:
    return str(value).translate(_NOT_XML)


def _case(suite: ET.Element, rule_id: str, name: str) -> ET.Element:
    return ET.SubElement(suite, "testcase", classname=_text(f"vnet-audit.{rule_id}"), name=_text(name))


def _finding(suite: ET.Element, f: Finding) -> None:
    case = _case(suite, f.rule_id, f"{f.resource_name} ({f.resource_id})")
    if f.waived:
        reason = f.waiver.justification if f.waiver else "waived"
        ET.SubElement(case, "skipped", message=_text(f"waived: {reason}"))
        return
    failure = ET.SubElement(case, "failure", message=_text(f.message), type=f.severity.value)
    failure.text = _text(f"{f.message}\nseverity: {f.severity.value}\nresource: {f.resource_id}\n"
                         f"how to fix: {f.remediation}")


def _limited(suite: ET.Element, rule_id: str, entry: dict) -> None:
    sid = entry["subscription_id"]
    name = f"{entry['display_name']} ({sid})" if entry.get("display_name") else sid
    types = ", ".join(m["name"] for m in entry.get("missing", []) if rule_id in m.get("rules", []))
    case = _case(suite, rule_id, f"subscription {name}: limited")
    ET.SubElement(case, "skipped", message=_text(f"not fully checked: no {types} in the input"))


def junit(result: Evaluation) -> ET.Element:
    by_rule: dict[str, list[Finding]] = {}
    for f in result.findings:
        by_rule.setdefault(f.rule_id, []).append(f)
    errors = {e.rule_id: e for e in result.errors}
    limited: dict[str, list[dict]] = {}
    for entry in result.coverage.get("limited", []):
        for rule_id in entry.get("rules", []):
            limited.setdefault(rule_id, []).append(entry)
    root = ET.Element("testsuites", name="vnet-audit")
    for summary in result.rules:
        found = by_rule.get(summary.id, [])
        suite = ET.SubElement(root, "testsuite", name=_text(f"{summary.id} {summary.title}"))
        for f in found:
            _finding(suite, f)
        if error := errors.get(summary.id):
            failed = ET.SubElement(_case(suite, summary.id, "rule ran"), "error", message=_text(error.error))
            failed.text = _text(error.detail)
        elif not found:
            _case(suite, summary.id, "no findings")
        for entry in limited.get(summary.id, []):
            _limited(suite, summary.id, entry)
        cases = suite.findall("testcase")
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(sum(c.find("failure") is not None for c in cases)))
        suite.set("errors", str(sum(c.find("error") is not None for c in cases)))
        suite.set("skipped", str(sum(c.find("skipped") is not None for c in cases)))
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(sum(int(s.get(key)) for s in root)))
    return root


def render(result: Evaluation, snapshot: Snapshot | None = None) -> str:
    root = junit(result)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
