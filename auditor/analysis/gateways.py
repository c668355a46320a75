"""Gateways: which gateway a VNet uses (its own, or a remote one through peering), and what lies behind it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from auditor.analysis.addresses import IntervalSet, union
from auditor.model.ids import norm_id

if TYPE_CHECKING:
    from auditor.model.snapshot import Snapshot


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


def behind_gateways(snapshot: Snapshot, vnet_key: str) -> IntervalSet:
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
    parts = []
    for used in gateway_vnets_used(snapshot, vnet_key):
        for gw in index.gateways_of(used):
            for conn, other in by_gateway.get(gw.key, []):
                if conn.local_network_gateway2_id:
                    lgw = index.local_gateways.get(norm_id(conn.local_network_gateway2_id))
                    if lgw is not None:
                        parts.append(IntervalSet.of(lgw.address_prefixes))
                other_gw = gateways.get(norm_id(other)) if other else None
                if other_gw is not None and other_gw.virtual_network_id:
                    parts.append(index.address_space(other_gw.virtual_network_id))
    return union(parts)
