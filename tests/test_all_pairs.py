"""Forbid intents decided for every pair at once (`auditor.analysis.all_pairs`) give exactly what tracing
each pair with `reach.trace` gives: the same flows kept per deciding resource, in the same order, and the
same counts, on every estate of the reach cases, the demo, and a scale estate with its planted defects."""

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.engine import intents as intents_mod
from auditor.engine.intents import forbidden, parse_intents
from auditor.input.estates import build_snapshot, generate
from auditor.input.synthetic import snapshot_from_spec

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "reach_cases"


def case_estates():
    seen = []
    for path in sorted(CASES.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text())["cases"]:
            if case["estate"] not in seen:
                seen.append(case["estate"])
                yield pytest.param(case["estate"], id=f"{path.stem}:{case['name']}")


def intent(ports, protocol="tcp", **more):
    doc = {"name": "x", "from": {"names": ["*"]}, "to": {"names": ["*"]}, "ports": ports, "protocol": protocol, **more}
    return parse_intents({"forbid": [doc]}, "test").forbid[0]


def summary(outcomes) -> list:
    """What a report shows of each kept flow, and the counts."""
    def flow(o):
        t = o.trace
        return (t.source.label, t.destination.label, o.port, t.verdict, t.decided_by, t.reason)
    return [(flow(o), [flow(x) for x in o.others], o.more) for o in outcomes]


def same_both_ways(snap, item) -> list:
    at_once = summary(forbidden(snap, item, all_at_once=True))
    assert at_once == summary(forbidden(snap, item, all_at_once=False))
    return at_once


INTENTS = [
    intent([22, 443, 1433]),
    intent([53], "udp"),
    intent([0], "icmp"),
    intent([3389], "any"),
]


@pytest.mark.parametrize("estate", list(case_estates()))
def test_every_reach_case_estate_agrees_pair_by_pair(estate):
    snap = snapshot_from_spec(estate)
    for item in INTENTS:
        same_both_ways(snap, item)


def test_the_demo_estate_agrees_and_finds_flows():
    snap = snapshot_from_spec(yaml.safe_load((ROOT / "auditor" / "demo" / "estate.yaml").read_text()))
    assert same_both_ways(snap, intent([22, 443])), "the demo allows some flow between its subnets"


def test_a_scale_estate_with_defects_agrees(monkeypatch):
    monkeypatch.setattr(intents_mod, "MAX_PAIRS", 10**7)  # pair by pair has a limit; all at once has none
    snap = build_snapshot(generate(vnets=120, subscriptions=12))
    flows = same_both_ways(snap, intent([22, 443]))
    assert sum(1 + len(others) + more for _, others, more in flows) > 1000


def test_named_subnets_and_exclude_paths_agree():
    snap = build_snapshot(generate(vnets=40, subscriptions=4))
    named = intent([443], **{"from": {"subnets": ["spoke-00000/app", "spoke-00004/app", "spoke-00004/data"]},
                             "to": {"names": ["spoke-0000*"]}})
    same_both_ways(snap, named)  # pairs inside one VNet count when subnets are named
    excluded = intent([443], exclude=[{"from": {"names": ["spoke-00001"]}}, {"to": {"names": ["spoke-0000[2-5]"]}}])
    kept = same_both_ways(snap, excluded)
    assert not any("spoke-00001/" in f[0] or "spoke-00003/" in f[1] for first, others, _ in kept for f in [first, *others])


def test_the_budget_of_kept_flows_is_shared_by_both_ways(monkeypatch):
    monkeypatch.setattr(intents_mod, "OTHERS", 5)
    snap = build_snapshot(generate(vnets=40, subscriptions=4))
    flows = same_both_ways(snap, intent([443]))
    assert sum(len(others) for _, others, _ in flows) == 5
    assert sum(more for *_, more in flows) > 0


RULE = st.fixed_dictionaries({
    "access": st.sampled_from(["Allow", "Deny"]),
    "direction": st.sampled_from(["Inbound", "Outbound"]),
    "source": st.sampled_from(["*", "VirtualNetwork", "10.0.0.0/8", "10.1.0.0/16", "10.2.1.0/24", "Internet", "10.0.1.4"]),
    "destination": st.sampled_from(["*", "VirtualNetwork", "10.2.0.0/16", "10.1.1.0/25", "10.0.1.0/24"]),
    "ports": st.sampled_from(["*", "22", "443", "20-30", "1433"]),
    "protocol": st.sampled_from(["*", "Tcp", "Udp"]),
})


@settings(max_examples=60, deadline=None)
@given(rules=st.lists(RULE, max_size=4), forwarded=st.booleans(), via_appliance=st.booleans())
def test_random_rules_in_a_hub_and_spoke_agree(rules, forwarded, via_appliance):
    """Random NSGs on the spokes and on the appliance's subnet, with and without a route through the hub
    appliance and forwarded traffic allowed."""
    nsg_rules = [{"name": f"r{i}", "priority": 100 + i, **rule} for i, rule in enumerate(rules)]
    routes = [{"name": "via-nva", "prefix": "10.0.0.0/8", "next_hop": "VirtualAppliance", "ip": "10.0.1.4"}]
    spec = {
        "subscriptions": {"prod": {}},
        "vnets": {
            "hub": {"subscription": "prod", "address_space": "10.0.0.0/16", "subnets": {"nva": {"prefix": "10.0.1.0/24", "nsg": "n-hub"}}},
            **{f"spoke{i}": {"subscription": "prod", "address_space": f"10.{i}.0.0/16",
                             "subnets": {"a": {"prefix": f"10.{i}.1.0/25", "nsg": f"n{i}", "route_table": "rt" if via_appliance else None},
                                         "b": {"prefix": f"10.{i}.1.128/25"}}} for i in (1, 2)},
        },
        "nsgs": {name: {"subscription": "prod", "rules": nsg_rules} for name in ("n1", "n2", "n-hub")},
        "route_tables": {"rt": {"subscription": "prod", "routes": routes}},
        "nics": {"nva-nic": {"subscription": "prod", "vnet": "hub", "subnet": "nva", "ip": "10.0.1.4", "ip_forwarding": True}},
        "peerings": [p for i in (1, 2) for p in (
            {"from": "hub", "to": f"spoke{i}", "allow_forwarded_traffic": forwarded},
            {"from": f"spoke{i}", "to": "hub", "allow_forwarded_traffic": forwarded})],
    }
    for v in spec["vnets"].values():
        for s in v["subnets"].values():
            if s.get("route_table") is None:
                s.pop("route_table", None)
    snap = snapshot_from_spec(spec)
    for item in (intent([22, 443]), intent([53], "udp")):
        same_both_ways(snap, item)


EDGES = {  # what the reach cases' estates do not combine: every kind of routing outcome in one estate
    "subscriptions": {"prod": {}},
    "vnets": {
        "hub1": {"subscription": "prod", "address_space": "10.0.0.0/16", "gateway": {"type": "Vpn"},
                 "subnets": {"nva": {"prefix": "10.0.1.0/24", "route_table": "rt-nva1"}, "GatewaySubnet": "10.0.255.0/27"}},
        "island": {"subscription": "prod", "address_space": "10.50.0.0/16", "subnets": {"far": "10.50.1.0/24"}},
        "hub2": {"subscription": "prod", "address_space": "10.100.0.0/16",
                 "subnets": {"nva": {"prefix": "10.100.1.0/24", "route_table": "rt-nva2", "nsg": "nsg-nva2"}}},
        "spoke1": {"subscription": "prod", "address_space": "10.1.0.0/16",
                   "subnets": {"app": {"prefix": "10.1.1.0/24", "route_table": "rt-spoke1"}, "web": "10.1.2.0/24"}},
        "spoke3": {"subscription": "prod", "address_space": "10.3.0.0/16", "subnets": {"db": "10.3.1.0/24"}},
        "public": {"subscription": "prod", "address_space": "20.50.0.0/16", "subnets": {"front": "20.50.1.0/24"}},
        "remote": {"subscription": "prod", "address_space": "10.9.0.0/16", "gateway": {"type": "Vpn"},
                   "subnets": {"svc": "10.9.1.0/24", "GatewaySubnet": "10.9.255.0/27"}},
        "onprem-twin": {"subscription": "prod", "address_space": "192.168.0.0/16", "subnets": {"lan": "192.168.1.0/24"}},
    },
    "nics": {"nva1": {"subscription": "prod", "vnet": "hub1", "subnet": "nva", "ip": "10.0.1.4", "ip_forwarding": True},
             "nva2": {"subscription": "prod", "vnet": "hub2", "subnet": "nva", "ip": "10.100.1.4", "ip_forwarding": True},
             "nva-off": {"subscription": "prod", "vnet": "hub1", "subnet": "nva", "ip": "10.0.1.5", "ip_forwarding": False}},
    "peerings": [p for a, b in (("hub1", "spoke1"), ("hub1", "hub2"), ("hub2", "spoke3"), ("hub1", "public"))
                 for p in ({"from": a, "to": b, "allow_forwarded_traffic": True, "allow_gateway_transit": a == "hub1"},
                           {"from": b, "to": a, "allow_forwarded_traffic": True, "use_remote_gateways": b == "spoke1"})],
    "route_tables": {
        "rt-spoke1": {"subscription": "prod", "routes": [
            {"name": "to-spoke3", "prefix": "10.3.0.0/16", "next_hop": "VirtualAppliance", "ip": "10.0.1.4"},
            {"name": "to-hub2", "prefix": "10.100.0.0/16", "next_hop": "VirtualAppliance", "ip": "10.0.1.4"},
            {"name": "to-island", "prefix": "10.50.0.0/16", "next_hop": "VirtualAppliance", "ip": "10.0.1.4"},
            {"name": "forwarding-off", "prefix": "10.3.1.128/25", "next_hop": "VirtualAppliance", "ip": "10.0.1.5"},
            {"name": "public-direct", "prefix": "20.50.0.0/16", "next_hop": "Internet"},
            {"name": "remote-by-gateway", "prefix": "10.9.0.0/16", "next_hop": "VirtualNetworkGateway"}]},
        "rt-nva1": {"subscription": "prod", "routes": [
            {"name": "spoke3-via-nva2", "prefix": "10.3.0.0/16", "next_hop": "VirtualAppliance", "ip": "10.100.1.4"},
            {"name": "island-via-nva2", "prefix": "10.50.0.0/16", "next_hop": "VirtualAppliance", "ip": "10.100.1.4"}]},
        "rt-nva2": {"subscription": "prod", "routes": [  # back to the first appliance: a loop
            {"name": "island-via-nva1", "prefix": "10.50.0.0/16", "next_hop": "VirtualAppliance", "ip": "10.0.1.4"}]},
    },
    "nsgs": {"nsg-nva2": {"subscription": "prod", "rules": [  # the second appliance refuses SQL from spoke1
        {"name": "no-sql-from-spoke1", "priority": 100, "access": "Deny", "source": "10.1.0.0/16", "ports": "1433"},
        {"name": "spoke1", "priority": 110, "source": "10.1.0.0/16"}]}},  # not in hub2's VirtualNetwork tag
    "local_gateways": {"onprem": {"subscription": "prod", "prefixes": ["192.168.0.0/16"]}},
    "connections": {"hub1-onprem": {"subscription": "prod", "gateway": "hub1", "local_gateway": "onprem"},
                    "hub1-remote": {"subscription": "prod", "gateway": "hub1", "remote_gateway": "remote"}},
}


def test_gateways_chained_appliances_loops_and_public_space_agree():
    snap = snapshot_from_spec(EDGES)
    kept = same_both_ways(snap, intent([443, 1433]))
    ports = {(f[0], f[1], f[2]) for first, others, _ in kept for f in [first, *others]}
    flows = {(src, dst) for src, dst, _ in ports}
    assert ("subnet spoke1/app", "subnet spoke3/db", 443) in ports  # through two appliances
    assert ("subnet spoke1/app", "subnet spoke3/db", 1433) not in ports  # the second one's NSG
    assert ("subnet spoke1/app", "subnet public/front") in flows  # public space over the Internet route
    assert ("subnet spoke1/app", "subnet remote/svc") in flows  # a VNet-to-VNet gateway connection
    assert not any(dst == "subnet island/far" for _, dst in flows)  # the appliances send it round in a loop

