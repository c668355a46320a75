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
