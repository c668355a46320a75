"""Time and size of every report format for a synthetic estate (default 300 VNets). Prints figures."""

import sys
import time

from auditor.engine import discover_rules, evaluate
from auditor.input.estates import large_spec
from auditor.input.synthetic import snapshot_from_spec
from reports import WRITERS

n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
snapshot = snapshot_from_spec(large_spec(n))
result = evaluate(snapshot, discover_rules())
print(f"{n} VNets, {len(result.findings)} findings")
for fmt, (name, render) in WRITERS.items():
    start = time.perf_counter()
    text = render(result, snapshot)
    print(f"{fmt:10} {name:20} {time.perf_counter() - start:7.3f} s {len(text.encode()) / 1024:9.0f} KiB")
