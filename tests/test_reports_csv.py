"""findings.csv: stable columns, one row per finding, formula injection neutralised, BOM option."""

import csv
import io
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report_estates import evaluated, realistic_spec  # noqa: E402

from auditor.engine import Evaluation  # noqa: E402
from auditor.engine.rule import Finding, WaiverRef  # noqa: E402
from reports import WRITERS, csv_report, write_outputs  # noqa: E402

HOSTILE = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "\tTAB", "\rCR"]


def finding(i: int, value: str, waived: bool = False) -> Finding:
    return Finding(
        rule_id="PEER001", severity="high", title=value, resource_id=f"/subscriptions/s/rg/x/{i}", resource_name=value,
        related_ids=[value, "/subscriptions/s/other"], subscription_id=value, message=value, remediation=value,
        fingerprint=f"{i:032d}", waived=waived,
        waiver=WaiverRef(justification="ok", expires="2099-01-01", owner="me") if waived else None,
    )


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_columns_are_stable_and_one_row_per_finding():
    result, snapshot = evaluated(realistic_spec())
    text = csv_report.render(result, snapshot)
    header = text.splitlines()[0].split(",")
    assert header == ["rule_id", "severity", "title", "resource_id", "resource_name", "subscription_id",
                      "related_ids", "message", "remediation", "waived", "fingerprint", "controls"]
    parsed = rows(text)
    assert len(parsed) == len(result.findings) > 5
    for row, f in zip(parsed, result.findings):
        assert row["fingerprint"] == f.fingerprint
        assert row["resource_id"] == f.resource_id
        assert (row["related_ids"].split(";") if row["related_ids"] else []) == f.related_ids
        assert row["waived"] == ("true" if f.waived else "false")
    assert {r["waived"] for r in parsed} == {"true", "false"}


@pytest.mark.parametrize("value", HOSTILE)
def test_formula_cells_are_neutralised(value):
    result = Evaluation(findings=[finding(1, value)])
    parsed = rows(csv_report.render(result))
    row = parsed[0]
    for column in ("title", "resource_name", "subscription_id", "message", "remediation"):
        assert row[column] == "'" + value, column
    assert row["related_ids"] == "'" + value + ";/subscriptions/s/other"
    for cell in row.values():
        assert not cell.startswith(csv_report.FORMULA_START)


def test_harmless_values_are_untouched_and_unicode_survives():
    result = Evaluation(findings=[finding(1, "vnet-ñandú-東京 'quoted', \"double\"\nsecond line")])
    row = rows(csv_report.render(result))[0]
    assert row["resource_name"] == "vnet-ñandú-東京 'quoted', \"double\"\nsecond line"


def test_bom_option_and_plain_utf8(tmp_path):
    result = Evaluation(findings=[finding(1, "Zürich"), finding(2, "=1+1", waived=True)])
    write_outputs(result, None, ["csv", "csv-excel"], tmp_path)
    plain = (tmp_path / WRITERS["csv"][0]).read_bytes()
    excel = (tmp_path / WRITERS["csv-excel"][0]).read_bytes()
    assert not plain.startswith(b"\xef\xbb\xbf")
    assert excel.startswith(b"\xef\xbb\xbf") and excel[3:] == plain
    assert "Zürich" in plain.decode("utf-8")
    assert rows(plain.decode("utf-8"))[1]["waived"] == "true"


def test_no_findings_still_has_the_header():
    assert csv_report.render(Evaluation()).strip() == ",".join([*csv_report.COLUMNS, "controls"])


# Each variant -> the exact cell text: a quote in front of the value as it was.
DISGUISED = [
    (" =1+1", "' =1+1"),
    ("   @SUM(A1)", "'   @SUM(A1)"),
    ("\u00a0=cmd|' /C calc'!A0", "'\u00a0=cmd|' /C calc'!A0"),
    ("\u200b=HYPERLINK(\"http://evil.example\")", "'\u200b=HYPERLINK(\"http://evil.example\")"),
    ("\u200d+1", "'\u200d+1"),
    ("\u2060-1", "'\u2060-1"),
    ("\ufeff=1", "'\ufeff=1"),
    ("\u202e@x", "'\u202e@x"),
    ("\u3000\u200b =1", "'\u3000\u200b =1"),
    ("\u000b=1", "'\u000b=1"),
    ("\uff1dSUM(1)", "'\uff1dSUM(1)"),
    ("\uff0b1", "'\uff0b1"),
    ("\uff0d1", "'\uff0d1"),
    ("\uff20SUM(1)", "'\uff20SUM(1)"),
    ("\u00a0\uff1d1", "'\u00a0\uff1d1"),
    ("\ufe66 small equals", "'\ufe66 small equals"),
]
HARMLESS = [" vnet-1", "\u200bvnet", "\u00a0hub", "vnet=1", "a+b", "10.0.0.0/16", "a\uff1db", "", " "]


@pytest.mark.parametrize("value, expected", DISGUISED)
def test_formulas_behind_spaces_invisible_or_full_width_characters_are_neutralised(value, expected):
    assert csv_report.neutralise(value) == expected
    row = rows(csv_report.render(Evaluation(findings=[finding(1, value)])))[0]
    for column in ("title", "resource_name", "message", "remediation"):
        assert row[column] == expected, column


@pytest.mark.parametrize("value", HARMLESS)
def test_values_without_a_leading_formula_character_are_untouched(value):
    assert csv_report.neutralise(value) == value
