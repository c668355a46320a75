"""Intent checks on the scale estate, against `json.load` of the same file.

    python benchmarks/bench_intents.py                 # 11,000-VNet Resource Graph export, built here
    python benchmarks/bench_intents.py --vnets 3000 --runs 1

Two intent files: one forbids SSH between every pair of subnets of the estate (all pairs at once:
`auditor.analysis.all_pairs`), one between the first 100 spokes (spoke-000*) with a require intent
(traced pair by pair). Measured: `evaluate --intents` with only the intent rules, and the same without
intents (the load and index they share), each a fresh process, as ratios to json.load; then, in this
process, how many flows the all-pairs intent decides and how many it finds allowed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_evaluate import graph_export, measure  # noqa: E402

ALL_PAIRS = """\
forbid:
  - {name: no-ssh-anywhere, from: {names: ["*"]}, to: {names: ["*"]}, ports: [22]}
"""
HUNDRED_SPOKES = """\
forbid:
  - {name: no-ssh-between-spokes, from: {names: ["spoke-000*"]}, to: {names: ["spoke-000*"]}, ports: [22]}
require:
  - {name: spokes-reach-their-hub, from: {names: ["spoke-0000*"]}, to: {names: ["hub-g00-*"]}, ports: [443]}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, help="an export or snapshot to use instead of building one")
    parser.add_argument("--vnets", type=int, default=11_000)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-intents-") as tmp:
        path = args.file or Path(tmp) / "graph.json"
        if args.file is None:
            graph_export(args.vnets, path)
        files = {name: Path(tmp) / f"{name}.yaml" for name in ("all-pairs", "100-spokes")}
        files["all-pairs"].write_text(ALL_PAIRS)
        files["100-spokes"].write_text(HUNDRED_SPOKES)
        out = Path(tmp) / "findings.json"
        cli = [str(Path(sys.executable).parent / "vnet-audit"), "evaluate", str(path), "-o", str(out),
               "--rules", "FLOW001,FLOW002,NSG002"]
        cases = {
            "json.load": [sys.executable, "-c", f"import json; json.load(open({str(path)!r}, 'rb'))"],
            "evaluate, intent rules, no intents": cli,
            "evaluate --intents (100 spokes)": [*cli, "--intents", str(files["100-spokes"])],
            "evaluate --intents (all pairs)": [*cli, "--intents", str(files["all-pairs"])],
        }
        best: dict[str, tuple[float, float, float]] = {}
        for _ in range(args.runs):
            for name, command in cases.items():
                figures = measure(command)
                old = best.get(name, (float("inf"),) * 3)
                best[name] = tuple(min(a, b) for a, b in zip(old, figures))
        findings = json.loads(out.read_text())["findings"]  # the last case run: all pairs
        flows = sum(f["evidence"]["flow_count"] for f in findings if f["rule_id"] == "FLOW001")
    print(f"input  {path.name}  ({args.vnets} VNets)")
    print(f"all pairs: {flows} forbidden flows allowed, in {len(findings)} findings")
    for name, (wall, cpu, peak) in best.items():
        print(f"{name:36} {wall:7.2f} s wall  {cpu:7.2f} s CPU  peak {peak:7.0f} MiB")
    load, base = best["json.load"], best["evaluate, intent rules, no intents"]
    for name in ("evaluate --intents (100 spokes)", "evaluate --intents (all pairs)"):
        run = best[name]
        print(f"{name}: {run[1] - base[1]:.2f} s CPU on top of loading; / json.load: "
              f"{run[0] / load[0]:.2f} wall, {run[1] / load[1]:.2f} CPU")
        if "all pairs" in name:
            print(f"  on top of loading / json.load: {(run[1] - base[1]) / load[1]:.2f} CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
