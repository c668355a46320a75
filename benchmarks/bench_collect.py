"""Collection speed against a loopback fake ARM endpoint: wall time vs the critical path.

    .venv/bin/python benchmarks/bench_collect.py [--subscriptions 100] [--vnets 20] [--latency 0.05]
                                                 [--concurrency 16,64,128,256] [--source arm,graph]

The fake server (fakes/fakearm.py) runs in its own process, so it shares no GIL with the
collector, with enough threads not to be the bottleneck; every response waits `latency`.
The collector is the real one (auditor.input.collect.collect) with the real SDK clients.

Critical path: the longest chain of calls that must follow one another, read from the
server's request log: subscription discovery pages -> a list call's pages -> (for the
per-resource-group calls) the resource listing's pages -> that call's pages (lists of children,
with --hubs-every: their parents' lists before them). Its latency is chain length x injected latency.

Floor: what no schedule can beat on this machine, measured here rather than argued; the target
is wall <= 1.5 x floor. The floor is the largest of
- the critical path's latency;
- CPU: the collector's Python work runs under one GIL, so wall >= the CPU to receive every
  response through the SDK pipeline + the CPU to build the snapshot from them. Both are measured
  on the real code, sequentially, with no latency and the cyclic GC paused: the source's own
  calls (auditor.input.collect.sources) with every page kept, then SnapshotBuilder.add() of every
  received resource and build(); other requests (discovery, subscription GETs) count as
  requests x the CPU of one small GET. The machine is shared and CPU time of the same work varies
  with what else runs: each run's floor is measured just before it;
- that CPU to receive and build, after the first response with resources can arrive: nothing is there
  to receive before it. No schedule gets one sooner than one latency (explicit subscriptions: their
  first read) or two (--all-subscriptions: a subscription must be listed before it is read);
- for Resource Graph, its user quota (the fake enforces Azure's documented 15 queries per
  5-second window): the fewest queries the rows need (1000 a page), ceil(n / quota) - 1 windows,
  then one latency.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

from auditor import __version__
from auditor.gc_pause import gc_paused
from auditor.input.builder import SnapshotBuilder
from auditor.input.collect import CollectScope, collect, graph
from auditor.input.collect.arm import FOUND_LISTS, ArmClients
from auditor.input.collect.auth import StaticTokenCredential, cloud
from auditor.input.collect.policies import client_kwargs
from auditor.input.collect.session import http_session
from auditor.input.collect.sources import SOURCES
from auditor.input.synthetic import guid
from auditor.model.snapshot import CoverageStatus, ScanMetadata

ROOT = Path(__file__).resolve().parent.parent


def estate_spec(subscriptions: int, vnets: int) -> dict:
    """Per subscription: a hub VNet with a VPN gateway, spokes peered both ways with the hub,
    one NSG per VNet, a route table shared by the spokes, a local network gateway and a connection."""
    spec: dict = {"subscriptions": {}, "vnets": {}, "peerings": [], "nsgs": {}, "route_tables": {},
                  "local_gateways": {}, "connections": {}}
    for s in range(subscriptions):
        sub = f"sub{s:03d}"
        spec["subscriptions"][sub] = {"name": f"Landing zone {s}"}
        hub = f"{sub}-hub"
        for v in range(vnets):
            name = hub if v == 0 else f"{sub}-spoke{v:02d}"
            # a /21 each: 32 fit in 10.s.0.0/16, the rest go to 172.16-31 (the estate may overlap itself)
            base = f"10.{s % 200}.{v * 8}" if v < 32 else f"172.{16 + s % 16}.{(v - 32) * 8}"
            subnets = {"app": {"prefix": f"{base}.0/24", "nsg": f"{name}-nsg"}}
            if v == 0:
                subnets["GatewaySubnet"] = f"{base}.0/27".replace(".0/27", ".224/27")
                subnets["AzureFirewallSubnet"] = f"10.{s % 200}.{v * 8 + 1}.0/26"
            else:
                subnets["app"]["route_table"] = f"{sub}-rt"
            vnet = {"subscription": sub, "address_space": [f"{base}.0/21"], "subnets": subnets}
            if v == 0:
                vnet["gateway"] = {"type": "Vpn", "sku": "VpnGw1"}
            spec["vnets"][name] = vnet
            spec["nsgs"][f"{name}-nsg"] = {"subscription": sub, "rules": [
                {"name": "allow-https", "priority": 100, "ports": "443", "source": "VirtualNetwork"},
                {"name": "deny-ssh", "priority": 200, "ports": "22", "access": "Deny"}]}
            if v:
                spec["peerings"] += [{"from": hub, "to": name, "allow_gateway_transit": True},
                                     {"from": name, "to": hub, "use_remote_gateways": True, "allow_forwarded_traffic": True}]
        spec["route_tables"][f"{sub}-rt"] = {"subscription": sub, "routes": [
            {"name": "default", "prefix": "0.0.0.0/0", "next_hop": "VirtualAppliance", "ip": f"10.{s % 200}.1.4"}]}
        spec["local_gateways"][f"{sub}-onprem"] = {"subscription": sub, "prefixes": [f"192.168.{s % 250}.0/24"]}
        spec["connections"][f"{sub}-vpn"] = {"subscription": sub, "gateway": hub, "local_gateway": f"{sub}-onprem"}
    return spec


def add_hubs_and_managers(spec: dict, every: int) -> dict:
    """Snapshot 1.1 types: a NIC per VNet and an ASG in every subscription; in every `every`-th, a Virtual
    WAN hub connected to two spokes (routing intent), a Route Server in the hub VNet, and a network
    manager (a mesh group, a security admin configuration with two rules)."""
    spec = {**spec, "nics": {}, "asgs": {}, "virtual_wans": {}, "virtual_hubs": {}, "route_servers": {},
            "network_managers": {}}
    for s, sub in enumerate(spec["subscriptions"]):
        spec["asgs"][f"{sub}-asg"] = {"subscription": sub}
        names = [n for n, v in spec["vnets"].items() if v["subscription"] == sub]
        for name in names:
            prefix = spec["vnets"][name]["subnets"]["app"]["prefix"]
            spec["nics"][f"{name}-nic"] = {"subscription": sub, "vnet": name, "subnet": "app",
                                           "ip": prefix.replace(".0/24", ".4"), "asgs": [f"{sub}-asg"]}
        if s % every or len(names) < 3:
            continue
        hub, spokes = names[0], names[1:3]
        spec["vnets"][hub]["subnets"]["RouteServerSubnet"] = f"10.{s % 200}.2.0/27"
        spec["route_servers"][f"{sub}-rs"] = {"vnet": hub}
        spec["virtual_wans"][f"{sub}-vwan"] = {"subscription": sub}
        spec["virtual_hubs"][f"{sub}-vhub"] = {
            "subscription": sub, "virtual_wan": f"{sub}-vwan", "firewall": True, "routing_intent": ["PrivateTraffic"],
            "address_prefix": f"10.{200 + s % 50}.0.0/23", "connections": {v: {} for v in spokes}}
        spec["network_managers"][f"{sub}-avnm"] = {
            "subscription": sub, "scope_subscriptions": [sub], "groups": {"ng": {"members": spokes}},
            "connectivity": {"cc": {"topology": "Mesh", "groups": ["ng"]}},
            "security_admin": {"sac": {"collections": {"rc": {"groups": ["ng"], "rules": [
                {"name": "deny-ssh", "priority": 10, "protocol": "Tcp", "source": "Internet", "ports": "22"},
                {"name": "allow-mgmt", "priority": 5, "access": "AlwaysAllow", "source": "10.0.0.0/8"}]}}}}}
    return spec


class Server:
    """fakes/fakearm.py in a child process (the repository root on its path: fakes/ is not installed)."""

    def __init__(self, spec: dict, latency: float, page_size: int, graph_quota: str, graph_window: float):
        self.spec_file = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        json.dump(spec, self.spec_file)
        self.spec_file.close()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fakes.fakearm", self.spec_file.name, "--latency", str(latency),
             "--page-size", str(page_size), "--max-connections", "2048", "--lifetime", "3600",
             "--graph-quota", graph_quota, "--graph-window", str(graph_window)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        info = json.loads(self.proc.stdout.readline())
        self.base_url, self.ca_file = info["base_url"], info["ca_file"]
        self._ctx = ssl.create_default_context(cafile=self.ca_file)
        self.seen = 0

    def _get(self, path: str) -> dict:
        with urllib.request.urlopen(f"{self.base_url}{path}", context=self._ctx, timeout=30) as r:
            return json.load(r)

    def new_requests(self) -> list[dict]:
        entries = self._get(f"/_fake/log?since={self.seen}")["requests"]
        self.seen += len(entries)
        return entries

    def settings(self, **values) -> dict:
        """Change the fake's latency or Graph quota; a new quota window starts."""
        return self._get("/_fake/settings?" + urllib.parse.urlencode(values))

    def close(self) -> None:
        self.proc.stdin.close()  # the server stops when its stdin closes
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        os.unlink(self.spec_file.name)


_RG_PATH = re.compile(r"^/subscriptions/([^/]+)/resourceGroups/[^/]+/providers/", re.IGNORECASE)
_NETWORK = "/providers/microsoft.network/"
_FOUND_PATH = re.compile(r"^/subscriptions/([^/]+)/providers/microsoft\.network/({})$".format(
    "|".join(t.split("/")[1] for t in FOUND_LISTS)))
_SUB_PATH = re.compile(r"^/subscriptions/([^/]+)(/.*)?$", re.IGNORECASE)


def critical_chain(log: list[dict]) -> tuple[int, str]:
    """The longest chain of dependent calls seen in the log, and what it consists of.

    Pages of one list follow one another; per-resource-group lists and the lists of types found follow
    the resource listing, lists of children their parents' lists (with Resource Graph: the batch's query,
    as does the networkresources query); with discovery, every subscription's calls follow the
    subscription list's pages.
    """
    ok = [r for r in log if r["status"] == 200]
    discovery = sum(1 for r in ok if r["path"].lower() == "/subscriptions")
    pages: Counter = Counter()
    batches: dict[str, set[str]] = {}  # Resource Graph query key -> its subscriptions
    for r in ok:
        key = r["path"].lower() if r["method"] == "GET" else f"POST {r['path'].lower()} {r['subscription']}"
        pages[key] += 1
        if r["method"] == "POST":
            batches[key] = set((r["subscription"] or "").split(","))

    def batch_of(subs: set[str], other_than: str = "") -> tuple[str, int]:
        """The pages of the Resource Graph query that found these subscriptions' resources."""
        return max((("resourceGraph", pages[k]) for k, s in batches.items() if subs <= s and k != other_than),
                   key=lambda step: step[1], default=("resourceGraph", 0))

    chains: list[tuple[int, str]] = []
    for key, n in pages.items():
        if key in ("/subscriptions", "/tenants"):
            continue
        rg = _RG_PATH.match(key)
        if rg:
            sub = rg.group(1)
            steps = [("resources", pages.get(f"/subscriptions/{sub}/resources", 0))]
            base, _, tail = key.partition(_NETWORK)
            path = tail.split("/")  # a per-group list, or a list of children: type, name[, type, name], type
            if len(path) > 1:  # the subscription-wide list of the top parent, then each list of parents
                steps.append((path[0], pages.get(f"/subscriptions/{sub}{_NETWORK}{path[0]}", 0)))
                steps += [(path[k - 1], pages.get(base + _NETWORK + "/".join(path[:k]), 0))
                          for k in range(3, len(path), 2)]
                if not any(c for _, c in steps):  # found by a Resource Graph query
                    steps = [batch_of({sub})]
            steps.append((path[-1], n))
        elif found := _FOUND_PATH.match(key):  # listed once the resource listing shows the type
            listing = pages.get(f"/subscriptions/{found.group(1)}/resources", 0)
            steps = [("resources", listing), (found.group(2), n)]
        elif key in batches:  # a networkresources query follows its batch's query
            lead = batch_of(batches[key], other_than=key)
            steps = [step for step in (lead, ("resourceGraph", n)) if step[1]]
        else:
            steps = [(key.rsplit("/", 1)[-1], n)]
        chains.append((sum(c for _, c in steps), " -> ".join(f"{name} x{c}" for name, c in steps)))
    longest, what = max(chains) if chains else (0, "")
    if discovery:
        return discovery + longest, f"subscriptions x{discovery} -> {what}"
    return longest, what


def max_in_flight(log: list[dict]) -> int:
    events = sorted([(r["start"], 1) for r in log] + [(r["end"], -1) for r in log])
    level = peak = 0
    for _, delta in events:
        level += delta
        peak = max(peak, level)
    return peak


def _clients(server: Server) -> ArmClients:
    session = {"session": http_session(1), "session_owner": False}
    kwargs = client_kwargs({"connection_verify": server.ca_file, **session})
    return ArmClients(cloud("AzureCloud"), server.base_url, kwargs)


def _cpu_of(work) -> float:
    """CPU seconds of work() with the cyclic GC paused, as during a collection."""
    with gc_paused():
        started = time.process_time()
        work()
        return time.process_time() - started


def request_cpu(server: Server, sub_id: str, n: int = 200) -> float:
    """CPU seconds of one small GET through the real network client's pipeline (a one-item page)."""
    from auditor.input.collect import arm, raw

    network = _clients(server).shared("network", StaticTokenCredential())
    request = lambda: arm.network_request(arm.SUBSCRIPTION_LISTS["routeTables"], subscription_id=sub_id)
    endpoint = server.base_url
    list(raw.pages(network, request(), endpoint=endpoint))  # connection and token
    spent = _cpu_of(lambda: [list(raw.pages(network, request(), endpoint=endpoint)) for _ in range(n)])
    server.new_requests()
    return spent / n


def receive(server: Server, source: str, sub_ids: list[str]) -> tuple[float, list[dict], int]:
    """CPU seconds to run the source's calls one after another, keeping every resource; the
    resources; the requests made. The calls are the collector's own (SOURCES[source])."""
    clients, credential = _clients(server), StaticTokenCredential()
    reader = SOURCES[source].load()
    resources: list[dict] = []

    def work() -> None:
        pending = reader.read_calls(clients, credential, sub_ids, None)
        while pending:
            pending += pending.pop(0).run(resources.append) or []

    spent = _cpu_of(work)
    return spent, resources, len(server.new_requests())


def build_cpu(source: str, resources: list[dict], sub_ids: list[str]) -> float:
    """CPU seconds to build the snapshot from the received resources, as the collector does."""
    def work() -> None:
        builder = SnapshotBuilder(latest_wins=True)
        for resource in resources:
            builder.add(resource, origin=source, tenant_id=None)
        for sid in sub_ids:
            builder.note_subscription(sid, None, status=CoverageStatus.complete, errors=[])
        builder.build(ScanMetadata(tool_version=__version__, source=source, inputs=sub_ids))

    return _cpu_of(work)


def quota_bound(rows: int, quota: int | None, window: float, latency: float) -> float:
    """The least time Resource Graph's user quota allows for the queries `rows` need."""
    queries = max(math.ceil(rows / graph.PAGE), 1)
    return (math.ceil(queries / quota) - 1) * window + latency if quota else 0.0


def floor_inputs(server: Server, source: str, sub_ids: list[str], quota: int | None,
                 args: argparse.Namespace) -> tuple[float, int, float, float, int]:
    """Measured now, with no latency: the CPU to receive the source's responses and build the snapshot,
    the requests that took, the quota bound, the CPU of one other request, the resources received."""
    server.settings(latency=0, graph_quota="none")
    try:
        per_request = request_cpu(server, sub_ids[0])
        received, resources, requests = receive(server, source, sub_ids)
        built = build_cpu(source, resources, sub_ids)
    finally:
        server.settings(latency=args.latency, graph_quota=args.graph_quota, graph_window=args.graph_window)
    bound = quota_bound(len(resources), quota, args.graph_window, args.latency) if source == "graph" else 0.0
    return received + built, requests, bound, per_request, len(resources)


def run_once(server: Server, sub_ids: list[str], source: str, concurrency: int, discover: bool) -> dict:
    scope = CollectScope(all_subscriptions=True) if discover else CollectScope(subscriptions=sub_ids)
    cpu, started = time.process_time(), time.perf_counter()
    snapshot = collect(scope, StaticTokenCredential(), source=source, concurrency=concurrency,
                       base_url_override=server.base_url, transport_kwargs={"connection_verify": server.ca_file})
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    log = server.new_requests()
    incomplete = [s.subscription_id for s in snapshot.subscriptions if s.status.value != "complete"]
    chain, what = critical_chain(log)
    return {"wall": wall, "cpu": cpu, "requests": len(log), "chain": chain, "what": what,
            "in_flight": max_in_flight(log), "vnets": len(snapshot.virtual_networks),
            "incomplete": len(incomplete),
            "throttled": sum(1 for r in log if r["status"] == 429),
            "server_time": sum(r["end"] - r["start"] for r in log)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=100)
    parser.add_argument("--vnets", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--concurrency", default="16,64,128,256")
    parser.add_argument("--source", default="arm,graph")
    parser.add_argument("--scope", default="explicit,discover", help="explicit (--subscription x N) and/or discover (--all-subscriptions)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs per setting, each after its own measurement of the floor; the best ratio is printed")
    parser.add_argument("--graph-quota", default="15", help="Resource Graph queries per window, or none")
    parser.add_argument("--graph-window", type=float, default=5.0)
    parser.add_argument("--hubs-every", type=int, default=0,
                        help="add NICs and ASGs, and a Virtual WAN hub, Route Server and network manager "
                             "in every N-th subscription (0: none)")
    args = parser.parse_args()
    quota = None if args.graph_quota.lower() == "none" else int(args.graph_quota)

    spec = estate_spec(args.subscriptions, args.vnets)
    if args.hubs_every:
        spec = add_hubs_and_managers(spec, args.hubs_every)
    sub_ids = [guid("subscription", name) for name in spec["subscriptions"]]
    expected = args.subscriptions * args.vnets  # VNets
    print(f"estate: {args.subscriptions} subscriptions x {args.vnets} VNets (+{args.vnets} NSGs, 1 route table, "
          f"1 VPN gateway, 1 local gateway, 1 connection each); latency {args.latency * 1000:.0f} ms/request; "
          f"page size {args.page_size}; Resource Graph quota {quota or 'none'} per {args.graph_window:g} s; "
          f"cpus {os.cpu_count()}")
    if args.hubs_every:
        print("plus NICs and ASGs, and a Virtual WAN hub, Route Server and network manager in subscription "
              f"0, {args.hubs_every}, {2 * args.hubs_every}, ...")
    server = Server(spec, args.latency, args.page_size, args.graph_quota, args.graph_window)
    sources = args.source.split(",")
    try:
        run_once(server, sub_ids[:2], "arm", 4, False)  # warm-up: imports, TLS, token
        for source in sources:
            work, requests, bound, per_request, resources = floor_inputs(server, source, sub_ids, quota, args)
            print(f"floor inputs, {source}: {work:.2f} s CPU to receive {requests} responses ({resources} resources)"
                  f" and build the snapshot; {per_request * 1000:.2f} ms CPU per other request (a small GET)"
                  + (f"; quota bound {bound:.2f} s" if bound else ""))
        header = (f"{'source':6} {'scope':9} {'conc':>5} {'wall s':>7} {'reqs':>5} {'chain':>5} {'crit s':>7} "
                  f"{'ratio':>6} {'cpu s':>6} {'peak':>5} {'srv ms':>6} {'bound s':>7} {'floor s':>7} "
                  f"{'w/floor':>7}  critical chain")
        print(header)
        print("-" * len(header))
        for source in sources:
            for scope in args.scope.split(","):
                for concurrency in (int(c) for c in args.concurrency.split(",")):
                    runs = []
                    for _ in range(args.repeat):
                        # the floor's CPU measured just before the run: the machine is shared, and CPU
                        # time of the same work varies with what else runs
                        work, read_requests, bound, per_request, _ = floor_inputs(server, source, sub_ids, quota, args)
                        server.settings(graph_quota=args.graph_quota)  # a fresh quota window each run
                        run = run_once(server, sub_ids, source, concurrency, scope == "discover")
                        cpu_floor = work + max(run["requests"] - read_requests, 0) * per_request
                        first_data = args.latency * (2 if scope == "discover" else 1)
                        run["floor"] = max(run["chain"] * args.latency, cpu_floor, first_data + work, bound)
                        runs.append(run)
                    best = min(runs, key=lambda r: r["wall"] / r["floor"])
                    critical = best["chain"] * args.latency
                    # what the concurrency allows: max(critical path, total request time / parallel slots)
                    slots = max(critical, best["requests"] * args.latency / concurrency)
                    notes = "".join([f"  INCOMPLETE {best['incomplete']}" if best["incomplete"] else "",
                                     f"  429 x{best['throttled']}" if best["throttled"] else "",
                                     "" if best["vnets"] == expected else f"  VNETS {best['vnets']}"])
                    ratio = best["wall"] / critical if critical else float("nan")
                    server_ms = (best["server_time"] / best["requests"] - args.latency) * 1000
                    print(f"{source:6} {scope:9} {concurrency:>5} {best['wall']:7.2f} {best['requests']:>5} "
                          f"{best['chain']:>5} {critical:7.2f} {ratio:6.2f} {best['cpu']:6.2f} "
                          f"{best['in_flight']:>5} {server_ms:6.1f} {slots:7.2f} {best['floor']:7.2f} "
                          f"{best['wall'] / best['floor']:7.2f}  {best['what']}{notes}")
    finally:
        server.close()
    print("ratio = wall / (chain x latency). cpu = collector process CPU time (all threads);"
          " peak = most requests in flight at the server;"
          " srv ms = server time per request beyond the injected latency;"
          " bound = max(critical, requests x latency / concurrency);"
          " floor s = max(critical path, CPU to receive the responses and build the snapshot,"
          " the first response with resources + that CPU, Resource Graph quota); w/floor = wall / floor s:"
          " target <= 1.5.")


if __name__ == "__main__":
    main()
