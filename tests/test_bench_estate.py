"""The benchmark estate generator: a healthy hub-and-spoke shape, and planted defects that the rules find."""


import pytest

from auditor.analysis.addresses import IntervalSet, ip_in
from auditor.engine import discover_rules, evaluate
from auditor.input import estates as estate
from auditor.model.ids import norm_id
from auditor.model.snapshot import Snapshot


#: planted defect -> the rule that must report it (naming that spoke; names have five digits, so a substring is exact)
EXPECTED_RULE = {
    "initiated": "PEER001", "disconnected": "PEER002", "deleted_remote": "PEER002", "out_of_sync": "PEER003",
    "access_disabled": "PEER004", "no_transit": "GW001", "transit_unused": "GW002", "forwarding_off": "TRANS002",
    "no_route_table": "TRANS001", "vnet_ssh": "NSG003", "deny_peers": "NSG001", "stale_nva": "TRANS003",
    "blackhole_hub": "ROUTE001", "gateway_route": "ROUTE002", "internet_hub": "ROUTE003", "onprem_overlap": "OVLP003",
}


@pytest.fixture(scope="module")
def healthy():
    spec = estate.generate(vnets=48, subscriptions=4, regions=2, group_size=2, broken=0.0, reuse=0.0)
    return spec, estate.build_snapshot(spec)


@pytest.fixture(scope="module")
def broken():
    spec = estate.generate(vnets=400, subscriptions=8, regions=2, group_size=4, broken=1.0, reuse=0.03, seed=3)
    snapshot = estate.build_snapshot(spec)
    return spec, snapshot, evaluate(snapshot, discover_rules())


def test_sizes_follow_parameters(healthy):
    spec, snapshot = healthy
    hubs = [v for v in snapshot.virtual_networks if v.name.startswith("hub-")]
    assert len(snapshot.virtual_networks) == 48 and len(hubs) == 4  # 2 groups x 2 regions
    assert len(snapshot.subscriptions) == 4
    assert len(snapshot.network_security_groups) == 4 + 44 * 3  # hub shared subnet + one per spoke subnet
    assert len(snapshot.virtual_network_gateways) == 4 and len(snapshot.route_tables) == 44


def test_healthy_spokes_are_peered_both_ways_with_gateway_transit(healthy):
    _, snapshot = healthy
    index = snapshot.index
    for vnet in snapshot.virtual_networks:
        if not vnet.name.startswith("spoke-"):
            continue
        (to_hub,) = vnet.peerings
        hub = index.remote_vnet(to_hub)
        back = index.reverse_peering(to_hub)
        assert hub is not None and hub.name.startswith("hub-") and back is not None
        assert to_hub.peering_state == back.peering_state == "Connected"
        assert to_hub.use_remote_gateways and back.allow_gateway_transit and index.has_gateway(hub.id)
        assert index.is_peered(vnet.id, hub.id)


def test_spoke_subnets_have_nsgs_with_default_rules_and_routes_to_the_hub_firewall(healthy):
    _, snapshot = healthy
    index = snapshot.index
    for vnet in snapshot.virtual_networks:
        if not vnet.name.startswith("spoke-"):
            continue
        hub = index.remote_vnet(vnet.peerings[0])
        firewall = next(s for s in hub.subnets if s.name == "AzureFirewallSubnet")
        for subnet in vnet.subnets:
            nsg = index.nsg_of_subnet(subnet.id)
            assert nsg is not None and len(nsg.default_security_rules) == 6 and nsg.security_rules
            table = index.route_table_of_subnet(subnet.id)
            hops = {r.address_prefix: r for r in table.routes}
            assert hops["0.0.0.0/0"].next_hop_type == "VirtualAppliance"
            assert ip_in(hops["0.0.0.0/0"].next_hop_ip_address, IntervalSet.of(firewall.address_prefixes))


def test_healthy_estate_has_no_overlaps(healthy):
    _, snapshot = healthy
    spaces = sorted(span for v in snapshot.virtual_networks for span in IntervalSet.of(v.address_prefixes))
    assert all(a[1] < b[0] for a, b in zip(spaces, spaces[1:]))


def test_every_planted_defect_is_reported(broken):
    spec, _, result = broken
    installed = {r.id for r in discover_rules()}
    planted = spec["_defects"]
    assert set(planted.values()) >= set(EXPECTED_RULE) - {"onprem_overlap"}
    for defect, rule_id in EXPECTED_RULE.items():
        if rule_id not in installed or defect not in planted.values():
            continue
        spokes = {name for name, d in planted.items() if d == defect}
        hits = [f for f in result.findings if f.rule_id == rule_id
                and any(s in norm_id(i) for s in spokes for i in [f.resource_id, *f.related_ids])]
        assert hits, f"{defect}: {rule_id} reported none of {sorted(spokes)[:3]}"


def test_reused_address_space_is_reported(broken):
    spec, _, result = broken
    reused = set(spec["_reused"])
    assert reused
    flagged = {f.rule_id for f in result.findings if any(n in norm_id(i) for n in reused for i in [f.resource_id, *f.related_ids])}
    assert flagged & {"OVLP002", "OVLP004"} or not {"OVLP002", "OVLP004"} & {r.id for r in discover_rules()}


def test_command_line_writes_a_loadable_snapshot(tmp_path):
    out = tmp_path / "estate.json"
    assert estate.main(["--vnets", "30", "--subscriptions", "3", "--regions", "1", "-o", str(out)]) == 0
    snapshot = Snapshot.from_json(out.read_bytes())
    assert len(snapshot.virtual_networks) == 30 and snapshot.metadata.source == "synthetic"
