"""report.html in a real browser: headless Chromium (Debian package) over the DevTools protocol.

Skips only when no chromium binary is installed (`scripts/ensure-chromium` installs it).
"""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from chromium_cdp import Chromium, find_chromium  # noqa: E402
from report_estates import PATH_INTENTS, evaluated, evaluated_with_intents, path_spec, realistic_spec  # noqa: E402

from auditor.engine import discover_rules, evaluate  # noqa: E402
from auditor.input.synthetic import snapshot_from_spec  # noqa: E402
from reports import write_outputs  # noqa: E402

pytestmark = pytest.mark.skipif(find_chromium() is None, reason="chromium is not installed (run scripts/ensure-chromium)")

HOSTILE = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(2)</script>"
ROWS = "Array.from(document.querySelectorAll('#findings-table tbody tr'))"
VISIBLE = ROWS + ".filter(r => !r.hidden)"


@pytest.fixture(scope="module")
def browser():
    with Chromium(width=1280, height=900) as b:
        yield b


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    result, snapshot = evaluated(realistic_spec())
    (path,) = write_outputs(result, snapshot, ["html"], tmp_path_factory.mktemp("html") / "report.html")
    return result, path


@pytest.fixture
def page(browser, report):
    browser.color_scheme("light")
    browser.open(report[1])
    return browser


def choose(b, select_id: str, value: str) -> None:
    b.js(f"(() => {{ const s = document.getElementById({json.dumps(select_id)}); s.value = {json.dumps(value)};"
         " s.dispatchEvent(new Event('change')); })()")


def test_loads_without_console_errors(page, report):
    result, _ = report
    assert page.errors() == [] and page.dialogs == []
    assert page.js(ROWS + ".length") == result.summary["total"]
    assert page.js("document.title").startswith("vnet-audit report")


def test_severity_rule_vnet_and_text_filters_change_visible_rows(page, report):
    result, _ = report
    active = [f for f in result.findings if not f.waived]
    highs = sum(f.severity.value == "high" for f in active)
    assert 0 < highs < len(active)
    choose(page, "f-severity", "high")
    assert page.js(VISIBLE + ".map(r => r.dataset.severity)") == ["high"] * highs
    assert page.js("document.getElementById('f-count').textContent") == f"Showing {highs} of {len(active)} findings."
    choose(page, "f-rule", "TRANS002")
    expected = sum(f.severity.value == "high" and f.rule_id == "TRANS002" for f in active)
    assert page.js(VISIBLE + ".length") == expected > 0
    page.js("document.getElementById('f-reset').click()")
    assert page.js(VISIBLE + ".length") == len(active)
    # real typing into the text filter
    page.js("document.getElementById('f-text').focus()")
    page.type("analytics")
    names = page.js(VISIBLE + ".map(r => r.textContent)")
    assert names and all("analytics" in t.lower() for t in names)
    assert len(names) == sum("analytics" in (f.message + f.resource_id).lower() for f in active)
    page.js("document.getElementById('f-reset').click()")
    vnet_key = page.js("document.querySelector('#f-vnet option[value]:not([value=\"\"])').value")
    choose(page, "f-vnet", vnet_key)
    rows = page.js(VISIBLE + ".map(r => r.dataset.vnet.split('|'))")
    assert rows and all(vnet_key in r for r in rows) and len(rows) < len(active)


def test_sorting_by_header_button_and_keyboard(page):
    page.js("document.querySelectorAll('#findings-table thead button')[1].click()")  # Rule
    rules = page.js(ROWS + ".map(r => r.dataset.rule)")
    assert rules == sorted(rules, key=str.lower)
    assert page.js("document.querySelectorAll('#findings-table thead th')[1].getAttribute('aria-sort')") == "ascending"
    assert page.js("document.querySelectorAll('#findings-table thead th')[0].getAttribute('aria-sort')") == "none"
    page.js("document.querySelectorAll('#findings-table thead button')[1].focus()")
    page.key("Enter", text="\r")  # a real key press on the focused header button
    rules = page.js(ROWS + ".map(r => r.dataset.rule)")
    assert rules == sorted(rules, key=str.lower, reverse=True)
    assert page.js("document.querySelectorAll('#findings-table thead th')[1].getAttribute('aria-sort')") == "descending"
    page.js("document.querySelectorAll('#findings-table thead button')[0].click()")  # severity, by rank
    ranks = page.js(ROWS + ".map(r => +r.cells[0].dataset.sort)")
    assert ranks == sorted(ranks)


def test_skip_link_is_the_first_tab_stop_and_controls_are_labelled(page):
    page.js("document.activeElement.blur()")
    page.key("Tab")
    assert page.js("document.activeElement.className") == "skip"
    unlabelled = page.js("Array.from(document.querySelectorAll('select, input')).filter(e => !e.labels || !e.labels.length).length")
    assert unlabelled == 0
    assert page.js("document.querySelectorAll('th[scope]').length") > 20


def test_topology_zoom_and_node_link(page):
    before = page.js("document.getElementById('topo').getAttribute('viewBox')")
    page.js("document.querySelector('[data-zoom=in]').click()")
    after = page.js("document.getElementById('topo').getAttribute('viewBox')")
    assert float(after.split()[2]) < float(before.split()[2])
    page.js("document.querySelector('[data-zoom=reset]').click()")
    assert page.js("document.getElementById('topo').getAttribute('viewBox')").split()[2:] == before.split()[2:]
    target = page.js("document.querySelector('#topo a').getAttribute('href')")
    page.js("document.querySelector('#topo a').dispatchEvent(new MouseEvent('click', {bubbles: true}))")
    assert page.js(f"document.getElementById({json.dumps(target[1:])}).open") is True
    assert page.errors() == []


def _contrast_js() -> str:
    return """(() => {
      const lum = c => { const v = c.match(/[\\d.]+/g).slice(0, 3).map(x => { x = x / 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
                         return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
      const bg = el => { while (el) { const c = getComputedStyle(el).backgroundColor; if (c && !c.startsWith('rgba(0, 0, 0, 0)')) return c; el = el.parentElement; } return 'rgb(255,255,255)'; };
      const sel = ['body', 'h2', '.muted', '.sev-critical', '.sev-high', '.sev-medium', '.sev-low', '.sev-info', '.status-failed', '.status-complete', '.banner.warn', 'a', '.id'];
      return sel.map(s => { const el = document.querySelector(s); const a = lum(getComputedStyle(el).color), b = lum(bg(el));
                            return [s, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)]; });
    })()"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_light_and_dark_mode_have_sufficient_contrast(browser, report, scheme):
    browser.open(report[1])
    browser.color_scheme(scheme)
    background = browser.js("getComputedStyle(document.body).backgroundColor")
    assert background == ("rgb(255, 255, 255)" if scheme == "light" else "rgb(13, 17, 23)")
    low = [(s, round(r, 2)) for s, r in browser.js(_contrast_js()) if r < 4.5]
    assert not low, f"{scheme}: contrast below 4.5:1 for {low}"
    browser.color_scheme("light")


def test_print_stylesheet_hides_controls_and_opens_details(browser, report):
    browser.open(report[1])
    browser.send("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert browser.js("getComputedStyle(document.querySelector('form.filters')).display") == "none"
        assert browser.js("getComputedStyle(document.querySelector('.topo-tools')).display") == "none"
        browser.js("window.dispatchEvent(new Event('beforeprint'))")
        assert browser.js("Array.from(document.querySelectorAll('details')).every(d => d.open)") is True
    finally:
        browser.send("Emulation.setEmulatedMedia", {"media": ""})


def test_injected_markup_never_runs(browser, tmp_path):
    spec = {
        "subscriptions": {"prod": {"name": "<b>Prod</b>"}},
        "vnets": {
            "hub": {"subscription": "prod", "address_space": "10.0.0.0/16", "tags": {"owner": SCRIPT + HOSTILE}},
            HOSTILE: {"subscription": "prod", "address_space": "10.1.0.0/16"},
            "<script>alert(1)</script>": {"subscription": "prod", "address_space": "10.2.0.0/16"},
        },
        "peerings": [{"from": "hub", "to": HOSTILE}, {"from": "hub", "to": "<script>alert(1)</script>"}],
    }
    snapshot = snapshot_from_spec(spec)
    result = evaluate(snapshot, discover_rules())
    (path,) = write_outputs(result, snapshot, ["html"], tmp_path / "xss.html")
    browser.open(path)
    browser.js("document.querySelectorAll('details').forEach(d => d.open = true)")
    browser.js("document.querySelectorAll('#topo a').forEach(a => a.dispatchEvent(new MouseEvent('mouseover', {bubbles: true})))")
    browser.js("document.querySelector('[data-groups=collapse]').click()")  # the summary card shows the names too
    assert browser.js("document.querySelector('#topo .card title').textContent").startswith("<b>Prod</b> (collapsed)")
    assert browser.js("document.querySelector('#topo [data-toggle]').getAttribute('aria-label')") == "<b>Prod</b>: 3 VNets"
    assert browser.dialogs == [] and browser.errors() == []
    assert browser.js("document.querySelectorAll('img, b').length") == 0
    assert browser.js("document.scripts.length") == 1
    text = browser.js("document.body.innerText")
    assert HOSTILE in text and SCRIPT in text and "<b>Prod</b>" in text
    assert browser.js("document.getElementById('f-text') !== null")


def _toggle(name: str) -> str:
    return f"Array.from(document.querySelectorAll('#topo [data-toggle]')).find(t => t.getAttribute('aria-label').startsWith({json.dumps(name)}))"


def _shown(selector: str) -> str:
    """How many matching elements are actually rendered (display is not none)."""
    return f"Array.from(document.querySelectorAll({json.dumps(selector)})).filter(e => getComputedStyle(e).display !== 'none').length"


def test_collapsing_a_subscription_hides_its_vnets_and_shows_the_group_edge(page):
    toggle = _toggle("Contoso Production")
    group = page.js(toggle + ".dataset.toggle")
    vnets = f'#topo .vnet-node[data-g="{group}"]'
    assert page.js(_shown(vnets)) == 4 and page.js(_shown("#topo .card")) == 0
    assert page.js(_shown("#topo .group-edge")) == 0
    page.js(toggle + ".dispatchEvent(new MouseEvent('click', {bubbles: true}))")
    assert page.js(toggle + ".getAttribute('aria-expanded')") == "false"
    assert page.js(_shown(vnets)) == 0
    assert page.js(_shown(f'#topo .card[data-g="{group}"]')) == 1
    edges = page.js("Array.from(document.querySelectorAll('#topo .group-edge')).filter(e => getComputedStyle(e).display !== 'none')"
                    ".map(e => e.querySelector('title').textContent)")
    assert len(edges) == 1 and "Contoso Production" in edges[0] and "4 peered pairs" in edges[0]
    assert page.js(_shown(f'#topo .edge-label[data-g~="{group}"]')) == 1
    # VNet-level edges touching the collapsed group are gone; others stay
    assert page.js(_shown(f'#topo path.edge:not(.group-edge)[data-g~="{group}"]')) == 0
    assert page.js(_shown("#topo path.edge:not(.group-edge)")) > 0
    # a click on the summary card expands it again
    page.js(f"document.querySelector('#topo .card[data-g=\"{group}\"]').dispatchEvent(new MouseEvent('click', {{bubbles: true}}))")
    assert page.js(_shown(vnets)) == 4 and page.js(_shown("#topo .group-edge")) == 0
    assert page.errors() == []


def test_group_toggle_works_from_the_keyboard(page):
    toggle = _toggle("Contoso Dev/Test")
    group = page.js(toggle + ".dataset.toggle")
    assert page.js(toggle + ".getAttribute('role')") == "button" and page.js(toggle + ".tabIndex") == 0
    page.js(toggle + ".focus()")
    assert page.js("document.activeElement.dataset.toggle") == group
    page.key("Enter", text="\r")
    assert page.js(toggle + ".getAttribute('aria-expanded')") == "false"
    assert page.js(_shown(f'#topo .vnet-node[data-g="{group}"]')) == 0
    scrolled = page.js("window.scrollY")
    page.key(" ", code="Space", text=" ")
    assert page.js(toggle + ".getAttribute('aria-expanded')") == "true"
    assert page.js("window.scrollY") == scrolled  # Space toggled instead of scrolling the page
    assert page.js(_shown(f'#topo .vnet-node[data-g="{group}"]')) == 3
    assert page.errors() == []


def test_expand_all_and_collapse_all(page):
    nodes = page.js("document.querySelectorAll('#topo .vnet-node').length")
    page.js("document.querySelector('[data-groups=collapse]').click()")
    assert page.js(_shown("#topo .vnet-node")) == 0
    assert page.js(_shown("#topo .card")) == page.js("document.querySelectorAll('#topo [data-toggle]').length") > 0
    assert page.js("Array.from(document.querySelectorAll('#topo [data-toggle]')).every(t => t.getAttribute('aria-expanded') === 'false')")
    assert page.js(_shown("#topo path.edge:not(.group-edge)")) == 0 and page.js(_shown("#topo .group-edge")) > 0
    page.js("document.querySelector('[data-groups=expand]').click()")
    assert page.js(_shown("#topo .vnet-node")) == nodes
    assert page.js(_shown("#topo .card")) == 0 and page.js(_shown("#topo .group-edge")) == 0
    assert page.errors() == []


def test_large_estate_opens_collapsed_without_errors(browser, tmp_path):
    from report_estates import large_spec

    (path,) = write_outputs(*evaluated(large_spec(), waive=False), ["html"], tmp_path / "large.html")
    browser.open(path)
    assert browser.errors() == []
    assert browser.js(_shown("#topo .vnet-node")) == 3 and browser.js(_shown("#topo .card")) == 11
    assert browser.js(_shown("#topo .group-edge")) == 11
    browser.js(_toggle("Landing zone 06") + ".dispatchEvent(new MouseEvent('click', {bubbles: true}))")
    assert browser.js(_shown("#topo .vnet-node")) == 30 and browser.js(_shown("#topo .group-edge")) == 10
    assert browser.errors() == []


def _viewport(browser, width: int, height: int) -> None:
    browser.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})


def test_verdict_is_inside_the_first_viewport(browser, report):
    _viewport(browser, 1400, 900)
    try:
        browser.open(report[1])
        box = browser.js("(() => { const r = document.getElementById('verdict').getBoundingClientRect();"
                         " return [r.top, r.bottom, innerHeight]; })()")
        assert 0 <= box[0] and box[1] <= box[2], box
        assert browser.js("document.getElementById('verdict-h').textContent").strip().startswith("⚠ Incomplete: cannot certify")
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")


# the width of the narrowest line an id may wrap to: a few characters, never one per line
ID_WIDTHS = """Array.from(document.querySelectorAll('.id')).filter(e => e.textContent.length > 30 && e.getClientRects().length)
  .map(e => [e.textContent, e.getBoundingClientRect().width, parseFloat(getComputedStyle(e).fontSize)])"""


def test_no_horizontal_scroll_at_400px_and_ids_break_at_slashes(browser, report):
    _viewport(browser, 400, 900)
    try:
        browser.open(report[1])
        browser.js("document.querySelectorAll('details').forEach(d => d.open = true)")
        assert browser.js("[document.documentElement.scrollWidth, innerWidth]") == [400, 400]
        widths = browser.js(ID_WIDTHS)
        assert len(widths) > 10
        narrow = [(t, round(w)) for t, w, size in widths if w < 6 * size]
        assert not narrow, f"ids squeezed to a few characters per line: {narrow[:3]}"
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")



def _printed_pages(browser) -> int:
    import base64
    import re

    pdf = base64.b64decode(browser.send("Page.printToPDF", {"printBackground": True, "paperWidth": 8.27, "paperHeight": 11.69})["data"])
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


def test_printed_report_fits_a_page_budget_and_keeps_ids_whole(browser, report):
    browser.open(report[1])
    assert _printed_pages(browser) <= 9  # 22 before the print stylesheet was reworked, 14 before the compact print
    browser.send("Emulation.setEmulatedMedia", {"media": "print"})
    _viewport(browser, 794, 1123)  # A4 at 96 dpi, as the print layout sees it
    try:
        widths = browser.js(ID_WIDTHS)
        assert widths and not [(t, round(w)) for t, w, size in widths if w < 6 * size]
        for selector in ("#verdict", ".attestation"):
            assert browser.js(f"getComputedStyle(document.querySelector({json.dumps(selector)})).display") != "none"
    finally:
        browser.send("Emulation.setEmulatedMedia", {"media": ""})
        browser.send("Emulation.clearDeviceMetricsOverride")


def test_hubs_route_servers_and_avnm_links_render_and_fold(browser, tmp_path):
    from test_topology_hubs import hubs_spec

    snapshot = snapshot_from_spec(hubs_spec())
    (path,) = write_outputs(evaluate(snapshot, discover_rules()), snapshot, ["html"], tmp_path / "hubs.html")
    browser.open(path)
    assert browser.errors() == []
    box = browser.js("(() => { const r = document.querySelector('#topo polygon.vhub').getBoundingClientRect();"
                     " return [r.width, r.height]; })()")
    assert box[0] > 20 and box[1] > 5
    assert browser.js(_shown("#topo rect.rs")) == 1
    links = "#topo path.kind-avnm, #topo path.kind-avnm-hub, #topo path.kind-hub"
    assert browser.js(_shown(links)) == 8
    browser.js(_toggle("conn") + ".dispatchEvent(new MouseEvent('click', {bubbles: true}))")
    assert browser.js(_shown("#topo .vnet-node.kind-vhub")) == 0 and browser.js(_shown(links)) == 0
    browser.js(_toggle("conn") + ".dispatchEvent(new MouseEvent('click', {bubbles: true}))")
    assert browser.js(_shown(links)) == 8 and browser.errors() == []


ON_PATH = "Array.from(document.querySelectorAll('#topo [data-node].on-path')).map(n => n.dataset.node).sort()"


@pytest.fixture(scope="module")
def path_report(tmp_path_factory):
    result, snapshot = evaluated_with_intents(path_spec(), PATH_INTENTS)
    (path,) = write_outputs(result, snapshot, ["html"], tmp_path_factory.mktemp("path") / "report.html")
    return snapshot, path


def test_show_path_marks_exactly_the_vnets_and_lines_on_the_path_and_the_chip_clears_it(browser, path_report, tmp_path):
    snapshot, path = path_report
    keys = {v.name: v.key for v in snapshot.virtual_networks}
    browser.color_scheme("light")
    browser.open(path)
    assert browser.js(ON_PATH) == [] and browser.js("document.getElementById('topo-path').hidden")
    browser.js("document.querySelector('button.show-path').click()")
    assert browser.js(ON_PATH) == sorted(keys[n] for n in ("spoke1", "hub", "spoke2"))
    lines = browser.js("Array.from(document.querySelectorAll('#topo path.on-path'))"
                       ".map(e => e.dataset.ends.split('|').sort().join(' '))")
    assert sorted(lines) == sorted(" ".join(sorted((keys["hub"], keys[s]))) for s in ("spoke1", "spoke2"))
    assert browser.js("document.getElementById('topo-path-label').textContent") == "spoke1 → hub → spoke2"
    assert browser.js("document.activeElement.id") == "topo-path-clear"
    assert browser.js("document.getElementById('topology').getBoundingClientRect().top") < 50  # scrolled into view
    browser.screenshot(tmp_path / "path.png", clip_selector="#topology")
    browser.key("Enter", text="\r")  # the focused Clear button, from the keyboard
    assert browser.js(ON_PATH) == [] and browser.js("document.querySelectorAll('#topo .on-path').length") == 0
    assert browser.js("document.getElementById('topo-path').hidden")
    assert browser.js("document.activeElement.className") == "show-path"  # focus goes back to the finding
    browser.key("Enter", text="\r")  # the focused Show path button again
    assert len(browser.js(ON_PATH)) == 3
    browser.key("Escape")
    assert browser.js(ON_PATH) == [] and browser.js("document.getElementById('topo-path').hidden")
    assert browser.errors() == []


def test_show_path_through_a_virtual_wan_hub_marks_the_hub_and_its_two_connections(browser, tmp_path):
    import yaml

    spec = yaml.safe_load((Path(__file__).resolve().parent / "reach_cases" / "hubs.yaml").read_text())["base"]
    intents = {"forbid": [{"name": "no-db", "from": {"subnets": ["spoke1/app"]}, "to": {"subnets": ["spoke2/db"]},
                           "ports": [443]}]}
    result, snapshot = evaluated_with_intents(spec, intents)
    (path,) = write_outputs(result, snapshot, ["html"], tmp_path / "report.html")
    browser.open(path)
    browser.js("document.querySelector('button.show-path').click()")
    hub = snapshot.virtual_hubs[0].key
    assert hub in browser.js(ON_PATH) and len(browser.js(ON_PATH)) == 3  # spoke1, the hub, spoke2
    lines = browser.js("Array.from(document.querySelectorAll('#topo path.on-path')).map(e => e.dataset.ends)")
    assert len(lines) == 2 and all(hub in e.split("|") for e in lines)
    assert browser.errors() == []
