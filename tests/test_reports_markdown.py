"""summary.md: coverage warning, counts by severity, top findings truncated, waived count, inert text."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report_estates import evaluated, large_spec, realistic_spec  # noqa: E402

from auditor.engine import Evaluation  # noqa: E402
from auditor.engine.rule import Finding  # noqa: E402
from reports import markdown_report  # noqa: E402


def test_summary_names_incomplete_coverage_counts_and_waivers():
    result, snapshot = evaluated(realistic_spec())
    text = markdown_report.render(result, snapshot)
    assert "Coverage incomplete" in text and "Contoso Legacy" in text and "failed: AuthorizationFailed on subscription" in text
    counts_row = [line for line in text.splitlines() if line.startswith("| ") and line[2].isdigit()][0]
    cells = [c.strip() for c in counts_row.strip("|").split("|")]
    by_sev = result.summary["by_severity"]
    assert cells == [str(by_sev[s]) for s in ("critical", "high", "medium", "low", "info")] + [str(result.summary["waived"])]
    assert f"{result.summary['waived']} waived finding(s)" in text
    active = [f for f in result.findings if not f.waived]
    assert sum(line.startswith("| 🟧 high") or line.startswith("| 🟨 medium") for line in text.splitlines()) == len(active)
    assert "more finding(s) not shown" not in text


def test_long_lists_are_truncated_with_a_note():
    result, snapshot = evaluated(large_spec(60, 4), waive=False)
    total = result.summary["total"]
    assert total > 10
    text = markdown_report.render(result, snapshot, max_rows=10)
    table_rows = [line for line in text.splitlines() if line.startswith("| ") and "waived |" not in line
                  and any(s in line for s in ("critical |", "high |", "medium |", "low |", "info |"))]
    assert len(table_rows) == 10
    assert f"{total - 10} more finding(s) not shown" in text


def test_azure_values_cannot_break_the_table_or_inject_markup():
    f = Finding(rule_id="PEER001", severity="high", title="t", resource_id="/x/a|b", resource_name="a|b<img src=x onerror=alert(1)>",
                message="line1\nline2 | [click](javascript:alert(1)) @team", remediation="r", fingerprint="f")
    text = markdown_report.render(Evaluation(findings=[f]))
    row = [line for line in text.splitlines() if "PEER001" in line][0]
    assert row.count("|") - row.count("\\|") == 6  # exactly five cells (the last: controls)
    assert "<img" not in text and "&lt;img" in text
    assert "[click](" not in text and "\\[click\\]" in text and "@team" not in text


def test_clean_run():
    text = markdown_report.render(Evaluation())
    assert "No findings." in text and "Coverage incomplete" not in text


ZWJ = "\u200d"
# Azure value -> the exact text the summary shows for it.
INERT = [
    ("https://evil.example/login", f"https:{ZWJ}//evil.example/login"),
    ("see HTTP://EVIL.example", f"see HTTP:{ZWJ}//EVIL.example"),
    ("ftp://files.example/x", f"ftp:{ZWJ}//files.example/x"),
    ("www.evil.example", f"www{ZWJ}.evil.example"),
    ("go to WWW.evil.example now", f"go to WWW{ZWJ}.evil.example now"),
    ("[docs](https://evil.example)", f"\\[docs\\]\\(https:{ZWJ}//evil.example\\)"),
    ("![x](https://evil.example/p.png)", f"!\\[x\\]\\(https:{ZWJ}//evil.example/p.png\\)"),
    ("<https://evil.example>", f"&lt;https:{ZWJ}//evil.example&gt;"),
    ("[ref]: https://evil.example", f"\\[ref\\]: https:{ZWJ}//evil.example"),
    ("a|b", "a\\|b"),
    ("`code`", "\\`code\\`"),
    ("*bold* _it_", "\\*bold\\* \\_it\\_"),
    ("(paren)", "\\(paren\\)"),
    ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert\\(1\\)&gt;"),
    ("@team", "&#64;team"),
    ("~~gone~~ # h", "\\~\\~gone\\~\\~ \\# h"),
    ("line1\nline2", "line1 line2"),
    ("awww.example", "awww.example"),  # no autolink without a boundary before www
    ("10.0.0.0/16 vnet-hub", "10.0.0.0/16 vnet-hub"),
]


@pytest.mark.parametrize("value, expected", INERT)
def test_azure_text_is_shown_as_text(value, expected):
    assert markdown_report.md(value) == expected


@pytest.mark.parametrize("value, expected", INERT)
def test_names_and_messages_in_the_findings_table_are_inert(value, expected):
    f = Finding(rule_id="PEER001", severity="high", title="t", resource_id="/x/a", resource_name=value,
                message=value, remediation="r", fingerprint="f")
    text = markdown_report.render(Evaluation(findings=[f]))
    row = [line for line in text.splitlines() if "PEER001" in line][0]
    assert row == f"| 🟧 high | PEER001 | {expected} | {expected} | – |"


def test_the_reports_own_markup_is_left_alone():
    result, snapshot = evaluated(realistic_spec())
    text = markdown_report.render(result, snapshot, max_rows=1)
    assert text.startswith("## vnet-audit summary\n")
    assert "> [!WARNING]\n> **Coverage incomplete:**" in text
    assert "\n### Findings (" in text and "\n_" in text and "more finding(s) not shown" in text
