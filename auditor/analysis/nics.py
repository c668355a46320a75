"""Network interfaces as NSG targets: their addresses, their NSGs, and application security groups.

An NSG may sit on a subnet, on network interfaces, or both; a NIC's NSG filters the NIC's own
addresses (https://learn.microsoft.com/azure/virtual-network/network-security-group-how-it-works).
Every NIC of an application security group lives in one VNet
(https://learn.microsoft.com/azure/virtual-network/application-security-groups), so a group's members
are known when the snapshot holds that VNet's NICs: its subscription was read for network interfaces.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from auditor.analysis.addresses import EMPTY_SPACE, IntervalSet
from auditor.model.ids import name_of, norm_id, subscription_of

if TYPE_CHECKING:
    from auditor.analysis.nsg import AsgSpace
    from auditor.model.snapshot import NetworkInterface, Snapshot

NIC_TYPE = "microsoft.network/networkinterfaces"


def nic_space(nic: NetworkInterface) -> IntervalSet:
    """The NIC's private addresses, both families."""
    return IntervalSet.of(c.private_ip_address for c in nic.ip_configurations if c.private_ip_address)


def nic_subnet(nic: NetworkInterface) -> str | None:
    """Normalized id of the subnet of the NIC's primary ip configuration (else its first one)."""
    configs = sorted((c for c in nic.ip_configurations if c.subnet_id), key=lambda c: not c.primary)
    return norm_id(configs[0].subnet_id) if configs else None


def nic_label(nic: NetworkInterface) -> str:
    """`vm1-nic (VM vm1)`, or the NIC's name alone when no VM holds it."""
    return f"{nic.name} (VM {name_of(nic.virtual_machine_id)})" if nic.virtual_machine_id else nic.name


def nics_by_nsg(snapshot: Snapshot) -> dict[str, list[NetworkInterface]]:
    """NSG -> the NICs it is attached to, from either side (the NIC's reference or the NSG's list)."""
    memo = snapshot.index.memo("nics")
    if "by_nsg" not in memo:
        index = snapshot.index
        found: dict[str, dict[str, NetworkInterface]] = {}
        for nic in snapshot.network_interfaces:
            if nic.network_security_group_id:
                found.setdefault(norm_id(nic.network_security_group_id), {})[nic.key] = nic
        for nsg in snapshot.network_security_groups:
            for ref in nsg.network_interface_ids:
                if (nic := index.nics.get(norm_id(ref))) is not None:
                    found.setdefault(nsg.key, {})[nic.key] = nic
        memo["by_nsg"] = {k: sorted(v.values(), key=lambda n: n.key) for k, v in found.items()}
    return memo["by_nsg"]


def nsg_of_nic(snapshot: Snapshot, nic: NetworkInterface):
    """The NSG attached to the NIC, from either side, if the snapshot holds it."""
    memo = snapshot.index.memo("nics")
    if "nsg_of" not in memo:
        memo["nsg_of"] = {n.key: nsg_key for nsg_key, nics in nics_by_nsg(snapshot).items() for n in nics}
    return snapshot.index.nsgs.get(memo["nsg_of"].get(nic.key, ""))


def nics_with_nsg_in(snapshot: Snapshot, subnet_key: str) -> list[NetworkInterface]:
    """The NICs of a subnet that carry an NSG of their own."""
    memo = snapshot.index.memo("nics")
    if "with_nsg_in" not in memo:
        found: dict[str, dict[str, NetworkInterface]] = {}
        for nics in nics_by_nsg(snapshot).values():
            for nic in nics:
                if (subnet := nic_subnet(nic)) is not None:
                    found.setdefault(subnet, {})[nic.key] = nic
        memo["with_nsg_in"] = {s: sorted(n.values(), key=lambda n: n.key) for s, n in found.items()}
    return memo["with_nsg_in"].get(norm_id(subnet_key), [])


def nics_known(snapshot: Snapshot, vnet_key: str) -> bool:
    """The snapshot holds every NIC of the VNet: its subscription was read completely, NICs included."""
    sub_id = subscription_of(vnet_key)
    sub = snapshot.index.subscriptions.get((sub_id or "").lower())
    return snapshot.is_scanned(sub_id) and sub.covers(NIC_TYPE)


def asg_space(snapshot: Snapshot, vnet_key: str) -> AsgSpace:
    """Application security group id -> its member NICs' addresses, for NSGs filtering traffic of
    this VNet; None (membership unknown) unless the snapshot holds every NIC of the VNet."""
    if not nics_known(snapshot, vnet_key):
        return None
    memo = snapshot.index.memo("nics.asg_members")  # VNet -> resolver
    key = norm_id(vnet_key)
    if key not in memo:
        index = snapshot.index
        members: dict[str, list[str]] = {}
        vnet = index.vnets.get(key)
        for subnet in vnet.subnets if vnet else []:
            for _nic, config in index.nic_configs_in(subnet.key):
                for asg in config.application_security_group_ids:
                    if config.private_ip_address:
                        members.setdefault(norm_id(asg), []).append(config.private_ip_address)
        spaces = {asg: IntervalSet.of(ips) for asg, ips in members.items()}
        memo[key] = lambda asg_id: spaces.get(asg_id, EMPTY_SPACE)
    return memo[key]


