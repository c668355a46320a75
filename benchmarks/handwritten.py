"""The baseline a platform engineer would write by hand: PEER001 and OVLP004 on a Resource Graph export.

    python benchmarks/handwritten.py graph.json

json.load, a dict of VNets, one pass over peerings, one sort-and-sweep over address ranges.
bench_evaluate.py times `vnet-audit evaluate --rules PEER001,OVLP004` against it.
"""

import ipaddress
import json
import sys

rows = json.load(open(sys.argv[1], "rb"))
rows = rows["data"] if isinstance(rows, dict) else rows
vnets = {r["id"].lower(): r for r in rows if r["type"].lower() == "microsoft.network/virtualnetworks"}
peered = {k: {} for k in vnets}  # vnet -> remote -> state
for key, vnet in vnets.items():
    for p in vnet["properties"].get("virtualNetworkPeerings") or []:
        remote = p["properties"]["remoteVirtualNetwork"]["id"].lower()
        peered[key][remote] = p["properties"]["peeringState"]
findings = []
for key, remotes in peered.items():  # PEER001: one-sided peerings
    for remote, state in remotes.items():
        if state == "Initiated" or (remote in vnets and key not in peered[remote]):
            findings.append(("PEER001", key, remote))
spans = []
for key, vnet in vnets.items():
    for prefix in vnet["properties"]["addressSpace"]["addressPrefixes"]:
        net = ipaddress.ip_network(prefix, strict=False)
        spans.append((int(net.network_address), int(net.broadcast_address), key))
spans.sort()
open_spans = []  # OVLP004: overlapping VNets that are not peered
for start, end, key in spans:
    open_spans = [s for s in open_spans if s[1] >= start]
    for _, _, other in open_spans:
        connected = peered[key].get(other) == "Connected" and peered[other].get(key) == "Connected"
        if other != key and not connected:
            findings.append(("OVLP004", key, other))
    open_spans.append((start, end, key))
print(len(findings), "findings")
