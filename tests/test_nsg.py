"""NSG semantics (auditor.analysis.nsg) and peering/route reachability (auditor.analysis.routing)."""

import copy

import pytest

from auditor.analysis.addresses import (
    IntervalSet,
    families,
    is_any,
    is_family_wide,
    subtract,
    union,
)
from auditor.analysis.filtering import decide
from auditor.analysis.nics import (
    asg_space,
    nic_label,
    nics_by_nsg,
    nics_with_nsg_in,
    nsg_of_nic,
)
from auditor.analysis.nsg import (
    ALL_PORTS,
    Addresses,
    Coverage,
    ParsedRule,
    parse_ports,
    rules_in_order,
    vnet_tag_space,
)
from auditor.analysis.routing import (
    components,
    connected_vnets,
    effective_routes,
    is_multi_hop,
    multi_hop_vnets,
    peering_path,
    vnets_overlapping_in_component,
)
from auditor.analysis.wording import name_list
from auditor.input.synthetic import snapshot_from_spec
from auditor.model.ids import norm_id
from auditor.model.snapshot import SecurityRule

S = IntervalSet.of


def rule(**kw) -> SecurityRule:
    base = dict(id="/x/securityRules/r", name="r", priority=100, direction="Inbound", access="Allow", protocol="*",
                source_address_prefixes=["*"], destination_address_prefixes=["*"], source_port_ranges=["*"],
                destination_port_ranges=["*"])
    return SecurityRule(**{**base, **kw})


# -- ports and protocols ---------------------------------------------------------
@pytest.mark.parametrize("values,expected", [
    (["*"], ALL_PORTS),
    (["0-65535"], ALL_PORTS),
    (["0-1023", "1024-65535"], ALL_PORTS),
    (["22"], ((22, 22),)),
    (["1000-2000", "1500-2500", "80"], ((80, 80), (1000, 2500))),
    (["80,443"], ((80, 80), (443, 443))),
    (["2000-1000"], ((1000, 2000),)),
    (["junk", "8080"], ((8080, 8080),)),
])
def test_parse_ports(values, expected):
    assert parse_ports(values) == expected


def test_all_traffic_needs_any_protocol_and_every_port():
    assert ParsedRule(rule()).all_traffic
    assert ParsedRule(rule(protocol="Any", destination_port_ranges=["0-65535"])).all_traffic
    assert not ParsedRule(rule(protocol="Tcp")).all_traffic
    assert not ParsedRule(rule(destination_port_ranges=["1-65535"])).all_traffic
    assert not ParsedRule(rule(source_port_ranges=["1024-65535"])).all_traffic


def test_reaches_admin_ports():
    ssh_range = ParsedRule(rule(protocol="Tcp", destination_port_ranges=["20-25"]))
    assert ssh_range.reaches_port(22) and not ssh_range.reaches_port(3389)
    assert ParsedRule(rule(protocol="Udp", destination_port_ranges=["3389"])).reaches_port(3389)
    assert not ParsedRule(rule(protocol="Icmp")).reaches_port(22)
    assert not ParsedRule(rule(protocol="Tcp", destination_port_ranges=["443"])).reaches_port(22)


# -- address sides -----------------------------------------------------------------
@pytest.mark.parametrize("spelling,v4,v6", [
    ("*", Coverage.FULL, Coverage.FULL),
    ("Any", Coverage.FULL, Coverage.FULL),
    ("0.0.0.0/0", Coverage.FULL, Coverage.NONE),  # every IPv4 address, no IPv6 one
    ("::/0", Coverage.NONE, Coverage.FULL),
])
def test_any_spellings_cover_their_families(spelling, v4, v6):
    side = Addresses.parse([spelling])
    assert side.coverage(S(["10.1.0.0/16"])) == v4
    assert side.coverage(S(["2001:db8::/32"])) == v6
    assert side.coverage(S(["10.1.0.0/16", "2001:db8::/32"])) == (
        Coverage.FULL if v4 == v6 else Coverage.PARTIAL)


def test_family_helpers():
    assert is_any("*") and is_any(" ANY ") and not is_any("0.0.0.0/0") and not is_any("::/0")
    assert all(is_family_wide(p) for p in ("*", "0.0.0.0/0", "::/0", "0.0.0.0/0 "))
    assert not is_family_wide("10.0.0.0/8") and not is_family_wide("VirtualNetwork")
    v4, v6 = families(S(["10.0.0.0/8", "fd00::/8", "*"]))
    assert v4 == S(["0.0.0.0/0"]) and v6 == S(["::/0"])
    assert families(S(["10.0.0.0/8"]))[1] == IntervalSet()
    # a 0.0.0.0/0 route or prefix covers no IPv6 prefix
    assert not S(["0.0.0.0/0"]).overlaps(S(["fd00:1::/48"]))


def test_asg_members_resolve_when_known():
    asg = "/subscriptions/s/resourcegroups/rg/providers/microsoft.network/applicationsecuritygroups/asg-web"
    side = Addresses.parse([], [asg])
    members = {asg: S(["10.1.1.4"])}
    assert side.coverage(S(["10.1.1.4"]), asg_space=members.get) == Coverage.FULL
    assert side.coverage(S(["10.2.0.0/16"]), asg_space=members.get) == Coverage.NONE  # resolved: not a member
    assert side.coverage(S(["10.2.0.0/16"]), asg_space=lambda _: None) == Coverage.UNKNOWN
    assert side.coverage(S(["10.2.0.0/16"])) == Coverage.UNKNOWN


def test_cidr_coverage_full_partial_none():
    side = Addresses.parse(["10.1.0.0/17", "10.1.128.0/17"])  # together the whole /16
    assert side.coverage(S(["10.1.0.0/16"])) == Coverage.FULL
    assert Addresses.parse(["10.1.5.0/24"]).coverage(S(["10.1.0.0/16"])) == Coverage.PARTIAL
    assert Addresses.parse(["10.0.0.0/8"]).coverage(S(["10.1.0.0/16"])) == Coverage.FULL
    assert Addresses.parse(["172.16.0.0/12"]).coverage(S(["10.1.0.0/16"])) == Coverage.NONE
    assert Addresses.parse(["10.1.1.4"]).coverage(S(["10.1.1.0/24"])) == Coverage.PARTIAL


def test_virtualnetwork_tag_uses_the_given_space_lazily():
    side = Addresses.parse(["VirtualNetwork"])
    tag = S(["10.0.0.0/16", "10.1.0.0/16"])
    assert side.coverage(S(["10.1.0.0/16"]), tag) == Coverage.FULL
    assert side.coverage(S(["10.2.0.0/16"]), tag) == Coverage.NONE
    calls = []
    assert side.coverage(S(["10.1.0.0/16"]), lambda: calls.append(1) or tag) == Coverage.FULL
    assert calls == [1]
    # a target known to lie in the tag needs no tag at all
    assert side.coverage(S(["10.1.0.0/16"]), lambda: pytest.fail("tag computed"), target_in_tag=True) == Coverage.FULL


def test_internet_tag_does_not_cover_private_or_vnet_ranges():
    side = Addresses.parse(["Internet"])
    tag = S(["10.0.0.0/16", "20.1.0.0/16"])  # a VNet on a public range is still VirtualNetwork
    assert side.coverage(S(["10.2.0.0/16"]), tag) == Coverage.NONE
    assert side.coverage(S(["20.1.0.0/16"]), tag) == Coverage.NONE
    assert side.coverage(S(["52.0.0.0/8"]), tag) == Coverage.FULL


@pytest.mark.parametrize("tag", ["AzureLoadBalancer", "Storage.WestEurope", "AzureCloud", "GatewayManager"])
def test_other_service_tags_cover_nothing_of_a_vnet(tag):
    assert Addresses.parse([tag]).coverage(S(["10.1.0.0/16"]), S(["10.0.0.0/8"])) == Coverage.NONE


def test_application_security_groups_are_unknown_never_full():
    side = Addresses.parse([], ["/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/applicationSecurityGroups/asg-web"])
    assert side.coverage(S(["10.1.0.0/16"])) == Coverage.UNKNOWN
    assert "ASG asg-web" in side.describe()


def test_subtract_and_name_list():
    assert subtract(S(["10.0.0.0/16"]), S(["10.0.0.0/17"])) == S(["10.0.128.0/17"])
    assert subtract(S(["10.0.0.0/24"]), S(["10.0.0.128/26"])) == S(["10.0.0.0/25", "10.0.0.192/26"])
    assert subtract(S(["10.0.0.0/24"]), S(["10.0.0.0/8"])) == IntervalSet()
    assert name_list(["b", "a", "c"], limit=2) == "a, b and 1 more"


# -- estates -----------------------------------------------------------------------
CHAIN = {
    "subscriptions": {"prod": {}},
    "vnets": {
        "spoke1": {"subscription": "prod", "address_space": "10.1.0.0/16",
                   "subnets": {"app": {"prefix": "10.1.1.0/24", "nsg": "nsg-app", "route_table": "rt"}}},
        "hub": {"subscription": "prod", "address_space": "10.0.0.0/16", "subnets": {"GatewaySubnet": "10.0.255.0/27"},
                "gateway": {"type": "Vpn"}},
        "hub2": {"subscription": "prod", "address_space": "10.100.0.0/16"},
        "spoke2": {"subscription": "prod", "address_space": "10.2.0.0/16"},
        "island": {"subscription": "prod", "address_space": "10.9.0.0/16"},
        "muted": {"subscription": "prod", "address_space": "10.8.0.0/16"},
    },
    "peerings": [
        {"from": "spoke1", "to": "hub", "use_remote_gateways": True}, {"from": "hub", "to": "spoke1", "allow_gateway_transit": True},
        {"from": "hub", "to": "hub2"}, {"from": "hub2", "to": "hub"},
        {"from": "hub2", "to": "spoke2"}, {"from": "spoke2", "to": "hub2"},
        {"from": "spoke1", "to": "muted", "allow_virtual_network_access": False}, {"from": "muted", "to": "spoke1"},
    ],
    "nsgs": {"nsg-app": {"subscription": "prod", "rules": [
        {"name": "allow-https", "priority": 200, "source": "10.2.0.0/16", "ports": "443", "protocol": "Tcp"},
        {"name": "deny-out", "priority": 100, "direction": "Outbound", "access": "Deny", "destination": "Internet"},
    ]}},
    "route_tables": {"rt": {"subscription": "prod", "routes": [
        {"name": "default", "prefix": "0.0.0.0/0", "next_hop": "VirtualAppliance", "ip": "10.0.1.4"},
        {"name": "drop", "prefix": "10.0.5.0/24", "next_hop": "None"},
        {"name": "corp", "prefix": "10.0.0.0/8", "next_hop": "VirtualAppliance", "ip": "10.0.1.4"},
    ]}},
    "local_gateways": {"onprem": {"subscription": "prod", "prefixes": ["192.168.0.0/16"]}},
    "connections": {"hub-onprem": {"subscription": "prod", "gateway": "hub", "local_gateway": "onprem"}},
}


@pytest.fixture(scope="module")
def chain():
    snap = snapshot_from_spec(CHAIN)
    keys = {v.name: v.key for v in snap.virtual_networks}
    return snap, keys


def test_rules_in_order_include_defaults_by_priority(chain):
    snap, _ = chain
    nsg = snap.network_security_groups[0]
    inbound = rules_in_order(snap, nsg, inbound=True)
    assert [p.rule.name for p in inbound] == ["allow-https", "AllowVnetInBound", "AllowAzureLoadBalancerInBound", "DenyAllInBound"]
    assert [p.rule.name for p in rules_in_order(snap, nsg, inbound=False)][0] == "deny-out"
    assert rules_in_order(snap, nsg) is rules_in_order(snap, nsg)  # parsed once per snapshot


def _without_default_route():
    spec = copy.deepcopy(CHAIN)
    routes = spec["route_tables"]["rt"]["routes"]
    spec["route_tables"]["rt"]["routes"] = [r for r in routes if r["name"] != "default"]
    snap = snapshot_from_spec(spec)
    return snap, {v.name: v.key for v in snap.virtual_networks}


def test_udr_default_route_puts_everything_in_the_tag(chain):
    snap, k = chain  # as in Azure: a 0.0.0.0/0 user-defined route widens VirtualNetwork to everything
    assert vnet_tag_space(snap, k["spoke1"]).covers(S(["0.0.0.0/0"]))


def test_vnet_tag_space():
    snap, k = _without_default_route()
    tag = vnet_tag_space(snap, k["spoke1"])
    assert tag.covers(S(["10.1.0.0/16", "10.0.0.0/16"]))  # own space and the peered hub
    assert tag.covers(S(["192.168.0.0/16"]))  # on-premises behind the hub gateway it uses
    assert tag.covers(S(["10.0.0.0/8"]))  # a prefix of its user-defined routes
    assert not tag.overlaps(S(["172.16.0.0/12"]))
    hub2_tag = vnet_tag_space(snap, k["hub2"])
    assert hub2_tag.covers(S(["10.2.0.0/16", "10.0.0.0/16"]))
    assert not hub2_tag.overlaps(S(["10.1.0.0/16"]))  # two hops away: not in the tag
    assert not hub2_tag.overlaps(S(["192.168.0.0/16"]))  # hub2 does not use the hub's gateway


def test_access_disabled_peer_leaves_the_tag_but_still_routes():
    spec = copy.deepcopy(CHAIN)
    spec["route_tables"]["rt"]["routes"] = []
    snap = snapshot_from_spec(spec)
    k = {v.name: v.key for v in snap.virtual_networks}
    assert not vnet_tag_space(snap, k["spoke1"]).overlaps(S(["10.8.0.0/16"]))
    assert k["muted"] in connected_vnets(snap, k["spoke1"])
    assert k["muted"] not in snap.index.peered_vnets(k["spoke1"])


def test_multi_hop_reachability(chain):
    snap, k = chain
    assert multi_hop_vnets(snap, k["spoke1"]) == {k["hub2"]: 2, k["spoke2"]: 3}
    assert is_multi_hop(snap, k["spoke1"], k["spoke2"])
    assert not is_multi_hop(snap, k["spoke1"], k["hub"])  # directly peered
    assert not is_multi_hop(snap, k["spoke1"], k["island"])  # not connected at all
    assert not is_multi_hop(snap, k["spoke1"], k["spoke1"])
    assert peering_path(snap, k["spoke1"], k["spoke2"]) == [k["spoke1"], k["hub"], k["hub2"], k["spoke2"]]
    assert peering_path(snap, k["spoke1"], k["island"]) is None
    comp = components(snap)
    assert comp[k["spoke1"]] == comp[k["spoke2"]] != comp[k["island"]]


def test_vnets_overlapping_in_component(chain):
    snap, k = chain
    assert vnets_overlapping_in_component(snap, k["spoke1"], S(["10.0.0.0/8"])) == {k["spoke1"], k["hub"], k["hub2"], k["spoke2"]}
    assert vnets_overlapping_in_component(snap, k["spoke1"], S(["10.2.3.4"])) == {k["spoke2"]}
    assert vnets_overlapping_in_component(snap, k["spoke1"], S(["10.9.0.0/16"])) == set()  # island: other component


def test_effective_routes_longest_prefix_match(chain):
    snap, k = chain
    table = snap.route_tables[0]
    eff = {route.name: space for route, space in effective_routes(snap, table, k["spoke1"])}
    # 10.0.0.0/8 loses the own VNet, the peered hub and the Connected (access-disabled) VNet to system routes
    assert not eff["corp"].overlaps(S(["10.1.0.0/16", "10.0.0.0/16", "10.8.0.0/16"]))
    assert eff["corp"].covers(S(["10.2.0.0/16", "10.100.0.0/16"]))
    # the /24 None route beats the hub's /16 system route
    assert eff["drop"] == S(["10.0.5.0/24"])
    # the default route keeps only what nothing more specific claims
    assert not eff["default"].overlaps(S(["10.0.0.0/8"]))
    assert eff["default"].covers(S(["192.168.0.0/16", "8.8.8.8"]))


# -- Azure's order of filtering (analysis.filtering.decide) ----------------------------------
def _filtering_estate(admin=(), subnet=None, nic=None, coverage="complete"):
    """spoke (dual-stack) peered with hub; vm1-nic in spoke/app; NSGs and admin rules as given."""
    spec = {
        "subscriptions": {"prod": {"coverage": coverage, **({"error": "networkInterfaces: 403"}
                                                             if coverage != "complete" else {})}},
        "vnets": {
            "hub": {"subscription": "prod", "address_space": ["10.0.0.0/16", "fd00::/48"]},
            "spoke": {"subscription": "prod", "address_space": ["10.1.0.0/16", "fd00:1::/48"], "subnets": {
                "app": {"prefix": ["10.1.1.0/24", "fd00:1:0:1::/64"], **({"nsg": "nsg-app"} if subnet is not None else {})}}},
        },
        "peerings": [{"from": "hub", "to": "spoke"}, {"from": "spoke", "to": "hub"}],
        "asgs": {"asg-web": {"subscription": "prod"}},
        "nics": {"vm1-nic": {"subscription": "prod", "vnet": "spoke", "subnet": "app", "ip": ["10.1.1.4", "fd00:1:0:1::4"],
                             "asgs": ["asg-web"], **({"nsg": "nsg-vm1"} if nic is not None else {})}},
        "nsgs": {name: {"subscription": "prod", "rules": rules} for name, rules in (("nsg-app", subnet), ("nsg-vm1", nic))
                 if rules is not None},
    }
    if admin:
        spec["network_managers"] = {"avnm": {"subscription": "prod", "groups": {"ng": {"members": ["spoke"]}},
                                             "security_admin": {"sac": {"collections": {"rc": {"groups": ["ng"], "rules": list(admin)}}}}}}
    return snapshot_from_spec(spec)


def _verdict_at(snap, target, address, inbound=True, protocol="tcp", port=22, layers=("admin", "subnet", "nic")):
    found = decide(snap, target, inbound, S([address]), protocol, port, layers)
    assert len(found) == 1, found
    v = found[0]
    return v.access, v.rule.rule.name if v.rule else None, v.layer


def _nic(snap):
    return snap.network_interfaces[0].id


DENY_HUB = {"name": "deny-hub", "priority": 100, "access": "Deny", "source": "10.0.0.0/16"}
ALLOW_HUB = {"name": "allow-hub", "priority": 100, "source": "10.0.0.0/16"}


@pytest.mark.parametrize("estate,inbound,address,expected", [
    # no NSG and no admin rule on the path: everything passes
    ({}, True, "10.0.0.4", ("allow", None, "")),
    # the subnet NSG then the NIC NSG, inbound: both must allow; the last Allow is reported
    ({"subnet": [ALLOW_HUB], "nic": [DENY_HUB]}, True, "10.0.0.4", ("deny", "deny-hub", "nic")),
    ({"subnet": [DENY_HUB], "nic": [ALLOW_HUB]}, True, "10.0.0.4", ("deny", "deny-hub", "subnet")),
    ({"subnet": [ALLOW_HUB], "nic": [ALLOW_HUB]}, True, "10.0.0.4", ("allow", "allow-hub", "nic")),
    ({"subnet": []}, True, "10.0.0.4", ("allow", "AllowVnetInBound", "subnet")),
    ({"subnet": []}, True, "20.0.0.4", ("deny", "DenyAllInBound", "subnet")),
    # outbound, the NIC NSG comes first
    ({"subnet": [{**DENY_HUB, "direction": "Outbound", "source": "*", "destination": "10.0.0.0/16"}],
      "nic": [{**ALLOW_HUB, "direction": "Outbound", "source": "*", "destination": "10.0.0.0/16"}]},
     False, "10.0.0.4", ("deny", "deny-hub", "subnet")),
    ({"nic": [{**DENY_HUB, "direction": "Outbound", "source": "*", "destination": "10.0.0.0/16"}]},
     False, "10.0.0.4", ("deny", "deny-hub", "nic")),
    # admin rules first: AlwaysAllow ends the evaluation, Deny wins, Allow hands over
    ({"admin": [{"name": "aa", "priority": 5, "access": "AlwaysAllow", "source": "10.0.0.0/16"}], "subnet": [DENY_HUB]},
     True, "10.0.0.4", ("allow", "aa", "admin")),
    ({"admin": [{"name": "ad", "priority": 5, "access": "Deny", "source": "*"}], "subnet": [ALLOW_HUB]},
     True, "10.0.0.4", ("deny", "ad", "admin")),
    ({"admin": [{"name": "al", "priority": 5, "access": "Allow", "source": "*"}], "subnet": [DENY_HUB]},
     True, "10.0.0.4", ("deny", "deny-hub", "subnet")),
    # lower priority number first, whatever the order written
    ({"admin": [{"name": "late-deny", "priority": 20, "access": "Deny", "source": "*"},
                {"name": "early-allow", "priority": 10, "access": "Allow", "source": "10.0.0.0/16"}]},
     True, "10.0.0.4", ("allow", None, "")),
    # address families: 0.0.0.0/0 holds no IPv6 address, ::/0 no IPv4 one, * both
    ({"subnet": [{**DENY_HUB, "source": "0.0.0.0/0"}]}, True, "fd00::4", ("allow", "AllowVnetInBound", "subnet")),
    ({"subnet": [{**DENY_HUB, "source": "::/0"}]}, True, "10.0.0.4", ("allow", "AllowVnetInBound", "subnet")),
    ({"subnet": [{**DENY_HUB, "source": "::/0"}]}, True, "fd00::4", ("deny", "deny-hub", "subnet")),
    ({"subnet": [{**DENY_HUB, "source": "*"}]}, True, "fd00::4", ("deny", "deny-hub", "subnet")),
    # ports and protocols: a Tcp 22 deny leaves UDP and other ports alone
    ({"subnet": [{**DENY_HUB, "protocol": "Tcp", "ports": "22"}]}, True, "10.0.0.4", ("deny", "deny-hub", "subnet")),
    ({"subnet": [{**DENY_HUB, "protocol": "Udp", "ports": "22"}]}, True, "10.0.0.4", ("allow", "AllowVnetInBound", "subnet")),
    ({"subnet": [{**DENY_HUB, "protocol": "Tcp", "ports": "443"}]}, True, "10.0.0.4", ("allow", "AllowVnetInBound", "subnet")),
    # a rule for some source ports only: the answer depends on the source port
    ({"subnet": [{**DENY_HUB, "source_ports": "1024-65535"}]}, True, "10.0.0.4", ("unknown", "deny-hub", "subnet")),
    # an application security group resolved through NIC membership (vm1-nic is in asg-web)
    ({"subnet": [{"name": "deny-to-web", "priority": 100, "access": "Deny", "source": "*", "destination_asgs": ["asg-web"]}]},
     True, "10.0.0.4", ("deny", "deny-to-web", "subnet")),
    ({"subnet": [{"name": "allow-from-web", "priority": 100, "source_asgs": ["asg-web"]}, DENY_HUB | {"priority": 200}]},
     True, "10.0.0.4", ("deny", "deny-hub", "subnet")),
])
def test_decide_follows_azures_order(estate, inbound, address, expected):
    snap = _filtering_estate(**estate)
    assert _verdict_at(snap, _nic(snap), address, inbound) == expected


def test_decide_unknown_where_asg_members_were_not_read():
    snap = _filtering_estate(subnet=[{"name": "deny-to-web", "priority": 100, "access": "Deny", "source": "*",
                                      "destination_asgs": ["asg-web"]}], coverage="partial")
    assert _verdict_at(snap, _nic(snap), "10.0.0.4") == ("unknown", "deny-to-web", "subnet")


def test_decide_vnet_and_subnet_targets():
    snap = _filtering_estate(admin=[{"name": "ad", "priority": 5, "access": "Deny", "source": "10.0.0.0/24"}],
                             subnet=[DENY_HUB])
    vnet = next(v for v in snap.virtual_networks if v.name == "spoke")
    # a VNet: admin rules only, the rest is handed to the subnets' NSGs
    assert _verdict_at(snap, vnet.id, "10.0.0.4") == ("deny", "ad", "admin")
    assert _verdict_at(snap, vnet.id, "10.0.1.4") == ("pass", None, "")
    assert _verdict_at(snap, vnet.subnets[0].id, "10.0.1.4") == ("deny", "deny-hub", "subnet")
    assert _verdict_at(snap, vnet.subnets[0].id, "10.0.1.4", layers=("admin",)) == ("pass", None, "")
    assert decide(snap, "/subscriptions/x/nothing", True, S(["10.0.0.0/8"]), "tcp", 22) == []
    # pieces split the remote space; an IPv4-only target leaves IPv6 remote addresses out
    pieces = decide(snap, vnet.subnets[0].id, True, S(["10.0.0.0/16", "fd00::/48"]), "tcp", 22)
    assert union([v.space for v in pieces]) == S(["10.0.0.0/16", "fd00::/48"])
    assert [v.rule.rule.name for v in pieces] == ["ad", "deny-hub", "AllowVnetInBound"]


def test_default_route_and_tag_stay_in_their_family():
    spec = copy.deepcopy(CHAIN)
    spec["vnets"]["spoke1"]["address_space"] = ["10.1.0.0/16", "fd00:1::/48"]
    snap = snapshot_from_spec(spec)
    k = {v.name: v.key for v in snap.virtual_networks}
    # a 0.0.0.0/0 user-defined route widens VirtualNetwork to every IPv4 address, and to no IPv6 one
    tag = vnet_tag_space(snap, k["spoke1"])
    assert tag.covers(S(["0.0.0.0/0", "fd00:1::/48"])) and not tag.overlaps(S(["2001:db8::/32"]))
    eff = {route.name: space for route, space in effective_routes(snap, snap.route_tables[0], k["spoke1"])}
    assert not eff["default"].overlaps(S(["::/0"]))


def test_nic_nsgs_are_read_from_either_side():
    snap = _filtering_estate(nic=[])
    nic = snap.network_interfaces[0]
    nsg = snap.index.nsgs[norm_id(nic.network_security_group_id)]
    assert nsg_of_nic(snap, nic) is nsg and nics_by_nsg(snap)[nsg.key] == [nic]
    assert nics_with_nsg_in(snap, nic.ip_configurations[0].subnet_id) == [nic]
    assert nic_label(nic) == "vm1-nic"
    # the NSG's own list of NICs counts as well (Azure shows both sides; an export may hold one)
    other = _filtering_estate(nic=[])
    other.network_interfaces[0].network_security_group_id = None
    other.network_security_groups[0].network_interface_ids.append(other.network_interfaces[0].id.upper())
    assert nsg_of_nic(other, other.network_interfaces[0]).name == "nsg-vm1"
    asg = norm_id(nic.ip_configurations[0].application_security_group_ids[0])
    assert asg_space(snap, snap.index.vnet_of_subnet[norm_id(nic.ip_configurations[0].subnet_id)].key)(asg) == S(
        ["10.1.1.4", "fd00:1:0:1::4"])


def test_asg_members_unknown_when_imported_files_hold_no_nics():
    snap = _filtering_estate()
    vnet = next(v for v in snap.virtual_networks if v.name == "spoke")
    snap.subscriptions[0].resource_types = ["microsoft.network/virtualnetworks"]  # an export of VNets only
    assert asg_space(snap, vnet.key) is None
