"""A traced flow (`auditor.analysis.reach.Trace`) as text for a terminal, or as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, replace

from auditor.analysis.reach import Trace


def as_text(trace: Trace) -> str:
    src, dst = trace.source, trace.destination
    lines = [f"{src.label} ({src.address}) -> {dst.label} ({dst.address}) {trace.protocol.upper()}/{trace.port}"]
    for endpoint in (src, dst):
        if endpoint.note:
            lines.append(f"  {endpoint.label}: {endpoint.note}")
    for number, hop in enumerate(trace.hops, 1):
        lines.append(f"  {number:>2}. [{hop.at}] {hop.text}")
    lines.append(f"{trace.verdict.upper()}: {trace.reason}")
    lines += [f"  assuming {a}" for a in trace.assumptions]
    lines += [f"  not in the input: {u}" for u in trace.not_in_input]
    return "\n".join(lines)


def as_json(trace: Trace) -> str:
    ends = {name: getattr(trace, name) for name in ("source", "destination")}
    doc = asdict(replace(trace, source=replace(ends["source"], nic=None), destination=replace(ends["destination"], nic=None)))
    for name, end in ends.items():
        doc[name]["nic"] = end.nic.id if end.nic is not None else None
    return json.dumps(doc, indent=2)
