"""Time and size of every report format for a synthetic estate (default 300 VNets). Prints figures."""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from report_estates import evaluated, large_spec  # noqa: E402

from reports import WRITERS  # noqa: E402

n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
result, snapshot = evaluated(large_spec(n), waive=False)
print(f"{n} VNets, {len(result.findings)} findings")
for fmt, (name, render) in WRITERS.items():
    start = time.perf_counter()
    text = render(result, snapshot)
    print(f"{fmt:10} {name:20} {time.perf_counter() - start:7.3f} s {len(text.encode()) / 1024:9.0f} KiB")
