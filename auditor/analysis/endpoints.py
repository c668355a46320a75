"""Where a flow starts and ends: an IP, a NIC, a subnet (at its first usable address, in each family),
a VNet, or the Internet, resolved against the snapshot (`vnet-audit reach`, intents)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from auditor.analysis.addresses import BlockIndex, IntervalSet, address_text, interval
from auditor.errors import InputError
from auditor.model.ids import norm_id

if TYPE_CHECKING:
    from auditor.model.snapshot import NetworkInterface, Snapshot

#: Subnets that hold no workloads of their own to reach or start from (gateways, firewalls, Route Server, Bastion).
INFRASTRUCTURE_SUBNETS = frozenset({"gatewaysubnet", "azurefirewallsubnet", "azurefirewallmanagementsubnet",
                                    "routeserversubnet", "azurebastionsubnet"})
INTERNET_SOURCE = "198.51.100.10"  # a public address standing for "the Internet" (TEST-NET-2)


@dataclass
class Endpoint:
    label: str
    address: str
    vnet_key: str | None = None  # None: outside the estate (on-premises or the Internet)
    subnet_key: str | None = None
    nic: NetworkInterface | None = None
    note: str = ""


def resolve(snapshot: Snapshot, text: str) -> Endpoint:
    """An IP, a NIC, a subnet (`vnet/subnet` or its id), a VNet (name or id), or `Internet`."""
    index = snapshot.index
    value = text.strip()
    if value.lower() == "internet":
        return Endpoint("Internet", INTERNET_SOURCE, note="a public address standing for the Internet")
    if interval(value) is not None and "/" not in value:
        return _at_address(snapshot, value, value)
    key = norm_id(value)
    for nic in ([index.nics[key]] if key in index.nics else [n for n in snapshot.network_interfaces if n.name.lower() == key]):
        configs = [c for c in nic.ip_configurations if c.private_ip_address and norm_id(c.subnet_id) in index.subnets]
        if not configs:
            raise InputError(f"NIC {nic.name} has no private address in a subnet in the input")
        config = next((c for c in configs if c.primary), configs[0])
        subnet_key = norm_id(config.subnet_id)
        return Endpoint(f"NIC {nic.name}", config.private_ip_address.split("/")[0], index.vnet_of_subnet[subnet_key].key,
                        subnet_key, nic=nic)
    subnet_key = key if key in index.subnets else _subnet_by_name(snapshot, value)
    if subnet_key is not None:
        return endpoint_of_subnet(snapshot, subnet_key)
    vnets = [index.vnets[key]] if key in index.vnets else [v for v in snapshot.virtual_networks if v.name.lower() == key]
    if len(vnets) > 1:
        raise InputError(f"{len(vnets)} VNets are named {value}: give the VNet's id")
    if vnets and vnets[0].subnets:
        return _first_address(snapshot, vnets[0].subnets[0].key, f"VNet {vnets[0].name}")
    raise InputError(f"{value}: not an IP address, NIC, subnet (vnet/subnet) or VNet in the input")


def _subnet_by_name(snapshot: Snapshot, value: str) -> str | None:
    if "/" not in value or value.startswith("/"):
        return None
    vnet_name, subnet_name = value.lower().split("/", 1)
    found = [s.key for v in snapshot.virtual_networks if v.name.lower() == vnet_name
             for s in v.subnets if s.name.lower() == subnet_name]
    if len(found) > 1:
        raise InputError(f"{len(found)} subnets are named {value}: give the subnet's id")
    return found[0] if found else None


def workload_subnets(vnet) -> list:
    """The VNet's subnets with an address prefix, infrastructure subnets left out."""
    return [s for s in vnet.subnets if s.address_prefixes and s.name.lower() not in INFRASTRUCTURE_SUBNETS]


def endpoint_of_subnet(snapshot: Snapshot, subnet_key: str) -> Endpoint:
    vnet = snapshot.index.vnet_of_subnet[subnet_key]
    return _first_address(snapshot, subnet_key, f"subnet {vnet.name}/{snapshot.index.subnets[subnet_key].name}")


def _first_address(snapshot: Snapshot, subnet_key: str, label: str, family: int = 4) -> Endpoint:
    """A subnet stands for its first usable address (Azure reserves the first four), IPv4 unless asked."""
    subnet = snapshot.index.subnets[subnet_key]
    prefixes = sorted(subnet.address_prefixes, key=lambda p: family_of(p) != family)
    if not prefixes:
        raise InputError(f"{label} has no address prefix in the input")
    address = address_text(interval(prefixes[0])[0] + 4)
    vnet = snapshot.index.vnet_of_subnet[subnet_key]
    return Endpoint(label, address, vnet.key, subnet_key, note=f"as {address}, its first usable address")


def endpoints_of_subnet(snapshot: Snapshot, subnet_key: str) -> list[Endpoint]:
    """The subnet at its first usable address in each family it has."""
    subnet = snapshot.index.subnets[subnet_key]
    families = sorted({family_of(p) for p in subnet.address_prefixes})
    vnet = snapshot.index.vnet_of_subnet[subnet_key]
    return [_first_address(snapshot, subnet_key, f"subnet {vnet.name}/{subnet.name}", f) for f in families]


def _at_address(snapshot: Snapshot, address: str, label: str) -> Endpoint:
    holders = subnets_holding(snapshot, address)
    if len(holders) > 1:
        names = ", ".join(f"{snapshot.index.vnet_of_subnet[k].name}/{snapshot.index.subnets[k].name}" for k in holders)
        raise InputError(f"{address} lies in several subnets ({names}): name the subnet or NIC instead")
    if not holders:
        return Endpoint(label, address, note="outside every VNet in the input")
    subnet_key = holders[0]
    nic = nic_with(snapshot, address, subnet_key)
    return Endpoint(label, address, snapshot.index.vnet_of_subnet[subnet_key].key, subnet_key, nic=nic)


def subnets_holding(snapshot: Snapshot, address: str, vnet_key: str | None = None) -> list[str]:
    """Keys of the subnets (of one VNet, or of any) whose prefixes hold the address, in id order."""
    span = interval(address)
    if span is None:
        return []
    memo = snapshot.index.memo("reach.subnets")
    if "index" not in memo:
        memo["index"] = BlockIndex((s.key, IntervalSet.of(s.address_prefixes)) for s in snapshot.index.subnets.values())
    found = sorted(memo["index"].overlapping(IntervalSet([span])))
    if vnet_key is not None:
        found = [k for k in found if snapshot.index.vnet_of_subnet[k].key == vnet_key]
    return found


def nic_with(snapshot: Snapshot, address: str, subnet_key: str) -> NetworkInterface | None:
    """The NIC holding the address in that subnet (overlapping VNets may both use the address)."""
    memo = snapshot.index.memo("reach.nics")
    if not memo and snapshot.network_interfaces:
        memo[None] = None
        for nic in snapshot.network_interfaces:
            for config in nic.ip_configurations:
                if config.subnet_id:
                    memo.setdefault((norm_id(config.subnet_id), (config.private_ip_address or "").split("/")[0]), nic)
    return memo.get((subnet_key, address))


def family_of(address: str) -> int:
    return 6 if ":" in address else 4
