"""Waivers: accepted findings, each with a justification, an owner and an expiry date.

A waiver file is YAML or JSON (by extension: `.json` is JSON, anything else YAML):

    waivers:
      - rule: PEER001                 # rule id, id glob (PEER*) or exact slug; case-insensitive
        resource: /subscriptions/.../virtualNetworkPeerings/hub-to-legacy   # ARM id or glob
        justification: Legacy VNet is being decommissioned; peering removed in CHG-1234
        expires: 2025-06-30           # YYYY-MM-DD; the waiver applies through that day (UTC)
        owner: network-team@contoso.com
      - fingerprint: 3f2a...          # a finding's fingerprint, instead of rule + resource
        justification: ...
        expires: 2025-03-31
        owner: alice@contoso.com

Decisions:
- `justification`, `expires` and `owner` are all required: a waiver nobody owns is
  never renewed or removed. Unknown keys are errors (a misspelt `expiry` must not
  silently make a waiver permanent).
- An entry names either a `fingerprint`, or a `rule` together with a `resource`
  (`resource: "*"` waives a rule everywhere, and must be written out). When both are
  given, all must match.
- Globs in `rule` match rule ids only, never slugs: `PEER*` must not also waive
  NSG001 peer-traffic-denied or ROUTE001 peer-route-blackholed.
- `resource` is matched against the finding's primary resource only, case-insensitively
  (as ARM ids are); `*` in a glob also crosses `/`.
- A finding matched by several waivers takes the first current one in file order.
- An expired waiver stops applying and is listed under `expired`; a current waiver that
  matches no finding is listed under `stale`.
- A waiver that matches everything (a rule glob every rule id matches, with `resource: "*"`) is
  listed under `matches_everything`, and one expiring more than `horizon_days` ahead (365 unless
  told) under `beyond_horizon`: both still apply, with a warning, since a waiver is meant to be
  narrow and reviewed.
"""

from __future__ import annotations

import fnmatch
import json
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from auditor.engine.discovery import RuleLoadError, discover_rules
from auditor.engine.rule import Finding, WaiverRef, rule_matches
from auditor.errors import InputError
from auditor.model.ids import norm_id

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: How far ahead a waiver may expire without a warning.
HORIZON_DAYS = 365


class Waiver(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    rule: str | None = None
    resource: str | None = None
    fingerprint: str | None = None
    justification: str = Field(min_length=1)
    expires: date
    owner: str = Field(min_length=1)
    source: str = Field(default="", exclude=True)  # file and entry, filled by load_waivers

    @field_validator("expires", mode="before")
    @classmethod
    def _iso_date(cls, value: Any) -> Any:
        if isinstance(value, datetime):
            raise ValueError("expected a date YYYY-MM-DD, not a date and time")
        if isinstance(value, date):
            return value
        if not isinstance(value, str) or not _DATE.match(value.strip()):
            raise ValueError(f"expected a date YYYY-MM-DD, got {value!r}")
        try:
            return date.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a valid date ({exc})") from None

    @model_validator(mode="after")
    def _selector(self) -> Waiver:
        if self.resource and not self.rule and not self.fingerprint:
            raise ValueError("`resource` needs `rule`")
        if not self.fingerprint and not self.rule:
            raise ValueError("an entry needs `fingerprint`, or `rule` and `resource`")
        if self.rule and not self.resource:
            raise ValueError('`rule` needs `resource` (an ARM id or glob; "*" for every resource)')
        return self

    def matches(self, finding: Finding, slug: str = "") -> bool:
        if self.fingerprint and self.fingerprint.lower() != finding.fingerprint.lower():
            return False
        if self.rule and not rule_matches(finding.rule_id, slug, self.rule):
            return False
        if self.resource and not fnmatch.fnmatchcase(norm_id(finding.resource_id), norm_id(self.resource)):
            return False
        return True

    def is_expired(self, today: date) -> bool:
        return today > self.expires

    @property
    def everywhere(self) -> bool:
        """Every resource: a `resource` of stars, and no fingerprint."""
        return not self.fingerprint and bool(self.resource) and not self.resource.strip("*")

    def matches_everything(self, rule_ids: set[str]) -> bool:
        """Every resource, and every rule: a `rule` all these ids match."""
        return self.everywhere and bool(self.rule) and all(rule_matches(i, "", self.rule) for i in rule_ids)

    def describe(self, matches: int) -> dict:
        return {
            "source": self.source,
            "rule": self.rule,
            "resource": self.resource,
            "fingerprint": self.fingerprint,
            "justification": self.justification,
            "expires": self.expires.isoformat(),
            "owner": self.owner,
            "matches": matches,
        }


class WaiverFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    waivers: list[Waiver]
    path: str = Field(default="", exclude=True)


class _Loader(yaml.SafeLoader):
    """Safe YAML that keeps dates as text, so a bad date is reported with its entry."""


_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _parse(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"waiver file {path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise InputError(f"waiver file {path}: not UTF-8 text") from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"waiver file {path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"waiver file {path}: invalid YAML{where}: {problem}") from None


def _location(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load_waivers(path: Path | str) -> WaiverFile:
    """Read and validate a waiver file; any problem is an InputError naming the file, entry and field."""
    path = Path(path)
    doc = _parse(path)
    if doc is None:
        raise InputError(f"waiver file {path}: file is empty; expected a `waivers:` list")
    if isinstance(doc, list):
        doc = {"waivers": doc}
    if not isinstance(doc, dict):
        raise InputError(f"waiver file {path}: expected a mapping with a `waivers:` list, got {type(doc).__name__}")
    try:
        waivers = WaiverFile.model_validate(doc)
    except ValidationError as exc:
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")  # a typo explains a "missing"
        err = errors[0]
        loc = _location(err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown key (allowed: rule, resource, fingerprint, justification, expires, owner)"
        elif err["type"] == "missing":
            message = "required field is missing"
        extra = exc.error_count() - 1
        more = f" (and {extra} more problem{'s' if extra > 1 else ''})" if extra else ""
        raise InputError(f"waiver file {path}: {loc or 'file'}: {message}{more}") from None
    waivers.path = str(path)
    for i, waiver in enumerate(waivers.waivers):
        waiver.source = f"{path}#waivers[{i}]"
    return waivers


def _rule_ids(result) -> set[str]:
    """Every installed rule's id, and those of the evaluation (which may come from a findings file)."""
    try:
        installed = {rule.id for rule in discover_rules()}
    except RuleLoadError:  # reported where rules are chosen; here the evaluation's own rules do
        installed = set()
    return installed | {rule.id for rule in result.rules}


def apply_waivers(result, waivers: WaiverFile | list[Waiver], today: date | None = None,
                  horizon_days: int = HORIZON_DAYS) -> None:
    """Mark matching findings of an Evaluation as waived; record applied, expired and stale waivers,
    and those that match everything or expire beyond the horizon."""
    entries = waivers.waivers if isinstance(waivers, WaiverFile) else list(waivers)
    today = today or datetime.now(timezone.utc).date()
    slugs = {r.id: r.slug for r in result.rules}
    matches = [0] * len(entries)
    applied = 0
    for finding in result.findings:
        chosen = None
        for i, waiver in enumerate(entries):
            if waiver.matches(finding, slugs.get(finding.rule_id, "")):
                matches[i] += 1
                if chosen is None and not waiver.is_expired(today):
                    chosen = waiver
        finding.waived = chosen is not None
        finding.waiver = (
            WaiverRef(justification=chosen.justification, expires=chosen.expires.isoformat(), owner=chosen.owner, source=chosen.source)
            if chosen
            else None
        )
        applied += finding.waived
    expired = [w.describe(n) for w, n in zip(entries, matches) if w.is_expired(today)]
    stale = [w.describe(n) for w, n in zip(entries, matches) if not w.is_expired(today) and n == 0]
    rule_ids = _rule_ids(result) if any(w.everywhere for w in entries) else set()
    horizon = today + timedelta(days=horizon_days)
    result.waivers = {
        "file": waivers.path if isinstance(waivers, WaiverFile) else None,
        "entries": len(entries),
        "applied": applied,
        "expired": expired,
        "stale": stale,
        "matches_everything": [w.describe(n) for w, n in zip(entries, matches)
                               if w.matches_everything(rule_ids)],
        "beyond_horizon": [w.describe(n) for w, n in zip(entries, matches) if w.expires > horizon],
        "horizon_days": horizon_days,
        "checked_on": today.isoformat(),
    }
    result.refresh_summary()


def warnings(result) -> list[str]:
    """One line per expired, stale, all-matching or far-expiring waiver, for stderr."""
    info = result.waivers or {}
    lines = [
        f"waiver {w['source']} expired on {w['expires']} (owner {w['owner']}); "
        f"{w['matches']} finding(s) it matched are reported again"
        for w in info.get("expired", [])
    ]
    lines += [f"waiver {w['source']} matches no finding (stale; owner {w['owner']})" for w in info.get("stale", [])]
    lines += [f"waiver {w['source']} matches every rule and every resource (owner {w['owner']}): it hides any "
              f"finding until {w['expires']}; name the rules or resources it is for"
              for w in info.get("matches_everything", [])]
    lines += [f"waiver {w['source']} expires on {w['expires']}, more than {info.get('horizon_days')} days "
              f"ahead (owner {w['owner']}); a waiver is meant to be reviewed, so renew it nearer the time"
              for w in info.get("beyond_horizon", [])]
    return lines
