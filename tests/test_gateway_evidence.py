"""analysis.gateways.gateway_evidence and the index's absence checks: what the input shows, what it cannot."""

from auditor.analysis.gateways import gateway_evidence
from auditor.input.synthetic import snapshot_from_spec

SUB = "77dcd1b0-0b1a-5e5b-8d0e-5ad5d2f4c7b4"
NAMED_GW = (f"/subscriptions/{SUB}/resourceGroups/rg-hub/providers/Microsoft.Network/"
            "virtualNetworkGateways/hub-gw/ipConfigurations/default")


def snapshot(imported, **vnets):
    spec = {"subscriptions": {"prod": {"id": SUB, "imported": imported}},
            "vnets": {name: {"subscription": "prod", "address_space": f"10.{i}.0.0/16", **body}
                      for i, (name, body) in enumerate(vnets.items())}}
    return snapshot_from_spec(spec)


def test_a_file_of_vnets_covers_only_vnets():
    snap = snapshot(["virtualNetworks"], hub={"subnets": {"app": "10.0.1.0/24"}},
                    branch={"gateway": {"type": "Vpn"}})
    assert snap.subscriptions[0].resource_types == ["microsoft.network/virtualnetworks"]
    evidence = gateway_evidence(snap, snap.virtual_networks[1].id)
    assert not evidence.has_gateway and not evidence.gateways_listed and not evidence.no_gateway


def test_a_file_with_gateways_makes_absence_known():
    snap = snapshot(True, hub={"subnets": {"app": "10.0.1.0/24"}}, branch={"gateway": {"type": "Vpn"}})
    hub = next(v for v in snap.virtual_networks if v.name == "hub")
    evidence = gateway_evidence(snap, hub.id)
    assert evidence.no_gateway and evidence.no_route_server  # subnets listed, none a RouteServerSubnet


def test_gateway_named_by_gateway_subnet_has_unknown_type():
    gateway_subnet = {"prefix": "10.0.255.0/27", "ip_configurations": NAMED_GW}
    snap = snapshot(True, hub={"subnets": {"GatewaySubnet": gateway_subnet}},
                    branch={"gateway": {"type": "ExpressRoute"}})
    hub = next(v for v in snap.virtual_networks if v.name == "hub")
    evidence = gateway_evidence(snap, hub.id)
    assert evidence.has_gateway and not evidence.no_gateway and not evidence.expressroute_only
    assert evidence.gateway_names == ["hub-gw (type unknown: not in the input)"]
    branch = next(v for v in snap.virtual_networks if v.name == "branch")
    assert gateway_evidence(snap, branch.id).expressroute_only


def test_route_server_subnet_names_the_route_server_without_virtual_hubs_in_the_input():
    spec = {"subscriptions": {"prod": {"imported": ["virtualNetworks"]}},
            "vnets": {"hub": {"subscription": "prod", "address_space": "10.0.0.0/16",
                              "subnets": {"RouteServerSubnet": "10.0.254.0/27"}}},
            "route_servers": {"rs-hub": {"vnet": "hub"}}}
    snap = snapshot_from_spec(spec)
    assert snap.virtual_hubs == []
    evidence = gateway_evidence(snap, snap.virtual_networks[0].id)
    assert [i.rsplit("/", 1)[-1] for i in evidence.route_server_ids] == ["rs-hub"]


def test_route_server_subnet_without_owners_leaves_the_route_server_unknown():
    snap = snapshot(["virtualNetworks"], hub={"subnets": {"RouteServerSubnet": "10.0.254.0/27"}})
    evidence = gateway_evidence(snap, snap.virtual_networks[0].id)
    assert not evidence.route_server_ids and not evidence.no_route_server


def test_a_vnet_an_nsg_points_into_exists():
    spec = {"subscriptions": {"prod": {"imported": True}},
            "vnets": {"other": {"subscription": "prod", "address_space": "10.9.0.0/16"},
                      "spoke": {"subscription": "prod", "address_space": "10.1.0.0/16", "in_input": False,
                                "subnets": {"app": {"prefix": "10.1.1.0/24", "nsg": "nsg-app"}}},
                      "gone": {"subscription": "prod", "address_space": "10.2.0.0/16", "in_input": False}},
            "nsgs": {"nsg-app": {"subscription": "prod", "rules": []}}}
    snap = snapshot_from_spec(spec)
    assert [v.name for v in snap.virtual_networks] == ["other"]
    spoke_id = snap.network_security_groups[0].subnet_ids[0].rsplit("/subnets/", 1)[0]
    assert not snap.index.vnet_known_absent(spoke_id)
    assert snap.index.vnet_known_absent(spoke_id.replace("/spoke", "/gone"))
