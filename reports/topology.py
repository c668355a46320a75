"""Lay out the peering topology for the HTML report's inline SVG, deterministically, in Python.

VNets are boxes in a grid inside one group box per subscription (tenant, then subscription
name order); hubs (most peerings) come first in their group. Group boxes are packed on
shelves of a fixed width, so 300 VNets stay legible with the report's zoom and pan.
Peerings become one edge per VNet pair, styled by the pair's state.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass, field

from auditor.ids import norm_id
from auditor.rule import Finding
from auditor.snapshot import Snapshot

NODE_W, NODE_H = 132, 40
CELL_W, CELL_H = 150, 58
GROUP_PAD, GROUP_HEAD = 14, 30
SHELF_WIDTH = 1500
GAP = 26
EXTERNAL = "external"


def anchor(vnet_id: str) -> str:
    """A safe HTML id for a VNet's section."""
    return "vnet-" + hashlib.sha1(norm_id(vnet_id).encode()).hexdigest()[:12]


def short(text: str, limit: int = 18) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class Node:
    key: str
    id: str
    name: str
    x: float
    y: float
    prefixes: list[str]
    gateway: str | None  # e.g. "Vpn VpnGw1"
    findings: int
    external: bool = False

    @property
    def label(self) -> str:
        return short(self.name)

    @property
    def sublabel(self) -> str:
        return short(", ".join(self.prefixes), 22) if self.prefixes else ("outside the snapshot" if self.external else "no address space")

    @property
    def anchor(self) -> str:
        return anchor(self.id)


@dataclass
class Edge:
    a: Node
    b: Node
    state: str  # connected | one-sided | disconnected
    flagged: bool
    description: str


    @property
    def path(self) -> str:
        """A gentle quadratic curve, so edges along one row or column do not hide each other."""
        x1, y1 = self.a.x + NODE_W / 2, self.a.y + NODE_H / 2
        x2, y2 = self.b.x + NODE_W / 2, self.b.y + NODE_H / 2
        dx, dy = x2 - x1, y2 - y1
        length = math.hypot(dx, dy) or 1.0
        bend = min(0.16 * length, 140.0)
        cx, cy = (x1 + x2) / 2 - dy / length * bend, (y1 + y2) / 2 + dx / length * bend
        return f"M{x1:.1f} {y1:.1f} Q{cx:.1f} {cy:.1f} {x2:.1f} {y2:.1f}"


@dataclass
class Group:
    key: str
    label: str
    detail: str
    status: str
    note: str | None = None  # why a subscription has no VNets drawn (failed/partial coverage)
    x: float = 0
    y: float = 0
    w: float = 0
    h: float = 0
    nodes: list[Node] = field(default_factory=list)


@dataclass
class Layout:
    width: float
    height: float
    groups: list[Group]
    nodes: list[Node]
    edges: list[Edge]

    def counts(self) -> dict[str, int]:
        out = {"connected": 0, "one-sided": 0, "disconnected": 0, "flagged": 0}
        for e in self.edges:
            out[e.state] += 1
            out["flagged"] += e.flagged
        return out


def _pair_state(sides: list) -> str:
    states = [(p.peering_state or "").lower() for p in sides]
    if "disconnected" in states:
        return "disconnected"
    if len(sides) == 2 and all(s == "connected" for s in states):
        return "connected"
    return "one-sided"


def layout(snapshot: Snapshot, findings: list[Finding]) -> Layout:
    index = snapshot.index
    active = [f for f in findings if not f.waived]
    flagged_ids: list[set[str]] = [{norm_id(i) for i in [f.resource_id, *f.related_ids]} for f in active]

    # VNet pairs and their peerings; remote VNets outside the snapshot become external nodes
    pairs: dict[tuple[str, str], list] = defaultdict(list)
    external: dict[str, str] = {}
    for vnet in snapshot.virtual_networks:
        for peering in vnet.peerings:
            remote = norm_id(peering.remote_virtual_network_id)
            if not remote:
                continue
            if remote not in index.vnets:
                external.setdefault(remote, peering.remote_virtual_network_id)
            pairs[tuple(sorted((vnet.key, remote)))].append(peering)
    degree: dict[str, int] = defaultdict(int)
    for a, b in pairs:
        degree[a] += 1
        degree[b] += 1

    finding_count: dict[str, int] = defaultdict(int)
    from reports.common import vnet_ids_of

    for f in active:
        for vid in vnet_ids_of(f, snapshot):
            finding_count[norm_id(vid)] += 1

    # groups: one per subscription (incl. those without VNets), then external
    subs = {s.subscription_id.lower(): s for s in snapshot.subscriptions}
    tenants = {t.tenant_id.lower(): (t.display_name or t.tenant_id) for t in snapshot.tenants}
    members: dict[str, list] = defaultdict(list)
    for vnet in snapshot.virtual_networks:
        members[(vnet.subscription_id or "").lower()].append(vnet)
    for sub_key in subs:
        members.setdefault(sub_key, [])

    def group_order(sub_key: str):
        sub = subs.get(sub_key)
        tenant = tenants.get((sub.tenant_id or "").lower(), sub.tenant_id or "") if sub else ""
        return (tenant.lower(), ((sub.display_name if sub else None) or sub_key).lower(), sub_key)

    groups: list[Group] = []
    nodes: dict[str, Node] = {}
    for sub_key in sorted(members, key=group_order):
        sub = subs.get(sub_key)
        vnets = sorted(members[sub_key], key=lambda v: (-degree[v.key], v.name.lower(), v.key))
        tenant = tenants.get((sub.tenant_id or "").lower(), sub.tenant_id) if sub and sub.tenant_id else None
        label = (sub.display_name if sub else None) or sub_key or "unknown subscription"
        status = sub.status.value if sub else "complete"
        detail = " · ".join(x for x in (f"tenant {tenant}" if tenant else "", sub_key, f"{len(vnets)} VNets") if x)
        note = None
        if sub is not None and sub.status.value != "complete":
            reason = "; ".join(e.code or e.message for e in sub.errors) or sub.status.value
            note = f"{'Not read' if sub.status.value == 'failed' else 'Partly read'}: {reason}"
        group = Group(sub_key, label, detail, status, note)
        for vnet in vnets:
            gws = index.gateways_of(vnet.id)
            gateway = ", ".join(f"{g.gateway_type or ''} {g.sku or ''}".strip() for g in gws) or None
            node = Node(vnet.key, vnet.id, vnet.name, 0, 0, vnet.address_prefixes, gateway, finding_count.get(vnet.key, 0))
            nodes[vnet.key] = node
            group.nodes.append(node)
        groups.append(group)
    if external:
        group = Group(EXTERNAL, "Outside the snapshot", f"{len(external)} remote VNets not in the scanned data", "external")
        for key in sorted(external, key=lambda k: (external[k].rsplit("/", 1)[-1].lower(), k)):
            rid = external[key]
            node = Node(key, rid, rid.rstrip("/").rsplit("/", 1)[-1], 0, 0, [], None, finding_count.get(key, 0), external=True)
            nodes[key] = node
            group.nodes.append(node)
        groups.append(group)

    _pack(groups)

    edges = []
    for (a, b), sides in sorted(pairs.items()):
        state = _pair_state(sides)
        pair_ids = {norm_id(p.id) for p in sides}
        flagged = any(ids & pair_ids or {a, b} <= ids for ids in flagged_ids)
        desc = "; ".join(
            f"{p.name}: {p.peering_state or 'unknown'}"
            + (", sync " + p.peering_sync_level if p.peering_sync_level and p.peering_sync_level != "FullyInSync" else "")
            + (", no VNet access" if not p.allow_virtual_network_access else "")
            + (", forwarded traffic" if p.allow_forwarded_traffic else "")
            + (", gateway transit" if p.allow_gateway_transit else "")
            + (", uses remote gateways" if p.use_remote_gateways else "")
            for p in sides
        )
        edges.append(Edge(nodes[a], nodes[b], state, flagged, f"{nodes[a].name} ↔ {nodes[b].name} ({state}): {desc}"))
    edges.sort(key=lambda e: (e.flagged, e.state != "connected"))  # problems drawn on top
    width = max((g.x + g.w for g in groups), default=400) + GAP
    height = max((g.y + g.h for g in groups), default=120) + GAP
    return Layout(width, height, groups, [n for g in groups for n in g.nodes], edges)


def _pack(groups: list[Group]) -> None:
    """Grid the nodes in each group, then place groups on shelves left to right."""
    for group in groups:
        n = max(len(group.nodes), 1)
        cols = max(1, min(n, math.ceil(math.sqrt(n * 0.6)), (SHELF_WIDTH - 2 * GROUP_PAD) // CELL_W))  # squarish groups
        rows = math.ceil(n / cols)
        group.w = max(cols * CELL_W + 2 * GROUP_PAD, 300)
        group.h = (rows if group.nodes else 0.6) * CELL_H + GROUP_HEAD + 2 * GROUP_PAD
        group._cols = cols  # type: ignore[attr-defined]
    # shelves as wide as makes the whole picture about as wide as the report's frame (~1.9:1), so "fit" stays legible
    area = sum((g.w + GAP) * (g.h + GAP) for g in groups)
    shelf = max(max((g.w for g in groups), default=0) + 2 * GAP, min(math.sqrt(area * 1.9) * 1.08, 4 * SHELF_WIDTH), 900)
    x = y = GAP
    shelf_h = 0.0
    for group in groups:
        group.detail = short(group.detail, int((group.w - 24) / 5.6))
        group.label = short(group.label, int((group.w - 24) / 8.5))
        if group.note:
            group.note = short(group.note, int((group.w - 24) / 6.2))
        if x > GAP and x + group.w > shelf:
            x, y = GAP, y + shelf_h + GAP
            shelf_h = 0
        group.x, group.y = x, y
        cols = group._cols  # type: ignore[attr-defined]
        for i, node in enumerate(group.nodes):
            node.x = x + GROUP_PAD + (i % cols) * CELL_W + (CELL_W - NODE_W) / 2
            node.y = y + GROUP_HEAD + GROUP_PAD + (i // cols) * CELL_H
        x += group.w + GAP
        shelf_h = max(shelf_h, group.h)


__all__ = ["layout", "Layout", "Node", "Edge", "Group", "anchor", "NODE_W", "NODE_H"]
