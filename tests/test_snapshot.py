"""The snapshot contract: lossless round-trip, deterministic bytes, a published JSON Schema, id normalization."""

import json
import random
import re
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from auditor import cli
from auditor.input.importer import load_snapshot
from auditor.input.synthetic import snapshot_from_spec
from auditor.model.snapshot import SCHEMA_VERSION, Snapshot, to_builtins

EXPORTS = Path(__file__).parent / "data" / "exports"
AZ_FILES = ["az_vnet_list.json", "az_nsg_list.json", "az_route_table_list.json",
            "az_vnet_gateway_list.json", "az_local_gateway_list.json", "az_vpn_connection_list.json", "az_account_list.json"]

SPEC = {
    "tenants": {"contoso": {"name": "Contoso"}, "fabrikam": {"name": "Fabrikam"}},
    "subscriptions": {
        "conn": {"tenant": "contoso", "name": "Connectivity"},
        "apps": {"tenant": "fabrikam", "name": "Apps", "coverage": "partial", "error": "429 on routeTables", "error_code": "TooManyRequests"},
    },
    "vnets": {
        "hub": {"subscription": "conn", "address_space": ["10.0.0.0/16"], "dns_servers": ["10.0.0.4"],
                "subnets": {"GatewaySubnet": "10.0.255.0/27", "app": {"prefix": "10.0.1.0/24", "nsg": "nsg-app", "route_table": "rt"}},
                "gateway": {"type": "Vpn", "sku": "VpnGw2", "bgp": True}},
        "spoke": {"subscription": "apps", "address_space": ["10.1.0.0/16", "fd00:1::/48"], "subnets": {"web": "10.1.0.0/24"}},
    },
    "peerings": [{"from": "hub", "to": "spoke", "allow_gateway_transit": True},
                 {"from": "spoke", "to": "hub", "use_remote_gateways": True, "allow_forwarded_traffic": True}],
    "nsgs": {"nsg-app": {"subscription": "conn", "rules": [{"name": "ssh", "priority": 100, "source": ["10.1.0.0/16", "10.2.0.0/16"], "ports": ["22", "2222"]}]}},
    "route_tables": {"rt": {"subscription": "conn", "routes": [{"name": "default", "prefix": "0.0.0.0/0", "next_hop": "VirtualAppliance", "ip": "10.0.1.4"}]}},
    "local_gateways": {"onprem": {"subscription": "conn", "prefixes": ["192.168.0.0/16"]}},
    "connections": {"hub-onprem": {"subscription": "conn", "gateway": "hub", "local_gateway": "onprem"}},
}


def without_scan_time(text: str) -> str:
    return re.sub(r'"scanned_at": "[^"]*"', '"scanned_at": "-"', text)


def shuffled(value, rng: random.Random):
    """The same export with every list in another order."""
    if isinstance(value, dict):
        return {k: shuffled(v, rng) for k, v in value.items()}
    if isinstance(value, list):
        items = [shuffled(v, rng) for v in value]
        if all(isinstance(v, dict) for v in items):  # resources and children; address prefixes keep their order
            rng.shuffle(items)
        return items
    return value


@pytest.fixture(scope="module")
def estate() -> Snapshot:
    return load_snapshot([EXPORTS / f for f in AZ_FILES])


# -- round trip ------------------------------------------------------------------------------------

@pytest.mark.parametrize("source", ["exports", "synthetic"])
def test_json_round_trip_is_lossless(estate, source):
    snap = estate if source == "exports" else snapshot_from_spec(SPEC)
    text = snap.to_json()
    again = Snapshot.from_json(text)
    assert again.to_json() == text
    assert again == snap
    assert to_builtins(again) == to_builtins(snap)


def test_round_trip_keeps_coverage_errors():
    snap = snapshot_from_spec(SPEC)
    (apps,) = [s for s in snap.subscriptions if s.display_name == "Apps"]
    again = Snapshot.from_json(snap.to_json())
    (apps_again,) = [s for s in again.subscriptions if s.display_name == "Apps"]
    assert apps_again.status.value == "partial" and apps_again.errors == apps.errors
    assert apps_again.errors[0].code == "TooManyRequests"


def test_importing_a_snapshot_alone_reproduces_it_byte_for_byte(tmp_path, estate):
    first = tmp_path / "first.json"
    estate.write(first)
    assert load_snapshot([first]).to_json() == first.read_text(encoding="utf-8")


# -- determinism -----------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shuffled_exports_give_identical_bytes(tmp_path, estate, seed):
    rng = random.Random(seed)
    names = list(AZ_FILES)
    rng.shuffle(names)  # file order too
    for name in names:
        doc = json.loads((EXPORTS / name).read_text(encoding="utf-8"))
        (tmp_path / name).write_text(json.dumps(shuffled(doc, rng)), encoding="utf-8")
    again = load_snapshot([tmp_path / n for n in names])
    again.metadata.inputs = estate.metadata.inputs
    assert without_scan_time(again.to_json()) == without_scan_time(estate.to_json())


def test_order_follows_normalized_ids_not_their_casing(tmp_path):
    base = "/subscriptions/1f3c6a52-8d2e-4e0b-9a7c-0c2d5e6f7a81/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/"
    vnets = [{"id": base + name, "type": "Microsoft.Network/virtualNetworks", "properties": {"addressSpace": {"addressPrefixes": [prefix]}}}
             for name, prefix in (("Gamma", "10.3.0.0/16"), ("alpha", "10.1.0.0/16"), ("BETA", "10.2.0.0/16"))]
    path = tmp_path / "vnets.json"
    path.write_text(json.dumps(vnets))
    assert [v.name for v in load_snapshot([path]).virtual_networks] == ["alpha", "BETA", "Gamma"]


def test_associations_seen_from_one_side_are_recorded_on_both():
    rg = "/subscriptions/1f3c6a52-8d2e-4e0b-9a7c-0c2d5e6f7a81/resourceGroups/rg/providers/Microsoft.Network"
    vnet = f"{rg}/virtualNetworks/v"
    nsg = {"id": f"{rg}/networkSecurityGroups/nsg", "name": "nsg",
           # b listed twice in two spellings (the last is kept), c only in the subnet's own reference
           "subnet_ids": [f"{vnet}/subnets/B", f"{vnet}/subnets/a", f"{vnet}/subnets/b/"]}
    subnets = [{"id": f"{vnet}/subnets/{n}", "name": n.lower(), "address_prefixes": []} for n in ("a", "b", "c")]
    subnets[2]["network_security_group_id"] = nsg["id"].upper()
    snapshot = Snapshot.from_json(json.dumps({
        "virtual_networks": [{"id": vnet, "name": "v", "subnets": subnets}], "network_security_groups": [nsg]}))
    (loaded,) = snapshot.network_security_groups
    assert loaded.subnet_ids == [f"{vnet}/subnets/a", f"{vnet}/subnets/b/", f"{vnet}/subnets/c"]
    assert [s.network_security_group_id for s in snapshot.virtual_networks[0].subnets] == [
        nsg["id"], nsg["id"], nsg["id"].upper()]


def test_nsg_rules_sorted_by_direction_and_priority(estate):
    for nsg in estate.network_security_groups:
        keys = [(r.direction.lower(), r.priority) for r in nsg.default_security_rules]
        assert keys == sorted(keys)


def test_synthetic_estate_is_deterministic():
    assert without_scan_time(snapshot_from_spec(SPEC).to_json()) == without_scan_time(snapshot_from_spec(SPEC).to_json())


# -- schema ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def published_schema() -> dict:
    argv = sys.argv
    sys.argv = ["vnet-audit", "schema"]
    try:
        from contextlib import redirect_stdout
        from io import StringIO

        buffer = StringIO()
        with redirect_stdout(buffer), pytest.raises(SystemExit) as done:
            cli.main()
        assert done.value.code in (0, None)
    finally:
        sys.argv = argv
    return json.loads(buffer.getvalue())


def test_schema_is_valid_draft_2020_12(published_schema):
    Draft202012Validator.check_schema(published_schema)
    assert published_schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "schema_version" in published_schema["properties"]
    assert SCHEMA_VERSION in published_schema["$id"]


@pytest.mark.parametrize("source", ["exports", "synthetic", "official-examples"])
def test_schema_validates_real_snapshots(published_schema, estate, source, tmp_path):
    if source == "exports":
        snap = estate
    elif source == "synthetic":
        snap = snapshot_from_spec(SPEC)
    else:
        examples = Path(__file__).resolve().parent / "data" / "azure-api-examples" / "network"
        paths = []
        for name in ("VirtualNetworkGet", "NetworkSecurityGroupGet", "RouteTableList", "VirtualNetworkGatewayList", "LocalNetworkGatewayList"):
            paths.append(tmp_path / f"{name}.json")
            paths[-1].write_text(json.dumps(json.loads((examples / f"{name}.json").read_text())["responses"]["200"]["body"]))
        snap = load_snapshot(paths)
    doc = json.loads(snap.to_json())
    assert doc["schema_version"] == SCHEMA_VERSION
    errors = list(Draft202012Validator(published_schema).iter_errors(doc))
    assert errors == []


def test_schema_rejects_a_broken_snapshot(published_schema, estate):
    doc = json.loads(estate.to_json())
    doc["virtual_networks"][0]["peerings"][0]["allow_forwarded_traffic"] = "sometimes"
    doc["subscriptions"][0]["status"] = "mostly"
    messages = [e.message for e in Draft202012Validator(published_schema).iter_errors(doc)]
    assert any("sometimes" in m for m in messages) and any("mostly" in m for m in messages)


# -- ids -------------------------------------------------------------------------------------------

def test_peering_remote_id_differing_in_case_resolves(tmp_path):
    vnets = json.loads((EXPORTS / "az_vnet_list.json").read_text())
    hub, spoke1 = vnets[0], vnets[1]
    spoke1["virtualNetworkPeerings"][0]["remoteVirtualNetwork"]["id"] = hub["id"].upper()
    hub["virtualNetworkPeerings"][0]["remoteVirtualNetwork"]["id"] = spoke1["id"].lower()
    path = tmp_path / "vnets.json"
    path.write_text(json.dumps(vnets))
    snap = load_snapshot([path])
    idx = snap.index
    hub_peering = next(p for v in snap.virtual_networks for p in v.peerings if p.name == "hub-to-spoke1")
    assert idx.remote_vnet(hub_peering).name == "vnet-spoke1"
    assert idx.reverse_peering(hub_peering).name == "spoke1-to-hub"
    assert idx.is_peered(hub["id"], spoke1["id"].swapcase())
    assert hub_peering.remote_virtual_network_id == spoke1["id"].lower(), "the original casing is kept for display"
    from rules.peering.PEER001 import rule

    assert [f.resource_name for f in rule.run(snap)] == ["spoke2-to-hub"]


def test_lookups_ignore_case_and_trailing_slash(estate):
    hub = next(v for v in estate.virtual_networks if v.name == "vnet-hub")
    idx = estate.index
    assert idx.vnets[hub.key] is hub
    subnet = next(s for s in hub.subnets if s.name == "snet-shared")
    assert idx.nsg_of_subnet(subnet.id.upper() + "/").name == "nsg-shared"
    assert estate.is_scanned(hub.subscription_id.upper())


# -- versions --------------------------------------------------------------------------------------

def test_a_newer_minor_version_loads_without_the_fields_it_added(tmp_path):
    """A 1.x reader given a 1.(x+1) snapshot: new fields, at any depth, are dropped; the rest is kept."""
    doc = json.loads(snapshot_from_spec(SPEC).to_json())
    major, minor = SCHEMA_VERSION.split(".")
    doc["schema_version"] = f"{major}.{int(minor) + 1}"
    doc["firewall_policies"] = [{"id": "/subscriptions/x/policy"}]
    doc["virtual_networks"][0]["encryption"] = {"enabled": True}
    doc["virtual_networks"][0]["peerings"][0]["new_flag"] = True
    path = tmp_path / "newer.json"
    path.write_text(json.dumps(doc))
    again = load_snapshot([path])
    expected = snapshot_from_spec(SPEC)
    assert again.virtual_networks == expected.virtual_networks
    assert again.schema_version == SCHEMA_VERSION, "what is left is a snapshot of this version"


def test_the_same_minor_version_refuses_an_unknown_field(tmp_path):
    from auditor.errors import InputError

    doc = json.loads(snapshot_from_spec(SPEC).to_json())
    doc["virtual_networks"][0]["peerings"][0]["new_flag"] = True
    path = tmp_path / "typo.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=r"virtual_networks\[0\]\.peerings\[0\]: object contains unknown field new_flag"):
        load_snapshot([path])
