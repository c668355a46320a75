"""Overlap rules at scale: OVLP004 (and OVLP001/OVLP002) on estates that reuse one range.

    python benchmarks/bench_overlap.py [--vnets 10000] [--hubs 100]

Scenarios, each built with auditor.input.synthetic and timed for the rules only (the
SnapshotIndex is built before timing):
- flat: N VNets, all 10.0.0.0/16, no peerings;
- hub-spoke: the same N VNets, `--hubs` hubs (distinct ranges), every other VNet a spoke
  of one hub, all spokes on 10.0.0.0/16;
- distinct: N VNets with distinct /24s and the same hub-spoke peerings.
Prints seconds per rule, the number of findings and the largest finding's related ids and
evidence size, so that bounded output is visible.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from auditor.engine import discover_rules
from auditor.input.synthetic import snapshot_from_spec


def estate(n: int, hubs: int, same_range: bool) -> dict:
    vnets, peerings = {}, []
    for h in range(hubs):
        vnets[f"hub{h:03d}"] = {"subscription": "prod", "address_space": f"172.{16 + h // 256}.{h % 256}.0/24"}
    for i in range(n - hubs):
        space = "10.0.0.0/16" if same_range else f"10.{i // 256}.{i % 256}.0/24"
        vnets[f"vnet{i:05d}"] = {"subscription": "prod", "address_space": space}
        if hubs:
            hub = f"hub{i % hubs:03d}"
            peerings += [{"from": hub, "to": f"vnet{i:05d}"}, {"from": f"vnet{i:05d}", "to": hub}]
    return {"subscriptions": {"prod": {}}, "vnets": vnets, "peerings": peerings}


def run(name: str, spec: dict, rules) -> None:
    t0 = time.perf_counter()
    snapshot = snapshot_from_spec(spec)
    snapshot.index.peered_vnets("")  # build the shared index outside the timing
    print(f"{name}: {len(snapshot.virtual_networks)} VNets built in {time.perf_counter() - t0:.1f}s")
    for rule in rules:
        t0 = time.perf_counter()
        findings = rule.run(snapshot)
        took = time.perf_counter() - t0
        widest = max((len(f.related_ids) for f in findings), default=0)
        biggest = max((len(json.dumps(f.evidence)) for f in findings), default=0)
        print(f"  {rule.id}: {took:6.2f}s  findings={len(findings)}  max related={widest}  max evidence={biggest} bytes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vnets", type=int, default=10000)
    parser.add_argument("--hubs", type=int, default=100)
    parser.add_argument("--rules", default="OVLP004,OVLP001,OVLP002")
    args = parser.parse_args()
    wanted = args.rules.split(",")
    rules = [r for r in discover_rules() if r.id in wanted]
    run("flat, all 10.0.0.0/16", estate(args.vnets, 0, True), rules)
    run(f"hub-spoke ({args.hubs} hubs), spokes all 10.0.0.0/16", estate(args.vnets, args.hubs, True), rules)
    run(f"hub-spoke ({args.hubs} hubs), distinct ranges", estate(args.vnets, args.hubs, False), rules)


if __name__ == "__main__":
    main()
