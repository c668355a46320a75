"""Gateways: which gateway a VNet uses (its own, or a remote one through peering), and what lies behind it.

What the input shows of a VNet's gateways and Route Servers (`gateway_evidence`): the gateways it holds, the
ones a GatewaySubnet names although the input lacks them (their type, VPN or ExpressRoute, is then unknown),
the Route Servers (held, or named by a RouteServerSubnet), and whether their absence can be asserted at all:
only where the input lists that resource type for the subscription, read completely.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from auditor.analysis.addresses import IntervalSet
from auditor.model.ids import name_of, norm_id

if TYPE_CHECKING:
    from auditor.model.snapshot import Snapshot, VirtualNetworkGateway

GATEWAY_TYPE = "microsoft.network/virtualnetworkgateways"
HUB_TYPE = "microsoft.network/virtualhubs"  # Route Servers are virtualHubs


@dataclass(frozen=True)
class GatewayEvidence:
    gateways: tuple[VirtualNetworkGateway, ...] = ()  # VPN and ExpressRoute gateways the input holds
    named_gateway_ids: tuple[str, ...] = ()  # gateways a GatewaySubnet names, missing from the input
    route_server_ids: tuple[str, ...] = ()
    gateways_listed: bool = False  # the input lists the subscription's gateways: none found means none
    route_servers_listed: bool = False

    @property
    def has_gateway(self) -> bool:
        return bool(self.gateways or self.named_gateway_ids)

    @property
    def no_gateway(self) -> bool:
        """Known to have no VPN or ExpressRoute gateway (False when that is unknown)."""
        return not self.has_gateway and self.gateways_listed

    @property
    def no_route_server(self) -> bool:
        return not self.route_server_ids and self.route_servers_listed

    @property
    def expressroute_only(self) -> bool:
        """Every gateway is an ExpressRoute gateway, and the type of each is known."""
        return bool(self.gateways) and not self.named_gateway_ids and all(
            (g.gateway_type or "").lower() == "expressroute" for g in self.gateways)

    @property
    def gateway_found(self) -> bool | str:
        """For evidence: True, False, or 'unknown' when the input does not list gateways."""
        return True if self.has_gateway else False if self.gateways_listed else "unknown"

    @property
    def route_server_found(self) -> bool | str:
        return True if self.route_server_ids else False if self.route_servers_listed else "unknown"

    @property
    def gateway_names(self) -> list[str]:
        unknown = [f"{name_of(i)} (type unknown: not in the input)" for i in self.named_gateway_ids]
        return [g.name for g in self.gateways] + unknown


def gateway_evidence(snapshot: Snapshot, vnet_id: str) -> GatewayEvidence:
    """What the input shows of a VNet's gateways and Route Servers (see the module docstring)."""
    memo = snapshot.index.memo("gateways.evidence")
    key = norm_id(vnet_id)
    if key not in memo:
        memo[key] = _evidence(snapshot, key)
    return memo[key]


def _evidence(snapshot: Snapshot, key: str) -> GatewayEvidence:
    index = snapshot.index
    vnet = index.vnets.get(key)
    if vnet is None:
        return GatewayEvidence()
    gateways = tuple(index.gateways_of(key))
    owners = [o for s in vnet.subnets for o in s.ip_configuration_owner_ids]
    named = tuple(o for o in owners
                  if "/virtualnetworkgateways/" in o.lower() and norm_id(o) not in _typed_gateways(snapshot))
    servers = {norm_id(h.id): h.id for h in index.route_servers_in(key)}
    for owner in owners:
        if "/virtualhubs/" in owner.lower():
            servers.setdefault(norm_id(owner), owner)
    sub = vnet.subscription_id
    has_server_subnet = any(s.name.lower() == "routeserversubnet" for s in vnet.subnets)
    return GatewayEvidence(
        gateways=gateways,
        named_gateway_ids=named,
        route_server_ids=tuple(servers[k] for k in sorted(servers)),
        gateways_listed=index.absence_known(sub, GATEWAY_TYPE),
        # a Route Server lives in a RouteServerSubnet: a VNet whose subnets are listed without one has none
        route_servers_listed=index.absence_known(sub, HUB_TYPE) or (
            bool(vnet.subnets) and not has_server_subnet and snapshot.is_scanned(sub)),
    )


def _typed_gateways(snapshot: Snapshot) -> set[str]:
    memo = snapshot.index.memo("gateways.typed")
    if "ids" not in memo:
        memo["ids"] = {norm_id(g.id) for g in snapshot.virtual_network_gateways if g.gateway_type}
    return memo["ids"]


def gateway_vnets_used(snapshot: Snapshot, vnet_key: str) -> list[str]:
    """VNets whose gateway this VNet uses: itself if it has one, else the remote of a
    Connected peering with useRemoteGateways (whose remote VNet has a gateway)."""
    index = snapshot.index
    if index.has_gateway(vnet_key):
        return [vnet_key]
    vnet = index.vnets.get(vnet_key)
    out = []
    for peering in vnet.peerings if vnet else []:
        remote = norm_id(peering.remote_virtual_network_id)
        if peering.use_remote_gateways and peering.state == "connected" and index.has_gateway(remote):
            out.append(remote)
    return out


def prefixes_behind(snapshot: Snapshot, vnet_key: str) -> list[tuple[VirtualNetworkGateway, str]]:
    """(gateway the VNet uses, prefix behind it): the local network gateways' ranges and the VNets at the other
    end of VNet-to-VNet connections, from connections naming the gateway on either side."""
    index = snapshot.index
    memo = snapshot.index.memo("nsg.gateways")
    if not memo:
        by_gateway: dict[str, list] = {}
        for c in snapshot.connections:
            for a, b in ((c.virtual_network_gateway1_id, c.virtual_network_gateway2_id), (c.virtual_network_gateway2_id, c.virtual_network_gateway1_id)):
                if a:
                    by_gateway.setdefault(norm_id(a), []).append((c, b))
        memo["by_gateway"] = by_gateway
        memo["gateways"] = {norm_id(g.id): g for g in snapshot.virtual_network_gateways}
    by_gateway, gateways = memo["by_gateway"], memo["gateways"]
    out = []
    for used in gateway_vnets_used(snapshot, vnet_key):
        for gw in index.gateways_of(used):
            for conn, other in by_gateway.get(gw.key, []):
                if conn.local_network_gateway2_id:
                    lgw = index.local_gateways.get(norm_id(conn.local_network_gateway2_id))
                    out += [(gw, p) for p in (lgw.address_prefixes if lgw is not None else ())]
                other_gw = gateways.get(norm_id(other)) if other else None
                far = index.vnets.get(norm_id(other_gw.virtual_network_id)) if other_gw is not None else None
                out += [(gw, p) for p in (far.address_prefixes if far is not None else ())]
    return out


def behind_gateways(snapshot: Snapshot, vnet_key: str) -> IntervalSet:
    return IntervalSet.of(p for _, p in prefixes_behind(snapshot, vnet_key))
