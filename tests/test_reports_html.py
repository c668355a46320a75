"""report.html, checked as text: escaping, self-containment, sections, and the topology layout."""

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report_estates import (  # noqa: E402
    PATH_INTENTS, evaluated, evaluated_with_intents, large_spec, path_spec, realistic_spec)

from auditor.engine import discover_rules, evaluate  # noqa: E402
from auditor.input.synthetic import snapshot_from_spec  # noqa: E402
from auditor.model.ids import norm_id  # noqa: E402
from reports import html_report, topology  # noqa: E402

HOSTILE_NAME = "<img src=x onerror=alert(1)>"
SCRIPT_NAME = "<script>alert(1)</script>"
TAG_VALUE = '<script>alert("tag")</script><b onmouseover=alert(3)>x</b>'


def hostile_spec() -> dict:
    return {
        "subscriptions": {"prod": {"name": "<i>Prod</i>"}},
        "vnets": {
            "hub": {"subscription": "prod", "address_space": "10.0.0.0/16", "tags": {"owner": TAG_VALUE}},
            HOSTILE_NAME: {"subscription": "prod", "address_space": "10.1.0.0/16", "tags": {"x": "y"}},
            SCRIPT_NAME: {"subscription": "prod", "address_space": "10.2.0.0/16"},
        },
        "peerings": [{"from": "hub", "to": HOSTILE_NAME}, {"from": "hub", "to": SCRIPT_NAME}],
    }


def parse(html: str) -> list[tuple[str, list]]:
    """Every start tag the browser's tokenizer would create, with its attributes."""
    tags = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.append((tag, attrs))

    Collector().feed(html)
    return tags


@pytest.fixture(scope="module")
def realistic_html():
    result, snapshot = evaluated(realistic_spec())
    return result, snapshot, html_report.render(result, snapshot)


def test_azure_values_with_markup_render_as_text():
    snapshot = snapshot_from_spec(hostile_spec())
    result = evaluate(snapshot, discover_rules())
    assert any(HOSTILE_NAME in f.message for f in result.findings)
    html = html_report.render(result, snapshot)
    for raw in (HOSTILE_NAME, SCRIPT_NAME, TAG_VALUE, "<i>Prod</i>", "<b onmouseover"):
        assert raw not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;script&gt;alert(&#34;tag&#34;)&lt;/script&gt;" in html
    tags = parse(html)
    assert [t for t, _ in tags].count("script") == 1  # only the report's own script
    assert not [(t, a) for t, attrs in tags for a, _ in attrs if a.startswith("on")]  # no event handlers
    assert not {"img", "b", "i"} & {t for t, _ in tags}  # injected elements were not created


def test_self_contained_no_network(realistic_html):
    html = realistic_html[2]
    assert not re.search(r"<(link|iframe|img|object|embed)\b", html, re.I)
    assert not re.search(r"\bsrc\s*=", html, re.I)
    assert "@import" not in html and "url(" not in html
    assert "default-src 'none'" in html  # CSP forbids any load even if something slipped in
    assert "<style>" in html and "@media print" in html and "prefers-color-scheme: dark" in html


def test_sections_and_content(realistic_html):
    result, snapshot, html = realistic_html
    # scan header
    for text in ("alice@contoso.com", "vnet-audit " + result.tool["version"], "Contoso Ltd", "Fabrikam Inc", "estate/snapshot.json"):
        assert text in html
    # coverage banner names the failed subscription and its error
    banner = html.split('id="coverage"')[1].split("</section>")[0]
    assert "Contoso Legacy" in banner and "AuthorizationFailed" in banner and "failed" in banner
    # one findings row per unwaived finding, with filter data
    table = html.split('id="findings-table"')[1].split("</table>")[0]
    active = [f for f in result.findings if not f.waived]
    assert table.count("<tr data-severity=") == len(active)
    for f in active:
        assert f'data-rule="{f.rule_id}"' in table and f.fingerprint in table
    # waived findings shown apart with justification, owner, expiry; stale waiver listed
    waived = html.split('id="waived"')[1].split("</section>")[0]
    for f in (f for f in result.findings if f.waived):
        assert f.fingerprint not in table
        assert f.waiver.justification in waived and f.waiver.owner in waived and f.waiver.expires in waived
    assert "Stale waivers (1)" in waived and "waivers.yaml#waivers[2]" in waived
    # catalogue: every rule that ran, passed or not
    rules = html.split('id="rules"')[1]
    for r in result.rules:
        assert f'id="rule-{r.id}"' in rules
    active_rules = {f.rule_id for f in result.findings if not f.waived}
    assert rules.count(">passed<") == sum(1 for r in result.rules if r.id not in active_rules) > 0  # waived-only rules pass
    # per-VNet view: every VNet, peerings with state and flags
    for vnet in snapshot.virtual_networks:
        assert f'id="{topology.anchor(vnet.id)}"' in html
    assert "gateway transit" in html and "use remote gateways" in html and "no VNet access" in html


def test_docs_links_only_http(realistic_html):
    result, snapshot, _ = realistic_html
    result = result.model_copy(deep=True)
    result.findings[0].docs = "javascript:alert(1)"
    html = html_report.render(result, snapshot)
    assert 'href="javascript:' not in html
    assert "Docs: javascript:alert(1)" in html


def test_without_snapshot_the_report_says_what_is_missing(realistic_html):
    result, _, _ = realistic_html
    html = html_report.render(result, None)
    assert 'id="topo"' not in html
    assert "built from findings alone" in html
    assert html.count("<tr data-severity=") == result.summary["total"]


def test_topology_edges_follow_peering_state(realistic_html):
    result, snapshot, html = realistic_html
    layout = topology.layout(snapshot, result.findings)
    counts = layout.counts()
    # hub-weu + 6 spokes both ways, sandbox one-sided, partner outside (Connected, one side seen), dmz-old disconnected
    assert counts["connected"] == 6 and counts["one-sided"] == 2 and counts["disconnected"] == 1
    svg = html.split('id="topo"')[1].split("</svg>")[0]
    assert len(re.findall(r'class="edge one-sided', svg)) == 2
    assert len(re.findall(r'class="edge disconnected', svg)) == 1
    assert len(re.findall(r'class="edge [a-z-]+ flagged sev-[a-z]+"', svg)) == counts["flagged"] > 0
    assert svg.count('class="gw"') == 1  # hub-weu's gateway
    by_name = {e.b.name if e.a.name == "hub-weu" else e.a.name: e for e in layout.edges}
    assert by_name["sandbox"].state == "one-sided" and not by_name["sandbox"].flagged  # its finding is waived
    assert by_name["dmz-old"].state == "disconnected" and by_name["dmz-old"].flagged
    assert by_name["partner-shared"].b.external or by_name["partner-shared"].a.external
    failed = next(g for g in layout.groups if g.label == "Contoso Legacy")
    assert failed.status == "failed" and "AuthorizationFailed" in failed.note and not failed.nodes


def test_large_layout_is_deterministic_and_nodes_do_not_overlap():
    result, snapshot = evaluated(large_spec(), waive=False)
    one = topology.layout(snapshot, result.findings)
    two = topology.layout(snapshot, result.findings)
    assert [(n.key, n.x, n.y) for n in one.nodes] == [(n.key, n.x, n.y) for n in two.nodes]
    assert len(one.nodes) == 300 and len(one.edges) == 297
    boxes = sorted((n.x, n.y) for n in one.nodes)
    cells = {(round(x), round(y)) for x, y in boxes}
    assert len(cells) == 300
    for n in one.nodes:
        assert 0 <= n.x and n.x + topology.NODE_W <= one.width and 0 <= n.y and n.y + topology.NODE_H <= one.height
    for g in one.groups:  # nodes sit inside their group box
        for n in g.nodes:
            assert g.x <= n.x and n.x + topology.NODE_W <= g.x + g.w and g.y <= n.y and n.y + topology.NODE_H <= g.y + g.h
    assert 0.8 < one.width / one.height < 3  # fits a screen, not a ribbon


def test_large_estate_starts_with_big_subscriptions_collapsed_and_edges_aggregated():
    result, snapshot = evaluated(large_spec(), waive=False)
    layout = topology.layout(snapshot, result.findings)
    big = {g.label for g in layout.groups if len(g.nodes) > topology.COLLAPSE_MIN}
    assert {g.label for g in layout.collapsed} == big and len(big) == 11
    hub = next(g for g in layout.groups if g.label == "Connectivity")
    assert not hub.collapsed and hub.card is not None  # can still be collapsed by hand
    # one group edge per pair of groups, carrying all their VNet peerings, styled by the worst
    assert sorted((e.a.label, e.b.label) for e in layout.group_edges) == sorted(
        tuple(sorted(("Connectivity", label), key=lambda x: [g.label for g in layout.groups].index(x))) for label in big)
    assert sum(e.count for e in layout.group_edges) + sum(g.inner_peerings for g in layout.groups) == len(layout.edges)
    for e in layout.group_edges:
        members = [v for v in layout.edges if {v.a.group, v.b.group} == {e.a.index, e.b.index}]
        assert e.count == len(members) and e.flagged == sum(v.flagged for v in members)
        worst = "disconnected" if any(v.state == "disconnected" for v in members) else (
            "one-sided" if any(v.state == "one-sided" for v in members) else "connected")
        assert e.state == worst
    lz = next(g for g in layout.groups if g.label == "Landing zone 01")
    assert lz.card.title == "Landing zone 01" and lz.card.lines[0] == "27 VNets"
    assert f"{lz.flagged_vnets} with findings · worst {lz.worst}" == lz.card.lines[1] and lz.flagged_vnets > 0
    assert lz.card.lines[2] == "peered with Connectivity (27)"
    # the page starts in the same state: hidden VNets, visible cards and group edges
    svg = html_report.render(result, snapshot).split('id="topo"')[1].split("</svg>")[0]
    assert len(re.findall(r'class="vnet-node off"', svg)) == 27 * 11
    assert len(re.findall(r'class="vnet-node"', svg)) == 3
    assert len(re.findall(r'class="card sev-\w+" data-g', svg)) == 11
    assert len(re.findall(r'class="edge group-edge [a-z-]+( flagged sev-[a-z]+)?" data-g', svg)) == 11
    assert svg.count('aria-expanded="false"') == 11 and svg.count('aria-expanded="true"') == 1


def test_small_estate_starts_expanded_and_collapse_all_is_precomputed(realistic_html):
    result, snapshot, html = realistic_html
    layout = topology.layout(snapshot, result.findings)
    assert layout.collapsed == []
    svg = html.split('id="topo"')[1].split("</svg>")[0]
    assert "vnet-node off" not in svg and 'aria-expanded="false"' not in svg
    group_edges = re.findall(r'class="edge group-edge[^"]*"', svg)
    assert len(group_edges) == len(layout.group_edges) > 0 and all(" off" in m for m in group_edges)
    assert "Expand all" in html and "Collapse all" in html
    folded = topology.layout(snapshot, result.findings, collapse=True)
    assert {g.label for g in folded.collapsed} == {g.label for g in folded.groups if g.nodes}  # failed subscription has none
    prod = next(e for e in folded.group_edges if {e.a.label, e.b.label} == {"Contoso Connectivity", "Contoso Production"})
    assert prod.count == 4 and prod.state == "disconnected" and prod.flagged  # dmz-old's peering is disconnected
    assert "4 peered pairs" in prod.description and "1 disconnected" in prod.description


def test_hostile_subscription_and_vnet_names_in_cards_and_toggles_are_escaped():
    snapshot = snapshot_from_spec(hostile_spec())
    result = evaluate(snapshot, discover_rules())
    layout = topology.layout(snapshot, result.findings, collapse=True)
    assert layout.groups[0].card.title == "<i>Prod</i>"
    html = html_report.render(result, snapshot)
    assert "<i>Prod</i>" not in html and 'aria-label="&lt;i&gt;Prod&lt;/i&gt;: 3 VNets"' in html
    assert "&lt;i&gt;Prod&lt;/i&gt; (collapsed)" in html


def python_calls(func, *args) -> int:
    """How many Python frames `func` starts or resumes: a count of work, not a timing."""
    count = 0

    def profile(frame, event, arg):
        nonlocal count
        count += event == "call"

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        func(*args)
    finally:
        sys.setprofile(previous)
    return count


def test_layout_work_grows_linearly_with_the_estate():
    # checking every peering against every finding made this ~8.5x for 4x the VNets
    work = []
    for n in (100, 400):
        result, snapshot = evaluated(large_spec(n, 8), waive=False)
        work.append(python_calls(topology.layout, snapshot, result.findings))
    assert work[1] <= 4.5 * work[0], work


def _verdict(html: str) -> str:
    return html.split('id="verdict"')[1].split("</section>")[0]


def test_verdict_says_incomplete_when_a_subscription_failed(realistic_html):
    html = realistic_html[2]
    assert html.index('id="verdict"') < html.index('id="scan"')
    card = _verdict(html)
    assert "Incomplete: cannot certify" in card and "4/5 subscriptions complete" in card
    assert "no <code>--fail-on</code> threshold was recorded" in card  # says which rule of judgement was used
    assert "2 findings waived" in card


def test_verdict_fails_at_the_recorded_threshold_and_a_clean_estate_looks_clean():
    spec = {"subscriptions": {"prod": {"name": "Prod"}},
            "vnets": {"hub": {"subscription": "prod", "address_space": "10.0.0.0/16"}}}
    snapshot = snapshot_from_spec(spec)
    clean = evaluate(snapshot, discover_rules())
    assert not [f for f in clean.findings if f.severity.value in ("critical", "high")]
    card = _verdict(html_report.render(clean, snapshot))
    assert "Pass: no unwaived findings at high or above" in card
    assert not re.search(r'class="(tile|card) sev-', card)  # zero counts are muted, never red or amber
    assert card.count('class="tile zero"') == 5 - len({f.severity for f in clean.findings})
    spec["vnets"]["spoke"] = {"subscription": "prod", "address_space": "10.1.0.0/16"}
    spec["peerings"] = [{"from": "hub", "to": "spoke"}]  # one-sided: PEER001, high
    snapshot = snapshot_from_spec(spec)
    failing = evaluate(snapshot, discover_rules())
    assert "Fail: 1 unwaived finding at high or above" in _verdict(html_report.render(failing, snapshot))
    failing.scan["fail_on"] = "critical"
    card = _verdict(html_report.render(failing, snapshot))
    assert "Pass: no unwaived findings at critical or above" in card and "<code>--fail-on critical</code>" in card


def test_coverage_banner_groups_failed_calls_by_code_and_names_a_nameless_subscription_once(realistic_html):
    result, snapshot, _ = realistic_html
    result = result.model_copy(deep=True)
    sid = "5a5e0f5c-7d4b-4b9c-8e55-0f1a6b3c4e05"
    text = ("HTTP 403: The client 'auditor@contoso.com' does not have authorization to perform action "
            "'Microsoft.Network/{}/read' over scope '/subscriptions/" + sid + "'.")
    scopes = ["networkSecurityGroups", "resources", "routeTables", "subscription", "virtualNetworks"]
    entry = {"subscription_id": sid, "display_name": None, "tenant_id": None, "status": "failed",
             "errors": [{"scope": s, "code": "AuthorizationFailed", "message": text.format(s)} for s in scopes]
             + [{"scope": "peerings", "code": "Timeout", "message": "read timed out"}]}
    result.coverage["incomplete"] = [entry]
    result.coverage["subscriptions"].append(entry)
    banner = html_report.render(result, snapshot).split('id="coverage"')[1].split("</section>")[0]
    assert banner.count("does not have authorization") == 1  # the same 403 text once
    assert "AuthorizationFailed</strong> on 5 calls (" + ", ".join(scopes) + ")" in banner
    assert "Timeout</strong> on 1 call (peerings)" in banner
    assert f"grant the scanning identity Reader on subscription {sid}" in banner
    assert banner.split("</li>")[0].count(sid) == 3  # once as the name, twice in the 403 text and the fix
    item = banner.split('<ul class="gaps">')[1].split("</strong>")[0]
    assert item.count(sid) == 1


def test_the_verdict_judges_by_the_runs_fail_on(tmp_path, capsys, monkeypatch):
    """evaluate --fail-on records its threshold, and the HTML verdict judges by it."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from conftest import run_cli

    exports = Path(__file__).parent / "data" / "exports"
    out = tmp_path / "report.html"
    run_cli(capsys, monkeypatch, "evaluate", exports / "az_vnet_list.json", "--fail-on", "info", "--format", "html",
            "-o", out)
    html = out.read_text(encoding="utf-8")
    assert "at or above info" in html or "info or above" in html, "the verdict names the run's threshold"


def test_fix_first_follows_the_verdict_and_shows_names_steps_and_commands(realistic_html):
    result, _, html = realistic_html
    assert html.index('id="verdict"') < html.index('id="fix-first"') < html.index('id="scan"')
    section = html.split('id="fix-first"')[1].split("</section>")[0]
    items = section.split('<li class="fix-item">')[1:]
    assert items and 'class="sev sev-high"' in items[0] and 'class="sev sev-medium"' in items[-1]
    sync = next(i for i in items if "hub-weu-to-analytics" in i)
    assert "analytics-to-hub-weu" in sync and 'href="#rule-PEER003"' in sync
    assert "<strong>analytics-to-hub-weu</strong> <span class=\"muted\">(rg-network, Fabrikam Data Platform)" in sync
    assert "First step:" in sync and "az network vnet peering show --ids /<wbr>subscriptions" in sync
    assert "<details" in sync  # the full ids one click away
    assert "az network nsg rule show --ids" in section and "az network route-table route show --ids" in section
    waived = next(f for f in result.findings if f.waived and f.rule_id == "PEER001")
    assert waived.resource_name not in section


def test_edges_and_boxes_carry_the_worst_severity_of_their_findings(realistic_html):
    result, snapshot, html = realistic_html
    layout = topology.layout(snapshot, result.findings)
    svg = html.split('id="topo"')[1].split("</svg>")[0]
    by_name = {e.b.name if e.a.name == "hub-weu" else e.a.name: e for e in layout.edges if "hub-weu" in (e.a.name, e.b.name)}
    # analytics <-> hub-weu: PEER003 (medium) on both halves and TRANS002 (high) on one: high wins
    assert by_name["analytics"].worst == "high" and by_name["db-prod"].worst == "medium"
    assert by_name["sandbox"].worst is None  # its only finding is waived
    for e in layout.edges:
        names = {norm_id(p) for p in (e.a.id, e.b.id)}
        about = [f for f in result.findings if not f.waived and (
            any("/virtualnetworkpeerings/" in norm_id(i) and norm_id(i).split("/virtualnetworkpeerings/")[0] in names
                and any(norm_id(r) in names - {norm_id(i).split("/virtualnetworkpeerings/")[0]} for r in f.related_ids)
                for i in [f.resource_id]) or names <= {norm_id(i) for i in [f.resource_id, *f.related_ids]})]
        worst = max((f.severity for f in about), key=lambda s: s.rank, default=None)
        assert e.worst == (worst.value if worst else None), (e.a.name, e.b.name)
        if e.worst:
            assert f'class="edge {e.state} flagged sev-{e.worst}' in svg
    hub = next(n for n in layout.nodes if n.name == "hub-weu")
    assert hub.worst == "high" and re.search(rf'class="node-box has-findings sev-high" x="{hub.x}"', svg)
    assert "worst finding critical" in html and "has findings</li>" not in html  # the legend


def test_node_labels_fit_their_box_and_keep_the_full_name_for_hover():
    wide = "W" * 40
    node = topology.Node("k", "/x/" + wide, wide, 0, 0, ["10.100.200.0/24", "10.100.201.0/24"], None, 0)
    assert node.label.endswith("…") and topology.text_width(node.label, 12, True) <= topology.LABEL_W
    assert len(node.sublabel) <= topology.SUB_CHARS and node.sublabel.endswith("…")
    assert topology.Node("k", "/x/hub", "hub-weu", 0, 0, [], None, 0).label == "hub-weu"


def test_a_traced_finding_gets_a_show_path_button_naming_its_vnets_in_order():
    result, snapshot = evaluated_with_intents(path_spec(), PATH_INTENTS)
    tags = parse(html_report.render(result, snapshot))
    buttons = [dict(a) for t, a in tags if t == "button" and dict(a).get("class") == "show-path"]
    vnets = {v.name: v.key for v in snapshot.virtual_networks}
    assert [b["data-path"] for b in buttons] == ["|".join(vnets[n] for n in ("spoke1", "hub", "spoke2"))]
    assert buttons[0]["data-path-label"] == "spoke1 → hub → spoke2"
    rows = [dict(a) for t, a in tags if t == "tr" and "data-rule" in dict(a)]
    assert sorted(r["data-rule"] for r in rows) == ["FLOW001", "PEER001"]  # the peering finding has no button
    # every VNet box and line can be found by the path's keys
    nodes = {dict(a)["data-node"] for t, a in tags if "data-node" in dict(a)}
    ends = {dict(a)["data-ends"] for t, a in tags if "data-ends" in dict(a)}
    assert set(vnets.values()) <= nodes
    assert f"{vnets['hub']}|{vnets['spoke2']}" in ends or f"{vnets['spoke2']}|{vnets['hub']}" in ends


def test_without_the_topology_no_show_path_button():
    result, _ = evaluated_with_intents(path_spec(), PATH_INTENTS)
    html = html_report.render(result, None)
    assert "path_vnets" in html and "show-path" not in html
