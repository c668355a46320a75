"""A subnet's effective routes, as Azure computes them from what the snapshot holds.

Sources (learn.microsoft.com/azure/virtual-network/virtual-networks-udr-overview):
- Default: each address range of the VNet -> VnetLocal; 0.0.0.0/0 -> Internet (::/0 too when the VNet
  is dual-stack); 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10 -> None, unless that very
  range is in the VNet's address space (then the VnetLocal route stands for it).
- Default, optional: each Connected peering's remote space (for subnet peering the peered subnets,
  which is what `remoteAddressSpace` records) -> VNetPeering, or VNetGlobalPeering across regions; a
  Virtual WAN hub's prefix and the VNets it connects -> VirtualHub; members of an AVNM connected group
  -> ConnectedGroup.
- VirtualNetworkGateway: prefixes behind the gateway the VNet has or uses through peering (local
  network gateways, VNet-to-VNet connections); dropped when the subnet's route table disables gateway
  route propagation.
- User: the subnet's route table.
Longest prefix wins; on equal prefixes User beats VirtualNetworkGateway beats Default. What BGP would
add and the snapshot cannot show (ExpressRoute, Route Server peers, a hub's branches) is listed in
`unknown`, never guessed.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from auditor.analysis.addresses import V6_SPAN, interval
from auditor.analysis.gateways import gateway_vnets_used, prefixes_behind
from auditor.analysis.hubs import hub_of, is_hub_connection
from auditor.analysis.routing import path_groups
from auditor.model.ids import norm_id

if TYPE_CHECKING:
    from auditor.model.snapshot import Snapshot, VirtualNetwork

RESERVED = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
SOURCE_RANK = {"User": 0, "VirtualNetworkGateway": 1, "Default": 2}


@dataclass(frozen=True)
class EffectiveRoute:
    prefix: str
    next_hop_type: str  # VnetLocal | VNetPeering | VNetGlobalPeering | VirtualHub | ConnectedGroup |
    #                     VirtualNetworkGateway | VirtualAppliance | Internet | None
    source: str  # Default | VirtualNetworkGateway | User
    next_hop_ip: str | None = None
    via: str | None = None  # the route, peering, hub, connectivity configuration or gateway behind it
    span: tuple[int, int] = field(default=(0, 0), compare=False)

    @property
    def size(self) -> int:
        """Addresses covered: the smaller, the more specific."""
        return self.span[1] - self.span[0] + 1


@dataclass
class RouteTableView:
    """One subnet's effective routes, most specific (then most preferred) first."""

    routes: list[EffectiveRoute]
    unknown: list[str]

    def lookup(self, address: str) -> EffectiveRoute | None:
        span = interval(address)
        if span is None:
            return None
        return self.pieces[bisect.bisect_right(self.pieces, (span[0], INF)) - 1][2]

    @cached_property
    def pieces(self) -> list[tuple[int, int, EffectiveRoute | None]]:
        """The address line (both families) cut where the winning route changes, each piece (start, end,
        route; None where no route applies). Painting the least preferred route first leaves each piece
        its winner."""
        bounds = sorted({0, V6_SPAN[1] + 1, *(r.span[0] for r in self.routes), *(r.span[1] + 1 for r in self.routes)})
        winner: list[EffectiveRoute | None] = [None] * (len(bounds) - 1)
        for r in reversed(self.routes):
            i, j = bisect.bisect_left(bounds, r.span[0]), bisect.bisect_left(bounds, r.span[1] + 1)
            winner[i:j] = [r] * (j - i)
        pieces: list[tuple[int, int, EffectiveRoute | None]] = []
        for k, r in enumerate(winner):
            if pieces and pieces[-1][2] is r:
                pieces[-1] = (pieces[-1][0], bounds[k + 1] - 1, r)
            else:
                pieces.append((bounds[k], bounds[k + 1] - 1, r))
        return pieces


INF = float("inf")  # sorts after any route in a (start, end, route) piece


def _route(prefix: str, hop: str, source: str, ip: str | None = None, via: str | None = None) -> EffectiveRoute | None:
    span = interval(prefix)
    return EffectiveRoute(prefix, hop, source, ip, via, span) if span is not None else None


def routes_of(snapshot: Snapshot, subnet_id: str) -> RouteTableView:
    """The effective routes of a subnet (memoized per snapshot). Subnets of one VNet with one route table
    share them, unless a subnet peering of the VNet names some of its subnets (`_peering_routes`)."""
    memo = snapshot.index.memo("effective_routes")
    key = norm_id(subnet_id)
    found = memo.get(key)
    if found is None:
        index = snapshot.index
        vnet = index.vnet_of_subnet[key]
        table = index.route_table_of_subnet(key)
        subnet_peering = any(p.peer_complete_vnets is False for p in vnet.peerings)
        shared = (vnet.key, table.key if table is not None else None, key if subnet_peering else None)
        found = memo.get(shared)
        if found is None:
            found = memo[shared] = _compute(snapshot, key)
        memo[key] = found
    return found


def _compute(snapshot: Snapshot, subnet_key: str) -> RouteTableView:
    index = snapshot.index
    vnet = index.vnet_of_subnet[subnet_key]
    routes: list[EffectiveRoute | None] = []
    unknown: list[str] = []
    own = {p.strip().lower() for p in vnet.address_prefixes}
    routes += [_route(p, "VnetLocal", "Default", via=vnet.id) for p in vnet.address_prefixes]
    routes.append(_route("0.0.0.0/0", "Internet", "Default"))
    if any(":" in p for p in vnet.address_prefixes):
        routes.append(_route("::/0", "Internet", "Default"))
    routes += [_route(p, "None", "Default") for p in RESERVED if p not in own]
    routes += _peering_routes(snapshot, vnet, index.subnets[subnet_key].name, unknown)
    routes += _group_routes(snapshot, vnet, unknown)
    table = index.route_table_of_subnet(subnet_key)
    if table is None or not table.disable_bgp_route_propagation:
        routes += _gateway_routes(snapshot, vnet, unknown)
    if table is not None:
        routes += [_route(r.address_prefix, r.next_hop_type or "None", "User", r.next_hop_ip_address, r.id)
                   for r in table.routes]
    if index.route_servers_in(vnet.id):
        unknown.append(f"routes the Route Server in {vnet.name} learns from appliances over BGP")
    unique = {(r.span, r.next_hop_type, r.source, r.next_hop_ip): r for r in routes if r is not None}
    kept = sorted(unique.values(), key=lambda r: (r.size, SOURCE_RANK.get(r.source, 3), r.prefix))
    return RouteTableView(kept, list(dict.fromkeys(unknown)))


def _peering_routes(snapshot: Snapshot, vnet: VirtualNetwork, subnet_name: str, unknown: list[str]) -> list[EffectiveRoute | None]:
    """Connected peerings' remote spaces; a subnet peering (peerCompleteVnets false) routes only between the
    subnets it names (learn.microsoft.com/azure/virtual-network/how-to-configure-subnet-peering)."""
    index = snapshot.index
    out: list[EffectiveRoute | None] = []
    for peering in vnet.peerings:
        if peering.state != "connected":
            continue
        if peering.peer_complete_vnets is False and subnet_name.lower() not in {n.lower() for n in peering.local_subnet_names}:
            continue
        if is_hub_connection(peering):
            out += _hub_prefix_routes(snapshot, peering, unknown)
            continue
        remote = index.remote_vnet(peering)
        space = peering.remote_address_space or (remote.address_prefixes if remote else [])
        regional = remote is None or (remote.location or "").lower() == (vnet.location or "").lower()
        hop = "VNetPeering" if regional else "VNetGlobalPeering"
        out += [_route(p, hop, "Default", via=peering.id) for p in space]
    return out


def _hub_prefix_routes(snapshot: Snapshot, peering, unknown: list[str]) -> list[EffectiveRoute | None]:
    """A hub connection's own peering: the hub's prefix (the VNets behind the hub come from `_group_routes`)."""
    found = hub_of(snapshot, peering)
    if found is None:
        unknown.append(f"routes from the Virtual WAN hub behind {peering.name} (the hub is not in the input)")
    elif found[0].vpn_gateway_id or found[0].express_route_gateway_id:
        unknown.append(f"branch routes hub {found[0].name} learns from its gateways")
    return [_route(p, "VirtualHub", "Default", via=found[0].id if found else peering.id) for p in peering.remote_address_space]


def _group_routes(snapshot: Snapshot, vnet: VirtualNetwork, unknown: list[str]) -> list[EffectiveRoute | None]:
    """The other members of the Virtual WAN hubs and AVNM connected groups with transit that hold this VNet
    (`routing.path_groups`: static members, regional unless global)."""
    index = snapshot.index
    out: list[EffectiveRoute | None] = []
    for group in path_groups(snapshot):
        if vnet.key not in group.members:
            continue
        if group.transit == "unknown":
            unknown.append(f"whether {group.label} routes between its VNets")
        if group.transit != "yes":
            continue
        hop = "VirtualHub" if group.kind == "virtual-wan" else "ConnectedGroup"
        for key in sorted(group.members - {vnet.key}):
            other = index.vnets.get(key)
            if other is not None:
                out += [_route(p, hop, "Default", via=group.resource_id) for p in other.address_prefixes]
    return out


def _gateway_routes(snapshot: Snapshot, vnet: VirtualNetwork, unknown: list[str]) -> list[EffectiveRoute | None]:
    index = snapshot.index
    for used in gateway_vnets_used(snapshot, vnet.key):
        for gateway in index.gateways_of(used):
            if (gateway.gateway_type or "").lower() == "expressroute" or gateway.enable_bgp:
                unknown.append(f"routes gateway {gateway.name} learns over BGP")
    return [_route(p, "VirtualNetworkGateway", "VirtualNetworkGateway", via=gw.id)
            for gw, p in prefixes_behind(snapshot, vnet.key)]
