"""report.html: one self-contained page a compliance reviewer reads and signs off.

Inline CSS, JS and SVG, no network. Jinja2 autoescape is on: every value from Azure is
text. Without a snapshot (a findings.json on its own) the per-VNet view and the topology
picture are left out and the page says how to get them.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from importlib.resources import files
from urllib.parse import urlparse

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from auditor.engine import Evaluation
from auditor.engine.controls import control, control_label
from auditor.engine.limits import limited_line, subscriptions_complete
from auditor.engine.rule import Finding
from auditor.model.ids import norm_id
from auditor.model.snapshot import Snapshot
from reports import fix_first, topology
from reports.history_view import trend_view
from reports.common import (
    SEVERITIES,
    evidence_text,
    subscription_names,
    vnet_ids_of,
    vnet_name,
)

_HERE = files("reports")
SEVERITY_RANK = {s: len(SEVERITIES) - i for i, s in enumerate(SEVERITIES)}


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(_HERE / "templates")),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["safe_url"] = safe_url
    env.filters["evidence"] = evidence_text
    env.filters["id_breaks"] = id_breaks
    env.globals["control"], env.globals["control_label"] = control, control_label
    env.globals["NODE_W"], env.globals["NODE_H"] = topology.NODE_W, topology.NODE_H
    env.globals["TOGGLE_W"], env.globals["TOGGLE_H"] = topology.TOGGLE_W, topology.TOGGLE_H
    env.globals["collapse_min"] = topology.COLLAPSE_MIN
    return env


def _static(name: str) -> Markup:
    """Our own CSS/JS, inlined verbatim (never Azure data)."""
    return Markup((_HERE / "static" / name).read_text(encoding="utf-8"))


def id_breaks(value: str | None) -> Markup:
    """An ARM id, escaped, that may wrap after each `/` (and nowhere else unless a segment overflows)."""
    return Markup("/<wbr>").join(Markup.escape(part) for part in (value or "").split("/"))


def safe_url(url: str | None) -> str | None:
    """Only http(s) links; anything else (javascript:, data:) is shown as text."""
    return url if url and urlparse(url).scheme in ("http", "https") else None


def _row(f: Finding, snapshot: Snapshot | None, subs: dict[str, str]) -> dict:
    vnets = vnet_ids_of(f, snapshot)
    sub = (f.subscription_id or "").lower()
    return {
        "f": f,
        "rank": SEVERITY_RANK[f.severity.value],
        "sub_key": sub,
        "sub_name": subs.get(sub, f.subscription_id or ""),
        "vnet_keys": [norm_id(v) for v in vnets],
        "vnet_names": [vnet_name(v) for v in vnets],
        "vnet_anchors": [topology.anchor(v) for v in vnets],
        "path": _path_of(f, snapshot),
    }


def _path_of(f: Finding, snapshot: Snapshot | None) -> dict | None:
    """The VNets a traced flow passes through (evidence `path_vnets`), drawn on the topology on request."""
    keys = [norm_id(k) for k in f.evidence.get("path_vnets") or []]
    if snapshot is None or not keys:
        return None
    vnets = snapshot.index.vnets
    return {"keys": keys, "label": " → ".join(vnets[k].name if k in vnets else vnet_name(k) for k in keys)}


def _vnet_view(snapshot: Snapshot, findings: list[Finding]) -> list[dict]:
    index = snapshot.index
    counts: Counter[str] = Counter()
    for f in findings:
        if not f.waived:
            counts.update(norm_id(v) for v in vnet_ids_of(f, snapshot))
    subs = {s.subscription_id.lower(): s.display_name or s.subscription_id for s in snapshot.subscriptions}
    out = []
    for vnet in sorted(snapshot.virtual_networks, key=lambda v: (subs.get(v.subscription_id or "", "").lower(), v.name.lower(), v.key)):
        nsgs, tables = {}, {}
        for subnet in vnet.subnets:
            if (nsg := index.nsg_of_subnet(subnet.id)) is not None:
                nsgs.setdefault(nsg.key, nsg)
            if (table := index.route_table_of_subnet(subnet.id)) is not None:
                tables.setdefault(table.key, table)
        peerings = []
        for p in vnet.peerings:
            remote = index.remote_vnet(p)
            peerings.append({
                "p": p,
                "remote_name": remote.name if remote else vnet_name(p.remote_virtual_network_id or "?"),
                "remote_anchor": topology.anchor(remote.id) if remote else None,
                "back": index.reverse_peering(p) if remote else None,
                "remote_in_snapshot": remote is not None,
            })
        out.append({
            "v": vnet,
            "anchor": topology.anchor(vnet.id),
            "sub_name": subs.get(vnet.subscription_id or "", vnet.subscription_id),
            "findings": counts.get(vnet.key, 0),
            "gateways": index.gateways_of(vnet.id),
            "peerings": peerings,
            "nsgs": list(nsgs.values()),
            "route_tables": list(tables.values()),
        })
    return out


FIX_FIRST_MAX = 12  # problems shown in "Fix first"; the findings table has them all
EXPIRING_DAYS = 30
DEFAULT_THRESHOLD = "high"


def verdict(result: Evaluation, today: date | None = None) -> dict:
    """The answer at the top: pass, fail or incomplete, and the rule of judgement used.

    The threshold is the run's --fail-on when the evaluation records it (scan.fail_on);
    otherwise the report judges unwaived findings at high or above and says so.
    """
    active = [f for f in result.findings if not f.waived]
    threshold = (result.scan.get("fail_on") or "").lower()
    recorded = threshold in SEVERITY_RANK
    if not recorded:
        threshold = DEFAULT_THRESHOLD
    at_or_above = [f for f in active if SEVERITY_RANK[f.severity.value] >= SEVERITY_RANK[threshold]]
    coverage = result.coverage
    total = coverage.get("subscriptions_total") or 0
    incomplete = coverage.get("subscriptions_incomplete") or 0
    if not coverage.get("complete", True) or result.errors:
        status = "incomplete"
    else:
        status = "fail" if at_or_above else "pass"
    worst = result.worst_active_severity()
    checked_on = (result.waivers or {}).get("checked_on")
    today = today or (date.fromisoformat(checked_on) if checked_on else datetime.now(timezone.utc).date())
    soon = (today + timedelta(days=EXPIRING_DAYS)).isoformat()
    expiring = [f for f in result.findings if f.waived and f.waiver and f.waiver.expires <= soon]
    return {
        "status": status,
        "threshold": threshold,
        "threshold_recorded": recorded,
        "at_or_above": len(at_or_above),
        "worst": worst.value if worst else None,
        "counts": [(s, sum(f.severity.value == s for f in active)) for s in SEVERITIES],
        "subscriptions_complete": subscriptions_complete(coverage),
        "subscriptions_unread": incomplete,
        "subscriptions_limited": coverage.get("subscriptions_limited") or 0,
        "subscriptions_total": total,
        "rule_errors": len(result.errors),
        "waived": sum(f.waived for f in result.findings),
        "expiring": len(expiring),
        "expiring_days": EXPIRING_DAYS,
    }


_ACTION = re.compile(r"'Microsoft\.[^']*'")


def _fix(code: str, message: str, subscription_id: str) -> str:
    if code == "AuthorizationFailed" or message.startswith("HTTP 403") or code == "403":
        return f"grant the scanning identity Reader on subscription {subscription_id}, then scan again"
    return "scan this subscription again; if the error persists, the message above says what Azure answered"


def coverage_gaps(coverage: dict) -> list[dict]:
    """One entry per subscription not fully read: the failed calls grouped by error code.

    Azure's 403 text differs only in the action it names, so a group shows its text once.
    """
    out = []
    for entry in coverage.get("incomplete", []):
        sid = entry.get("subscription_id") or ""
        groups: dict[str, dict] = {}
        for error in entry.get("errors", []):
            code = error.get("code") or "error"
            group = groups.setdefault(code, {"code": code, "scopes": [], "messages": {}})
            group["scopes"].append(error.get("scope") or "?")
            group["messages"].setdefault(_ACTION.sub("'…'", error.get("message") or ""), error.get("message") or "")
        fixes = []
        for group in groups.values():
            group["messages"] = list(group["messages"].values())
            fix = _fix(group["code"], group["messages"][0] if group["messages"] else "", sid)
            if fix not in fixes:
                fixes.append(fix)
        out.append({"name": entry.get("display_name"), "id": sid, "status": entry.get("status"),
                    "groups": list(groups.values()), "fixes": fixes})
    return out


def context(result: Evaluation, snapshot: Snapshot | None) -> dict:
    subs = subscription_names(result.coverage)
    if snapshot is not None:
        for s in snapshot.subscriptions:
            subs.setdefault(s.subscription_id.lower(), s.display_name or s.subscription_id)
    rows = [_row(f, snapshot, subs) for f in result.findings]
    active = [r for r in rows if not r["f"].waived]
    waived = [r for r in rows if r["f"].waived]
    errors = {e.rule_id: e for e in result.errors}
    rule_titles = {r.id: r.title for r in result.rules}
    per_rule_waived = Counter(r["f"].rule_id for r in waived)
    catalogue = [
        {"r": r, "active": r.findings - per_rule_waived.get(r.id, 0), "waived": per_rule_waived.get(r.id, 0),
         "error": errors.get(r.id)}
        for r in result.rules
    ]
    options = {
        "control": sorted({c for r in active for c in r["f"].controls}, key=_control_order),
        "severity": [s for s in SEVERITIES if any(r["f"].severity.value == s for r in active)],
        "rule": sorted({r["f"].rule_id for r in active}),
        "sub": sorted({(r["sub_key"], r["sub_name"]) for r in active}, key=lambda x: (x[1].lower(), x[0])),
        "vnet": sorted({(k, n) for r in active for k, n in zip(r["vnet_keys"], r["vnet_names"])}, key=lambda x: (x[1].lower(), x[0])),
    }
    layout = topology.layout(snapshot, result.findings) if snapshot is not None else None
    problems = fix_first.problems(result.findings, snapshot, subs)
    return {
        "result": result,
        "verdict": verdict(result),
        "scan": result.scan,
        "coverage": result.coverage,
        "coverage_gaps": coverage_gaps(result.coverage),
        "limited_lines": [limited_line(entry) for entry in result.coverage.get("limited", [])],
        "limited_ids": {entry["subscription_id"] for entry in result.coverage.get("limited", [])},
        "problems": problems[:FIX_FIRST_MAX],
        "problems_more": max(0, len(problems) - FIX_FIRST_MAX),
        "summary": result.summary,
        "severities": SEVERITIES,
        "rows": active,
        "baseline": result.baseline,
        "new_rows": [r for r in active if r["f"].baseline_status == "new"],
        "trend": trend_view(result),
        "waived": waived,
        "waiver_notes": result.waivers or {},
        "catalogue": catalogue,
        "rule_titles": rule_titles,
        "options": options,
        "subs": subs,
        "layout": layout,
        "vnets": _vnet_view(snapshot, result.findings) if snapshot is not None else None,
        "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "css": _static("report.css"),
        "js": _static("report.js"),
    }


def _control_order(control_id: str) -> tuple:
    """MCSB controls first, in number order (NS-9 before NS-10), then the ALZ design areas."""
    c = control(control_id)
    number = int(control_id.rsplit("-", 1)[1]) if control_id.rsplit("-", 1)[-1].isdigit() else 0
    return (c.framework != "MCSB" if c else True, number, control_id)


def render(result: Evaluation, snapshot: Snapshot | None = None) -> str:
    return _env().get_template("report.html.j2").render(**context(result, snapshot))
