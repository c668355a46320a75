"""All-pairs intent checks on the scale estate, against `json.load` of the same file.

    python benchmarks/bench_intents.py                 # 11,000-VNet Resource Graph export, built here
    python benchmarks/bench_intents.py --vnets 3000 --runs 1

An intent forbids SSH from every subnet to every subnet of the estate (every pair in scope); another
requires it inside one hub's spokes. Measured: `evaluate --intents` with only the intent rules, and the
same without intents (the load and index they share), each a fresh process; the ratio to json.load is
the figure the target ("within seconds, as a ratio to json.load") is read from.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_evaluate import graph_export, measure  # noqa: E402

INTENTS = """\
forbid:
  - {name: no-ssh-anywhere, from: {names: ["*"]}, to: {names: ["*"]}, ports: [22]}
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
        intents = Path(tmp) / "intents.yaml"
        intents.write_text(INTENTS)
        out = Path(tmp) / "findings.json"
        cli = [str(Path(sys.executable).parent / "vnet-audit"), "evaluate", str(path), "-o", str(out),
               "--rules", "FLOW001,FLOW002,NSG002"]
        cases = {
            "json.load": [sys.executable, "-c", f"import json; json.load(open({str(path)!r}, 'rb'))"],
            "evaluate, intent rules, no intents": cli,
            "evaluate --intents (all pairs)": [*cli, "--intents", str(intents)],
        }
        best: dict[str, tuple[float, float, float]] = {}
        for _ in range(args.runs):
            for name, command in cases.items():
                figures = measure(command)
                old = best.get(name, (float("inf"),) * 3)
                best[name] = tuple(min(a, b) for a, b in zip(old, figures))
    print(f"input  {path.name}  ({args.vnets} VNets)")
    for name, (wall, cpu, peak) in best.items():
        print(f"{name:36} {wall:7.2f} s wall  {cpu:7.2f} s CPU  peak {peak:7.0f} MiB")
    load, base, full = best["json.load"], best["evaluate, intent rules, no intents"], best["evaluate --intents (all pairs)"]
    print(f"\nall-pairs intents: {full[1] - base[1]:.2f} s CPU on top of loading; "
          f"evaluate --intents / json.load: {full[0] / load[0]:.2f} wall, {full[1] / load[1]:.2f} CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
