"""Rule documentation, rendered from the one source: each rule's metadata."""

from __future__ import annotations

import json
import textwrap

from auditor.engine.controls import control, control_label
from auditor.engine.rule import Rule


def controls_doc(control_ids) -> list[dict]:
    """Each control id with its framework, title and link (an unknown id keeps only its id)."""
    out = []
    for cid in control_ids:
        c = control(cid)
        out.append({"id": cid, "framework": c.framework, "title": c.title, "url": c.url}
                   if c else {"id": cid})
    return out


def rule_doc(rule: Rule) -> dict:
    return {
        "id": rule.id,
        "slug": rule.slug,
        "title": rule.title,
        "severity": rule.severity.value,
        "what_it_flags": rule.flags,
        "why_it_matters": rule.rationale,
        "example": rule.example,
        "how_to_fix": rule.remediation,
        "decisions": rule.decisions,
        "docs": rule.docs,
        "controls": controls_doc(rule.controls),
        "uses_intents": rule.uses_intents,
        "opt_in": rule.opt_in,
    }


def render_rule(rule: Rule, as_json: bool = False) -> str:
    doc = rule_doc(rule)
    if as_json:
        return json.dumps(doc, indent=2)
    lines = [f"{rule.id} {rule.slug}  [{rule.severity.value}]", rule.title, ""]
    for heading, key in (
        ("What it flags", "what_it_flags"),
        ("Why it matters", "why_it_matters"),
        ("Example", "example"),
        ("How to fix", "how_to_fix"),
        ("Edge cases", "decisions"),
    ):
        if doc[key]:
            lines.append(f"{heading}:")
            for para in doc[key].splitlines():
                # never split words or hyphens: slugs, flags (--use-remote-gateways) and ids must stay copyable
                lines.extend(textwrap.wrap(para, 88, initial_indent="  ", subsequent_indent="  ",
                                           break_long_words=False, break_on_hyphens=False) or [""])
            lines.append("")
    if rule.controls:
        lines.append("Controls:")
        lines.extend(f"  {control_label(c)}: {control(c).url}" for c in rule.controls)
        lines.append("")
    lines.append(f"Docs: {rule.docs}")
    return "\n".join(lines)


def render_catalogue(rules: list[Rule], as_json: bool = False) -> str:
    if as_json:
        return json.dumps([rule_doc(r) for r in rules], indent=2)
    width = max((len(r.slug) for r in rules), default=10)
    return "\n".join(f"{r.id:<9} {r.severity.value:<9} {r.slug:<{width}}  {r.title}{_when_note(r)}{_controls_note(r)}"
                     for r in rules)


def _when_note(rule: Rule) -> str:
    """When a rule runs, if not always: with an intents file, or only when --rules names it."""
    notes = (["with --intents"] if rule.uses_intents else []) + (["opt-in: --rules " + rule.id] if rule.opt_in else [])
    return f" ({'; '.join(notes)})" if notes else ""


def _controls_note(rule: Rule) -> str:
    return f"  [{', '.join(rule.controls)}]" if rule.controls else ""
