"""The engine: what a rule is, finding and running rules, waivers and rule documentation."""

from auditor.engine.discovery import (
    ENTRY_POINT_GROUP,
    RuleLoadError,
    discover_rules,
    select_rules,
)
from auditor.engine.evaluation import (
    Evaluation,
    RuleError,
    coverage_of,
    evaluate,
    incomplete_reason,
)

__all__ = [
    "ENTRY_POINT_GROUP", "Evaluation", "RuleError", "RuleLoadError", "coverage_of", "discover_rules", "evaluate",
    "incomplete_reason", "select_rules",
]
