"""Find rules through the `vnet_audit.rules` entry-point group, and select them by id glob or slug."""

from __future__ import annotations

from importlib.metadata import entry_points

from auditor.engine.rule import Rule, rule_matches

ENTRY_POINT_GROUP = "vnet_audit.rules"


class RuleLoadError(Exception):
    pass


def discover_rules() -> list[Rule]:
    """Every installed rule, sorted by id. An entry point names a `Rule`, a module holding `rule`, or a list."""
    rules: dict[str, Rule] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
        except Exception as exc:  # a broken third-party pack must not hide the others
            raise RuleLoadError(f"rule entry point {ep.name!r} ({ep.value}) failed to load: {exc}") from exc
        if isinstance(obj, Rule):
            found = [obj]
        elif isinstance(getattr(obj, "rule", None), Rule):
            found = [obj.rule]
        elif isinstance(obj, (list, tuple)) and all(isinstance(r, Rule) for r in obj):
            found = list(obj)
        else:
            raise RuleLoadError(f"rule entry point {ep.name!r} ({ep.value}) is not a vnet-audit Rule or list of Rules")
        for rule in found:
            if rule.id in rules and rules[rule.id] is not rule:
                raise RuleLoadError(f"rule id {rule.id} is defined twice ({ep.value})")
            rules[rule.id] = rule
    return sorted(rules.values(), key=lambda r: r.id)


def select_rules(rules: list[Rule], include: list[str] | None = None, exclude: list[str] | None = None) -> list[Rule]:
    """Filter by id globs or exact slugs (see `rule_matches`). Raises ValueError for a pattern matching nothing."""

    def matches(rule: Rule, pattern: str) -> bool:
        return rule_matches(rule.id, rule.slug, pattern)

    for pattern in [*(include or []), *(exclude or [])]:
        if not any(matches(r, pattern) for r in rules):
            raise ValueError(f"--rules/--skip-rules pattern {pattern!r} matches no rule")
    # an opt-in rule runs only when an include pattern names it (a glob like FLOW* does)
    chosen = [r for r in rules if (any(matches(r, p) for p in include) if include else not r.opt_in)]
    return [r for r in chosen if not any(matches(r, p) for p in exclude or [])]
