"""Virtual WAN hub connections are recognised on the spoke side, as real exports show them."""

import pytest

from auditor.analysis.hubs import hub_of, is_hub_connection, is_managed_hub_vnet
from auditor.input.synthetic import snapshot_from_spec
from auditor.model.snapshot import Peering

# the shape of real exports (a landing zone's parameters; aztfexport output): hub name truncated in HV_
REAL = ("/subscriptions/63a13922-0000-4000-8000-000000000001/resourceGroups/RG_bcgov-managed-lz-live-hub-canadacentral_"
        "33e8a688-1b5e-4d1e-9f0a-7d2c4b8e6a10/providers/Microsoft.Network/virtualNetworks/"
        "HV_bcgov-managed-lz-liv_b48f56c5-2c1d-4e8f-9a7b-3d6e5f4c2b10")
SPOKE = "/subscriptions/9f0a032d-0000-4000-8000-000000000002/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/spoke"


def peering(name: str, remote: str) -> Peering:
    return Peering(id=f"{SPOKE}/virtualNetworkPeerings/{name}", name=name, remote_virtual_network_id=remote)


@pytest.mark.parametrize("name,remote,expected", [
    ("RemoteVnetToHubPeering_2943d591-6a3c-4f5e-8b7d-1c2e3f4a5b6c", REAL, True),
    ("renamed-by-nobody", REAL, True),  # the managed VNet alone says it
    ("RemoteVnetToHubPeering_2943d591-6a3c-4f5e-8b7d-1c2e3f4a5b6c", SPOKE.replace("spoke", "x"), True),
    ("spoke-to-hub", SPOKE.replace("spoke", "hub"), False),
    ("spoke-to-hv", SPOKE.replace("spoke", "HV_hub_not-a-guid"), False),
])
def test_hub_connection_is_recognised_by_name_or_managed_vnet(name, remote, expected):
    assert is_hub_connection(peering(name, remote)) is expected


def test_managed_vnet_needs_both_the_group_and_the_vnet_shape():
    assert is_managed_hub_vnet(REAL)
    assert not is_managed_hub_vnet(REAL.replace("/RG_", "/rg-"))
    assert not is_managed_hub_vnet(None)


def test_a_spoke_on_two_hubs_is_matched_by_the_hub_name_in_the_managed_group():
    spec = {
        "subscriptions": {"prod": {}},
        "vnets": {"spoke": {"subscription": "prod", "address_space": "10.1.0.0/16"}},
        "virtual_wans": {"vwan": {"subscription": "prod"}},
        "virtual_hubs": {
            "hub-we": {"subscription": "prod", "virtual_wan": "vwan", "address_prefix": "10.100.0.0/23", "connections": {"spoke": {}}},
            "hub-ne": {"subscription": "prod", "virtual_wan": "vwan", "address_prefix": "10.101.0.0/23", "connections": {"spoke": {}}},
        },
    }
    snap = snapshot_from_spec(spec)
    (spoke,) = snap.virtual_networks
    found = sorted(hub_of(snap, p)[0].name for p in spoke.peerings)
    assert found == ["hub-ne", "hub-we"]


@pytest.mark.parametrize("wan_type,sku,keep_wan,expected", [
    ("Standard", "Standard", True, True),
    ("Basic", "Basic", True, False),
    ("Standard", "Basic", True, True),  # the WAN's type decides when the input holds the WAN
    (None, "Standard", False, True),  # the WAN is not in the input: the hub's sku decides
    (None, "Basic", False, False),
    (None, None, False, None),  # neither known
])
def test_transit_follows_the_wan_type_then_the_hub_sku(wan_type, sku, keep_wan, expected):
    from auditor.analysis.hubs import gives_transit

    snap = snapshot_from_spec({
        "subscriptions": {"conn": {}}, "vnets": {},
        "virtual_wans": {"vwan": {"subscription": "conn", "type": wan_type or "Standard"}},
        "virtual_hubs": {"hub": {"subscription": "conn", "virtual_wan": "vwan", "sku": sku}},
    })
    if not keep_wan:
        snap.virtual_wans = []
    assert gives_transit(snap, snap.virtual_hubs[0]) is expected
