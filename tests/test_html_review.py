"""report.html as a reviewer uses it, in headless Chromium: the control filter, the topology's edges
as a filter and its SVG download, the printed demo's page budget, long ids at 400 px, fix-first copy."""

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from chromium_cdp import find_chromium  # noqa: E402
from conftest import run_cli  # noqa: E402
from test_html_browser import (  # noqa: E402,F401
    ROWS,
    VISIBLE,
    _printed_pages,
    _viewport,
    browser,
    choose,
    page,
    report,
)

from auditor.engine import discover_rules, evaluate  # noqa: E402
from auditor.input.synthetic import snapshot_from_spec  # noqa: E402
from reports import write_outputs  # noqa: E402

pytestmark = pytest.mark.skipif(find_chromium() is None,
                                reason="chromium is not installed (run scripts/ensure-chromium)")
COUNT = "document.getElementById('f-count').textContent"
PAIR_HIDDEN = "document.getElementById('f-pair').hidden"

SVG_NS = "{http://www.w3.org/2000/svg}"
DEMO_PAGE_BUDGET = 8  # A4 pages for the 26-finding demo (46 before issue 12, 16 before the compact print)


def test_the_control_filter_keeps_the_findings_of_one_control(page, report):
    result, _ = report
    active = [f for f in result.findings if not f.waived]
    ns9 = [f for f in active if "NS-9" in f.controls]
    assert 0 < len(ns9) < len(active)
    choose(page, "f-control", "ns-9")
    shown = page.js(VISIBLE + ".map(r => r.dataset.controls.split('|'))")
    assert len(shown) == len(ns9) and all("ns-9" in c for c in shown)
    assert page.js(COUNT) == f"Showing {len(ns9)} of {len(active)} findings."
    page.js("document.getElementById('f-reset').click()")
    assert page.js(VISIBLE + ".length") == len(active)
    # the chips link to the control's page, in the findings and in the rules appendix
    href = page.js("document.querySelector('#findings-table a.chip').href")
    assert href.startswith("https://learn.microsoft.com/")
    mapped = [r for r in result.rules if r.controls]
    assert page.js("document.querySelectorAll('#rules a.chip').length") >= len(mapped)


def _flagged_pair(page) -> tuple[list[str], str]:
    """A flagged topology edge whose two VNets are both named by at least one finding row."""
    return page.js("""(() => {
      const rows = Array.from(document.querySelectorAll('#findings-table tbody tr'))
        .map(r => r.dataset.vnet.split('|'));
      for (const e of document.querySelectorAll('#topo path.flagged[data-pair]')) {
        const keys = e.dataset.pair.split('|');
        const n = rows.filter(v => keys.every(k => v.includes(k))).length;
        if (n) { e.id = 'picked-edge'; return [keys, n]; }
      }
      return null; })()""")


def test_an_edge_click_filters_the_findings_to_its_pair_and_the_chip_clears_it(page):
    keys, expected = _flagged_pair(page)
    total = page.js(ROWS + ".length")
    assert expected < total and page.js(PAIR_HIDDEN) is True
    page.js("document.getElementById('picked-edge').dispatchEvent(new MouseEvent('click', {bubbles: true}))")
    shown = page.js(VISIBLE + ".map(r => r.dataset.vnet.split('|'))")
    assert len(shown) == expected and all(set(keys) <= set(v) for v in shown)
    assert page.js(PAIR_HIDDEN) is False
    label = page.js("document.getElementById('f-pair-label').textContent")
    assert "↔" in label and label == page.js("document.getElementById('picked-edge').dataset.pairLabel")
    page.js("document.getElementById('f-pair-clear').click()")
    assert page.js(VISIBLE + ".length") == total and page.js(PAIR_HIDDEN) is True


def test_enter_on_a_focused_edge_filters_too(page):
    _, expected = _flagged_pair(page)
    page.js("document.getElementById('picked-edge').focus()")
    assert page.js("document.activeElement.id") == "picked-edge"
    page.key("Enter", text="\r")
    assert page.js(VISIBLE + ".length") == expected
    assert page.js("document.activeElement.id") == "f-pair-clear"  # the way back is where the focus is
    page.key("Enter", text="\r")
    assert page.js(VISIBLE + ".length") == page.js(ROWS + ".length")


def test_the_drawing_downloads_as_a_standalone_svg_with_its_styles(page, tmp_path):
    text = page.js("""(async () => {
      const blobs = [], create = URL.createObjectURL;
      URL.createObjectURL = b => { blobs.push(b); return create.call(URL, b); };
      document.getElementById('topo-download').click();
      URL.createObjectURL = create;
      return [blobs.length, blobs[0].type, await blobs[0].text()]; })()""")
    count, kind, svg = text
    assert count == 1 and kind == "image/svg+xml"
    (tmp_path / "topology.svg").write_text(svg)
    root = ET.parse(tmp_path / "topology.svg").getroot()  # well-formed XML, or this raises
    assert root.tag == f"{SVG_NS}svg"
    w, h = page.js("[document.getElementById('topo').dataset.w, document.getElementById('topo').dataset.h]")
    assert root.get("viewBox") == f"0 0 {w} {h}" and root.get("width") == w
    style = root.find(f"{SVG_NS}style")
    assert style is not None
    assert all(rule in style.text for rule in (".edge", "--edge-ok", ".node-box", "prefers-color-scheme"))
    # what is on screen: the page's toggles and the hidden (collapsed or expanded) half are left out
    shown = page.js("document.querySelectorAll('#topo path:not(.off)').length")
    assert len(root.findall(f".//{SVG_NS}path")) == shown
    classes = [(e.get("class") or "").split() for e in root.iter()]
    assert not [c for c in classes if "off" in c] and not root.findall(".//*[@data-toggle]")
    # the file draws on its own: rendered in the browser, an edge gets its stroke from the inlined style
    page.open(tmp_path / "topology.svg")
    stroke = page.js("getComputedStyle(document.querySelector('path.edge')).stroke")
    assert stroke not in ("", "none") and page.errors() == []


def test_the_demo_prints_within_the_page_budget(browser, tmp_path, capsys, monkeypatch):
    code, _, _ = run_cli(capsys, monkeypatch, "scan", "--demo", "-o", tmp_path, "--format", "html")
    assert code in (0, 1)
    browser.open(tmp_path / "report.html")
    pages = _printed_pages(browser)
    assert pages <= DEMO_PAGE_BUDGET, f"the demo prints on {pages} pages"
    # no shrink-to-fit: the print layout is no wider than A4, so the budget is not met by scaling down
    browser.send("Emulation.setEmulatedMedia", {"media": "print"})
    _viewport(browser, 794, 1123)
    try:
        assert browser.js("document.documentElement.scrollWidth") <= 794
        assert browser.js("getComputedStyle(document.querySelector('table.vnet-summary')).display") == "table"
        assert browser.js("getComputedStyle(document.querySelector('details.vnet')).display") == "none"
        for selector in ("#verdict", ".attestation", "#fix-first", "#findings-table", "#waived"):
            shown = f"getComputedStyle(document.querySelector({json.dumps(selector)})).display"
            assert browser.js(shown) != "none", selector
    finally:
        browser.send("Emulation.setEmulatedMedia", {"media": ""})
        browser.send("Emulation.clearDeviceMetricsOverride")


# a long resource group and long names: peering ids of about 265 characters
RG = "rg-platform-connectivity-weu-prod-01"
LONG_A, LONG_B = "vnet-corp-weu-prod-app-lz-0001", "vnet-corp-weu-prod-app-lz-0002"

# each long id: its width, font size, line count and whether its box is wider than the page
LONG_IDS = """Array.from(document.querySelectorAll('.id'))
  .filter(e => e.textContent.length > 200 && e.getClientRects().length)
  .map(e => { const r = e.getBoundingClientRect(), s = getComputedStyle(e);
    const line = parseFloat(s.lineHeight) || parseFloat(s.fontSize) * 1.45;
    return [e.textContent.length, r.width, parseFloat(s.fontSize), Math.round(r.height / line),
            r.right > innerWidth + 1, e.parentElement.className + ' in ' + e.closest('section').id]; })"""


def _long_id_report(tmp_path) -> Path:
    spec = {"subscriptions": {"prod": {"name": "Production"}},
            "vnets": {LONG_A: {"subscription": "prod", "resource_group": RG, "address_space": "10.0.0.0/16"},
                      LONG_B: {"subscription": "prod", "resource_group": RG, "address_space": "10.1.0.0/16"}},
            "peerings": [{"from": LONG_A, "to": LONG_B}]}
    snapshot = snapshot_from_spec(spec)
    result = evaluate(snapshot, discover_rules())
    assert max(len(f.resource_id) for f in result.findings) >= 250
    (path,) = write_outputs(result, snapshot, ["html"], tmp_path / "long.html")
    return path


def _long_id_problems(browser) -> list:
    ids = browser.js(LONG_IDS)
    assert ids, "no long id on the page"
    # a monospace character is about 0.6 em: a 265-character id at 400 px needs about seven lines, with room
    # for ragged breaks at the slashes; per-character breaking needs one line per few characters
    return [i for i in ids if i[4] or i[1] < 8 * i[2] or i[3] > 1.6 * i[0] * 0.6 * i[2] / i[1] + 2]


def test_a_250_character_id_wraps_in_a_few_lines_without_overflow_at_400px(browser, tmp_path):
    _viewport(browser, 400, 900)
    try:
        browser.open(_long_id_report(tmp_path))
        browser.js("document.querySelectorAll('details').forEach(d => d.open = true)")
        assert browser.js("[document.documentElement.scrollWidth, innerWidth]") == [400, 400]
        assert _long_id_problems(browser) == []
        # not vacuous: the layout this replaced (ids broken anywhere in a squeezed column) is caught
        browser.js("""document.head.insertAdjacentHTML('beforeend', '<style>'
          + '.id { overflow-wrap: anywhere !important; word-break: break-all !important; }'
          + ' td.wrap { min-width: 0 !important; width: 1px !important; }</style>')""")
        assert _long_id_problems(browser)
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")


def test_fix_first_expands_to_the_full_id_and_copies_it(page, report):
    result, _ = report
    details = "document.querySelector('.fix-ids')"
    assert page.js(details + ".open") is False
    page.js(details + ".querySelector('summary').click()")
    assert page.js(details + ".open") is True
    shown = page.js(details + ".querySelector('.id').textContent")
    ids = {f.resource_id for f in result.findings} | {r for f in result.findings for r in f.related_ids}
    assert shown in ids
    page.js("""(() => { window.__copied = [];
      Object.defineProperty(navigator, 'clipboard', {configurable: true,
        value: {writeText: t => { window.__copied.push(t); return Promise.resolve(); }}}); })()""")
    page.js(details + ".querySelector('.id + button.copy').click()")
    assert page.js("window.__copied") == [shown]
    assert page.js(details + ".querySelector('.id + button.copy').textContent") == "Copied"


def test_a_copy_button_puts_the_az_command_on_the_clipboard_or_leaves_it_selected(page):
    cmd = page.js("document.querySelector('.fix-cmd code.cmd').textContent")
    assert cmd.startswith("az network ")
    page.js("""(() => { window.__copied = [];
      Object.defineProperty(navigator, 'clipboard', {configurable: true,
        value: {writeText: t => { window.__copied.push(t); return Promise.resolve(); }}}); })()""")
    page.js("document.querySelector('.fix-cmd button.copy').click()")
    assert page.js("window.__copied") == [cmd]
    assert page.js("document.querySelector('.fix-cmd button.copy').textContent") == "Copied"
    # refused clipboard and no copy command: the command is selected for Ctrl+C, and the button says so
    page.js("""(() => {
      Object.defineProperty(navigator, 'clipboard', {configurable: true,
        value: {writeText: () => Promise.reject(new Error('denied'))}});
      document.execCommand = () => false; })()""")
    button = "document.querySelectorAll('.fix-cmd button.copy')[1]"
    page.js(button + ".click()")
    second = page.js("document.querySelectorAll('.fix-cmd code.cmd')[1].textContent")
    assert page.js("window.getSelection().toString()") == second
    assert page.js(button + ".textContent") == "Selected: press Ctrl+C"
    assert page.errors() == []
