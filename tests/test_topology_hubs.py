"""The topology beyond peerings: Virtual WAN hubs and their connections, Route Servers, AVNM connectivity."""

import re
import sys
from pathlib import Path

import msgspec
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from auditor.engine import discover_rules, evaluate  # noqa: E402
from auditor.input.synthetic import snapshot_from_spec  # noqa: E402
from reports import html_report, topology  # noqa: E402


def hubs_spec(landing_zones: int = 0) -> dict:
    """A vWAN hub with two connected spokes, a hub VNet with a gateway and a Route Server and its two
    peered spokes, an AVNM mesh of three VNets and a hub-and-spoke configuration with direct connectivity."""
    vnets = {
        "hub": {
            "subscription": "prod",
            "address_space": "10.0.0.0/16",
            "gateway": {"type": "Vpn"},
            "subnets": {"GatewaySubnet": "10.0.255.0/27", "RouteServerSubnet": "10.0.254.0/27"},
        },
        "spoke1": {"subscription": "prod", "address_space": "10.1.0.0/16"},
        "spoke2": {"subscription": "prod", "address_space": "10.2.0.0/16"},
        "wan-spoke1": {"subscription": "prod", "address_space": "10.11.0.0/16"},
        "wan-spoke2": {"subscription": "prod", "address_space": "10.12.0.0/16"},
        **{
            f"mesh-{x}": {"subscription": "prod", "address_space": f"10.2{i}.0.0/16"}
            for i, x in enumerate("abc")
        },
    }
    connections = {"wan-spoke1": {}, "wan-spoke2": {}}
    for i in range(landing_zones):  # spokes of the vWAN hub in subscriptions of their own
        vnets[f"lz{i}-vnet"] = {"subscription": f"lz{i}", "address_space": f"10.{50 + i}.0.0/16"}
        connections[f"lz{i}-vnet"] = {}
    return {
        "subscriptions": {"prod": {}, "conn": {}, **{f"lz{i}": {} for i in range(landing_zones)}},
        "vnets": vnets,
        "peerings": [{"from": a, "to": b} for s in ("spoke1", "spoke2") for a, b in (("hub", s), (s, "hub"))],
        "virtual_wans": {"vwan": {"subscription": "conn"}},
        "virtual_hubs": {
            "vhub-westeurope": {
                "subscription": "conn",
                "virtual_wan": "vwan",
                "address_prefix": "10.100.0.0/23",
                "connections": connections,
            }
        },
        "route_servers": {"rs-hub": {"vnet": "hub"}},
        "network_managers": {
            "avnm": {
                "subscription": "conn",
                "groups": {
                    "ng-mesh": {"members": ["mesh-a", "mesh-b", "mesh-c"]},
                    "ng-spokes": {"members": ["spoke1", "spoke2"]},
                },
                "connectivity": {
                    "cc-mesh": {"topology": "Mesh", "groups": ["ng-mesh"]},
                    "cc-hub": {
                        "topology": "HubAndSpoke",
                        "hubs": ["hub"],
                        "groups": [{"group": "ng-spokes", "direct": True}],
                    },
                },
            }
        },
    }


@pytest.fixture(scope="module")
def estate():
    snapshot = snapshot_from_spec(hubs_spec())
    result = evaluate(snapshot, discover_rules())
    return result, snapshot, topology.layout(snapshot, result.findings)


def node(layout, name):
    return next(n for n in layout.nodes if n.name == name)


def links(layout, kind):
    return sorted(sorted((e.a.name, e.b.name)) for e in layout.edges if e.kind == kind)


def test_virtual_wan_hub_is_a_hub_node_joined_to_its_spokes(estate):
    _, _, layout = estate
    hub = node(layout, "vhub-westeurope")
    assert hub.kind == "vhub" and not hub.external and hub.sublabel == "10.100.0.0/23"
    conn = layout.groups[hub.group]
    assert conn.nodes[0] is hub  # hubs lead their group
    assert links(layout, "hub") == [["vhub-westeurope", "wan-spoke1"], ["vhub-westeurope", "wan-spoke2"]]
    # the spokes' RemoteVnetToHubPeering_ peerings are the hub connections, not peerings to an unknown VNet
    assert not any(n.name.startswith("HV_") for n in layout.nodes)
    assert all(g.key != topology.EXTERNAL for g in layout.groups)
    assert layout.counts()["hub"] == 2 and layout.counts()["peerings"] == 4


def test_a_hub_missing_from_the_input_is_drawn_outside_the_snapshot_as_a_hub(estate):
    _, snapshot, _ = estate
    without = msgspec.structs.replace(
        snapshot, virtual_hubs=[h for h in snapshot.virtual_hubs if h.is_route_server]
    )
    layout = topology.layout(without, [])
    hub = node(layout, "vhub-westeurope")  # named after the managed VNet's resource group
    assert hub.kind == "vhub" and hub.external and layout.groups[hub.group].key == topology.EXTERNAL
    assert links(layout, "hub") == [["vhub-westeurope", "wan-spoke1"], ["vhub-westeurope", "wan-spoke2"]]
    assert not any(n.name.startswith("HV_") for n in layout.nodes)


def test_route_server_marks_its_vnet(estate):
    _, _, layout = estate
    assert node(layout, "hub").route_servers == ["rs-hub"]
    assert [n.name for n in layout.nodes if n.route_servers] == ["hub"]
    assert not any(n.name == "rs-hub" for n in layout.nodes)  # a Route Server is not a Virtual WAN hub


def test_avnm_configurations_link_their_members(estate):
    _, _, layout = estate
    mesh, hub_and_spoke = node(layout, "cc-mesh"), node(layout, "cc-hub")
    assert (
        mesh.kind == hub_and_spoke.kind == "avnm"
        and mesh.sublabel == "AVNM mesh"
        and "3 member VNets" in mesh.detail
    )
    assert [n.kind for n in layout.groups[mesh.group].nodes][-2:] == ["avnm", "avnm"]  # after the hubs
    assert links(layout, "avnm") == [
        ["cc-hub", "spoke1"],
        ["cc-hub", "spoke2"],
        ["cc-mesh", "mesh-a"],
        ["cc-mesh", "mesh-b"],
        ["cc-mesh", "mesh-c"],
    ]
    assert links(layout, "avnm-hub") == [["cc-hub", "hub"]]
    direct = next(e for e in layout.edges if {e.a.name, e.b.name} == {"cc-hub", "spoke1"})
    assert "HubAndSpoke" in direct.description and "directly connected" in direct.description
    # configuration links are not peerings: not counted as peered pairs, not folded into group edges
    assert layout.counts()["avnm"] == 6
    peered = layout.counts()["peerings"]
    assert (
        peered == 4
        and sum(e.count for e in layout.group_edges) + sum(g.inner_peerings for g in layout.groups) == peered
    )


def test_html_draws_hub_shapes_markers_and_links(estate):
    result, snapshot, _ = estate
    page = html_report.render(result, snapshot)
    svg = page[page.index('<svg id="topo"') : page.index("</svg>", page.index('<svg id="topo"'))]
    assert len(re.findall(r'<polygon class="node-box vhub', svg)) == 1 and ">vWAN hub</text>" in svg
    assert "<title>vhub-westeurope — vWAN hub (" in svg  # the full name on hover
    assert 'class="rs"' in svg and "Route Server rs-hub" in svg
    assert len(re.findall(r'class="edge connected kind-avnm"', svg)) == 5
    assert len(re.findall(r'class="edge connected kind-avnm-hub"', svg)) == 1
    assert len(re.findall(r'class="edge connected kind-hub[ "]', svg)) == 2
    assert "2 of them Virtual WAN hub connections" in page and "(6 links)" in page
    for n in ("vhub-westeurope", "cc-mesh"):  # no details section to link to
        assert not re.search(rf'<a class="vnet-node[^>]*>\s*<title>{n} ', svg)


def test_a_plain_estate_draws_none_of_it():
    spec = hubs_spec()
    for key in ("virtual_wans", "virtual_hubs", "route_servers", "network_managers"):
        spec.pop(key)
    snapshot = snapshot_from_spec(spec)
    result = evaluate(snapshot, discover_rules())
    page = html_report.render(result, snapshot)
    assert "kind-" not in page.split("</style>")[-1] and "vhub-tag" not in page.split("</style>")[-1]


def test_the_vwan_hub_group_stays_central():
    snapshot = snapshot_from_spec(hubs_spec(landing_zones=4))
    layout = topology.layout(snapshot, [])
    labels = [g.label for g in layout.groups]
    assert labels.index("conn") == (len(labels) - 1) // 2
