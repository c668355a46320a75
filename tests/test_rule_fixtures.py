"""Every rule against its data fixtures: tests/rule_cases/<ID>.yaml, named cases of estate + expected findings."""

from pathlib import Path

import pytest
import yaml

from auditor.engine import discover_rules
from auditor.engine.intents import parse_intents
from auditor.input.synthetic import snapshot_from_spec

FIXTURES = Path(__file__).parent / "rule_cases"
RULES = {r.id: r for r in discover_rules()}


def _cases():
    for path in sorted(FIXTURES.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        for case in doc["cases"]:
            yield pytest.param(doc["rule"], case, id=f"{doc['rule']}-{case['name']}")


def _expected(entry) -> dict:
    return {"resource": entry} if isinstance(entry, str) else entry


@pytest.mark.parametrize("rule_id,case", list(_cases()))
def test_rule_case(rule_id, case):
    snapshot = snapshot_from_spec(case["estate"])
    intents = parse_intents(case["intents"], case["name"]) if "intents" in case else None
    findings = RULES[rule_id].run(snapshot, intents)
    expected = [_expected(e) for e in case["expect"]]
    assert sorted(f.resource_name for f in findings) == sorted(e["resource"] for e in expected), [f.message for f in findings]
    remaining = list(findings)  # several findings on one resource pair up with expectations in order
    for want in expected:
        got = next(f for f in remaining if f.resource_name == want["resource"])
        remaining.remove(got)
        assert got.rule_id == rule_id
        for fragment in want.get("message_contains", []):
            assert fragment in got.message
        for related in want.get("related", []):
            assert any(r.rsplit("/", 1)[-1] == related for r in got.related_ids), got.related_ids
        for key, value in (want.get("evidence") or {}).items():
            assert got.evidence.get(key) == value, got.evidence


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_every_rule_has_positive_and_negative_case(rule_id):
    path = FIXTURES / f"{rule_id}.yaml"
    assert path.exists(), f"{rule_id} has no fixture file {path.name}"
    cases = yaml.safe_load(path.read_text())["cases"]
    assert any(c["expect"] for c in cases), "no positive case"
    assert any(not c["expect"] for c in cases), "no negative case"


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_rule_metadata_complete(rule_id):
    rule = RULES[rule_id]
    for field in ("id", "slug", "title", "rationale", "remediation", "docs", "flags", "example"):
        assert getattr(rule, field), f"{rule_id} lacks {field}"
    assert rule.docs.startswith("https://")
    module_file = Path(__import__(rule.func.__module__, fromlist=["x"]).__file__)
    assert module_file.stem == rule.id, "a rule lives in rules/<group>/<ID>.py"
