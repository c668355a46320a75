"""Lay out the peering topology for the HTML report's inline SVG, deterministically, in Python.

VNets are boxes in a grid inside one group box per subscription (tenant, then subscription
name order); hubs (most peerings) come first in their group. Group boxes are packed on
shelves of a fixed width, so 300 VNets stay legible with the report's zoom and pan.
Peerings become one edge per VNet pair, styled by the pair's state.

Each subscription box can be collapsed to one summary card; its VNets' peerings then show
as one aggregated edge per pair of boxes. Both pictures are computed here; the page's
script only toggles which one is visible. Large estates start with big subscriptions collapsed.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass, field

from auditor.engine.rule import Finding, Severity
from auditor.model.ids import norm_id
from auditor.model.snapshot import Snapshot
from reports.mentions import Mentions
from reports.topology_hubs import AVNM, VHUB, overlay

NODE_W, NODE_H = 132, 40
CELL_W, CELL_H = 150, 58
GROUP_PAD, GROUP_HEAD = 14, 30
SHELF_WIDTH = 1500
GAP = 26
EXTERNAL = "external"
TOGGLE_W, TOGGLE_H = 74, 20
COLLAPSE_ESTATE = 120  # estates with more VNets than this start with big subscriptions collapsed
COLLAPSE_MIN = 12  # "big": more VNets than this
_STATE_RANK = {"connected": 0, "one-sided": 1, "disconnected": 2}


def anchor(vnet_id: str) -> str:
    """A safe HTML id for a VNet's section."""
    return "vnet-" + hashlib.sha1(norm_id(vnet_id).encode()).hexdigest()[:12]


def short(text: str, limit: int = 18) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


LABEL_W = NODE_W - 16  # room for a node's name: 8 px padding each side
HUB_INSET = 8  # a virtual hub's hexagon takes this much more on each side
SUB_CHARS = int(LABEL_W / 6.1)  # the prefixes line: 10 px monospace, ~0.6 em a character
_NARROW, _WIDE = set("iljtfr.,:;'|!()[] -1I"), set("mwMW@%")


def _char_em(c: str) -> float:
    if c in _NARROW:
        return 0.34
    if c in _WIDE or not c.isascii():
        return 1.0
    return 0.72 if c.isupper() else 0.6


def text_width(text: str, size: float, bold: bool = False) -> float:
    """A generous estimate of rendered width in px for the report's sans-serif font."""
    em = sum(_char_em(c) for c in text)
    return em * size * (1.07 if bold else 1.0)


def fit(text: str, width: float, size: float, bold: bool = False) -> str:
    """`text`, shortened with an ellipsis until its estimated width fits `width`."""
    if text_width(text, size, bold) <= width:
        return text
    while text and text_width(text + "…", size, bold) > width:
        text = text[:-1]
    return text + "…"


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
    group: int = -1  # index of its Group in Layout.groups
    worst: str | None = None  # worst unwaived severity of the findings about it
    kind: str = "vnet"  # vnet | vhub (Virtual WAN hub) | avnm (AVNM connectivity configuration)
    route_servers: list[str] = field(default_factory=list)
    caption: str | None = None  # the second line of a hub or configuration
    detail: str = ""  # hover text after the name, for hubs and configurations

    @property
    def linkable(self) -> bool:
        """A VNet in the snapshot has a details section to link to."""
        return self.kind == "vnet" and not self.external

    @property
    def label(self) -> str:
        return fit(self.name, LABEL_W - (2 * HUB_INSET if self.kind == VHUB else 0), 12, bold=True)

    @property
    def label_x(self) -> float:
        return self.x + 8 + (HUB_INSET if self.kind == VHUB else 0)

    @property
    def sublabel(self) -> str:
        if self.caption:
            return short(self.caption, SUB_CHARS - (2 * HUB_INSET // 6 if self.kind == VHUB else 0))
        return short(", ".join(self.prefixes), SUB_CHARS) if self.prefixes else ("outside the snapshot" if self.external else "no address space")

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
    worst: str | None = None  # worst unwaived severity of the findings about this pair
    kind: str = "peering"  # peering | hub (a Virtual WAN hub connection) | avnm, avnm-hub (AVNM connectivity)

    @property
    def groups(self) -> str:
        """Group indexes of both ends, for the page script (shown while all of them are expanded)."""
        return " ".join(str(g) for g in sorted({self.a.group, self.b.group}))

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
    full_label: str = ""  # label before shortening, for the summary card
    index: int = 0
    collapsed: bool = False  # initial state
    flagged_vnets: int = 0  # VNets with unwaived findings
    worst: str | None = None  # worst unwaived severity among its VNets
    inner_peerings: int = 0  # peered pairs inside the group, hidden while collapsed
    peers: list[tuple[str, int]] = field(default_factory=list)  # other groups and peered pairs with them
    card: Card | None = None

    @property
    def collapsible(self) -> bool:
        return bool(self.nodes)

    @property
    def toggle_x(self) -> float:
        return self.x + self.w - TOGGLE_W - 8

    @property
    def toggle_y(self) -> float:
        return self.y + 6

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2


@dataclass
class Card:
    """The summary shown in place of a collapsed group's VNets."""
    x: float
    y: float
    w: float
    h: float
    title: str
    lines: list[str]
    size: float  # font size of the title; lines are 0.62 of it


@dataclass
class GroupEdge:
    """All peerings between the VNets of two groups, drawn while either group is collapsed."""
    a: Group
    b: Group
    count: int
    state: str  # worst: disconnected > one-sided > connected
    flagged: int  # how many of the pairs have findings
    states: dict[str, int]
    worst: str | None  # worst severity over its pairs
    x1: float
    y1: float
    x2: float
    y2: float
    width: float
    label_size: float

    @property
    def groups(self) -> str:
        return f"{self.a.index} {self.b.index}"

    @property
    def path(self) -> str:
        return f"M{self.x1:.1f} {self.y1:.1f} L{self.x2:.1f} {self.y2:.1f}"

    label_x: float = 0
    label_y: float = 0

    @property
    def style(self) -> str:
        """Stroke width by peering count; dashes scaled to it so thick lines keep the state's pattern."""
        w = self.width
        dash = {"one-sided": f"{w * 2.2:.1f} {w * 1.2:.1f}", "disconnected": f"{w * 0.1:.1f} {w * 1.8:.1f}"}.get(self.state)
        return f"stroke-width: {w}px" + (f"; stroke-dasharray: {dash}" if dash else "")

    @property
    def description(self) -> str:
        parts = ", ".join(f"{n} {s}" for s, n in self.states.items() if n)
        flagged = f"; {self.flagged} with findings" if self.flagged else ""
        return f"{self.a.label} ↔ {self.b.label}: {self.count} peered pair{'s' if self.count != 1 else ''} ({parts}){flagged}"


@dataclass
class Layout:
    width: float
    height: float
    groups: list[Group]
    nodes: list[Node]
    edges: list[Edge]
    group_edges: list[GroupEdge] = field(default_factory=list)
    scale: float = 1.0  # how much the fitted picture is shrunk; cards and group edges are drawn this much bigger

    @property
    def collapsed(self) -> list[Group]:
        return [g for g in self.groups if g.collapsed]

    @property
    def collapsed_indexes(self) -> frozenset[int]:
        """Groups that start collapsed: a set, as the page tests every node and edge against it."""
        return frozenset(g.index for g in self.groups if g.collapsed)

    def counts(self) -> dict[str, int]:
        """Peered pairs by state (hub connections count as peerings), and the AVNM links."""
        out = {"connected": 0, "one-sided": 0, "disconnected": 0, "flagged": 0, "hub": 0, "avnm": 0, "peerings": 0}
        for e in self.edges:
            if e.kind.startswith(AVNM):
                out["avnm"] += 1
                continue
            out["peerings"] += 1
            out["hub"] += e.kind == "hub"
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


def layout(snapshot: Snapshot, findings: list[Finding], collapse: bool | None = None) -> Layout:
    """`collapse`: None starts big subscriptions of large estates collapsed; True/False all/none."""
    index = snapshot.index
    active = [f for f in findings if not f.waived]
    mentions = Mentions(active)

    # VNet pairs and their peerings; remote VNets outside the snapshot become external nodes
    extra = overlay(snapshot)
    pairs: dict[tuple[str, str], list] = defaultdict(list)
    external: dict[str, str] = dict(extra.external_vnets)
    for vnet in snapshot.virtual_networks:
        for peering in vnet.peerings:
            remote = norm_id(peering.remote_virtual_network_id)
            if not remote or norm_id(peering.id) in extra.hub_peerings:
                continue
            if remote not in index.vnets:
                external.setdefault(remote, peering.remote_virtual_network_id)
            pairs[tuple(sorted((vnet.key, remote)))].append(peering)
    degree: dict[str, int] = defaultdict(int)
    for a, b in pairs:
        degree[a] += 1
        degree[b] += 1
    for link in extra.links:
        if link.kind == "hub":
            degree[link.vnet] += 1
            degree[link.other] += 1

    finding_count: dict[str, int] = defaultdict(int)
    worst: dict[str, Severity] = {}
    from reports.common import vnet_ids_of

    for f in active:
        for vid in vnet_ids_of(f, snapshot):
            key = norm_id(vid)
            finding_count[key] += 1
            if key not in worst or f.severity.rank > worst[key].rank:
                worst[key] = f.severity

    # groups: one per subscription (incl. those without VNets), then external
    subs = {s.subscription_id.lower(): s for s in snapshot.subscriptions}
    tenants = {t.tenant_id.lower(): (t.display_name or t.tenant_id) for t in snapshot.tenants}
    members: dict[str, list] = defaultdict(list)
    for vnet in snapshot.virtual_networks:
        members[(vnet.subscription_id or "").lower()].append(vnet)
    for sub_key in subs:
        members.setdefault(sub_key, [])
    extras: dict[str, list] = defaultdict(list)
    for item in extra.extras:
        if item.external or item.subscription not in members:
            external.setdefault(item.key, item.id)
        else:
            extras[item.subscription].append(item)
    outside = {item.key: item for item in extra.extras}

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
        group = Group(sub_key, label, detail, status, note, full_label=label)
        for vnet in vnets:
            gws = index.gateways_of(vnet.id)
            gateway = ", ".join(f"{g.gateway_type or ''} {g.sku or ''}".strip() for g in gws) or None
            node = Node(vnet.key, vnet.id, vnet.name, 0, 0, vnet.address_prefixes, gateway,
                        finding_count.get(vnet.key, 0), worst=worst[vnet.key].value if vnet.key in worst else None,
                        route_servers=extra.route_servers.get(vnet.key, []))
            nodes[vnet.key] = node
            group.nodes.append(node)
        for item in sorted(extras.get(sub_key, []), key=lambda i: (i.kind != VHUB, -degree[i.key], i.name.lower())):
            node = _extra_node(item, finding_count, worst)
            nodes[item.key] = node
            group.nodes.append(node)
        # virtual hubs lead their group like the most-peered VNets; AVNM configurations close it
        group.nodes.sort(key=lambda n: (n.kind == AVNM, n.kind != VHUB))
        groups.append(group)
    if external:
        hubs = sum(1 for k in external if k in outside)
        what = f"{len(external) - hubs} remote VNets" + (f" and {hubs} hubs" if hubs else "")
        group = Group(EXTERNAL, "Outside the snapshot", f"{what} not in the scanned data", "external",
                      full_label="Outside the snapshot")
        for key in sorted(external, key=lambda k: (k not in outside, external[k].rsplit("/", 1)[-1].lower(), k)):
            rid = external[key]
            if key in outside:
                node = _extra_node(outside[key], finding_count, worst, external=True)
            else:
                node = Node(key, rid, rid.rstrip("/").rsplit("/", 1)[-1], 0, 0, [], None, finding_count.get(key, 0),
                            external=True, worst=worst[key].value if key in worst else None)
            nodes[key] = node
            group.nodes.append(node)
        groups.append(group)

    _hub_to_middle(groups, [*pairs, *((link.vnet, link.other) for link in extra.links if link.kind == "hub")])
    total = sum(len(g.nodes) for g in groups if g.key != EXTERNAL)
    for i, group in enumerate(groups):
        group.index = i
        for node in group.nodes:
            node.group = i
        sevs = [worst[n.key] for n in group.nodes if n.key in worst]
        group.worst = max(sevs, key=lambda s: s.rank).value if sevs else None
        group.flagged_vnets = sum(1 for n in group.nodes if n.findings)
        big = total > COLLAPSE_ESTATE and len(group.nodes) > COLLAPSE_MIN
        group.collapsed = group.collapsible and (big if collapse is None else collapse)

    _pack(groups)

    edges = []
    for (a, b), sides in sorted(pairs.items()):
        state = _pair_state(sides)
        sevs = [mentions.worst_of(norm_id(p.id) for p in sides), mentions.worst_together(a, b)]
        worst_sev = max((x for x in sevs if x is not None), key=lambda x: x.rank, default=None)
        flagged = worst_sev is not None
        desc = "; ".join(
            f"{p.name}: {p.peering_state or 'unknown'}"
            + (", sync " + p.peering_sync_level if p.peering_sync_level and p.peering_sync_level != "FullyInSync" else "")
            + (", no VNet access" if not p.allow_virtual_network_access else "")
            + (", forwarded traffic" if p.allow_forwarded_traffic else "")
            + (", gateway transit" if p.allow_gateway_transit else "")
            + (", uses remote gateways" if p.use_remote_gateways else "")
            for p in sides
        )
        worst_text = f"; worst finding {worst_sev.value}" if worst_sev else ""
        text = f"{nodes[a].name} ↔ {nodes[b].name} ({state}): {desc}{worst_text}"
        edges.append(Edge(nodes[a], nodes[b], state, flagged, text, worst_sev.value if worst_sev else None))
    edges += _overlay_edges(extra.links, nodes, mentions)
    edges.sort(key=lambda e: (e.flagged, e.state != "connected"))  # problems drawn on top
    width = max((g.x + g.w for g in groups), default=400) + GAP
    height = max((g.y + g.h for g in groups), default=120) + GAP
    scale = max(1.0, width / 1400)
    group_edges = _group_edges(groups, edges, scale)
    for group in groups:
        if group.collapsible:
            group.card = _card(group, scale)
    return Layout(width, height, groups, [n for g in groups for n in g.nodes], edges, group_edges, scale)


def _extra_node(item, finding_count: dict, worst: dict, external: bool = False) -> Node:
    return Node(item.key, item.id, item.name, 0, 0, [], None, finding_count.get(item.key, 0), external=external,
                worst=worst[item.key].value if item.key in worst else None, kind=item.kind, caption=item.sublabel,
                detail=item.detail)


def _overlay_edges(links: list, nodes: dict[str, Node], mentions: Mentions) -> list[Edge]:
    """Hub connections (styled by the spoke's peering state) and AVNM member links."""
    out = []
    for link in links:
        if link.vnet not in nodes or link.other not in nodes:
            continue
        worst_sev = mentions.worst_of(norm_id(p.id) for p in link.sides) if link.sides else None
        text = f"{nodes[link.vnet].name} ↔ {nodes[link.other].name}: {link.description}"
        if worst_sev is not None:
            text += f"; worst finding {worst_sev.value}"
        out.append(Edge(nodes[link.other], nodes[link.vnet], link.state, worst_sev is not None, text,
                        worst_sev.value if worst_sev else None, kind=link.kind))
    return out


def _hub_to_middle(groups: list[Group], pairs) -> None:
    """Move the group peered with the most other groups to the middle, so lines from it stay short."""
    where = {n.key: i for i, g in enumerate(groups) for n in g.nodes}
    neighbours: dict[int, set[int]] = defaultdict(set)
    for a, b in pairs:
        if where[a] != where[b]:
            neighbours[where[a]].add(where[b])
            neighbours[where[b]].add(where[a])
    if len(groups) < 4 or not neighbours:
        return
    hub = min(neighbours, key=lambda i: (-len(neighbours[i]), i))
    if len(neighbours[hub]) >= 3:
        groups.insert((len(groups) - 1) // 2, groups.pop(hub))


def _card(group: Group, scale: float) -> Card:
    x, y = group.x + GROUP_PAD, group.y + GROUP_HEAD + GROUP_PAD / 2
    w, h = group.w - 2 * GROUP_PAD, group.h - GROUP_HEAD - 1.5 * GROUP_PAD
    n = len(group.nodes)
    lines = [f"{n} VNet{'s' if n != 1 else ''}" + (f" · {group.inner_peerings} peerings inside" if group.inner_peerings else ""),
             (f"{group.flagged_vnets} with findings · worst {group.worst}" if group.flagged_vnets else "no findings")]
    if group.peers:
        lines.append("peered with " + ", ".join(f"{name} ({count})" for name, count in group.peers))
    size = max(12.0, min(13 * scale * 1.5, h / 4.2, w / (0.62 * 30)))  # about 30 characters across
    title = short(group.full_label, max(8, int(w / (0.62 * size))))
    lines = [short(line, max(8, int(w / (0.62 * 0.62 * size)))) for line in lines]
    return Card(x, y, w, h, title, lines, round(size, 1))


def _clip(rect: Group, x: float, y: float, tx: float, ty: float) -> tuple[float, float]:
    """Where the segment from the centre of `rect` towards (tx, ty) leaves the rect."""
    dx, dy = tx - x, ty - y
    ts = [t for t in ((rect.w / 2 / abs(dx)) if dx else None, (rect.h / 2 / abs(dy)) if dy else None) if t is not None]
    t = min([1.0, *ts])
    return x + dx * t, y + dy * t


def _group_edges(groups: list[Group], edges: list[Edge], scale: float) -> list[GroupEdge]:
    pairs: dict[tuple[int, int], list[Edge]] = defaultdict(list)
    for e in edges:
        if e.kind.startswith(AVNM):
            continue  # configurations are not peerings: their links show while both boxes are expanded
        ga, gb = sorted((e.a.group, e.b.group))
        if ga == gb:
            groups[ga].inner_peerings += 1
        else:
            pairs[(ga, gb)].append(e)
    degree: dict[int, int] = defaultdict(int)
    for ia, ib in pairs:
        degree[ia] += 1
        degree[ib] += 1
    out = []
    for (ia, ib), members in sorted(pairs.items()):
        a, b = groups[ia], groups[ib]
        (ax, ay), (bx, by) = a.center, b.center
        x1, y1 = _clip(a, ax, ay, bx, by)
        x2, y2 = _clip(b, bx, by, ax, ay)
        states = {s: sum(e.state == s for e in members) for s in _STATE_RANK}
        state = max((e.state for e in members), key=_STATE_RANK.__getitem__)
        width = scale * (1.2 + 0.6 * math.log2(len(members)))
        a.peers.append((b.full_label, len(members)))
        b.peers.append((a.full_label, len(members)))
        ranks = [e.worst for e in members if e.worst]
        worst = max(ranks, key=lambda v: Severity(v).rank, default=None)
        edge = GroupEdge(a, b, len(members), state, sum(e.flagged for e in members), states, worst, x1, y1, x2, y2,
                         round(width, 1), round(11 * scale, 1))
        # the label sits just outside the box with fewer neighbours (a spoke), so labels around a hub do not pile up
        spoke_b = degree[ib] <= degree[ia]
        length = math.hypot(x2 - x1, y2 - y1) or 1.0
        t = min(0.5, edge.label_size * 1.5 / length)
        t = 1 - t if spoke_b else t
        edge.label_x, edge.label_y = round(x1 + (x2 - x1) * t, 1), round(y1 + (y2 - y1) * t, 1)
        out.append(edge)
    out.sort(key=lambda e: (e.flagged > 0, e.state != "connected"))
    return out


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
        room = group.w - 24 - (TOGGLE_W + 8 if group.nodes else 0)  # the collapse toggle sits top right
        group.detail = short(group.detail, int(room / 5.6))
        group.label = short(group.label, int(room / 8.5))
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


__all__ = ["layout", "Layout", "Node", "Edge", "Group", "GroupEdge", "Card", "anchor", "NODE_W", "NODE_H", "TOGGLE_W", "TOGGLE_H"]
