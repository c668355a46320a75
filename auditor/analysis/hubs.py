"""Virtual WAN hub connections seen from the spoke.

Azure runs a Virtual WAN hub in a VNet of its own, in a subscription Microsoft owns. A hub connection
shows on the spoke as a peering named `RemoteVnetToHubPeering_<guid>` whose remote VNet is
`.../resourceGroups/RG_<hub>_<guid>/.../virtualNetworks/HV_<hub, truncated>_<guid>`: no customer can
read that VNet or its half of the peering. Such a peering is a hub connection, not a broken or
unscanned peering. (learn.microsoft.com/azure/virtual-wan/virtual-wan-faq; MicrosoftDocs/azure-docs#107338)
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from auditor.model.ids import name_of, norm_id, resource_group_of

if TYPE_CHECKING:
    from auditor.model.snapshot import (
        HubVirtualNetworkConnection,
        Peering,
        Snapshot,
        VirtualHub,
    )

_PEERING_NAME = re.compile(r"^RemoteVnetToHubPeering_", re.IGNORECASE)
_HUB_VNET = re.compile(r"^HV_.+_[0-9a-f-]{36}$", re.IGNORECASE)
_HUB_GROUP = re.compile(r"^RG_.+_[0-9a-f-]{36}$", re.IGNORECASE)


def is_managed_hub_vnet(vnet_id: str | None) -> bool:
    """The id has the shape of the VNet Azure runs a Virtual WAN hub in."""
    return bool(vnet_id) and "/virtualnetworks/hv_" in vnet_id.lower() and bool(_HUB_VNET.match(name_of(vnet_id))) and bool(_HUB_GROUP.match(resource_group_of(vnet_id) or ""))


def is_hub_connection(peering: Peering) -> bool:
    """The peering is the spoke's side of a Virtual WAN hub connection (by its name or its remote VNet)."""
    return bool(_PEERING_NAME.match(peering.name)) or is_managed_hub_vnet(peering.remote_virtual_network_id)


def hub_of(snapshot: Snapshot, peering: Peering) -> tuple[VirtualHub, HubVirtualNetworkConnection] | None:
    """The hub (and its connection) behind a hub-connection peering, when the input holds the hub.
    A spoke connected to two hubs is matched by the hub's name in the managed VNet's resource group."""
    if not is_hub_connection(peering):
        return None
    connections = snapshot.index.hub_connections_of(peering.virtual_network_id)
    if len(connections) <= 1:
        return connections[0] if connections else None
    group = (resource_group_of(peering.remote_virtual_network_id or "") or "").lower()
    named = [(h, c) for h, c in connections if group.startswith(f"rg_{h.name.lower()}_")]
    return named[0] if len(named) == 1 else None


def gives_transit(snapshot: Snapshot, hub: VirtualHub) -> bool | None:
    """A Standard hub routes between its VNets (and, in a Standard virtual WAN, to the other hubs'); a Basic
    one does not (learn.microsoft.com/azure/virtual-wan/virtual-wan-about#basicstandard). The WAN's type
    decides, else the hub's sku; None when neither is known. Route Servers give no VNet-to-VNet transit."""
    if hub.is_route_server:
        return False
    wan = snapshot.index.virtual_wans.get(norm_id(hub.virtual_wan_id)) if hub.virtual_wan_id else None
    kind = ((wan.virtual_wan_type if wan is not None else None) or hub.sku or "").lower()
    return {"standard": True, "basic": False}.get(kind)


def wan_hubs(snapshot: Snapshot) -> list[tuple[str, str, str, list[VirtualHub]]]:
    """The Virtual WAN hubs grouped by what their VNets reach: (key, label, transit, hubs). The hubs of
    one Standard virtual WAN form one group (hub-to-hub transit); any other hub is a group of its own,
    with transit "yes" (Standard), "no" (Basic) or "unknown"."""
    index = snapshot.index
    groups: dict[str, tuple[str, str, str, list[VirtualHub]]] = {}
    for hub in snapshot.virtual_hubs:
        if hub.is_route_server:
            continue
        transit = gives_transit(snapshot, hub)
        wan = index.virtual_wans.get(norm_id(hub.virtual_wan_id)) if hub.virtual_wan_id else None
        if transit and wan is not None:
            key, label = f"wan:{wan.key}", f"Virtual WAN {wan.name}"
        else:
            key, label = f"hub:{hub.key}", f"Virtual WAN hub {hub.name}"
        status = {True: "yes", False: "no", None: "unknown"}[transit]
        groups.setdefault(key, (key, label, status, []))[3].append(hub)
    return list(groups.values())
