""""Fix first": unwaived findings grouped by problem, worst and widest first. Pure: no HTML.

A problem is the set of findings that share a primary resource, joined with the findings of
the peering rules on the same unordered pair of VNets (the two halves of one broken peering),
and with the same rule's finding on the other half of a peering (OVLP001 reports both).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field

from auditor.engine.rule import Finding
from auditor.model.ids import norm_id
from reports.common import vnet_ids_of

PAIR_RULES = frozenset({"PEER001", "PEER002", "PEER003", "PEER004"})
_PEERING = re.compile(r"^(.*/virtualnetworks/[^/]+)/virtualnetworkpeerings/[^/]+$", re.IGNORECASE)
_RG = re.compile(r"/resourcegroups/([^/]+)", re.IGNORECASE)
_SUB = re.compile(r"^/subscriptions/([^/]+)", re.IGNORECASE)
# ARM type (lower case, nested types joined by "/") -> the az command that shows one
AZ_SHOW = {
    "virtualnetworks": "az network vnet show",
    "virtualnetworks/virtualnetworkpeerings": "az network vnet peering show",
    "virtualnetworks/subnets": "az network vnet subnet show",
    "networksecuritygroups": "az network nsg show",
    "networksecuritygroups/securityrules": "az network nsg rule show",
    "routetables": "az network route-table show",
    "routetables/routes": "az network route-table route show",
    "virtualnetworkgateways": "az network vnet-gateway show",
    "localnetworkgateways": "az network local-gateway show",
    "connections": "az network vpn-connection show",
}


def arm_type(resource_id: str) -> str:
    """`virtualnetworks/virtualnetworkpeerings` for a peering id; '' when not a Microsoft.Network id."""
    parts = (resource_id or "").strip("/").split("/")
    low = [p.lower() for p in parts]
    if "microsoft.network" not in low:
        return ""
    rest = low[low.index("microsoft.network") + 1:]
    return "/".join(rest[0::2])


def az_command(resource_id: str) -> str | None:
    """The exact `az ... show --ids <id>` for this resource, or None when Azure CLI has none here."""
    show = AZ_SHOW.get(arm_type(resource_id))
    return f"{show} --ids {shlex.quote(resource_id)}" if show else None


def first_step(remediation: str) -> str:
    """The first sentence of a remediation text."""
    text = " ".join((remediation or "").split())
    return re.split(r"(?<=[.!?])\s+(?=[A-Z])", text, maxsplit=1)[0] if text else ""


@dataclass
class Resource:
    id: str
    name: str
    resource_group: str
    subscription_id: str
    subscription: str  # display name, or the id

    @property
    def command(self) -> str | None:
        return az_command(self.id)


def resource(resource_id: str, subs: dict[str, str] | None = None) -> Resource:
    rg, sub = _RG.search(resource_id or ""), _SUB.search(resource_id or "")
    sid = sub.group(1) if sub else ""
    return Resource(resource_id, (resource_id or "?").rstrip("/").rsplit("/", 1)[-1], rg.group(1) if rg else "",
                    sid, (subs or {}).get(sid.lower(), sid))


@dataclass
class Problem:
    findings: list[Finding]  # primary first: worst severity, then rule id
    resources: list[Resource]  # the findings' own resources, primary first
    vnets: list[str]  # every VNet involved (original casing)
    related_rules: list[str] = field(default_factory=list)  # other rules on the same problem

    @property
    def primary(self) -> Finding:
        return self.findings[0]

    @property
    def severity(self) -> str:
        return self.primary.severity.value

    @property
    def blast(self) -> int:
        """Distinct VNets involved; a resource outside any VNet counts as one."""
        return len(self.vnets) or len(self.resources)

    @property
    def first_step(self) -> str:
        return first_step(self.primary.remediation)

    @property
    def commands(self) -> list[str]:
        return [r.command for r in self.resources if r.command]


def _pair_key(f: Finding) -> str | None:
    """The unordered VNet pair of a finding on a peering: shared by every peering rule, and by the
    two halves' findings of any other rule."""
    m = _PEERING.match(f.resource_id or "")
    if not m:
        return None
    local = norm_id(m.group(1))
    remote = next((norm_id(i) for i in f.related_ids if arm_type(i) == "virtualnetworks" and norm_id(i) != local), None)
    pair = "|".join(sorted({local, remote or "?"}))
    return f"pair:{pair}" if f.rule_id in PAIR_RULES else f"pair:{f.rule_id}:{pair}"


def problems(findings: Iterable[Finding], snapshot=None, subs: dict[str, str] | None = None) -> list[Problem]:
    """Unwaived findings grouped by problem, sorted by severity, then blast radius, then name."""
    active = [f for f in findings if not f.waived]
    parent = list(range(len(active)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, f in enumerate(active):
        for key in filter(None, ("res:" + norm_id(f.resource_id), _pair_key(f))):
            if key in owner:
                parent[find(i)] = find(owner[key])
            else:
                owner[key] = i
    groups: dict[int, list[Finding]] = {}
    for i, f in enumerate(active):
        groups.setdefault(find(i), []).append(f)
    out = []
    for members in groups.values():
        members.sort(key=lambda f: (-f.severity.rank, f.rule_id, f.resource_id))
        ids = list(dict.fromkeys(f.resource_id for f in members))
        vnets = {norm_id(v): v for f in members for v in vnet_ids_of(f, snapshot)}
        rules = list(dict.fromkeys(f.rule_id for f in members))
        out.append(Problem(members, [resource(i, subs) for i in ids], list(vnets.values()), rules[1:]))
    out.sort(key=lambda p: (-p.primary.severity.rank, -p.blast, -len(p.findings), p.resources[0].name.lower()))
    return out
