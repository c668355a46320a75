"""Reporters: turn an evaluation (and its snapshot) into files for people and pipelines.

Reporters never recompute findings; they only format what the engine produced.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import typer

from auditor.engine import Evaluation
from auditor.gc_pause import gc_paused
from auditor.model.snapshot import Snapshot
from auditor.outputs import write_atomic

Render = Callable[[Evaluation, Snapshot | None], str]


def _lazy(module: str, attr: str = "render") -> Render:
    """Import a reporter (pandas, jinja2) only when its format is asked for."""

    def render(result: Evaluation, snapshot: Snapshot | None = None) -> str:
        from importlib import import_module

        # A render builds its view of the estate and the text, and drops them: the cyclic collector
        # would rescan the snapshot's millions of objects on every full collection it triggers (half
        # the HTML report at 4,000 VNets), and, with the snapshot frozen, the growing view (a fifth of
        # it at 11,000 VNets, the share growing with the estate).
        with gc_paused(keep_built=False):
            return getattr(import_module(module), attr)(result, snapshot)

    return render


#: format name -> (file name, writer returning the file's text)
WRITERS: dict[str, tuple[str, Render]] = {
    "json": ("findings.json", _lazy("reports.json_report")),
    "html": ("report.html", _lazy("reports.html_report")),
    "csv": ("findings.csv", _lazy("reports.csv_report")),
    "csv-excel": ("findings-excel.csv", _lazy("reports.csv_report", "render_excel")),  # UTF-8 with BOM
    "sarif": ("findings.sarif", _lazy("reports.sarif_report")),
    "md": ("summary.md", _lazy("reports.markdown_report")),
    "junit": ("findings.junit.xml", _lazy("reports.junit_report")),  # Azure DevOps Tests tab
}


def format_choices() -> str:
    """The format names for help texts and error messages: WRITERS is the only list of them."""
    return ", ".join(WRITERS)


def write_outputs(result: Evaluation, snapshot: Snapshot | None, formats: list[str], output: Path | None) -> list[Path]:
    """Write each format: to stdout (one format, no output), a file (one format) or a directory."""
    unknown = [f for f in formats if f not in WRITERS]
    if unknown:
        message = f"unknown format {', '.join(unknown)}; choose from {format_choices()}"
        raise typer.BadParameter(message, param_hint="--format")
    if output is None and len(formats) == 1:
        typer.echo(WRITERS[formats[0]][1](result, snapshot), nl=False)
        return []
    if output is None:
        output = Path(".")
    written = []
    as_dir = len(formats) > 1 or output.is_dir() or output.suffix == ""
    if as_dir:
        output.mkdir(parents=True, exist_ok=True)
    for fmt in formats:
        name, render = WRITERS[fmt]
        target = output / name if as_dir else output
        write_atomic(target, render(result, snapshot).encode("utf-8"))  # bytes as rendered (CSV is CRLF)
        written.append(target)
    return written
