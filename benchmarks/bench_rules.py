"""Time rule evaluation against reading the snapshot: the target is evaluate / json.load <= 3.

    python -m auditor.input.estates --vnets 10000 --subscriptions 100 -o /tmp/estate.json
    python benchmarks/bench_rules.py /tmp/estate.json [--rules 'PEER*'] [--profile] [--check]

Prints the file size, json.load time, the time to decode the snapshot into models, the time of
engine.evaluate over every discovered rule (from a freshly decoded snapshot, so the
shared SnapshotIndex is built inside it, as in a real run), the ten slowest rules (cold:
in the evaluate run, paying for the index parts they build first; warm: run again with
the index built), the ratio (wall clock, and CPU time, which a busy machine disturbs less),
and the peak resident memory after each phase.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import pstats
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from auditor.engine import discover_rules, evaluate, select_rules  # noqa: E402
from rule_timing import timed  # noqa: E402
from auditor.model.snapshot import Snapshot  # noqa: E402

TARGET_RATIO = 3.0


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


class GcClock:
    """Time spent in the cyclic garbage collector (a large snapshot makes full collections slow)."""

    def __init__(self):
        self.seconds, self.collections, self._start = 0.0, [0, 0, 0], 0.0
        gc.callbacks.append(self)

    def __call__(self, phase, info):
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._start
            self.collections[info["generation"]] += 1

    def reset(self):
        self.seconds, self.collections = 0.0, [0, 0, 0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("snapshot", type=Path)
    parser.add_argument("--rules", help="only these rules (ids or globs, comma-separated)")
    parser.add_argument("--profile", action="store_true", help="also print the 25 costliest functions of evaluate (cProfile)")
    parser.add_argument("--check", action="store_true", help=f"exit 1 when the ratio exceeds {TARGET_RATIO}")
    args = parser.parse_args(argv)

    rules = select_rules(discover_rules())  # a run without --rules (opt-in rules left out)
    if args.rules:
        rules = select_rules(discover_rules(), [p for p in args.rules.split(",") if p.strip()])
    size = args.snapshot.stat().st_size
    print(f"snapshot        {args.snapshot}  {size / 1e6:.1f} MB")
    print(f"rules           {len(rules)}: {' '.join(r.id for r in rules)}")

    start, cpu = time.perf_counter(), time.process_time()
    with args.snapshot.open("rb") as f:
        doc = json.load(f)
    t_load, c_load = time.perf_counter() - start, time.process_time() - cpu
    print(f"json.load       {t_load:8.2f} s   peak RSS {peak_mb():7.0f} MB   (CPU {c_load:.2f} s)")

    del doc
    gc.collect()
    start = time.perf_counter()
    snapshot = Snapshot.from_json(args.snapshot.read_bytes())
    t_validate = time.perf_counter() - start
    print(f"decode snapshot {t_validate:8.2f} s   peak RSS {peak_mb():7.0f} MB   RSS now {rss_mb():7.0f} MB")
    vnets = len(snapshot.virtual_networks)
    peerings = sum(len(v.peerings) for v in snapshot.virtual_networks)
    rules_count = sum(len(n.security_rules) + len(n.default_security_rules) for n in snapshot.network_security_groups)
    print(
        f"estate          {vnets} VNets, {peerings} peerings, {len(snapshot.network_security_groups)} NSGs "
        f"({rules_count} rules), {len(snapshot.route_tables)} route tables, {len(snapshot.subscriptions)} subscriptions"
    )

    gc_clock = GcClock()
    cold: dict[str, float] = {}
    profiler = cProfile.Profile() if args.profile else None
    start, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    result = evaluate(snapshot, [timed(r, cold) for r in rules])
    if profiler:
        profiler.disable()
    t_eval, c_eval = time.perf_counter() - start, time.process_time() - cpu
    print(f"evaluate        {t_eval:8.2f} s   peak RSS {peak_mb():7.0f} MB   (CPU {c_eval:.2f} s; {len(result.findings)} findings, {len(result.errors)} rule errors)")
    overhead = t_eval - sum(cold.values())
    print(f"  of which garbage collection {gc_clock.seconds:.2f} s (collections per generation {gc_clock.collections})")

    warm: dict[str, float] = {}
    gc.freeze()  # as evaluate does
    for rule in rules:
        try:
            timed(rule, warm).run(snapshot)
        except Exception:  # reported below from the evaluate run
            pass
    gc.unfreeze()

    counts = result.summary.get("by_rule", {})
    print("\nslowest rules (cold = inside evaluate, building shared index parts first; warm = index built)")
    print(f"  {'rule':<10}{'cold s':>9}{'warm s':>9}{'findings':>10}")
    for rule_id, seconds in sorted(cold.items(), key=lambda kv: -kv[1])[:10]:
        print(f"  {rule_id:<10}{seconds:9.3f}{warm.get(rule_id, float('nan')):9.3f}{counts.get(rule_id, 0):10d}")
    print(f"  {'engine':<10}{overhead:9.3f}{'':>9}   (sorting findings, building the Evaluation)")
    for error in result.errors:
        print(f"  rule {error.rule_id} raised {error.error}")

    ratio = t_eval / t_load if t_load else float("inf")
    verdict = "ok" if ratio <= TARGET_RATIO else "OVER TARGET"
    print(f"\nevaluate / json.load = {t_eval:.2f} / {t_load:.2f} = {ratio:.2f}  (target <= {TARGET_RATIO}: {verdict})")
    print(f"same in CPU time      = {c_eval:.2f} / {c_load:.2f} = {c_eval / c_load if c_load else float('inf'):.2f}  (steadier on a busy machine)")
    print(f"peak RSS {peak_mb():.0f} MB (RSS now {rss_mb():.0f} MB; freed memory is not returned to the OS)")
    if profiler:
        print()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return 1 if args.check and ratio > TARGET_RATIO else 0


if __name__ == "__main__":
    sys.exit(main())
