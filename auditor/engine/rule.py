"""What a rule is, and what it reports.

A rule module holds one `Rule` (its documentation) and one pure function from a
snapshot to findings, attached with `@rule.check`:

    rule = Rule(id="PEER001", slug="peering-one-sided", ...)

    @rule.check
    def check(snapshot):
        yield rule.finding(resource_id=..., message=..., evidence={...})
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from auditor.engine.controls import CONTROLS
from auditor.model.ids import name_of, norm_id, subscription_of

if TYPE_CHECKING:
    from auditor.engine.intents import Intents
    from auditor.model.snapshot import Snapshot


class Severity(str, Enum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"
    info = "info"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.critical: 4, Severity.high: 3, Severity.medium: 2, Severity.low: 1, Severity.info: 0}


class WaiverRef(BaseModel):
    justification: str
    expires: str
    owner: str | None = None
    source: str | None = None  # the waiver file entry that matched


class Finding(BaseModel):
    rule_id: str
    severity: Severity
    title: str
    resource_id: str
    resource_name: str
    related_ids: list[str] = Field(default_factory=list)
    subscription_id: str | None = None
    message: str
    evidence: dict[str, Any] = Field(default_factory=dict)
    remediation: str
    docs: str | None = None
    fingerprint: str
    waived: bool = False
    waiver: WaiverRef | None = None
    baseline_status: Literal["new", "unchanged"] | None = None  # set only when compared with a baseline
    # the rule's controls (auditor.engine.controls); findings files written before have none
    controls: list[str] = Field(default_factory=list)


def rule_matches(rule_id: str, slug: str, pattern: str) -> bool:
    """A rule id glob (`PEER*`, case-insensitive) or an exact slug. Globs never match slugs:
    `PEER*` must not also pick NSG001 peer-traffic-denied."""
    p = pattern.strip().lower()
    return fnmatch.fnmatchcase(rule_id.lower(), p) or p == slug.lower()


def fingerprint(rule_id: str, resource_id: str, related_ids: Iterable[str] = ()) -> str:
    """Stable across scans, casing and ordering: rule id plus normalized resource ids."""
    parts = [rule_id.upper(), norm_id(resource_id), *sorted(map(norm_id, related_ids))]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


@dataclass
class Rule:
    """Metadata and documentation of one rule; `check` holds its pure function."""

    id: str
    slug: str
    title: str
    severity: Severity
    rationale: str  # why it matters
    remediation: str  # how to fix
    docs: str  # link to Azure's documentation
    flags: str = ""  # what it flags, in one or two sentences
    example: str = ""  # a small failing example, and what passes
    decisions: str = ""  # how edge cases are decided
    #: The resource types the check reads, as ARM names (`virtualNetworkGateways`) or full types
    #: (`microsoft.network/virtualnetworkgateways`): an input that lacks one for a subscription
    #: limits the check there, and every report says so.
    reads: tuple[str, ...] = ()
    #: Controls the rule checks, ids from `auditor.engine.controls.CONTROLS`; none when no mapping is clear.
    controls: tuple[str, ...] = ()
    #: The check judges declared intents (`--intents`): it is called as check(snapshot, intents), and
    #: finds nothing when no intents were given.
    uses_intents: bool = False
    #: Runs only when asked for by --rules (an estate-wide inventory: many findings, much work).
    opt_in: bool = False
    func: Callable[..., Iterable[Finding]] | None = field(default=None, repr=False)

    def __post_init__(self):
        self.severity = Severity(self.severity)
        unknown = [c for c in self.controls if c not in CONTROLS]
        if unknown:
            names = ", ".join(unknown)
            raise ValueError(f"rule {self.id}: unknown control(s) {names} (auditor/engine/controls.py)")

    def check(self, func: Callable[[Snapshot], Iterable[Finding]]):
        self.func = func
        return func

    def run(self, snapshot: Snapshot, intents: Intents | None = None) -> list[Finding]:
        if self.func is None:
            raise RuntimeError(f"rule {self.id} has no check function")
        if self.uses_intents:
            return list(self.func(snapshot, intents)) if intents is not None else []
        return list(self.func(snapshot))

    def finding(
        self,
        resource_id: str,
        message: str,
        evidence: dict[str, Any] | None = None,
        related_ids: Iterable[str] = (),
        fingerprint_ids: Iterable[str] | None = None,
    ) -> Finding:
        """A finding about `resource_id`. The fingerprint covers the resource and, unless
        `fingerprint_ids` says otherwise, the related ids."""
        related = list(dict.fromkeys(related_ids))
        return Finding(
            rule_id=self.id,
            severity=self.severity,
            title=self.title,
            resource_id=resource_id,
            resource_name=name_of(resource_id),
            related_ids=related,
            subscription_id=subscription_of(resource_id),
            message=message,
            evidence=evidence or {},
            remediation=self.remediation,
            docs=self.docs,
            fingerprint=fingerprint(self.id, resource_id, related if fingerprint_ids is None else fingerprint_ids),
            controls=list(self.controls),
        )
