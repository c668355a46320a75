#!/usr/bin/env python3
"""Render the demo reports and screenshot them in headless Chromium (Debian package).

    .venv/bin/python scripts/screenshot-report.py [--out docs/screenshots]

Writes report-light.png, report-dark.png (full page, realistic hub-and-spoke estate with a
failed subscription and waived findings), section-findings.png, section-topology.png,
section-vnets-dark.png, and for 300 VNets in 12 subscriptions: topology-300.png (as it opens,
big subscriptions collapsed), topology-300-expanded.png, topology-300-collapsed.png and
topology-300-zoomed.png (one subscription expanded, zoomed in on the hubs), and the top of the
page (the verdict) for a clean, a failing and an incomplete estate at 1400 and 400 px:
verdict-{clean,failing,incomplete}-{1400,400}.png; a finding as a card at 400 px
(findings-400.png), the findings of one peering picked in the topology (findings-pair-filter.png) and the
printed demo's first three A4 pages (print-demo-page-N.png, with pdftoppm); the HTML files stay in a temp
directory (printed at the end).
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from chromium_cdp import Chromium, find_chromium  # noqa: E402
from report_estates import evaluated, large_spec, realistic_spec  # noqa: E402

from auditor.engine import discover_rules, evaluate  # noqa: E402
from auditor.input.synthetic import snapshot_from_spec  # noqa: E402
from reports import write_outputs  # noqa: E402

PAIR = {"subscriptions": {"prod": {"name": "Contoso Production"}},
        "vnets": {"hub": {"subscription": "prod", "address_space": "10.0.0.0/16"},
                  "spoke": {"subscription": "prod", "address_space": "10.1.0.0/16"}}}


def verdict_states(work: Path) -> dict[str, Path]:
    """Clean (peered both ways), failing (one-sided peering) and incomplete (the realistic estate)."""
    out = {}
    for state, peerings in (("clean", [{"from": "hub", "to": "spoke"}, {"from": "spoke", "to": "hub"}]),
                            ("failing", [{"from": "hub", "to": "spoke"}])):
        snapshot = snapshot_from_spec({**PAIR, "peerings": peerings})
        out[state] = write_outputs(evaluate(snapshot, discover_rules()), snapshot, ["html"], work / state)[0]
    out["incomplete"] = write_outputs(*evaluated(realistic_spec()), ["html"], work / "incomplete")[0]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    if find_chromium() is None:
        print("screenshot-report: chromium not found; run scripts/ensure-chromium", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="vnet-audit-shots-"))
    real = write_outputs(*evaluated(realistic_spec()), ["html"], work / "realistic")[0]
    large = write_outputs(*evaluated(large_spec(), waive=False), ["html"], work / "large")[0]
    with Chromium(width=1400, height=1000) as browser:
        browser.open(real)
        browser.js("document.querySelector('details.vnet').open = true")  # show one VNet's tables
        browser.color_scheme("light")
        browser.screenshot(args.out / "report-light.png")
        browser.color_scheme("dark")
        browser.screenshot(args.out / "report-dark.png")
        browser.screenshot(args.out / "section-vnets-dark.png", clip_selector="#vnets")
        browser.color_scheme("light")
        for section in ("findings", "topology"):
            browser.screenshot(args.out / f"section-{section}.png", clip_selector=f"#{section}")
        browser.open(large)
        if errors := browser.errors():
            print("console errors:", *errors, sep="\n  ", file=sys.stderr)
            return 1
        browser.screenshot(args.out / "topology-300.png", clip_selector="#topology")  # as it opens: big subscriptions collapsed
        browser.js("document.querySelector('[data-groups=expand]').click()")
        browser.screenshot(args.out / "topology-300-expanded.png", clip_selector="#topology")
        browser.js("document.querySelector('[data-groups=collapse]').click()")
        browser.screenshot(args.out / "topology-300-collapsed.png", clip_selector="#topology")
        # as it opens, with one landing zone expanded, zoomed in on the hubs
        browser.open(large)
        browser.js("""(() => { const t = Array.from(document.querySelectorAll('#topo [data-toggle]'))
                        .find(t => t.getAttribute('aria-label').startsWith('Landing zone 06'));
                      t.dispatchEvent(new MouseEvent('click', {bubbles: true}));
                      const r = document.querySelector('#topo [data-g="' + t.dataset.toggle + '"].vnet-node rect').getBBox();
                      document.querySelector('#topo').setAttribute('viewBox', [r.x - 200, r.y - 260, 1500, 780].join(' ')); })()""")
        browser.screenshot(args.out / "topology-300-zoomed.png", clip_selector="#topology")
        if errors := browser.errors():
            print("console errors:", *errors, sep="\n  ", file=sys.stderr)
            return 1
    with Chromium(width=1400, height=900) as browser:
        for state, path in verdict_states(work).items():
            for width, height in ((1400, 900), (400, 800)):
                browser.send("Emulation.setDeviceMetricsOverride",
                             {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
                browser.open(path)
                browser.screenshot(args.out / f"verdict-{state}-{width}.png", full_page=False)
        # the findings as cards at 400 px, and the findings of one peering picked in the topology
        browser.open(real)
        card = "#findings-table tbody tr:nth-child(2)"
        browser.screenshot(args.out / "findings-400.png", clip_selector=card)
        browser.send("Emulation.clearDeviceMetricsOverride")
        browser.open(real)
        edge = "document.querySelector('#topo path.flagged[data-pair]')"
        browser.js(edge + ".dispatchEvent(new MouseEvent('click'))")
        browser.screenshot(args.out / "findings-pair-filter.png", clip_selector="#findings")
        # the printed demo's first pages (pdftoppm, from poppler-utils, when installed)
        demo = work / "demo"
        scan = [sys.executable, "-c", "from auditor.cli import main; main()",
                "scan", "--demo", "-o", str(demo), "--format", "html"]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        subprocess.run(scan, cwd=ROOT, env=env, check=False, capture_output=True)
        browser.open(demo / "report.html")
        pdf = demo / "report.pdf"
        pdf.write_bytes(base64.b64decode(browser.send("Page.printToPDF", {
            "printBackground": True, "paperWidth": 8.27, "paperHeight": 11.69})["data"]))
        if shutil.which("pdftoppm"):
            pages = ["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "3", str(pdf),
                     str(args.out / "print-demo-page")]
            subprocess.run(pages, check=True)
    for name in ("report-light.png", "report-dark.png", "topology-300.png", "topology-300-expanded.png",
                 "topology-300-collapsed.png", "topology-300-zoomed.png"):
        print(args.out / name)
    print(f"html: {real} {large}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
