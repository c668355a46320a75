"""Work shared across targets and rules in TRANS001/TRANS002 and auditor.analysis.nsg.rules_in_order:
the shortcuts must give the same answers as judging each (subnet, VNet C) pair on its own."""

import json
import random

import pytest

from auditor.analysis.nsg import rules_in_order
from auditor.engine import discover_rules
from auditor.input.synthetic import snapshot_from_spec

RULES = {r.id: r for r in discover_rules()}
HUB_SPOKES = [
    {"from": "hub", "to": "spoke1"}, {"from": "spoke1", "to": "hub"},
    {"from": "hub", "to": "spoke2"}, {"from": "spoke2", "to": "hub"},
    {"from": "hub", "to": "spoke3"}, {"from": "spoke3", "to": "hub"},
]


def _transit_estate(db_routes):
    """spoke1 has two subnets sharing one NSG, each with its own route table."""
    via_fw = {"next_hop": "VirtualAppliance", "ip": "10.0.1.4"}
    return {
        "subscriptions": {"prod": {}},
        "vnets": {
            "hub": {"subscription": "prod", "address_space": "10.0.0.0/16", "subnets": {"AzureFirewallSubnet": "10.0.1.0/26"}},
            "spoke1": {"subscription": "prod", "address_space": "10.1.0.0/16", "subnets": {
                "app": {"prefix": "10.1.1.0/24", "nsg": "nsg-spoke1", "route_table": "rt-app"},
                "db": {"prefix": "10.1.2.0/24", "nsg": "nsg-spoke1", "route_table": "rt-db"}}},
            "spoke2": {"subscription": "prod", "address_space": "10.2.0.0/16"},
            "spoke3": {"subscription": "prod", "address_space": "10.3.0.0/16"},
        },
        "peerings": HUB_SPOKES,
        "nsgs": {"nsg-spoke1": {"subscription": "prod", "rules": [
            {"name": "allow-spokes-2-3", "priority": 200, "source": "10.2.0.0/15", "ports": "443"}]}},
        "route_tables": {
            "rt-app": {"subscription": "prod", "routes": [{"name": "spokes", "prefix": "10.2.0.0/15", **via_fw}]},
            "rt-db": {"subscription": "prod", "routes": [{"name": n, "prefix": p, **via_fw} for n, p in db_routes]},
        },
    }


def test_trans001_each_subnet_judged_with_its_own_table():
    # rt-db sends only half of spoke2 to the firewall and nothing of spoke3
    findings = RULES["TRANS001"].run(snapshot_from_spec(_transit_estate([("half", "10.2.0.0/17")])))
    assert [f.resource_name for f in findings] == ["allow-spokes-2-3"]
    pairs = findings[0].evidence["pairs"]
    assert [(p["remote_vnet"], p["subnets_without_route"]) for p in pairs] == [
        ("spoke2", {"db": "10.2.128.0/17"}),
        ("spoke3", {"db": "10.3.0.0/16"}),
    ]
    assert "no route sending 10.2.128.0/17 to" in findings[0].message


def test_trans001_no_finding_when_every_table_covers_the_prefix():
    findings = RULES["TRANS001"].run(snapshot_from_spec(_transit_estate([("a", "10.2.0.0/16"), ("b", "10.3.0.0/16")])))
    assert findings == []


def test_trans002_formats_addresses_of_listed_routes(monkeypatch):
    module = __import__(RULES["TRANS002"].func.__module__, fromlist=["LIMIT"])
    monkeypatch.setattr(module, "LIMIT", 2)
    spokes = {f"spoke{i}": {"subscription": "prod", "address_space": f"10.{i}.0.0/16",
                            "subnets": {"app": {"prefix": f"10.{i}.1.0/24", "route_table": f"rt-{i}"}}} for i in range(1, 5)}
    estate = {
        "subscriptions": {"prod": {}},
        "vnets": {"hub": {"subscription": "prod", "address_space": "10.0.0.0/16"}, **spokes},
        "peerings": [p for s in spokes for p in ({"from": "hub", "to": s}, {"from": s, "to": "hub", "allow_forwarded_traffic": s != "spoke4"})],
        "route_tables": {f"rt-{i}": {"subscription": "prod", "routes": [
            {"name": "internal", "prefix": "10.0.0.0/8", "next_hop": "VirtualAppliance", "ip": "10.0.1.4"}]} for i in range(1, 5)},
    }
    findings = RULES["TRANS002"].run(snapshot_from_spec(estate))
    assert [f.resource_name for f in findings] == ["spoke4-to-hub"]
    evidence = findings[0].evidence
    assert evidence["route_count"] == 3
    assert [r["addresses"] for r in evidence["routes"]] == ["10.4.0.0/16", "10.4.0.0/16"]
    json.dumps(evidence)  # nothing unformatted left in the evidence
    assert "sends 10.4.0.0/16 of spoke4" in findings[0].message


@pytest.mark.parametrize("first", [True, False])
def test_rules_in_order_wraps_each_rule_once(first):
    snap = snapshot_from_spec({
        "subscriptions": {"prod": {}},
        "vnets": {"v": {"subscription": "prod", "address_space": "10.0.0.0/16", "subnets": {"a": {"prefix": "10.0.1.0/24", "nsg": "n"}}}},
        "nsgs": {"n": {"subscription": "prod", "rules": [
            {"name": "in", "priority": 100, "source": "10.9.0.0/16"},
            {"name": "out", "priority": 100, "direction": "Outbound", "destination": "10.9.0.0/16"}]}},
    })
    nsg = snap.network_security_groups[0]
    asked = rules_in_order(snap, nsg, inbound=first)
    other = rules_in_order(snap, nsg, inbound=not first)
    inbound, outbound = (asked, other) if first else (other, asked)
    assert [p.rule.name for p in inbound] == ["in", "AllowVnetInBound", "AllowAzureLoadBalancerInBound", "DenyAllInBound"]
    assert [p.rule.name for p in outbound] == ["out", "AllowVnetOutBound", "AllowInternetOutBound", "DenyAllOutBound"]
    assert all(p.inbound for p in inbound) and not any(p.inbound for p in outbound)
    assert rules_in_order(snap, nsg, inbound=first) is asked


def _routed_estate(rng):
    """Hubs with spokes, some hubs chained, some spokes routing to their hub's firewall, a Virtual WAN of
    random type, an AVNM mesh scoped to one subscription; spaces drawn from a small pool so they overlap."""
    pool = ["10.1.0.0/16", "10.1.0.0/24", "10.2.0.0/16", "10.1.128.0/17", "10.3.0.0/16"]
    spec = {"subscriptions": {"prod": {}, "lab": {}, "conn": {}}, "vnets": {}, "peerings": [], "route_tables": {
        f"rt-h{h}": {"subscription": "prod", "routes": [
            {"name": "default", "prefix": "0.0.0.0/0", "next_hop": "VirtualAppliance", "ip": f"10.20{h}.0.4"}]}
        for h in range(3)}}
    for h in range(3):
        spec["vnets"][f"h{h}"] = {"subscription": "prod", "address_space": f"10.20{h}.0.0/24"}
    if rng.random() < 0.7:
        spec["peerings"] += [{"from": "h0", "to": "h1"}, {"from": "h1", "to": "h0"}]
    spokes = []
    for i in range(14):
        name, hub = f"s{i:02d}", f"h{rng.randint(0, 2)}"
        routed = rng.random() < 0.3
        spec["vnets"][name] = {
            "subscription": rng.choice(["prod", "lab"]), "address_space": rng.choice(pool),
            "location": rng.choice(["westeurope", "northeurope"]),
            "subnets": {"app": {"prefix": "192.168.0.0/24", **({"route_table": f"rt-{hub}"} if routed else {})}}}
        if rng.random() < 0.6:
            spec["peerings"] += [{"from": hub, "to": name}, {"from": name, "to": hub}]
        spokes.append(name)
    spec["virtual_wans"] = {"vwan": {"subscription": "conn", "type": rng.choice(["Standard", "Basic"])}}
    spec["virtual_hubs"] = {
        f"vh{k}": {"subscription": "conn", "virtual_wan": "vwan", "address_prefix": f"10.10{k}.0.0/23",
                   "connections": {s: {} for s in rng.sample(spokes, 3)}} for k in range(2)}
    spec["network_managers"] = {"avnm": {
        "subscription": "conn", "scope_subscriptions": ["lab"],
        "groups": {"ng": {"members": rng.sample([s for s in spokes if spec["vnets"][s]["subscription"] == "lab"] or spokes, 1)}},
        "connectivity": {"cc": {"topology": "Mesh", "global": rng.random() < 0.5, "groups": ["ng"]}}}}
    return spec


def test_ovlp004_counts_match_judging_each_pair():
    from auditor.analysis.overlap import OverlapIndex
    from auditor.analysis.routing import may_be_linked, routed_domains

    rng = random.Random(3)
    for _ in range(25):
        snap = snapshot_from_spec(_routed_estate(rng))
        index = snap.index
        domains = routed_domains(snap)
        overlaps = OverlapIndex({v.key: v.address_prefixes for v in snap.virtual_networks})
        found = {f.resource_id.lower(): f.evidence["overlapping_vnet_count"] for f in RULES["OVLP004"].run(snap)}
        for key in index.vnets:
            near = {key} | index.peered_vnets(key) | {q for p in index.peered_vnets(key) for q in index.peered_vnets(p)}
            apart = [k for k in overlaps.overlapping(key)
                     if k not in near and domains[k] != domains[key] and not may_be_linked(snap, key, k)]
            assert found.get(key, 0) == len(apart), key


def test_management_group_scope_may_hold_any_subscription():
    """A network manager scoped to a management group may reach any subscription: a policy-filled group's
    membership is unknown; a group with static members holds those."""
    from auditor.analysis.routing import may_be_linked

    def estate(groups):
        snap = snapshot_from_spec({
            "subscriptions": {"prod": {}, "lab": {}, "conn": {}},
            "vnets": {"a": {"subscription": "prod", "address_space": "10.1.0.0/16"},
                      "b": {"subscription": "lab", "address_space": "10.1.0.0/16"}},
            "network_managers": {"avnm": {"subscription": "conn", "scope_subscriptions": ["prod"],
                                          "groups": {"ng": {}},
                                          "connectivity": {"cc": {"topology": "Mesh", "groups": ["ng"]}}}},
        })
        snap.network_managers[0].scope_management_groups = groups
        return snap

    plain = estate([])
    assert not may_be_linked(plain, plain.virtual_networks[0].id, plain.virtual_networks[1].id)
    assert sorted(f.resource_name for f in RULES["OVLP004"].run(plain)) == ["a", "b"]
    wide = estate(["/providers/Microsoft.Management/managementGroups/landing-zones"])
    assert may_be_linked(wide, wide.virtual_networks[0].id, wide.virtual_networks[1].id)
    assert RULES["OVLP004"].run(wide) == []
