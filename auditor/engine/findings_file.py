"""A findings.json read back (`report`): the contract `evaluate --format json` writes, checked field by
field, so a damaged file is one line naming the file and the field, never a traceback in a reporter.

The parts `Evaluation` keeps as plain dicts (tool, scan, coverage, waivers, summary) are checked
here. Keys a newer version adds are kept; keys a file leaves out stay out (reporters read them with
defaults), except the few a reader cannot do without.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from auditor.engine.evaluation import (
    RESULTS_SCHEMA_VERSION,
    Evaluation,
    RuleError,
    RuleSummary,
)
from auditor.engine.rule import Finding, Severity
from auditor.errors import InputError


class _Part(BaseModel):
    model_config = ConfigDict(extra="allow")


class Tool(_Part):
    name: str = "vnet-audit"
    version: str = ""


class Tenant(_Part):
    tenant_id: str
    display_name: str | None = None
    default_domain: str | None = None


class Scan(_Part):
    scanned_at: str | None = None
    source: str | None = None
    cloud: str | None = None
    run_by: str | None = None
    inputs: list[str] = Field(default_factory=list)
    snapshot_schema_version: str | None = None
    tenants: list[Tenant] = Field(default_factory=list)
    skipped_resource_types: dict[str, int] = Field(default_factory=dict)
    counts: dict[str, int] = Field(default_factory=dict)


class CollectionError(_Part):
    scope: str
    code: str | None = None
    message: str = ""


class CoverageEntry(_Part):
    subscription_id: str
    display_name: str | None = None
    tenant_id: str | None = None
    status: str
    errors: list[CollectionError] = Field(default_factory=list)


class MissingType(_Part):
    resource_type: str
    name: str
    rules: list[str] = Field(default_factory=list)


class LimitedEntry(_Part):
    subscription_id: str
    display_name: str | None = None
    rules: list[str] = Field(default_factory=list)
    missing: list[MissingType] = Field(default_factory=list)


class Coverage(_Part):
    complete: bool = True
    subscriptions_total: int = 0
    subscriptions_incomplete: int = 0
    incomplete: list[CoverageEntry] = Field(default_factory=list)
    subscriptions_limited: int = 0
    limited: list[LimitedEntry] = Field(default_factory=list)
    subscriptions: list[CoverageEntry] = Field(default_factory=list)


class WaiverEntry(_Part):
    source: str = ""
    rule: str | None = None
    resource: str | None = None
    fingerprint: str | None = None
    justification: str = ""
    expires: str = ""
    owner: str | None = None
    matches: int = 0


class Waivers(_Part):
    file: str | None = None
    entries: int = 0
    applied: int = 0
    expired: list[WaiverEntry] = Field(default_factory=list)
    stale: list[WaiverEntry] = Field(default_factory=list)
    checked_on: str | None = None


class ResolvedEntry(_Part):
    rule_id: str
    severity: Severity | None = None
    resource_id: str
    fingerprint: str
    message: str = ""


class Baseline(_Part):
    file: str | None = None
    new: int = 0
    unchanged: int = 0
    resolved: list[ResolvedEntry] = Field(default_factory=list)


class Summary(_Part):
    total: int = 0
    waived: int = 0
    by_severity: dict[Severity, int] = Field(default_factory=dict)
    by_rule: dict[str, int] = Field(default_factory=dict)
    rules_run: int = 0
    rule_errors: int = 0
    coverage_complete: bool = True


class FileRuleError(RuleError):
    detail: str = ""  # findings.json leaves tracebacks out


class FindingsFile(BaseModel):
    """The document as a whole: the five keys every findings.json has are required."""

    model_config = ConfigDict(extra="allow")

    schema_version: str
    tool: Tool
    scan: Scan = Field(default_factory=Scan)
    coverage: Coverage
    rules: list[RuleSummary] = Field(default_factory=list)
    findings: list[Finding]
    errors: list[FileRuleError] = Field(default_factory=list)
    waivers: Waivers = Field(default_factory=Waivers)
    baseline: Baseline = Field(default_factory=Baseline)
    summary: Summary


_PLAIN_PARTS = ("tool", "scan", "coverage", "waivers", "baseline", "summary")


def read_findings(doc: Any, origin: str) -> Evaluation:
    """The Evaluation a findings document holds; InputError naming `origin` and the first bad field."""
    if not isinstance(doc, dict):
        kind = type(doc).__name__
        raise InputError(f"{origin}: not a vnet-audit findings file (expected an object, got {kind})")
    try:
        checked = FindingsFile.model_validate(doc)
    except ValidationError as exc:
        raise InputError(f"{origin}: not a valid vnet-audit findings file: {_first_problem(exc)}") from None
    major = checked.schema_version.split(".")[0]
    if major != RESULTS_SCHEMA_VERSION.split(".")[0]:
        raise InputError(f"{origin}: findings schema_version {checked.schema_version!r} is not supported "
                         f"(this vnet-audit reads {RESULTS_SCHEMA_VERSION.split('.')[0]}.x)")
    plain = {name: getattr(checked, name).model_dump(mode="json", exclude_unset=True) for name in _PLAIN_PARTS}
    return Evaluation(schema_version=checked.schema_version, rules=checked.rules, findings=checked.findings,
                      errors=[RuleError(**e.model_dump()) for e in checked.errors], **plain)


def load_findings(path: Path, what: str = "findings file") -> Evaluation:
    """A findings.json on disk; InputError naming the file when it is missing, unreadable or damaged."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise InputError(f"{path}: {what} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read {what} ({getattr(exc, 'strerror', None) or exc})") from None
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{path}: {what} is not valid JSON ({exc})") from None
    return read_findings(doc, str(path))


def _first_problem(exc: ValidationError) -> str:
    errors = exc.errors()
    first = errors[0]
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"]).lstrip(".")
    what = "required field is missing" if first["type"] == "missing" else first["msg"]
    if first["type"] != "missing" and len(shown := repr(first.get("input"))) <= 60:
        what = f"{what}, got {shown}"
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    return f"{where or 'document'}: {what}{more}"
