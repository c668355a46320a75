"""Offline import: every export shape Azure and `az` print, auto-detected and mixed."""

import copy
import json
from pathlib import Path

import pytest

from auditor.input.importer import load_snapshot
from auditor.errors import InputError
from auditor.model.ids import norm_id
from auditor.model.snapshot import RESOURCE_LISTS

EXPORTS = Path(__file__).parent / "data" / "exports"
API_EXAMPLES = Path(__file__).resolve().parent / "data" / "azure-api-examples"
CONN = "1f3c6a52-8d2e-4e0b-9a7c-0c2d5e6f7a81"
APPS = "7b9e2d14-3c5a-4f61-8e27-94b0c1d2e3f4"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
AZ_FILES = ["az_vnet_list.json", "az_nsg_list.json", "az_route_table_list.json",
            "az_vnet_gateway_list.json", "az_local_gateway_list.json", "az_vpn_connection_list.json"]
PS_FILES = ["ps_vnet_list.json", "ps_nsg_list.json", "ps_route_table_list.json",
            "ps_vnet_gateway_list.json", "ps_local_gateway_list.json", "ps_connection_list.json"]
PSRULE_FILES = [f"psrule_{CONN}.json", f"psrule_{APPS}.json"]


def body(name: str, code: str = "200") -> dict:
    """One response body of an official REST example."""
    return json.loads((API_EXAMPLES / name).read_text(encoding="utf-8"))["responses"][code]["body"]


def write(tmp_path: Path, name: str, doc) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def load_body(tmp_path: Path, name: str, code: str = "200"):
    return load_snapshot([write(tmp_path, Path(name).name, body(name, code))])


def contents(snapshot) -> dict:
    """The estate without scan metadata, for comparing imports of different shapes."""
    doc = json.loads(snapshot.to_json())
    doc.pop("metadata")
    return doc


# -- the official REST response bodies ------------------------------------------------------

def all_example_bodies():
    for path in sorted(API_EXAMPLES.glob("*/*.json")):
        for code, response in json.loads(path.read_text(encoding="utf-8"))["responses"].items():
            if isinstance(response, dict) and "body" in response:
                yield pytest.param(f"{path.parent.name}/{path.name}", code, id=f"{path.stem}-{code}")


def test_examples_are_present():
    assert len(list(all_example_bodies())) >= 25, f"expected Azure's REST examples in {API_EXAMPLES}"


@pytest.mark.parametrize("name,code", list(all_example_bodies()))
def test_every_official_response_body_imports_or_is_refused_with_reason(tmp_path, name, code):
    if name == "resourcegraph/ResourcesPropertiesQuery.json":  # a `summarize` result: rows are counts, not resources
        with pytest.raises(InputError, match=r"ResourcesPropertiesQuery.json: item 0: not a resource"):
            load_body(tmp_path, name, code)
        return
    snapshot = load_body(tmp_path, name, code)
    items = body(name, code)
    items = items if isinstance(items, list) else items.get("value", items.get("data", [items]))
    counted = sum(len(getattr(snapshot, attr)) for attr in RESOURCE_LISTS)
    counted += sum(snapshot.metadata.skipped_resource_types.values())
    listed = len(snapshot.subscriptions) if name.startswith("subscriptions/GetSubscriptions") else 0
    listed += len(snapshot.tenants) if name.startswith("subscriptions/GetTenants") else 0
    assert counted + listed == len(items), "every item is either imported, registered or counted as skipped"


def test_virtual_network_get_with_inline_subnets(tmp_path):
    snap = load_body(tmp_path, "network/VirtualNetworkGet.json")
    (vnet,) = snap.virtual_networks
    assert vnet.name == "test-vnet" and vnet.address_prefixes == ["10.0.0.0/16"]
    assert [(s.name, s.address_prefixes) for s in vnet.subnets] == [("subnet1", ["10.0.1.0/24"])]
    assert snap.subscriptions[0].subscription_id == "00000000-0000-0000-0000-000000000000"


def test_subnet_delegation(tmp_path):
    (vnet,) = load_body(tmp_path, "network/VirtualNetworkGetWithSubnetDelegation.json").virtual_networks
    delegations = [d.service_name for s in vnet.subnets for d in s.delegations]
    assert delegations == ["Microsoft.Provider/resourceType"]


def test_peering_list_without_type_attaches_to_its_vnet(tmp_path):
    """Peering list responses carry no `type`: it is inferred from the id."""
    peerings = write(tmp_path, "peerings.json", body("network/VirtualNetworkPeeringList.json"))
    vnet_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/peerTest/providers/Microsoft.Network/virtualNetworks/vnet1"
    vnet = write(tmp_path, "vnet.json", [{"id": vnet_id, "name": "vnet1", "type": "Microsoft.Network/virtualNetworks",
                                          "location": "westus", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}}])
    (v,) = load_snapshot([peerings, vnet]).virtual_networks
    assert [(p.name, p.peering_state, p.allow_forwarded_traffic) for p in v.peerings] == [("peer", "Initiated", True), ("peer", "Initiated", False)]
    assert v.peerings[0].remote_address_space == ["12.0.0.0/8"]
    assert v.peerings[0].remote_virtual_network_id.endswith("/virtualNetworks/vnet2")


def test_peering_without_its_vnet_is_counted_not_lost(tmp_path):
    snap = load_body(tmp_path, "network/VirtualNetworkPeeringList.json")
    assert snap.virtual_networks == []
    assert snap.metadata.skipped_resource_types == {"microsoft.network/virtualnetworks/virtualnetworkpeerings (parent not in input)": 2}


def test_subnet_peering_fields(tmp_path):
    peering = write(tmp_path, "peering.json", body("network/VirtualNetworkSubnetPeeringCreate.json"))
    vnet = write(tmp_path, "vnet.json", {"value": [{
        "id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/peerTest/providers/Microsoft.Network/virtualNetworks/vnet1",
        "name": "vnet1", "type": "Microsoft.Network/virtualNetworks", "properties": {"addressSpace": {"addressPrefixes": ["212.0.0.0/16"]}}}]})
    (p,) = load_snapshot([peering, vnet]).virtual_networks[0].peerings
    assert p.peer_complete_vnets is False and p.enable_only_ipv6_peering is False
    assert p.local_subnet_names == ["Subnet1", "Subnet4"] and p.remote_subnet_names == ["Subnet2"]
    assert p.local_address_space == ["212.0.0.0/16", "13.0.0.0/8", "2002:2002::/64"]
    assert p.remote_virtual_network_address_space == ["12.0.0.0/8", "2001:2001::/64"]


def test_nsg_rules_singular_and_plural_forms(tmp_path):
    (nsg,) = load_body(tmp_path, "network/NetworkSecurityGroupGet.json").network_security_groups
    assert nsg.default_security_rules and all(r.is_default for r in nsg.default_security_rules)
    for rule in nsg.security_rules + nsg.default_security_rules:
        assert rule.source_address_prefixes and rule.destination_port_ranges, rule.name


def test_default_security_rules_listed_separately_attach_to_their_nsg(tmp_path):
    nsg_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/testrg/providers/Microsoft.Network/networkSecurityGroups/nsg1"
    nsg = write(tmp_path, "nsg.json", [{"id": nsg_id, "name": "nsg1", "type": "Microsoft.Network/networkSecurityGroups", "properties": {}}])
    rules = write(tmp_path, "defaults.json", body("network/DefaultSecurityRuleList.json"))
    (n,) = load_snapshot([nsg, rules]).network_security_groups
    assert len(n.default_security_rules) == 6 and n.security_rules == []
    assert {(r.direction, r.priority, r.access) for r in n.default_security_rules} >= {("Inbound", 65500, "Deny"), ("Outbound", 65500, "Deny")}


def test_route_tables(tmp_path):
    (table,) = load_body(tmp_path, "network/RouteTableGet.json").route_tables
    assert table.routes and all(r.address_prefix and r.next_hop_type for r in table.routes)


def test_virtual_network_gateway_sits_in_its_vnet(tmp_path):
    (gw,) = load_body(tmp_path, "network/VirtualNetworkGatewayGet.json").virtual_network_gateways
    assert (gw.gateway_type, gw.vpn_type, gw.sku, gw.bgp_asn) == ("Vpn", "RouteBased", "VpnGw1", 65514)
    assert gw.virtual_network_id.endswith("/virtualNetworks/vnet1")


def test_local_network_gateways(tmp_path):
    gws = load_body(tmp_path, "network/LocalNetworkGatewayList.json").local_network_gateways
    assert [(g.name, g.address_prefixes) for g in gws] == [("localgw1", ["10.1.0.0/16"]), ("localgw2", ["10.2.0.0/16"])]


def test_resource_graph_rows_keep_network_types_and_count_the_rest(tmp_path):
    snap = load_body(tmp_path, "resourcegraph/ResourcesBasicQuery.json")
    assert [v.name for v in snap.virtual_networks] == ["myVnet"]
    assert [n.name for n in snap.network_interfaces] == ["myNetworkInterface"]
    assert snap.metadata.skipped_resource_types == {"microsoft.network/publicipaddresses": 1}


def test_resource_graph_page_with_skip_token_marks_subscription_partial(tmp_path):
    snap = load_body(tmp_path, "resourcegraph/ResourcesFirstPageQuery.json")
    (sub,) = snap.subscriptions
    assert sub.status.value == "partial"
    assert sub.errors[0].code == "Truncated" and "skip token" in sub.errors[0].message


def test_resource_graph_pages_covering_the_total_are_complete(tmp_path):
    rows = json.loads((EXPORTS / "graph_network.json").read_text())["data"]
    first = write(tmp_path, "page1.json", {"count": 5, "data": rows[:5], "skip_token": "ew0KICAiJGlkIjogIjEiLA0K", "total_records": len(rows)})
    second = write(tmp_path, "page2.json", {"count": len(rows) - 5, "data": rows[5:], "skip_token": None, "total_records": len(rows)})
    assert load_snapshot([first]).is_scanned(CONN) is False
    snap = load_snapshot([first, second])
    assert all(s.status.value == "complete" for s in snap.subscriptions)


def test_arm_list_with_next_link_marks_subscription_partial(tmp_path):
    doc = json.loads((EXPORTS / "arm_virtual_networks.json").read_text())
    doc["nextLink"] = f"https://management.azure.com/subscriptions/{CONN}/providers/Microsoft.Network/virtualNetworks?api-version=2024-05-01&$skiptoken=abc"
    snap = load_snapshot([write(tmp_path, "vnets-page1.json", doc)])
    assert {s.subscription_id: s.status.value for s in snap.subscriptions} == {CONN: "partial", APPS: "partial"}


def test_subscription_listing_registers_names_and_tenants(tmp_path):
    snap = load_body(tmp_path, "subscriptions/GetSubscriptions.json")
    assert [(s.subscription_id, s.display_name, s.tenant_id, s.state) for s in snap.subscriptions] == [
        ("291bba3f-e0a5-47bc-a099-3bdcb2a50a05", "Example Subscription", "31c75423-32d6-4322-88b7-c478bdde4858", "Enabled"),
        ("72ac930a-f34e-42d8-b06d-dc2a9e12ed71", "Example Subscription2", "2a0ff0de-96b2-4859-bb7c-a430d07a3e0c", "Enabled"),
    ]
    assert snap.metadata.skipped_resource_types == {}


def test_tenant_listing_registers_display_names(tmp_path):
    snap = load_body(tmp_path, "subscriptions/GetTenants.json")
    assert ("83abe5cd-bcc3-441a-bd86-e6a75360cecc", "Contoso Corp.", "auxteststagemanual.ccsctp.net") in [
        (t.tenant_id, t.display_name, t.default_domain) for t in snap.tenants]
    assert snap.subscriptions == [] and snap.metadata.skipped_resource_types == {}


# -- az CLI shape ---------------------------------------------------------------------

def test_az_cli_exports_import_every_setting():
    snap = load_snapshot([EXPORTS / f for f in AZ_FILES])
    idx = snap.index
    hub = next(v for v in snap.virtual_networks if v.name == "vnet-hub")
    spoke1 = next(v for v in snap.virtual_networks if v.name == "vnet-spoke1")
    spoke2 = next(v for v in snap.virtual_networks if v.name == "vnet-spoke2")
    assert hub.dns_servers == ["10.0.2.4", "10.0.2.5"] and hub.tags == {"env": "prod", "owner": "netops"}
    assert spoke2.address_prefixes == ["10.2.0.0/16", "fd00:db8:2::/48"] and spoke2.location == "northeurope"
    (hub_peering,) = hub.peerings
    assert (hub_peering.allow_gateway_transit, hub_peering.allow_forwarded_traffic, hub_peering.use_remote_gateways) == (True, True, False)
    assert (spoke1.peerings[0].use_remote_gateways, spoke2.peerings[0].peering_state) == (True, "Initiated")
    assert idx.is_peered(hub.id, spoke1.id) and not idx.is_peered(hub.id, spoke2.id)
    app = next(s for s in spoke1.subnets if s.name == "snet-app")
    assert idx.nsg_of_subnet(app.id).name == "nsg-app" and idx.route_table_of_subnet(app.id).name == "rt-spoke1"
    aci = next(s for s in spoke1.subnets if s.name == "snet-aci")
    assert [d.service_name for d in aci.delegations] == ["Microsoft.ContainerInstance/containerGroups"]
    shared = next(n for n in snap.network_security_groups if n.name == "nsg-shared")
    dns = next(r for r in shared.security_rules if r.name == "allow-dns-from-spokes")
    assert dns.source_address_prefixes == ["10.1.0.0/16", "10.2.0.0/16"] and dns.destination_port_ranges == ["53"]
    rdp = next(r for r in shared.security_rules if r.name == "deny-rdp-internet")
    assert (rdp.access, rdp.destination_port_ranges) == ("Deny", ["3389", "5985-5986"])
    assert len(shared.default_security_rules) == 6
    (table,) = snap.route_tables
    assert table.disable_bgp_route_propagation is True
    assert [(r.address_prefix, r.next_hop_type, r.next_hop_ip_address) for r in table.routes] == [
        ("0.0.0.0/0", "VirtualAppliance", "10.0.1.4"), ("192.168.0.0/16", "VirtualNetworkGateway", None)]
    (gw,) = snap.virtual_network_gateways
    assert (gw.sku, gw.enable_bgp, gw.bgp_asn, norm_id(gw.virtual_network_id)) == ("VpnGw1", True, 65515, hub.key)
    (lgw,) = snap.local_network_gateways
    assert (lgw.address_prefixes, lgw.gateway_ip_address, lgw.bgp_asn) == (["192.168.0.0/16", "172.16.10.0/24"], "203.0.113.10", 65010)
    (cn,) = snap.connections
    assert (cn.connection_type, cn.connection_status, cn.enable_bgp) == ("IPsec", "Connected", True)
    assert norm_id(cn.virtual_network_gateway1_id) == gw.key and norm_id(cn.local_network_gateway2_id) == lgw.key


def test_the_same_estate_in_az_rest_graph_powershell_and_psrule_shape_gives_the_same_snapshot():
    az = load_snapshot([EXPORTS / f for f in AZ_FILES])
    graph = load_snapshot([EXPORTS / "graph_network.json"])
    rest = load_snapshot([EXPORTS / "arm_virtual_networks.json", EXPORTS / "arm_network_security_groups.json",
                          *(EXPORTS / f for f in AZ_FILES[2:])])
    powershell = load_snapshot([EXPORTS / f for f in PS_FILES])
    psrule = load_snapshot([EXPORTS / f for f in PSRULE_FILES])
    psrule_legacy = load_snapshot([EXPORTS / "psrule_legacy_network.json"])
    assert contents(az)["virtual_networks"] == contents(graph)["virtual_networks"] == contents(rest)["virtual_networks"]
    assert contents(az)["network_security_groups"] == contents(graph)["network_security_groups"] == contents(rest)["network_security_groups"]
    for key in ("route_tables", "virtual_network_gateways", "local_network_gateways", "connections"):
        assert contents(az)[key] == contents(graph)[key], key
    assert contents(powershell) == contents(az), "PowerShell's names, lists and *Text copies read as az's"
    for other in (psrule, psrule_legacy):
        for key in ("virtual_networks", "network_security_groups", "route_tables", "virtual_network_gateways",
                    "local_network_gateways", "connections"):
            assert contents(other)[key] == contents(az)[key], key
    assert graph.metadata.skipped_resource_types == {"microsoft.network/publicipaddresses": 1}
    assert psrule.metadata.skipped_resource_types == {"microsoft.network/publicipaddresses": 1}
    assert {s.tenant_id for s in psrule.subscriptions} == {TENANT}


def test_graph_rows_carry_tenant_ids():
    snap = load_snapshot([EXPORTS / "graph_rows.json"])  # a bare array of Resource Graph rows
    assert {s.subscription_id: s.tenant_id for s in snap.subscriptions} == {CONN: TENANT, APPS: TENANT}
    assert [t.tenant_id for t in snap.tenants] == [TENANT]
    assert len(snap.virtual_networks) == 3


def test_az_account_list_names_subscriptions():
    snap = load_snapshot([EXPORTS / "az_account_list.json", EXPORTS / "az_vnet_list.json"])
    assert {s.subscription_id: (s.display_name, s.tenant_id) for s in snap.subscriptions} == {
        CONN: ("Connectivity", TENANT), APPS: ("Applications", TENANT)}
    assert snap.metadata.skipped_resource_types == {} and snap.metadata.cloud == "AzureCloud"


def test_graph_resource_containers_register_subscriptions(tmp_path):
    row = {"id": f"/subscriptions/{CONN}", "name": "Connectivity", "type": "microsoft.resources/subscriptions",
           "tenantId": TENANT, "subscriptionId": CONN, "properties": {"state": "Enabled"}}
    snap = load_snapshot([write(tmp_path, "containers.json", {"data": [row], "count": 1, "skip_token": None, "total_records": 1})])
    assert [(s.display_name, s.state, s.tenant_id) for s in snap.subscriptions] == [("Connectivity", "Enabled", TENANT)]


def test_inline_and_separate_children_merge():
    """Peerings inline in `az network vnet list` and again from `az network vnet peering list`; subnets likewise."""
    inline = load_snapshot([EXPORTS / "az_vnet_list.json"])
    both = load_snapshot([EXPORTS / "az_vnet_list.json", EXPORTS / "az_vnet_peering_list_hub.json",
                          EXPORTS / "arm_peerings_hub.json", EXPORTS / "az_vnet_subnet_list_spoke1.json"])
    assert contents(both) == contents(inline)


def test_children_listed_separately_fill_an_empty_vnet(tmp_path):
    vnets = json.loads((EXPORTS / "az_vnet_list.json").read_text())
    for vnet in vnets:
        vnet["virtualNetworkPeerings"], vnet["subnets"] = [], []
    bare = write(tmp_path, "vnets.json", vnets)
    snap = load_snapshot([bare, EXPORTS / "az_vnet_peering_list_hub.json", EXPORTS / "az_vnet_subnet_list_spoke1.json"])
    hub = next(v for v in snap.virtual_networks if v.name == "vnet-hub")
    spoke1 = next(v for v in snap.virtual_networks if v.name == "vnet-spoke1")
    assert [p.name for p in hub.peerings] == ["hub-to-spoke1"]
    assert sorted(s.name for s in spoke1.subnets) == ["snet-aci", "snet-app"]
    # the association seen only from the NSG side still reaches the subnet
    snap = load_snapshot([bare, EXPORTS / "az_vnet_subnet_list_spoke1.json", EXPORTS / "az_nsg_list.json"])
    app = next(s for v in snap.virtual_networks for s in v.subnets if s.name == "snet-app")
    assert snap.index.nsg_of_subnet(app.id).name == "nsg-app"


def test_type_names_match_case_insensitively(tmp_path):
    vnets = json.loads((EXPORTS / "az_vnet_list.json").read_text())
    vnets[0]["type"] = "MICROSOFT.NETWORK/VIRTUALNETWORKS"
    vnets[1]["type"] = "microsoft.network/virtualnetworks"
    vnets[0]["virtualNetworkPeerings"][0]["type"] = "microsoft.network/virtualNetworks/VirtualNetworkPeerings"
    snap = load_snapshot([write(tmp_path, "vnets.json", vnets)])
    assert len(snap.virtual_networks) == 3 and snap.metadata.skipped_resource_types == {}
    assert contents(snap) == contents(load_snapshot([EXPORTS / "az_vnet_list.json"]))


def test_type_inferred_from_id_when_missing(tmp_path):
    vnets = json.loads((EXPORTS / "arm_virtual_networks.json").read_text())["value"]
    for vnet in vnets:
        del vnet["type"]
        for child in vnet["properties"]["subnets"] + vnet["properties"]["virtualNetworkPeerings"]:
            child.pop("type", None)
    snap = load_snapshot([write(tmp_path, "untyped.json", {"value": vnets})])
    assert contents(snap) == contents(load_snapshot([EXPORTS / "arm_virtual_networks.json"]))


def test_unknown_types_are_skipped_and_counted(tmp_path):
    nics = body("network/NetworkInterfaceList.json")["value"]
    doc = [*json.loads((EXPORTS / "az_vnet_list.json").read_text()), *nics,
           {"id": f"/subscriptions/{CONN}/resourceGroups/rg-hub/providers/Microsoft.Storage/storageAccounts/st1",
            "type": "Microsoft.Storage/storageAccounts", "name": "st1"}]
    snap = load_snapshot([write(tmp_path, "mixed.json", doc)])
    assert len(snap.virtual_networks) == 3 and len(snap.network_interfaces) == 2
    assert snap.metadata.skipped_resource_types == {"microsoft.storage/storageaccounts": 1}


def test_subscription_ids_come_from_resource_ids():
    snap = load_snapshot([EXPORTS / "az_nsg_list.json"])
    assert [s.subscription_id for s in snap.subscriptions] == sorted([CONN, APPS])
    assert all(s.status.value == "complete" for s in snap.subscriptions)


def test_a_single_resource_object_is_accepted(tmp_path):
    snap = load_body(tmp_path, "network/RouteTableGet.json")
    assert len(snap.route_tables) == 1


def test_empty_array_is_an_empty_export(tmp_path):
    snap = load_snapshot([write(tmp_path, "none.json", [])])
    assert snap.virtual_networks == [] and snap.subscriptions == []


# -- mixing snapshots and exports ---------------------------------------------------------------

def test_snapshot_and_exports_merge(tmp_path):
    vnets = load_snapshot([EXPORTS / "az_vnet_list.json", EXPORTS / "az_account_list.json"])
    snapshot_file = tmp_path / "vnets.snapshot.json"
    vnets.write(snapshot_file)
    merged = load_snapshot([snapshot_file, EXPORTS / "az_nsg_list.json", EXPORTS / "az_vnet_gateway_list.json"])
    assert len(merged.virtual_networks) == 3 and len(merged.network_security_groups) == 2
    assert len(merged.virtual_network_gateways) == 1
    assert {s.display_name for s in merged.subscriptions} == {"Connectivity", "Applications"}
    # the snapshot and the exports it came from, together: the same resources, no conflict
    again = load_snapshot([snapshot_file, *(EXPORTS / f for f in AZ_FILES)])
    assert contents(again)["virtual_networks"] == contents(merged)["virtual_networks"]


def test_merged_snapshots_keep_the_worst_coverage(tmp_path):
    vnets = load_snapshot([EXPORTS / "az_vnet_list.json"])
    doc = json.loads(vnets.to_json())
    doc["subscriptions"][0].update(status="failed", errors=[{"scope": "virtualNetworks", "code": "AuthorizationFailed", "message": "no access"}])
    failed = write(tmp_path, "failed.json", doc)
    snap = load_snapshot([failed, EXPORTS / "az_nsg_list.json"])
    assert snap.subscriptions[0].status.value == "failed"
    assert snap.subscriptions[0].errors[0].code == "AuthorizationFailed"


def test_same_resource_twice_with_equal_content_is_kept_once(tmp_path):
    copy_file = write(tmp_path, "again.json", json.loads((EXPORTS / "az_vnet_list.json").read_text()))
    snap = load_snapshot([EXPORTS / "az_vnet_list.json", copy_file])
    assert len(snap.virtual_networks) == 3


def test_ids_differing_only_in_case_are_the_same_resource(tmp_path):
    rows = copy.deepcopy(json.loads((EXPORTS / "graph_rows.json").read_text()))
    for row in rows:  # Resource Graph and ARM disagree on casing now and then
        row["id"] = row["id"].replace("/resourceGroups/rg-hub/", "/resourcegroups/RG-HUB/")
        for peering in row["properties"]["virtualNetworkPeerings"]:
            peering["properties"]["remoteVirtualNetwork"]["id"] = peering["properties"]["remoteVirtualNetwork"]["id"].upper()
    snap = load_snapshot([EXPORTS / "az_vnet_list.json", write(tmp_path, "graph.json", rows)])
    assert len(snap.virtual_networks) == 3
    reversed_order = load_snapshot([write(tmp_path, "graph.json", rows), EXPORTS / "az_vnet_list.json"])
    assert contents(reversed_order) == contents(snap), "which copy is kept does not depend on input order"


# -- Az PowerShell and PSRule for Azure ---------------------------------------------------------

def test_a_single_powershell_object_is_accepted():
    """ConvertTo-Json of one object prints the object, not an array of one."""
    assert isinstance(json.loads((EXPORTS / "ps_vnet_gateway_list.json").read_text()), dict)
    (gw,) = load_snapshot([EXPORTS / "ps_vnet_gateway_list.json"]).virtual_network_gateways
    assert (gw.sku, gw.bgp_asn, gw.enable_bgp) == ("VpnGw1", 65515, True)
    assert gw.virtual_network_id.endswith("/virtualNetworks/vnet-hub")


def test_powershell_utf16_file_reads_like_utf8(tmp_path):
    """Windows PowerShell 5's `>` writes UTF-16 with a byte order mark."""
    utf16 = tmp_path / "vnets.json"
    utf16.write_bytes((EXPORTS / "ps_vnet_list.json").read_text(encoding="utf-8").encode("utf-16"))
    assert utf16.read_bytes()[:2] == b"\xff\xfe"
    assert contents(load_snapshot([utf16])) == contents(load_snapshot([EXPORTS / "ps_vnet_list.json"]))


def test_powershell_text_copies_are_ignored(tmp_path):
    vnets = json.loads((EXPORTS / "ps_vnet_list.json").read_text())
    assert "SubnetsText" in vnets[0] and "AddressSpaceText" in vnets[0]
    for vnet in vnets:  # a Text copy that disagreed, or was not even JSON, would change nothing
        vnet["AddressSpaceText"] = json.dumps({"AddressPrefixes": ["not-a-prefix"]})
        vnet["SubnetsText"] = "[ {"
        vnet["AddressSpace"]["AddressPrefixesText"] = "garbage"
    snap = load_snapshot([write(tmp_path, "vnets.json", vnets)])
    assert contents(snap) == contents(load_snapshot([EXPORTS / "ps_vnet_list.json"]))


def test_powershell_list_valued_address_prefix_keeps_every_prefix(tmp_path):
    vnets = json.loads((EXPORTS / "ps_vnet_list.json").read_text())
    spoke2 = next(v for v in vnets if v["Name"] == "vnet-spoke2")
    spoke2["Subnets"][0]["AddressPrefix"] = ["10.2.1.0/24", "fd00:db8:2:1::/64"]
    snap = load_snapshot([write(tmp_path, "vnets.json", vnets)])
    data = next(s for v in snap.virtual_networks for s in v.subnets if s.name == "snet-data")
    assert data.address_prefixes == ["10.2.1.0/24", "fd00:db8:2:1::/64"]
    nsgs = load_snapshot([EXPORTS / "ps_nsg_list.json"]).network_security_groups
    dns = next(r for n in nsgs for r in n.security_rules if r.name == "allow-dns-from-spokes")
    assert dns.source_address_prefixes == ["10.1.0.0/16", "10.2.0.0/16"]
    assert dns.destination_port_ranges == ["53"]


@pytest.mark.parametrize("change,message", [
    (lambda n: n["SecurityRules"][0].update(Priority="high"),
     r"nsgs.json: item 0 \(/subscriptions/.*/nsg-shared\): securityRules\[0\].priority: "
     r"expected int or null, got 'high'$"),
    (lambda n: n["SecurityRules"][0].update(DestinationPortRange=["70000"]),
     r"nsgs.json: item 0 \(.*/securityRules/allow-dns-from-spokes\): "
     r"destination_port_ranges: '70000' is not a port"),
    (lambda n: n.update(Id=""), r"nsgs.json: item 0: resource 'nsg-shared' of type .* has no id$"),
])
def test_a_malformed_powershell_item_is_one_line(tmp_path, change, message):
    nsgs = json.loads((EXPORTS / "ps_nsg_list.json").read_text())
    change(nsgs[0])
    with pytest.raises(InputError, match=message) as error:
        load_snapshot([write(tmp_path, "nsgs.json", nsgs)])
    assert "\n" not in str(error.value)


def test_powershell_children_listed_separately_merge(tmp_path):
    """Get-AzVirtualNetworkPeering and Get-AzVirtualNetworkSubnetConfig print children without a Type:
    it is inferred from the id."""
    vnets = json.loads((EXPORTS / "ps_vnet_list.json").read_text())
    subnets = write(tmp_path, "subnets.json", next(v for v in vnets if v["Name"] == "vnet-spoke1")["Subnets"])
    inline = load_snapshot([EXPORTS / "ps_vnet_list.json"])
    both = load_snapshot([EXPORTS / "ps_vnet_list.json", EXPORTS / "ps_vnet_peering_list_hub.json", subnets])
    assert contents(both) == contents(inline)
    for vnet in vnets:
        vnet["Subnets"], vnet["VirtualNetworkPeerings"] = [], []
    bare = load_snapshot([write(tmp_path, "vnets.json", vnets), EXPORTS / "ps_vnet_peering_list_hub.json", subnets])
    hub = next(v for v in bare.virtual_networks if v.name == "vnet-hub")
    spoke1 = next(v for v in bare.virtual_networks if v.name == "vnet-spoke1")
    assert [p.name for p in hub.peerings] == ["hub-to-spoke1"]
    assert sorted(s.name for s in spoke1.subnets) == ["snet-aci", "snet-app"]


def test_get_azsubscription_names_subscriptions():
    snap = load_snapshot([EXPORTS / "ps_subscription_list.json", EXPORTS / "ps_vnet_list.json"])
    assert {s.subscription_id: (s.display_name, s.tenant_id, s.state) for s in snap.subscriptions} == {
        CONN: ("Connectivity", TENANT, "Enabled"), APPS: ("Applications", TENANT, "Enabled")}
    assert snap.metadata.cloud == "AzureCloud" and snap.metadata.skipped_resource_types == {}


def test_get_azcontext_registers_its_subscription(tmp_path):
    context = {
        "Account": {"Id": "alice@contoso.com", "Type": "User", "Tenants": [TENANT]},
        "Environment": {"Name": "AzureUSGovernment", "Type": "Built-in"},
        "Subscription": {"Id": CONN, "Name": "Connectivity", "State": "Enabled", "SubscriptionId": CONN,
                         "TenantId": TENANT, "HomeTenantId": TENANT, "ManagedByTenantIds": []},
        "Tenant": {"Id": TENANT, "TenantId": TENANT},
        "TokenCache": None, "VersionProfile": None, "ExtendedProperties": {},
        "Name": f"Connectivity ({CONN}) - {TENANT} - alice@contoso.com",
    }
    snap = load_snapshot([write(tmp_path, "context.json", context)])
    assert [(s.subscription_id, s.display_name, s.tenant_id) for s in snap.subscriptions] == [
        (CONN, "Connectivity", TENANT)]
    assert snap.metadata.cloud == "AzureUSGovernment"


def test_psrule_sub_resources_are_read_and_counted(tmp_path):
    """Export-AzRuleData puts sub-resources under `resources`; those of other types are counted as skipped."""
    rows = json.loads((EXPORTS / f"psrule_{CONN}.json").read_text())
    hub_id = f"/subscriptions/{CONN}/resourceGroups/rg-hub/providers/Microsoft.Network/virtualHubs/vhub-we"
    rows.append({"id": hub_id, "name": "vhub-we", "type": "Microsoft.Network/virtualHubs",
                 "location": "westeurope", "properties": {"addressPrefix": "10.100.0.0/23"},
                 "tenantId": TENANT, "resourceGroupName": "rg-hub", "subscriptionId": CONN, "resources": [
                     {"id": f"{hub_id}/hubRouteTables/defaultRouteTable", "name": "defaultRouteTable",
                      "type": "Microsoft.Network/virtualHubs/hubRouteTables", "properties": {"routes": []}}]})
    vnet = next(r for r in rows if r["name"] == "vnet-hub")
    peerings = vnet["properties"].pop("virtualNetworkPeerings")
    vnet["resources"] = peerings  # a child of a type vnet-audit reads attaches to its parent
    snap = load_snapshot([write(tmp_path, f"{CONN}.json", rows), EXPORTS / f"psrule_{APPS}.json"])
    inline = load_snapshot([EXPORTS / f for f in PSRULE_FILES])
    assert contents(snap)["virtual_networks"] == contents(inline)["virtual_networks"]
    assert snap.metadata.skipped_resource_types == {
        "microsoft.network/publicipaddresses": 1, "microsoft.network/virtualhubs/hubroutetables": 1}
    assert [h.address_prefix for h in snap.virtual_hubs] == ["10.100.0.0/23"]


def test_powershell_names_map_generically_to_rest(tmp_path):
    """Every type converts by the same rules (a NIC here): at most a table entry per type."""
    from auditor.input.powershell import to_rest

    rg = f"/subscriptions/{APPS}/resourceGroups/rg-spoke1/providers"
    nic_id = f"{rg}/Microsoft.Network/networkInterfaces/nic-app1"
    nic = {"VirtualMachine": {"Id": f"{rg}/Microsoft.Compute/virtualMachines/app1"},
           "IpConfigurations": [{"PrivateIpAddress": "10.1.1.4", "PrivateIpAllocationMethod": "Dynamic",
                                 "Subnet": {"Id": f"{nic_id}/x"},
                                 "ApplicationSecurityGroups": [{"Id": "asg"}],
                                 "Name": "ipconfig1", "Id": f"{nic_id}/ipConfigurations/ipconfig1"}],
           "NetworkSecurityGroup": {"Id": "nsg"}, "EnableIPForwarding": False, "IpConfigurationsText": "[]",
           "ResourceGroupName": "rg-spoke1", "Tag": {"env": "prod"}, "TagsTable": "...", "Name": "nic-app1",
           "Id": nic_id}
    rest = to_rest(nic)
    config = rest["ipConfigurations"][0]
    assert (config["privateIPAddress"], config["privateIPAllocationMethod"]) == ("10.1.1.4", "Dynamic")
    assert config["applicationSecurityGroups"] == [{"id": "asg"}]
    assert (rest["enableIPForwarding"], rest["resourceGroup"]) == (False, "rg-spoke1")
    assert rest["tags"] == {"env": "prod"}
    assert "ipConfigurationsText" not in rest and "tagsTable" not in rest
    assert rest["virtualMachine"]["id"].endswith("/virtualMachines/app1") and rest["id"] == nic_id
    (loaded,) = load_snapshot([write(tmp_path, "nics.json", nic)]).network_interfaces
    assert loaded.ip_configurations[0].private_ip_address == "10.1.1.4"
    assert loaded.ip_configurations[0].application_security_group_ids == ["asg"]
    assert (loaded.network_security_group_id, loaded.tags) == ("nsg", {"env": "prod"})
    # the other shapes are never converted
    for doc in (json.loads((EXPORTS / "az_vnet_list.json").read_text())[0],
                json.loads((EXPORTS / "graph_rows.json").read_text())[0]):
        assert to_rest(doc) is None
