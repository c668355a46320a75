"""summary.md: coverage warning, counts by severity, top findings truncated, waived count, inert text."""

import sys
from pathlib import Path

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
    assert row.count("|") - row.count("\\|") == 5  # exactly four cells
    assert "<img" not in text and "&lt;img" in text
    assert "[click](" not in text and "\\[click\\]" in text and "@team" not in text


def test_clean_run():
    text = markdown_report.render(Evaluation())
    assert "No findings." in text and "Coverage incomplete" not in text
