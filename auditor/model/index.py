"""Lookups and the peering graph, built once per snapshot and shared by every rule.

Everything is keyed by normalized ARM id (`auditor.model.ids.norm_id`).
"""

from __future__ import annotations

from collections import defaultdict
from functools import cached_property
from typing import TYPE_CHECKING

from auditor.analysis.addresses import EMPTY_SPACE, IntervalSet
from auditor.model.ids import norm_id, parent_id, subscription_of

if TYPE_CHECKING:
    from auditor.model.snapshot import (
        HubVirtualNetworkConnection,
        NetworkGroup,
        NetworkInterface,
        NetworkSecurityGroup,
        NicIpConfiguration,
        Peering,
        RouteTable,
        Snapshot,
        Subnet,
        Subscription,
        VirtualHub,
        VirtualNetwork,
        VirtualNetworkGateway,
    )

#: Gateway types that give a VNet transit to on-premises or other networks.
TRANSIT_GATEWAY_TYPES = frozenset({"vpn", "expressroute"})
VNET_TYPE = "microsoft.network/virtualnetworks"


class SnapshotIndex:
    def __init__(self, snapshot: Snapshot):
        self.snapshot = snapshot
        self._memos: dict[str, dict] = {}
        self.subscriptions: dict[str, Subscription] = {s.subscription_id.lower(): s for s in snapshot.subscriptions}
        self.vnets: dict[str, VirtualNetwork] = {v.key: v for v in snapshot.virtual_networks}
        self.nsgs: dict[str, NetworkSecurityGroup] = {n.key: n for n in snapshot.network_security_groups}
        self.route_tables: dict[str, RouteTable] = {t.key: t for t in snapshot.route_tables}
        self.local_gateways = {g.key: g for g in snapshot.local_network_gateways}
        self.nics: dict[str, NetworkInterface] = {n.key: n for n in snapshot.network_interfaces}
        self.asgs = {a.key: a for a in snapshot.application_security_groups}
        self.virtual_wans = {w.key: w for w in snapshot.virtual_wans}
        self.virtual_hubs: dict[str, VirtualHub] = {h.key: h for h in snapshot.virtual_hubs}
        self.network_groups: dict[str, NetworkGroup] = {
            g.key: g for nm in snapshot.network_managers for g in nm.network_groups}
        self.subnets: dict[str, Subnet] = {}
        self.vnet_of_subnet: dict[str, VirtualNetwork] = {}
        self.peerings: dict[str, Peering] = {}
        self.vnet_of_peering: dict[str, VirtualNetwork] = {}
        for vnet in snapshot.virtual_networks:
            for subnet in vnet.subnets:
                key = subnet.key
                self.subnets[key] = subnet
                self.vnet_of_subnet[key] = vnet
            for peering in vnet.peerings:
                key = peering.key
                self.peerings[key] = peering
                self.vnet_of_peering[key] = vnet

    def memo(self, name: str) -> dict:
        """A named dict that lives as long as this index: the one place analysis helpers keep
        what they computed, shared by every rule of one evaluation."""
        memo = self._memos.get(name)  # not setdefault: it would build an empty dict on every call
        if memo is None:
            memo = self._memos[name] = {}
        return memo

    # -- coverage ------------------------------------------------------------
    def absence_known(self, subscription_id: str | None, resource_type: str) -> bool:
        """The input lists `resource_type` in this subscription, read completely: what it lacks is absent."""
        sub = self.subscriptions.get((subscription_id or "").lower())
        return sub is not None and self.snapshot.is_scanned(sub.subscription_id) and sub.covers(resource_type)

    @cached_property
    def _referenced_vnets(self) -> set[str]:
        """VNets other resources of the input point into: they exist even when the input lacks them."""
        snap = self.snapshot
        subnet_ids = [s for owners in (snap.network_security_groups, snap.route_tables)
                      for owner in owners for s in owner.subnet_ids]
        subnet_ids += [c.subnet_id for nic in snap.network_interfaces for c in nic.ip_configurations]
        subnet_ids += [c.subnet_id for hub in snap.virtual_hubs for c in hub.ip_configurations]
        vnets = {norm_id(parent_id(s)) for s in subnet_ids if s}
        vnets.update(norm_id(g.virtual_network_id) for g in snap.virtual_network_gateways
                     if g.virtual_network_id)
        return vnets

    def vnet_known_absent(self, vnet_id: str | None) -> bool:
        """The VNet does not exist: the input lists its subscription's VNets, read completely, without it, and
        no NSG, route table, NIC, gateway or Route Server of the input points into it."""
        key = norm_id(vnet_id)
        return (bool(key) and key not in self.vnets and key not in self._referenced_vnets
                and self.absence_known(subscription_of(vnet_id), VNET_TYPE))

    # -- address space -------------------------------------------------------
    @cached_property
    def _space(self) -> dict[str, IntervalSet]:
        return {key: IntervalSet.of(v.address_prefixes) for key, v in self.vnets.items()}

    def address_space(self, vnet_id: str) -> IntervalSet:
        return self._space.get(norm_id(vnet_id), EMPTY_SPACE)

    # -- peerings ------------------------------------------------------------
    @cached_property
    def _peering_by_pair(self) -> dict[tuple[str, str], Peering]:
        """(local VNet, remote VNet) -> the local VNet's peering to the remote one."""
        pairs = {}
        for key, peering in self.peerings.items():
            local = self.vnet_of_peering[key].key
            pairs.setdefault((local, norm_id(peering.remote_virtual_network_id)), peering)
        return pairs

    def peering_between(self, local_vnet_id: str, remote_vnet_id: str) -> Peering | None:
        return self._peering_by_pair.get((norm_id(local_vnet_id), norm_id(remote_vnet_id)))

    def reverse_peering(self, peering: Peering) -> Peering | None:
        """The remote VNet's peering back to this peering's VNet, if the snapshot has it."""
        return self.peering_between(peering.remote_virtual_network_id or "", parent_id(peering.id))

    def local_vnet(self, peering: Peering) -> VirtualNetwork:
        return self.vnet_of_peering[peering.key]

    def remote_vnet(self, peering: Peering) -> VirtualNetwork | None:
        return self.vnets.get(norm_id(peering.remote_virtual_network_id))

    @cached_property
    def _peered(self) -> dict[str, set[str]]:
        """VNet -> VNets it exchanges traffic with: both halves Connected with access allowed."""
        graph: dict[str, set[str]] = defaultdict(set)
        for (local, remote), peering in self._peering_by_pair.items():
            back = self._peering_by_pair.get((remote, local))
            if back is not None and _carries_traffic(peering) and _carries_traffic(back):
                graph[local].add(remote)
        return graph

    def peered_vnets(self, vnet_id: str) -> set[str]:
        """Normalized ids of the VNets truly peered with this one (see `_peered`)."""
        return self._peered.get(norm_id(vnet_id), set())

    def is_peered(self, a: str, b: str) -> bool:
        return norm_id(b) in self.peered_vnets(a)

    # -- gateways ------------------------------------------------------------
    @cached_property
    def _gateways_by_vnet(self) -> dict[str, list[VirtualNetworkGateway]]:
        out: dict[str, list[VirtualNetworkGateway]] = defaultdict(list)
        for gw in self.snapshot.virtual_network_gateways:
            if gw.virtual_network_id and (gw.gateway_type or "").lower() in TRANSIT_GATEWAY_TYPES:
                out[norm_id(gw.virtual_network_id)].append(gw)
        return out

    def gateways_of(self, vnet_id: str) -> list[VirtualNetworkGateway]:
        return self._gateways_by_vnet.get(norm_id(vnet_id), [])

    def has_gateway(self, vnet_id: str) -> bool:
        return bool(self.gateways_of(vnet_id))

    # -- associations (the snapshot keeps subnet and NSG/route table sides in agreement) --
    @cached_property
    def _associations(self) -> dict[str, tuple[list[str], list[str]]]:
        """NSG or route table -> (its subnets, their VNets), normalized and sorted."""
        subnets: dict[str, set[str]] = defaultdict(set)
        for key, subnet in self.subnets.items():
            for ref in (subnet.network_security_group_id, subnet.route_table_id):
                if ref:
                    subnets[norm_id(ref)].add(key)
        return {
            ref: (sorted(keys), sorted({self.vnet_of_subnet[k].key for k in keys}))
            for ref, keys in subnets.items()
        }

    def subnets_of(self, resource_id: str) -> list[str]:
        """Normalized ids of the subnets an NSG or route table is associated with."""
        return self._associations.get(norm_id(resource_id), ([], []))[0]

    def vnets_of(self, resource_id: str) -> list[str]:
        """Normalized ids of the VNets whose subnets an NSG or route table is associated with."""
        return self._associations.get(norm_id(resource_id), ([], []))[1]

    def nsg_of_subnet(self, subnet_id: str) -> NetworkSecurityGroup | None:
        subnet = self.subnets.get(norm_id(subnet_id))
        return self.nsgs.get(norm_id(subnet.network_security_group_id)) if subnet else None

    def route_table_of_subnet(self, subnet_id: str) -> RouteTable | None:
        subnet = self.subnets.get(norm_id(subnet_id))
        return self.route_tables.get(norm_id(subnet.route_table_id)) if subnet else None

    # -- network interfaces ---------------------------------------------------
    @cached_property
    def _nic_configs_by_subnet(self) -> dict[str, list[tuple[NetworkInterface, NicIpConfiguration]]]:
        out: dict[str, list] = defaultdict(list)
        for nic in self.snapshot.network_interfaces:
            for config in nic.ip_configurations:
                if config.subnet_id:
                    out[norm_id(config.subnet_id)].append((nic, config))
        return out

    def nic_configs_in(self, subnet_id: str) -> list[tuple[NetworkInterface, NicIpConfiguration]]:
        """The NICs' ip configurations in a subnet, with their NIC."""
        return self._nic_configs_by_subnet.get(norm_id(subnet_id), [])

    # -- virtual hubs --------------------------------------------------------
    @cached_property
    def _hub_connections_by_vnet(self) -> dict[str, list[tuple[VirtualHub, HubVirtualNetworkConnection]]]:
        out: dict[str, list] = defaultdict(list)
        for hub in self.snapshot.virtual_hubs:
            for connection in hub.virtual_network_connections:
                out[norm_id(connection.remote_virtual_network_id)].append((hub, connection))
        return out

    def hub_connections_of(self, vnet_id: str) -> list[tuple[VirtualHub, HubVirtualNetworkConnection]]:
        """The Virtual WAN hubs a VNet is connected to, with the connection."""
        return self._hub_connections_by_vnet.get(norm_id(vnet_id), [])

    @cached_property
    def _route_servers_by_vnet(self) -> dict[str, list[VirtualHub]]:
        out: dict[str, list] = defaultdict(list)
        for hub in self.snapshot.virtual_hubs:
            if hub.is_route_server and hub.route_server_vnet_id:
                out[norm_id(hub.route_server_vnet_id)].append(hub)
        return out

    def route_servers_in(self, vnet_id: str) -> list[VirtualHub]:
        return self._route_servers_by_vnet.get(norm_id(vnet_id), [])

    # -- network managers ------------------------------------------------------
    def static_members(self, group_id: str) -> set[str]:
        """Normalized ids of a network group's static members (VNets or subnets); dynamic ones are unknown."""
        group = self.network_groups.get(norm_id(group_id))
        return {norm_id(m.resource_id) for m in group.static_members if m.resource_id} if group else set()


def _carries_traffic(peering: Peering) -> bool:
    return peering.state == "connected" and peering.allow_virtual_network_access
