"""ARM resources in REST, Resource Graph and `az` shapes -> snapshot models; the builder's merge rules."""

import pytest

from auditor.input import normalize as n
from auditor.errors import InputError
from auditor.input.builder import SnapshotBuilder
from auditor.input.shapes import props, resource_from
from auditor.model.snapshot import CollectionError, CoverageStatus

SUB = "1f3c6a52-8d2e-4e0b-9a7c-0c2d5e6f7a81"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
VNET = f"/subscriptions/{SUB}/resourceGroups/rg-hub/providers/Microsoft.Network/virtualNetworks/vnet-hub"
NSG = f"/subscriptions/{SUB}/resourceGroups/rg-hub/providers/Microsoft.Network/networkSecurityGroups/nsg-1"


def rest_vnet(**props) -> dict:
    return {"id": VNET, "name": "vnet-hub", "type": "Microsoft.Network/virtualNetworks", "location": "westeurope",
            "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}, **props}}


def rest_peering(state="Connected", remote="vnet-spoke", typed=True) -> dict:
    peering = {"id": f"{VNET}/virtualNetworkPeerings/to-{remote}", "name": f"to-{remote}",
               "properties": {"peeringState": state, "remoteVirtualNetwork": {"id": VNET.replace("vnet-hub", remote)},
                              "allowVirtualNetworkAccess": True}}
    if typed:
        peering["type"] = "Microsoft.Network/virtualNetworks/virtualNetworkPeerings"
    return peering


@pytest.mark.parametrize("resource,expected", [
    ({"id": VNET, "type": "Microsoft.Network/virtualNetworks"}, n.VNET),
    ({"id": VNET, "type": "MICROSOFT.NETWORK/VIRTUALNETWORKS"}, n.VNET),
    ({"id": VNET}, n.VNET),
    ({"id": f"{VNET}/virtualNetworkPeerings/p1"}, n.PEERING),
    ({"id": f"{VNET}/subnets/s1"}, n.SUBNET),
    ({"id": f"{NSG}/defaultSecurityRules/DenyAllInBound"}, n.DEFAULT_SECURITY_RULE),
    ({"id": f"/subscriptions/{SUB}/resourcegroups/rg/providers/microsoft.network/routetables/rt/routes/r"}, n.ROUTE),
    ({"id": f"/subscriptions/{SUB}"}, ""),
])
def test_resource_type_declared_or_from_id(resource, expected):
    assert n.resource_type(resource) == expected


def test_props_reads_rest_and_flattened_shapes():
    nested = resource_from({"properties": {"peeringState": "Connected"}, "peeringState": "Initiated"})
    assert props(nested).peeringState == "Connected"
    assert props(resource_from({"peeringState": "Initiated"})).peeringState == "Initiated"


RULE_PROPS = {"protocol": "Tcp", "access": "Allow", "priority": 100, "direction": "Inbound", "sourcePortRange": "*",
              "sourceAddressPrefix": "", "sourceAddressPrefixes": ["10.1.0.0/16", "10.2.0.0/16"],
              "destinationAddressPrefix": "VirtualNetwork", "destinationAddressPrefixes": [],
              "destinationPortRange": None, "destinationPortRanges": ["443", "8443-8444"]}


def test_security_rule_in_rest_and_az_shape_normalize_alike():
    rid = f"{NSG}/securityRules/web"
    rest = n.security_rule({"id": rid, "name": "web", "properties": RULE_PROPS}, False)
    az = n.security_rule({"id": rid, "name": "web", "resourceGroup": "rg-hub", "etag": 'W/"1"',
                          "type": "Microsoft.Network/networkSecurityGroups/securityRules", **RULE_PROPS}, False)
    assert rest == az
    assert rest.source_address_prefixes == ["10.1.0.0/16", "10.2.0.0/16"]
    assert rest.destination_address_prefixes == ["VirtualNetwork"]
    assert rest.source_port_ranges == ["*"] and rest.destination_port_ranges == ["443", "8443-8444"]


def test_singular_value_repeated_in_plural_list_is_kept_once():
    rule = n.security_rule({"id": f"{NSG}/securityRules/r", "properties": {
        "priority": 100, "sourceAddressPrefix": "10.0.0.0/8", "sourceAddressPrefixes": ["10.0.0.0/8", "192.168.0.0/16"]}}, False)
    assert rule.source_address_prefixes == ["10.0.0.0/8", "192.168.0.0/16"]


def test_security_rule_without_priority_is_an_input_error():
    with pytest.raises(InputError, match="no numeric priority"):
        n.security_rule({"id": f"{NSG}/securityRules/x", "properties": {"priority": None}}, False)


def test_peering_flags_default_like_azure():
    p = n.peering({"id": f"{VNET}/virtualNetworkPeerings/p", "properties": {"remoteVirtualNetwork": {"id": "/x"}}})
    assert (p.allow_virtual_network_access, p.allow_forwarded_traffic, p.use_remote_gateways) == (True, False, False)
    assert n.peering({"id": f"{VNET}/virtualNetworkPeerings/p", "allowForwardedTraffic": "True"}).allow_forwarded_traffic is True


def test_null_settings_as_az_prints_them():
    vnet = n.virtual_network({"id": VNET, "type": "Microsoft.Network/virtualNetworks", "addressSpace": None, "dhcpOptions": None,
                              "subnets": None, "virtualNetworkPeerings": None, "tags": None})
    assert (vnet.address_prefixes, vnet.dns_servers, vnet.subnets, vnet.tags) == ([], [], [], {})


def test_resource_group_comes_from_the_id_not_graphs_lower_case_column():
    graph_row = {**rest_vnet(), "resourceGroup": "rg-hub".upper().lower(), "type": "microsoft.network/virtualnetworks"}
    graph_row["id"] = VNET.replace("rg-hub", "RG-Hub")
    assert n.virtual_network(graph_row).resource_group == "RG-Hub"


@pytest.mark.parametrize("entry,kind", [
    ({"id": f"/subscriptions/{SUB}", "subscriptionId": SUB, "tenantId": TENANT, "displayName": "Conn", "state": "Enabled"}, "subscription"),
    ({"id": SUB, "name": "Conn", "tenantId": TENANT, "homeTenantId": TENANT, "isDefault": True, "cloudName": "AzureCloud", "state": "Enabled"}, "subscription"),
    ({"id": f"/subscriptions/{SUB}", "type": "microsoft.resources/subscriptions", "name": "Conn", "tenantId": TENANT}, "subscription"),
    ({"id": f"/tenants/{TENANT}", "tenantId": TENANT, "displayName": "Contoso"}, "tenant"),
    (rest_vnet(), None),
    ({"id": f"/subscriptions/{SUB}/resourceGroups/rg", "type": "microsoft.resources/subscriptions/resourcegroups"}, None),
])
def test_account_entries_are_recognised(entry, kind):
    assert n.account_entry(entry) == kind


# -- the builder -------------------------------------------------------------------------------------

def test_equal_copies_with_different_id_casing_are_one_resource_whatever_the_order():
    upper = rest_vnet()
    upper["id"] = VNET.upper()
    snapshots = []
    for order in ([rest_vnet(), upper], [upper, rest_vnet()]):
        builder = SnapshotBuilder()
        for i, raw in enumerate(order):
            builder.add(raw, origin=f"file{i}.json")
        snapshots.append(builder.build())
    assert [len(s.virtual_networks) for s in snapshots] == [1, 1]
    assert snapshots[0].virtual_networks == snapshots[1].virtual_networks


def test_conflict_names_the_other_file_and_the_field():
    builder = SnapshotBuilder()
    builder.add(rest_vnet(), origin="a.json")
    changed = rest_vnet(addressSpace={"addressPrefixes": ["10.9.0.0/16"]})
    with pytest.raises(InputError) as error:
        builder.add(changed, origin="b.json")
    assert "duplicate id" in str(error.value) and "address_prefixes" in str(error.value) and "also in a.json" in str(error.value)


def test_conflict_shows_scalar_values():
    builder = SnapshotBuilder()
    builder.add(rest_peering("Connected"), origin="a.json")
    with pytest.raises(InputError, match=r"peering_state 'Initiated' vs 'Connected'"):
        builder.add(rest_peering("Initiated"), origin="b.json")


def test_inline_and_listed_child_conflict_names_both_files():
    builder = SnapshotBuilder()
    builder.add(rest_vnet(virtualNetworkPeerings=[rest_peering("Connected")]), origin="vnets.json")
    builder.add(rest_peering("Disconnected", typed=False), origin="peerings.json")
    with pytest.raises(InputError) as error:
        builder.build()
    message = str(error.value)
    assert message.startswith("peerings.json: ") and "also in vnets.json" in message and "peering_state" in message


def test_listed_children_attach_and_equal_inline_copies_merge():
    builder = SnapshotBuilder()
    builder.add(rest_vnet(virtualNetworkPeerings=[rest_peering(remote="a")]), origin="vnets.json")
    builder.add(rest_peering(remote="a", typed=False), origin="peerings.json")
    builder.add(rest_peering(remote="b", typed=False), origin="peerings.json")
    builder.add({"id": f"{VNET}/subnets/s1", "properties": {"addressPrefix": "10.0.1.0/24"}}, origin="subnets.json")
    (vnet,) = builder.build().virtual_networks
    assert [p.name for p in vnet.peerings] == ["to-a", "to-b"]
    assert [s.address_prefixes for s in vnet.subnets] == [["10.0.1.0/24"]]


def test_unknown_and_orphaned_resources_are_counted():
    builder = SnapshotBuilder()
    builder.add({"id": f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1",
                 "type": "Microsoft.Compute/virtualMachines"}, origin="x.json")
    builder.add(rest_peering(), origin="x.json")  # its VNet is not in the input
    skipped = builder.build().metadata.skipped_resource_types
    assert skipped == {"microsoft.compute/virtualmachines": 1,
                       "microsoft.network/virtualnetworks/virtualnetworkpeerings (parent not in input)": 1}


@pytest.mark.parametrize("raw,problem", [
    ([1], "expected a resource object"),
    ({"type": "Microsoft.Network/virtualNetworks", "name": "v"}, "has no id"),
    ({"id": "  ", "name": "v"}, "has no id"),
    ({"count": 3, "osType": "Linux"}, "not a resource"),
])
def test_bad_items(raw, problem):
    with pytest.raises(InputError, match=problem):
        SnapshotBuilder().add(raw, origin="x.json")


def test_subscriptions_keep_the_worst_status_and_every_error():
    builder = SnapshotBuilder()
    first = CollectionError(scope="routeTables", code="429", message="throttled")
    second = CollectionError(scope="subscription", code="AuthorizationFailed", message="no access")
    builder.note_subscription(SUB.upper(), TENANT, display_name="Conn", status=CoverageStatus.partial, errors=[first])
    builder.note_subscription(SUB, status=CoverageStatus.complete, errors=[first])
    builder.note_subscription(SUB, status=CoverageStatus.failed, errors=[second])
    (sub,) = builder.build().subscriptions
    assert (sub.subscription_id, sub.status, sub.errors, sub.display_name, sub.tenant_id) == (
        SUB, CoverageStatus.failed, [first, second], "Conn", TENANT)


def test_listings_register_names_tenants_and_cloud():
    builder = SnapshotBuilder()
    builder.add({"id": SUB, "name": "Connectivity", "tenantId": TENANT.upper(), "homeTenantId": TENANT, "isDefault": True,
                 "cloudName": "AzureUSGovernment", "state": "Enabled"}, origin="accounts.json")
    builder.add({"id": f"/tenants/{TENANT}", "tenantId": TENANT, "displayName": "Contoso", "defaultDomain": "contoso.com"}, origin="t.json")
    builder.add(rest_vnet(), origin="vnets.json")
    snap = builder.build()
    assert [(s.subscription_id, s.display_name, s.tenant_id) for s in snap.subscriptions] == [(SUB, "Connectivity", TENANT)]
    assert [(t.tenant_id, t.display_name, t.default_domain) for t in snap.tenants] == [(TENANT, "Contoso", "contoso.com")]
    assert snap.metadata.cloud == "AzureUSGovernment" and snap.metadata.skipped_resource_types == {}


def test_dns_server_order_is_content_but_child_order_is_not():
    builder = SnapshotBuilder()
    builder.add(rest_vnet(dhcpOptions={"dnsServers": ["10.0.0.4", "10.0.0.5"]},
                          subnets=[{"id": f"{VNET}/subnets/a"}, {"id": f"{VNET}/subnets/b"}]), origin="a.json")
    builder.add(rest_vnet(dhcpOptions={"dnsServers": ["10.0.0.4", "10.0.0.5"]},
                          subnets=[{"id": f"{VNET}/subnets/b"}, {"id": f"{VNET}/subnets/a"}]), origin="b.json")
    with pytest.raises(InputError, match="dns_servers"):
        builder.add(rest_vnet(dhcpOptions={"dnsServers": ["10.0.0.5", "10.0.0.4"]}, subnets=[{"id": f"{VNET}/subnets/a"}, {"id": f"{VNET}/subnets/b"}]), origin="c.json")
