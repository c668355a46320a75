"""findings.json: the machine contract (`schema_version`, `tool`, `coverage`, `findings`, `summary`, ...)."""

from __future__ import annotations

from auditor.engine import Evaluation
from auditor.model.snapshot import Snapshot


def render(result: Evaluation, snapshot: Snapshot | None = None) -> str:
    finding_fields: set[str] = set() if result.baseline else {"baseline_status"}
    exclude: dict = {"errors": {"__all__": {"detail"}}, "findings": {"__all__": finding_fields}}
    if not result.baseline:  # without --baseline the file is as it was before baselines existed
        exclude["baseline"] = True
    return result.model_dump_json(indent=2, exclude=exclude) + "\n"
