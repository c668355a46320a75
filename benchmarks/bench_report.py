"""Time each report format against reading the snapshot it comes from; prints figures, asserts nothing.

    python benchmarks/bench_report.py                       # 1k, 4k and 11k VNets, every format
    python benchmarks/bench_report.py --full                # adds 44k (about 6 minutes, 9 GB of memory)
    python benchmarks/bench_report.py --sizes 2000,8000 --formats sarif,html --repeat 3

For each size: the scale estate of auditor.input.estates (subscriptions = max(10, N // 110)),
written to a temporary file; then, each in a fresh process as `vnet-audit report snapshot.json`
would be, json.load of that file, and the stages `load` (the file into a snapshot) and
`evaluate` (every rule, building the index) followed by each format's render on its own (SARIF
reads the file back for line numbers). Measured in the process that built the estates, the
larger sizes paid for the heap the earlier ones left (evaluate grew with exponent 1.08 there,
1.05 in fresh processes), and the builder's memory added to the measurement's. Per format: wall and CPU seconds, the ratio to json.load (target
<= 3) and the growth exponent log(t2/t1) / log(n2/n1) from the previous size and over all sizes
(target <= 1.05: linear). Ratios and exponents use CPU time, which other processes on a shared
machine disturb less than wall time.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from auditor.engine import Evaluation, discover_rules, evaluate, select_rules  # noqa: E402
from auditor.input.importer import load_snapshot  # noqa: E402
from auditor.input.estates import build_snapshot, generate  # noqa: E402
from reports import WRITERS, format_choices  # noqa: E402

DEFAULT_SIZES = [1000, 4000, 11000]
FULL_SIZE = 44000
TARGET_RATIO, TARGET_EXPONENT = 3.0, 1.05
LOAD = "json.load"


def best_of(repeat: int, func) -> tuple[float, float]:
    """(wall, CPU) seconds of the fastest of `repeat` runs."""
    runs = []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        func()
        runs.append((time.perf_counter() - wall, time.process_time() - cpu))
    return min(runs, key=lambda r: r[1])


def time_json_load(path: Path, repeat: int) -> dict[str, tuple[float, float]]:
    def load():
        with open(path, encoding="utf-8") as fh:
            json.load(fh)

    return {LOAD: best_of(repeat, load)}


def time_stages(path: Path, repeat: int, formats: list[str]) -> dict:
    """load, evaluate and each format's render, as `vnet-audit report snapshot.json` runs them;
    with the number of findings and the peak memory."""
    for fmt in formats:  # imports (pandas, jinja2) and template compilation are not per-estate work
        WRITERS[fmt][1](Evaluation(), None)
    loaded: dict = {}
    times = {"load": best_of(repeat, lambda: loaded.update(snapshot=load_snapshot([path])))}
    snapshot, rules = loaded["snapshot"], select_rules(discover_rules())
    times["evaluate"] = best_of(1, lambda: loaded.update(result=evaluate(snapshot, rules)))  # cold: builds the index
    for fmt in formats:
        times[fmt] = best_of(repeat, partial(WRITERS[fmt][1], loaded["result"], snapshot))
    return {**times, "findings": len(loaded["result"].findings),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def write_estate(path: Path, n: int) -> dict:
    build_snapshot(generate(vnets=n, subscriptions=max(10, n // 110))).write(path)
    return {}


def in_subprocess(what: str, path: Path, n: int, repeat: int = 1, formats: list[str] = ()) -> dict:
    """Build (`build`) or measure (`json`, `stages`) in a fresh process: what a process built
    stays in its heap, and each measurement starts as a real run does."""
    out = subprocess.run([sys.executable, __file__, "--measure", what, str(path), str(n), str(repeat), ",".join(formats)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.splitlines()[-1])


def measure(n: int, formats: list[str], repeat: int, workdir: Path) -> dict[str, tuple[float, float]]:
    """(wall, CPU) seconds of json.load and of each stage, for an estate of n VNets."""
    path = workdir / f"snapshot-{n}.json"
    in_subprocess("build", path, n)
    times = in_subprocess("json", path, n, repeat)
    stages = in_subprocess("stages", path, n, repeat, formats)
    print(f"{n} VNets: {path.stat().st_size / 1e6:.0f} MB file, {stages.pop('findings')} findings, "
          f"peak RSS {stages.pop('peak_mb'):.0f} MB", file=sys.stderr)
    path.unlink()
    return {**times, **stages}


def exponent(t1: float, t2: float, n1: int, n2: int) -> str:
    return f"{math.log(t2 / t1) / math.log(n2 / n1):.2f}" if t1 > 0 and t2 > 0 else "n/a"


def table(sizes: list[int], runs: list[dict[str, tuple[float, float]]]) -> str:
    head = f"{'format':10} {'VNets':>6} {'wall s':>8} {'cpu s':>8} {'x load':>7} {'exponent':>9}"
    lines = [head, "-" * len(head)]
    for name in runs[0]:
        for i, (n, times) in enumerate(zip(sizes, runs)):
            wall, cpu = times[name]
            ratio = "" if name == LOAD else f"{cpu / times[LOAD][1]:.2f}"
            growth = exponent(runs[i - 1][name][1], cpu, sizes[i - 1], n) if i else ""
            lines.append(f"{name:10} {n:>6} {wall:>8.3f} {cpu:>8.3f} {ratio:>7} {growth:>9}")
        if len(sizes) > 2:
            overall = exponent(runs[0][name][1], runs[-1][name][1], sizes[0], sizes[-1])
            lines.append(f"{'':10} {f'{sizes[0]} to {sizes[-1]}':>33} {overall:>9}")
    lines.append(f"targets: x load <= {TARGET_RATIO}, exponent <= {TARGET_EXPONENT} (both from CPU time)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    if argv is None and sys.argv[1:2] == ["--measure"]:
        what, path, n, repeat, formats = sys.argv[2:7]
        if what == "build":
            result = write_estate(Path(path), int(n))
        elif what == "json":
            result = time_json_load(Path(path), int(repeat))
        else:
            result = time_stages(Path(path), int(repeat), formats.split(","))
        print(json.dumps(result))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", help="comma-separated VNet counts (default: "
                        + ",".join(map(str, DEFAULT_SIZES)) + ")")
    parser.add_argument("--full", action="store_true", help=f"add {FULL_SIZE} VNets to the default sizes")
    parser.add_argument("--formats", default=",".join(WRITERS),
                        help=f"comma-separated, from: {format_choices()}")
    parser.add_argument("--repeat", type=int, default=1, help="time each step this many times, keep the best")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else DEFAULT_SIZES + [FULL_SIZE] * args.full
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    if unknown := [f for f in formats if f not in WRITERS]:
        parser.error(f"unknown format {', '.join(unknown)}; choose from {format_choices()}")
    with tempfile.TemporaryDirectory() as tmp:
        runs = [measure(n, formats, max(1, args.repeat), Path(tmp)) for n in sizes]
    print(table(sizes, runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
