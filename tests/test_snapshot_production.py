"""Snapshot 1.1: NICs, ASGs, virtual WANs and hubs (Route Server), network managers, coverage per type."""

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from auditor.input.importer import load_snapshot
from auditor.input.synthetic import snapshot_from_spec
from auditor.input.synthetic_hubs import managed_hub_vnet_id
from auditor.model.snapshot import SCHEMA_VERSION, Snapshot

DATA = Path(__file__).resolve().parent / "data"

SPEC = {
    "subscriptions": {"prod": {}, "conn": {}},
    "vnets": {
        "hub": {"subscription": "prod", "address_space": "10.0.0.0/16",
                "subnets": {"GatewaySubnet": "10.0.255.0/27", "RouteServerSubnet": "10.0.254.0/27"}, "gateway": {"type": "Vpn"}},
        "spoke1": {"subscription": "prod", "address_space": ["10.1.0.0/16", "fd00:1::/48"],
                   "subnets": {"app": {"prefix": ["10.1.1.0/24", "fd00:1:0:1::/64"]}}},
        "spoke2": {"subscription": "prod", "address_space": "10.2.0.0/16", "subnets": {"app": "10.2.1.0/24"}},
    },
    "asgs": {"asg-web": {"subscription": "prod"}},
    "nics": {"vm1-nic": {"subscription": "prod", "vnet": "spoke1", "subnet": "app", "ip": ["10.1.1.4", "fd00:1:0:1::4"],
                         "nsg": "nsg-vm1", "asgs": ["asg-web"]}},
    "nsgs": {"nsg-vm1": {"subscription": "prod", "rules": []}},
    "virtual_wans": {"vwan": {"subscription": "conn"}},
    "virtual_hubs": {"vhub-we": {"subscription": "conn", "virtual_wan": "vwan", "address_prefix": "10.100.0.0/23",
                                 "firewall": True, "routing_intent": ["PrivateTraffic"], "connections": {"spoke2": {}}}},
    "route_servers": {"rs-hub": {"vnet": "hub"}},
    "network_managers": {"avnm": {
        "subscription": "conn", "groups": {"ng": {"members": ["spoke1", "spoke2"]}, "ng-policy": {}},
        "connectivity": {"cc-mesh": {"topology": "Mesh", "groups": ["ng"]}},
        "security_admin": {"sac": {"collections": {"rc": {"groups": ["ng"], "rules": [
            {"name": "deny-ssh", "priority": 10, "protocol": "Tcp", "source": "Internet", "ports": "22"}]}}}}}},
}


@pytest.fixture(scope="module")
def snap() -> Snapshot:
    return snapshot_from_spec(SPEC)


def test_new_types_round_trip_losslessly(snap):
    again = Snapshot.from_json(snap.to_json())
    assert again == snap and again.to_json() == snap.to_json()
    assert snap.schema_version == SCHEMA_VERSION == "1.1"


def test_children_at_any_depth_attach_to_their_parents(snap):
    (nm,) = snap.network_managers
    rule = nm.security_admin_configurations[0].rule_collections[0].rules[0]
    assert (rule.name, rule.access, rule.priority, rule.destination_port_ranges) == ("deny-ssh", "Deny", 10, ["22"])
    assert rule.source_address_prefixes == ["Internet"]
    (mesh,) = nm.connectivity_configurations
    assert mesh.connectivity_topology == "Mesh" and mesh.applies_to_groups[0].group_connectivity == "DirectlyConnected"
    assert mesh.deployment_status is None, "deployment per region cannot be read with GET: unknown"
    spokes = {v.name: v.key for v in snap.virtual_networks}
    assert snap.index.static_members(mesh.applies_to_groups[0].network_group_id) == {spokes["spoke1"], spokes["spoke2"]}


def test_route_server_and_virtual_wan_hub_are_told_apart(snap):
    hubs = {h.name: h for h in snap.virtual_hubs}
    assert hubs["rs-hub"].is_route_server and not hubs["vhub-we"].is_route_server
    hub_vnet = next(v for v in snap.virtual_networks if v.name == "hub")
    assert snap.index.route_servers_in(hub_vnet.id.upper()) == [hubs["rs-hub"]]
    owners = {s.name: s.ip_configuration_owner_ids for s in hub_vnet.subnets}
    assert owners["RouteServerSubnet"] == [hubs["rs-hub"].id]
    assert owners["GatewaySubnet"][0].endswith("/virtualNetworkGateways/hub-gw")


def test_hub_connection_shows_on_the_spoke_as_azure_shows_it(snap):
    spoke2 = next(v for v in snap.virtual_networks if v.name == "spoke2")
    (peering,) = spoke2.peerings
    assert peering.name.startswith("RemoteVnetToHubPeering_")
    assert peering.remote_virtual_network_id == managed_hub_vnet_id("vhub-we")
    (hub, connection), = snap.index.hub_connections_of(spoke2.id)
    assert hub.name == "vhub-we" and connection.allow_hub_to_remote_vnet_transit


def test_nic_and_nsg_associations_agree(snap):
    (nic,) = snap.network_interfaces
    assert [c.private_ip_address_version for c in nic.ip_configurations] == ["IPv4", "IPv6"]
    assert nic.ip_configurations[0].application_security_group_ids[0].endswith("/asg-web")
    (nsg,) = snap.network_security_groups
    assert nsg.network_interface_ids == [nic.id]
    subnet = next(s for v in snap.virtual_networks for s in v.subnets if v.name == "spoke1")
    assert [n.name for n, _ in snap.index.nic_configs_in(subnet.id)] == ["vm1-nic", "vm1-nic"]


def test_a_nic_listing_names_its_nsg_when_only_the_nsg_lists_the_nic(tmp_path):
    nsg = {"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/networkSecurityGroups/n",
           "name": "n", "type": "Microsoft.Network/networkSecurityGroups",
           "properties": {"networkInterfaces": [{"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/networkInterfaces/nic"}]}}
    nic = {"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/networkInterfaces/NIC", "name": "nic",
           "type": "Microsoft.Network/networkInterfaces", "properties": {}}
    path = tmp_path / "two.json"
    path.write_text(json.dumps([nsg, nic]))
    (loaded,) = load_snapshot([path]).network_interfaces
    assert loaded.network_security_group_id == nsg["id"]


def test_imported_files_cover_only_the_types_they_hold(tmp_path, snap):
    body = json.loads((DATA / "azure-api-examples/network/NetworkInterfaceList.json").read_text())["responses"]["200"]["body"]
    path = tmp_path / "nics.json"
    path.write_text(json.dumps(body))
    (sub,) = load_snapshot([path]).subscriptions
    assert sub.resource_types == ["microsoft.network/networkinterfaces"]
    assert sub.covers("Microsoft.Network/networkInterfaces") and not sub.covers("microsoft.network/virtualnetworkgateways")
    assert all(s.resource_types is None and s.covers("anything") for s in snap.subscriptions), "a collection lists every type"


def test_a_snapshot_file_keeps_its_coverage_when_merged_with_an_export(tmp_path, snap):
    whole = tmp_path / "snap.json"
    snap.write(whole)
    body = json.loads((DATA / "azure-api-examples/network/NetworkInterfaceList.json").read_text())["responses"]["200"]["body"]
    nics = tmp_path / "nics.json"
    nics.write_text(json.dumps(body))
    merged = load_snapshot([whole, nics])
    by_id = {s.subscription_id: s for s in merged.subscriptions}
    assert all(by_id[s.subscription_id].resource_types is None for s in snap.subscriptions)
    assert by_id["00000000-0000-0000-0000-000000000000"].resource_types == ["microsoft.network/networkinterfaces"]
    assert len(merged.virtual_hubs) == 2 and len(merged.network_managers) == 1


def test_a_1_0_snapshot_reads_in_1_1_with_the_new_lists_empty():
    """A snapshot written by 1.0 (committed as it was written) loads; the types 1.1 added are empty, not guessed."""
    path = DATA / "snapshots" / "snapshot-1.0.json"
    assert json.loads(path.read_text())["schema_version"] == "1.0"
    snap = load_snapshot([path])
    assert len(snap.virtual_networks) > 5
    assert snap.network_interfaces == [] and snap.virtual_hubs == [] and snap.network_managers == []
    assert all(s.resource_types is None for s in snap.subscriptions)


def test_schema_validates_the_new_types(snap):
    schema = Snapshot.json_schema()
    errors = list(Draft202012Validator(schema).iter_errors(json.loads(snap.to_json())))
    assert errors == []
    broken = json.loads(snap.to_json())
    broken["network_managers"][0]["network_groups"][0]["static_members"][0]["resource_id"] = 7
    assert list(Draft202012Validator(schema).iter_errors(broken)), "the schema checks nested children"


@pytest.mark.parametrize("name", ["RouteServer_virtualHubGet.azps-recording", "NetworkInterfaceGet_withASG.azcli-recording"])
def test_recorded_responses_import(name):
    snap = load_snapshot([DATA / "recordings" / f"{name}.json"])
    if snap.virtual_hubs:
        (rs,) = snap.virtual_hubs
        assert rs.is_route_server and rs.virtual_router_ips == ["10.0.0.5", "10.0.0.4"] and rs.virtual_wan_id is None
    else:
        (nic,) = snap.network_interfaces
        assert all(c.application_security_group_ids for c in nic.ip_configurations)


def test_official_avnm_examples_decode_avnm_string_booleans(tmp_path):
    body = json.loads((DATA / "azure-api-examples/network/NetworkManagerConnectivityConfigurationList.json").read_text())
    manager = {"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/networkManagers/testNetworkManager",
               "name": "testNetworkManager", "type": "Microsoft.Network/networkManagers", "properties": {}}
    items = body["responses"]["200"]["body"]["value"]
    for item in items:  # the example's ids lack the leading slash and misspell segments: give them a real parent
        item["id"] = f"{manager['id']}/connectivityConfigurations/{item['name']}"
    path = tmp_path / "cc.json"
    path.write_text(json.dumps([manager, *items]))
    (nm,) = load_snapshot([path]).network_managers
    (config,) = nm.connectivity_configurations
    raw = items[0]["properties"]
    assert config.is_global == (raw["isGlobal"] == "True")
    assert config.delete_existing_peering == (raw["deleteExistingPeering"] == "True")
    assert [g.use_hub_gateway for g in config.applies_to_groups] == [g["useHubGateway"] == "True" for g in raw["appliesToGroups"]]
