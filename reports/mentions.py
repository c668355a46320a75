"""Which findings name each resource, keyed by normalized ARM id.

Built in one pass over the findings, so the topology asks about each peering without
scanning every finding (that scan made the HTML report quadratic in estate size).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from auditor.engine.rule import Finding, Severity
from auditor.model.ids import norm_id


def _worst(severities: Iterable[Severity]) -> Severity | None:
    return max(severities, key=lambda s: s.rank, default=None)


class Mentions:
    def __init__(self, findings: Iterable[Finding]):
        by_id: dict[str, list[tuple[frozenset[str], Severity]]] = defaultdict(list)
        for f in findings:
            ids = frozenset(norm_id(i) for i in [f.resource_id, *f.related_ids])
            for key in ids:
                by_id[key].append((ids, f.severity))
        #: norm id -> (id set, severity) of each finding that names it
        self.by_id: dict[str, list[tuple[frozenset[str], Severity]]] = dict(by_id)

    def any_of(self, keys: Iterable[str]) -> bool:
        """True when a finding names one of these normalized ids."""
        return any(key in self.by_id for key in keys)

    def together(self, a: str, b: str) -> bool:
        """True when one finding names both normalized ids."""
        return self.worst_together(a, b) is not None

    def worst_of(self, keys: Iterable[str]) -> Severity | None:
        """The worst severity of the findings naming any of these normalized ids."""
        return _worst(sev for key in keys for _, sev in self.by_id.get(key, ()))

    def worst_together(self, a: str, b: str) -> Severity | None:
        """The worst severity of the findings naming both normalized ids."""
        named_a, named_b = self.by_id.get(a, ()), self.by_id.get(b, ())
        # look through the rarer one's findings: a spoke's few, not its hub's many
        few, other = (named_a, b) if len(named_a) <= len(named_b) else (named_b, a)
        return _worst(sev for ids, sev in few if other in ids)
