"""findings.json: the machine contract (`schema_version`, `tool`, `coverage`, `findings`, `summary`, ...)."""

from __future__ import annotations

from auditor.engine import Evaluation
from auditor.model.snapshot import Snapshot


def render(result: Evaluation, snapshot: Snapshot | None = None) -> str:
    return result.model_dump_json(indent=2, exclude={"errors": {"__all__": {"detail"}}}) + "\n"
