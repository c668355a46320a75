"""What the topology draws besides VNet peerings: Virtual WAN hubs and their connections, Route
Servers and AVNM connectivity configurations. `topology.layout` places them with the VNets.

A spoke's `RemoteVnetToHubPeering_` peering points at the VNet Azure runs the hub in, which no
customer can read: it is drawn as the spoke's connection to the hub (`auditor.analysis.hubs`),
never as a peering to an unknown VNet. A hub the input does not hold is drawn outside the snapshot.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from auditor.analysis.hubs import hub_of, is_hub_connection
from auditor.model.ids import name_of, norm_id, parent_id, resource_group_of, subscription_of
from auditor.model.snapshot import Snapshot

VHUB, AVNM = "vhub", "avnm"  # Node.kind besides "vnet"


@dataclass
class Extra:
    """A node that is not a VNet: a Virtual WAN hub or an AVNM connectivity configuration."""

    key: str
    id: str
    name: str
    kind: str  # VHUB | AVNM
    subscription: str  # normalized; "" puts it outside the snapshot
    sublabel: str
    detail: str  # hover text after the name
    external: bool = False


@dataclass
class Link:
    """A hub connection (VNet to Virtual WAN hub) or an AVNM member link (configuration to VNet)."""

    vnet: str  # normalized VNet id
    other: str  # the Extra's key
    kind: str  # "hub" | "avnm"
    state: str  # connected | one-sided | disconnected
    description: str
    sides: list = field(default_factory=list)  # the spoke's peerings behind a hub connection


@dataclass
class Overlay:
    extras: list[Extra]
    links: list[Link]
    hub_peerings: set[str]  # normalized ids of peerings drawn as hub connections
    route_servers: dict[str, list[str]]  # VNet key -> its Route Servers' names
    external_vnets: dict[str, str]  # VNets only a hub connection or a network group names: key -> id


def _hub_name_from_managed(vnet_id: str) -> str:
    """`RG_<hub>_<guid>` -> `<hub>`: the hub's name survives in the managed VNet's resource group."""
    group = resource_group_of(vnet_id) or ""
    parts = group.split("_")
    return "_".join(parts[1:-1]) if len(parts) >= 3 else name_of(vnet_id)


def _hub_extra(hub) -> Extra:
    prefix = hub.address_prefix or "no address prefix"
    intents = sorted({d for i in hub.routing_intents for p in i.routing_policies for d in p.destinations})
    wan = name_of(hub.virtual_wan_id) if hub.virtual_wan_id else "unknown WAN"
    detail = " — ".join(
        x
        for x in (
            f"vWAN hub ({hub.sku or 'unknown SKU'}) in {wan}",
            prefix,
            f"{len(hub.virtual_network_connections)} connected VNets",
            "secured hub (Azure Firewall)" if hub.azure_firewall_id else "",
            f"routing intent: {', '.join(intents)}" if intents else "",
        )
        if x
    )
    return Extra(
        norm_id(hub.id), hub.id, hub.name, VHUB, (subscription_of(hub.id) or "").lower(), prefix, detail
    )


def _state(sides: list) -> str:
    states = {(p.peering_state or "").lower() for p in sides}
    if "disconnected" in states:
        return "disconnected"
    return "one-sided" if states and states != {"connected"} else "connected"


def overlay(snapshot: Snapshot) -> Overlay:
    index = snapshot.index
    extras: dict[str, Extra] = {}
    links: dict[tuple[str, str, str], Link] = {}
    hub_peerings: set[str] = set()
    external: dict[str, str] = {}

    def note_vnet(vnet_id: str) -> str:
        key = norm_id(vnet_id)
        if key not in index.vnets:
            external.setdefault(key, vnet_id)
        return key

    sides: dict[tuple[str, str], list] = defaultdict(list)
    for hub in snapshot.virtual_hubs:
        if hub.is_route_server:
            continue
        extras[norm_id(hub.id)] = _hub_extra(hub)
        for conn in hub.virtual_network_connections:
            if conn.remote_virtual_network_id:
                sides[(note_vnet(conn.remote_virtual_network_id), norm_id(hub.id))]
    for vnet in snapshot.virtual_networks:
        for peering in vnet.peerings:
            if not is_hub_connection(peering):
                continue
            hub_peerings.add(norm_id(peering.id))
            found = hub_of(snapshot, peering)
            if found is not None:
                hub_key = norm_id(found[0].id)
            else:  # a hub the input does not hold: drawn outside the snapshot, named after its managed VNet
                hub_key = norm_id(peering.remote_virtual_network_id or peering.id)
                name = _hub_name_from_managed(peering.remote_virtual_network_id or "")
                extras.setdefault(
                    hub_key,
                    Extra(
                        hub_key,
                        peering.remote_virtual_network_id or "",
                        name,
                        VHUB,
                        "",
                        "not in the input",
                        "vWAN hub not in the input (seen from its spokes' peerings)",
                        external=True,
                    ),
                )
            sides[(vnet.key, hub_key)].append(peering)
    for (vnet_key, hub_key), peerings in sorted(sides.items()):
        hub = extras[hub_key]
        state = _state(peerings)
        spoke = (
            ", ".join(f"{p.name}: {p.peering_state or 'unknown'}" for p in peerings)
            or "connection listed by the hub"
        )
        links[(vnet_key, hub_key, "hub")] = Link(
            vnet_key,
            hub_key,
            "hub",
            state,
            f"hub connection to vWAN hub {hub.name} ({state}): {spoke}",
            peerings,
        )

    for manager in snapshot.network_managers:
        groups = {norm_id(g.id): g for g in manager.network_groups}
        for config in manager.connectivity_configurations:
            topology = config.connectivity_topology or "unknown topology"
            key = norm_id(config.id)
            members: dict[str, str] = {}  # VNet key -> how it is connected
            unknown = False  # a group lists no members: Azure Policy adds them, and that is not readable
            for item in config.applies_to_groups:
                group = groups.get(norm_id(item.network_group_id))
                direct = (
                    topology.lower() == "mesh"
                    or (item.group_connectivity or "").lower() == "directlyconnected"
                )
                how = f"network group {name_of(item.network_group_id)}" + (
                    ", directly connected" if direct else ""
                )
                for member in index.static_members(item.network_group_id):
                    vnet_id = member if "/subnets/" not in member else parent_id(member)
                    members.setdefault(note_vnet(vnet_id), how)
                unknown |= group is not None and not group.dynamic_members_known and not group.static_members
            hubs = [note_vnet(h) for h in config.hub_ids if "/virtualnetworks/" in h.lower()]
            label = (
                "mesh"
                if topology.lower() == "mesh"
                else "hub & spoke"
                if topology.lower() == "hubandspoke"
                else topology
            )
            detail = " — ".join(
                x
                for x in (
                    f"AVNM connectivity configuration ({topology}) of network manager {manager.name}",
                    f"{len(members)} member VNets"
                    + (", hubs " + ", ".join(name_of(h) for h in hubs) if hubs else ""),
                    "some groups list no members (Azure Policy membership is not readable)"
                    if unknown
                    else "",
                )
                if x
            )
            extras[key] = Extra(
                key,
                config.id,
                config.name,
                AVNM,
                (subscription_of(manager.id) or "").lower(),
                f"AVNM {label}",
                detail,
            )
            for hub_key in hubs:
                links[(hub_key, key, "avnm")] = Link(
                    hub_key,
                    key,
                    "avnm-hub",
                    "connected",
                    f"{config.name} ({topology}): hub {name_of(hub_key)}",
                )
            for vnet_key, how in sorted(members.items()):
                links.setdefault(
                    (vnet_key, key, "avnm"),
                    Link(vnet_key, key, "avnm", "connected", f"{config.name} ({topology}): {how}"),
                )
    route_servers: dict[str, list[str]] = {}
    for hub in snapshot.virtual_hubs:
        if hub.is_route_server and hub.route_server_vnet_id:
            route_servers.setdefault(norm_id(hub.route_server_vnet_id), []).append(hub.name)
    return Overlay(list(extras.values()), list(links.values()), hub_peerings, route_servers, external)
