"""SARIF 2.1.0: schema-valid, one descriptor per rule that ran, ARM ids as logical locations."""

import json
import sys
from pathlib import Path

import jsonschema
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import SARIF_SCHEMA as SCHEMA  # noqa: E402
from report_estates import evaluated, realistic_spec  # noqa: E402

from auditor.engine import Evaluation, RuleError  # noqa: E402
from reports import locations, sarif_report  # noqa: E402



@pytest.fixture(scope="module")
def realistic():
    result, snapshot = evaluated(realistic_spec())
    return result, json.loads(sarif_report.render(result, snapshot))


def validate(doc: dict) -> None:
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def test_validates_against_the_sarif_schema(realistic):
    validate(realistic[1])


def test_schema_check_is_not_vacuous(realistic):
    broken = json.loads(json.dumps(realistic[1]))
    broken["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(AssertionError):
        validate(broken)


def test_one_descriptor_per_rule_that_ran(realistic):
    result, doc = realistic
    driver = doc["runs"][0]["tool"]["driver"]
    assert [r["id"] for r in driver["rules"]] == [r.id for r in result.rules]
    by_id = {r["id"]: r for r in driver["rules"]}
    for summary in result.rules:
        d = by_id[summary.id]
        assert d["name"] == summary.slug
        assert d["shortDescription"]["text"] == summary.title
        assert d["helpUri"] == summary.docs
        assert d["help"]["text"] and summary.docs in d["help"]["markdown"]
        assert d["properties"]["security-severity"] == sarif_report.SECURITY_SEVERITY[summary.severity.value]
        assert d["defaultConfiguration"]["level"] == sarif_report.LEVEL[summary.severity.value]
    assert by_id["OVLP001"]["properties"]["security-severity"] == "9.5"
    assert by_id["PEER005"]["defaultConfiguration"]["level"] == "note"


def test_results_carry_ids_fingerprints_and_suppressions(realistic):
    result, doc = realistic
    run = doc["runs"][0]
    assert len(run["results"]) == len(result.findings)
    for res, f in zip(run["results"], result.findings):
        assert res["ruleId"] == f.rule_id
        assert run["tool"]["driver"]["rules"][res["ruleIndex"]]["id"] == f.rule_id
        assert res["level"] == sarif_report.LEVEL[f.severity.value]
        assert res["message"]["text"] == f.message
        logical = res["locations"][0]["logicalLocations"][0]
        assert logical == {"fullyQualifiedName": f.resource_id, "name": f.resource_name, "kind": "resource"}
        assert res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert res["partialFingerprints"] == {sarif_report.FINGERPRINT_KEY: f.fingerprint}
        if f.waived:
            (s,) = res["suppressions"]
            assert s["kind"] == "external" and s["justification"] == f.waiver.justification
            assert s["properties"]["owner"] == f.waiver.owner
        else:
            assert "suppressions" not in res
    assert sum("suppressions" in r for r in run["results"]) == result.summary["waived"] == 2


def test_incomplete_coverage_and_rule_errors_are_notified(realistic):
    result, doc = realistic
    (invocation,) = doc["runs"][0]["invocations"]
    texts = [n["message"]["text"] for n in invocation["toolExecutionNotifications"]]
    assert any("Contoso Legacy" in t and "failed" in t for t in texts)
    assert invocation["properties"]["coverage_complete"] is False
    assert invocation["executionSuccessful"] is True
    broken = Evaluation(rules=result.rules, findings=[], errors=[RuleError(rule_id="PEER001", error="KeyError: 'x'", detail="tb")])
    doc2 = sarif_report.sarif(broken)
    inv = doc2["runs"][0]["invocations"][0]
    assert inv["executionSuccessful"] is False
    assert inv["toolExecutionNotifications"][0]["associatedRule"] == {"id": "PEER001"}
    validate(doc2)


def test_physical_location_points_at_the_line_of_the_resource_in_the_input(tmp_path, monkeypatch):
    result, snapshot = evaluated(realistic_spec())
    monkeypatch.chdir(tmp_path)
    snapshot.write(tmp_path / "snap.json")
    result.scan["inputs"] = ["snap.json"]
    doc = sarif_report.sarif(result)
    lines = (tmp_path / "snap.json").read_text().splitlines()
    for res, f in zip(doc["runs"][0]["results"], result.findings):
        loc = res["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"] == "snap.json"
        assert f'"{f.resource_id}"' in lines[loc["region"]["startLine"] - 1]
    validate(doc)


def test_the_line_lookup_is_built_once_and_each_input_resolved_once(tmp_path, monkeypatch):
    # resolving the input's path for every "id" in it made SARIF 4x slower than reading the file
    result, snapshot = evaluated(realistic_spec())
    monkeypatch.chdir(tmp_path)
    snapshot.write(tmp_path / "a.json")
    snapshot.write(tmp_path / "b.json")
    result.scan["inputs"] = ["a.json", "b.json", "missing.json"]
    builds, resolved = [], []

    def id_lines(inputs):
        builds.append(inputs)
        return locations.id_lines(inputs)

    def file_uri(path):
        resolved.append(path)
        return real_file_uri(path)

    real_file_uri = locations.file_uri
    monkeypatch.setattr(sarif_report, "id_lines", id_lines)
    monkeypatch.setattr(locations, "file_uri", file_uri)
    doc = sarif_report.sarif(result)
    assert len(builds) == 1 and len(doc["runs"][0]["results"]) == len(result.findings) > 1
    assert resolved == ["a.json", "b.json"]
    assert len(locations.id_lines(["a.json"])) > 50  # many ids per file, so the count above is not vacuous
