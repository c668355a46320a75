"""Values the rules read are checked at the input boundary: what each field takes, and that a bad
value anywhere in an export, a snapshot or a live collection names its resource and field."""

import copy

import pytest

from auditor.errors import InputError, InvalidValue
from auditor.input import validate as v
from auditor.input.builder import SnapshotBuilder
from auditor.input.estates import build_snapshot, realistic_spec
from auditor.model import snapshot as m

VALID = {
    v.prefix_problem: ["10.0.0.0/16", "10.0.0.4", "0.0.0.0/0", "10.1.2.3/16", "2001:db8::/32", "::/0", "fe80::1"],
    v.rule_prefix_problem: ["*", "Any", "VirtualNetwork", "Internet", "AzureLoadBalancer", "Storage.WestEurope",
                            "AzureCloud.eastus2euap", "10.0.0.0/8", "192.168.1.5", "2001:db8::/64"],
    v.route_prefix_problem: ["0.0.0.0/0", "10.2.0.0/16", "AppService", "AzureCloud.WestEurope", "2001:db8::/48"],
    v.port_problem: ["*", "0", "22", "65535", "1024-65535", "80,443", "80, 443-445", "0-0"],
    v.address_problem: [None, "10.0.1.4", "2001:db8::4"],
    v.priority_problem: [(False, 100), (False, 4096), (True, 65000), (True, 65500)],
    v.asn_problem: [None, 0, 65515, 4294967295],
}
INVALID = {
    v.prefix_problem: ["10.0.0.0/33", "banana", "", " 10.0.0.0/16", "10.0.0", "256.0.0.0/8", "fe80::/129", "*",
                       "VirtualNetwork", "10.0.0.0-10.0.0.9"],
    v.rule_prefix_problem: ["10.0.0.0/33", "", "10.0.0.256", "fe80::/129", "a b", "10.0.0.0/8,10.1.0.0/16", "**"],
    v.route_prefix_problem: ["10.0.0.0/33", "", "*", "300.0.0.0/8"],
    v.port_problem: ["", "70000", "-1", "2000-1000", "1-2-3", "Any", "http", "22,", "٣", "80-"],
    v.address_problem: ["", "10.0.1", "10.0.1.256", "10.0.1.0/24", "gateway"],
    v.priority_problem: [(False, 99), (False, 4097), (False, 65000), (True, 4096), (True, 65501), (False, -1)],
    v.asn_problem: [-1, 4294967296],
}


@pytest.mark.parametrize("judge, value", [(j, x) for j, xs in VALID.items() for x in xs])
def test_valid_values(judge, value):
    assert judge(value) is None


@pytest.mark.parametrize("judge, value", [(j, x) for j, xs in INVALID.items() for x in xs])
def test_invalid_values_say_why_in_one_line(judge, value):
    problem = judge(value)
    assert problem and "\n" not in problem
    shown = repr(value[1]) if isinstance(value, tuple) else repr(value)
    assert shown.strip("'") in problem


def test_repeated_spellings_are_parsed_once():
    v.port_problem.cache_clear()
    for _ in range(3):
        v.port_problem("443")
    assert v.port_problem.cache_info().hits == 2


# -- a bad value in any checked field of a snapshot ------------------------------------------------

BAD = {v.prefix_problem: "10.0.0.0/33", v.rule_prefix_problem: "10.0.0.0/33", v.port_problem: "70000",
       v.route_prefix_problem: "300.0.0.0/8", v.address_problem: "10.0.1.256", v.asn_problem: -1,
       v.nic_address_problem: "10.0.1.256"}


def _models(snap: m.Snapshot, kind: type) -> list:
    subnets = [s for vnet in snap.virtual_networks for s in vnet.subnets]
    peerings = [p for vnet in snap.virtual_networks for p in vnet.peerings]
    rules = [r for nsg in snap.network_security_groups for r in nsg.security_rules + nsg.default_security_rules]
    routes = [r for table in snap.route_tables for r in table.routes]
    admin_rules = [r for nm in snap.network_managers for c in nm.security_admin_configurations
                   for rc in c.rule_collections for r in rc.rules]
    nic_configs = [c for nic in snap.network_interfaces for c in nic.ip_configurations]
    return {m.VirtualNetwork: snap.virtual_networks, m.Subnet: subnets, m.Peering: peerings, m.SecurityRule: rules,
            m.Route: routes, m.LocalNetworkGateway: snap.local_network_gateways,
            m.VirtualNetworkGateway: snap.virtual_network_gateways, m.AdminRule: admin_rules,
            m.NicIpConfiguration: nic_configs}[kind]


FIELDS = [(kind, spec, field) for kind, checks in v.CHECKS.items() for spec in checks
          for field in (spec.fields if spec.many else spec.fields[-1:])]


@pytest.fixture(scope="module")
def estate() -> m.Snapshot:
    spec = realistic_spec()  # plus a NIC and a security admin rule, so every checked kind is there
    spec["nics"] = {"mgmt-nic": {"subscription": "connectivity", "vnet": "hub-weu", "subnet": "management", "ip": "10.0.1.10"}}
    spec["network_managers"] = {"avnm": {"subscription": "connectivity", "groups": {"ng": {"members": ["hub-weu"]}},
                                         "security_admin": {"sac": {"collections": {"rc": {"groups": ["ng"], "rules": [
                                             {"name": "deny-rdp", "priority": 10, "protocol": "Tcp", "ports": "3389"}]}}}}}}
    return build_snapshot(spec)


def test_a_valid_estate_passes(estate):
    v.check_snapshot(estate)
    for kind in v.CHECKS:
        assert _models(estate, kind), f"the estate has no {kind.__name__}: the tests below would be vacuous"


@pytest.mark.parametrize("position", ["first", "last"])
@pytest.mark.parametrize("kind, spec, field", FIELDS, ids=[f"{k.__name__}.{f}" for k, _, f in FIELDS])
def test_a_bad_value_in_any_field_names_the_resource_and_field(estate, kind, spec, field, position):
    snap = copy.deepcopy(estate)
    model = _models(snap, kind)[0 if position == "first" else -1]
    if spec.problem is v.priority_problem:
        setattr(model, field, 5000)
    elif spec.many:
        setattr(model, field, [*getattr(model, field), BAD[spec.problem]])
    else:
        setattr(model, field, BAD[spec.problem])
    with pytest.raises(InvalidValue) as raised:
        v.check_snapshot(snap)
    assert (raised.value.resource_id, raised.value.field) == (model.id, field)
    assert str(raised.value).startswith(f"{model.id}: {field}: ")


def test_a_default_rule_keeps_its_own_range(estate):
    snap = copy.deepcopy(estate)
    default = snap.network_security_groups[0].default_security_rules[0]
    default.priority = 100
    with pytest.raises(InvalidValue, match=r"100 is out of range for a default rule \(65000-65500\)"):
        v.check_snapshot(snap)


# -- exports and live collection -------------------------------------------------------------------

NSG = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg"


def _nsg(**rule) -> dict:
    props = {"priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
             "sourceAddressPrefix": "*", "destinationAddressPrefix": "*", "sourcePortRange": "*",
             "destinationPortRange": "22", **rule}
    return {"id": NSG, "type": "Microsoft.Network/networkSecurityGroups",
            "properties": {"securityRules": [{"id": f"{NSG}/securityRules/ssh", "properties": props}]}}


def test_snapshot_builder_refuses_a_bad_value_as_an_input_error():
    """What a collector sees: an InputError carrying the resource and the field."""
    with pytest.raises(InputError) as raised:
        SnapshotBuilder().add(_nsg(destinationPortRanges=["443", "70000"]), origin="arm")
    assert isinstance(raised.value, InvalidValue)
    assert raised.value.resource_id == f"{NSG}/securityRules/ssh"
    assert raised.value.field == "destination_port_ranges"


def test_azure_spellings_of_unset_values_are_accepted():
    """Azure writes "" for the singular form when the plural is used, and null next hops."""
    builder = SnapshotBuilder()
    builder.add(_nsg(sourceAddressPrefix="", sourceAddressPrefixes=["10.1.0.0/16", "10.2.0.0/16"],
                     destinationPortRange="", destinationPortRanges=["443", "8443-8444"]), origin="x")
    rule = builder.build().network_security_groups[0].security_rules[0]
    assert rule.source_address_prefixes == ["10.1.0.0/16", "10.2.0.0/16"]
    assert rule.destination_port_ranges == ["443", "8443-8444"]
