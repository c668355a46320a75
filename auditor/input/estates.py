"""Synthetic estates (topology descriptions, see auditor.input.synthetic) shared by tests, benchmarks
and screenshots: a hub-and-spoke estate at any scale, a realistic small estate and a large one for reports.

The scale estate (`generate`): hub-and-spoke per region and subscription group.

    python -m auditor.input.estates --vnets 10000 --subscriptions 100 -o /tmp/estate.json

Shape (all through `auditor.input.synthetic`, so the file is what `vnet-audit import` would write):
- subscriptions in groups of `--group-size`; each group has one hub per region in its first
  (connectivity) subscription, and the hubs of a group are peered with each other;
- a hub has AzureFirewallSubnet (firewall at .4), GatewaySubnet with a VPN or ExpressRoute
  gateway, AzureBastionSubnet and a shared-services subnet; VPN hubs have a local network
  gateway (on-premises prefixes) and an IPsec connection;
- spokes are peered both ways with their region's hub (gateway transit / use remote gateways,
  forwarded traffic allowed), have one route table (0.0.0.0/0 and 10.0.0.0/8 to the hub
  firewall) and an NSG per subnet with a few custom rules plus Azure's six default rules;
- `--broken` of the spokes carry one defect each (Initiated, Disconnected, deleted remote,
  out of sync, access disabled, gateway transit mistakes, forwarded traffic off, missing
  route table, risky NSG rules, bad routes), and `--reuse` of them reuse 10.0.0.0/16.
"""

from __future__ import annotations

import argparse
import ipaddress
import random
import sys
import time
from pathlib import Path

from auditor.input.synthetic import build_estate, guid

REGIONS = ["westeurope", "northeurope", "eastus", "eastus2", "southeastasia", "australiaeast"]
PARTNER_VNET = "/subscriptions/99999999-0000-4000-8000-000000000001/resourceGroups/rg-partner/providers/Microsoft.Network/virtualNetworks/partner-shared"
DEFECTS = [
    "initiated",  # PEER001: hub side only
    "disconnected",  # PEER002: spoke side Disconnected, hub side deleted
    "deleted_remote",  # PEER002: spoke peered with a VNet deleted from a scanned subscription
    "out_of_sync",  # PEER003: spoke address space grew, hub side not synced
    "access_disabled",  # PEER004
    "no_transit",  # GW001: useRemoteGateways without allowGatewayTransit back
    "transit_unused",  # GW002
    "forwarding_off",  # TRANS002: spoke does not accept forwarded traffic from the firewall
    "no_route_table",  # TRANS001: allows a sibling spoke's range but routes nothing via the firewall
    "vnet_ssh",  # NSG003: SSH from the VirtualNetwork tag
    "deny_peers",  # NSG001: denies 10.0.0.0/8 before anything allows it
    "stale_nva",  # TRANS003: next hop is an old firewall IP no longer reachable
    "blackhole_hub",  # ROUTE001: hub range to next hop None
    "gateway_route",  # ROUTE002: VirtualNetworkGateway next hop, useRemoteGateways since turned off
    "internet_hub",  # ROUTE003: hub range to Internet
]
SPOKE_SUBNETS = ["app", "data", "web", "pe"]


def _net(base: str, index: int, prefixlen: int) -> ipaddress.IPv4Network:
    start = int(ipaddress.IPv4Address(base)) + index * (1 << (32 - prefixlen))
    return ipaddress.IPv4Network((start, prefixlen))


def _quarters(net: ipaddress.IPv4Network, count: int) -> list[str]:
    return [str(s) for s in list(net.subnets(new_prefix=net.prefixlen + 2))[:count]]


def generate(
    vnets: int = 10_000,
    subscriptions: int = 100,
    regions: int = 4,
    group_size: int = 10,
    subnets_per_spoke: int = 3,
    broken: float = 0.1,
    reuse: float = 0.01,
    seed: int = 7,
) -> dict:
    """The topology description (see auditor.input.synthetic) of the estate."""
    rnd = random.Random(seed)
    regions = max(1, min(regions, len(REGIONS)))
    groups = max(1, -(-subscriptions // group_size))
    hub_count = min(groups * regions, max(1, vnets // 2))
    spoke_count = vnets - hub_count
    if spoke_count > 190 * 256:
        raise ValueError("at most ~48,000 spokes fit the 10.1.0.0-10.190.255.255 address plan")
    spec: dict = {
        "tenants": {"contoso": {"name": "Contoso"}},
        "subscriptions": {f"sub-{i:03d}": {"tenant": "contoso", "name": f"Landing zone {i:03d}"} for i in range(subscriptions)},
        "vnets": {},
        "peerings": [],
        "nsgs": {},
        "route_tables": {},
        "local_gateways": {},
        "connections": {},
    }
    if subscriptions > 2:  # one subscription could only be read in part
        last = f"sub-{subscriptions - 1:03d}"
        spec["subscriptions"][last].update(coverage="partial", error="AuthorizationFailed on routeTables", error_code="AuthorizationFailed")

    hubs: dict[tuple[int, int], dict] = {}
    defects: dict[str, str] = {}  # VNet name -> its planted defect, for tests
    for h in range(hub_count):
        group, region = divmod(h, regions)
        sub = f"sub-{min(group * group_size, subscriptions - 1):03d}"
        name = f"hub-g{group:02d}-{REGIONS[region]}"
        space = _net("10.200.0.0", h, 22)
        fw, gw, bastion, shared = (_net(str(space.network_address), i, 26) for i in range(4))
        firewall_ip = str(fw.network_address + 4)
        rg = f"rg-hub-{REGIONS[region]}"
        nsg = f"nsg-{name}-shared"
        expressroute = h % 3 == 2
        spec["vnets"][name] = {
            "subscription": sub, "resource_group": rg, "location": REGIONS[region], "address_space": [str(space)],
            "subnets": {
                "AzureFirewallSubnet": str(fw),
                "GatewaySubnet": str(gw),
                "AzureBastionSubnet": str(bastion),
                "shared": {"prefix": str(shared), "nsg": nsg},
            },
            "gateway": {"type": "ExpressRoute", "sku": "ErGw1AZ"} if expressroute else {"type": "Vpn", "sku": "VpnGw2AZ", "bgp": True},
        }
        spec["nsgs"][nsg] = {"subscription": sub, "resource_group": rg, "location": REGIONS[region], "rules": [
            {"name": "allow-bastion-ssh-rdp", "priority": 100, "source": str(bastion), "ports": ["22", "3389"], "protocol": "Tcp"},
            {"name": "allow-dns", "priority": 110, "source": "10.0.0.0/8", "ports": "53"},
            {"name": "deny-internet", "priority": 4000, "source": "Internet", "access": "Deny"},
        ]}
        if expressroute:
            spec["connections"][f"{name}-er"] = {
                "subscription": sub, "resource_group": rg, "gateway": name,
                "circuit_id": f"/subscriptions/{'0' * 8}-0000-4000-8000-{h:012d}/resourceGroups/rg-er/providers/Microsoft.Network/expressRouteCircuits/er-{h}",
            }
        else:
            onprem = f"onprem-{name}"
            prefixes = [str(_net("172.16.0.0", h, 24)), str(_net("192.168.0.0", h % 256, 24))]
            first_spoke = min(group * group_size, subscriptions - 1) + subscriptions * region  # a spoke of this hub
            if rnd.random() < broken and first_spoke < spoke_count:
                prefixes.append(str(_net("10.1.0.0", first_spoke, 24)))  # OVLP003: on-prem claims a spoke's range
                defects[f"spoke-{first_spoke:05d}"] = "onprem_overlap"
            spec["local_gateways"][onprem] = {"subscription": sub, "resource_group": rg, "prefixes": prefixes}
            spec["connections"][f"{name}-s2s"] = {"subscription": sub, "resource_group": rg, "gateway": name, "local_gateway": onprem}
        hubs[(group, region)] = {"name": name, "firewall_ip": firewall_ip, "space": str(space), "sub": sub}

    hub_names = [hub["name"] for hub in hubs.values()]
    for (group, region), hub in hubs.items():  # hubs of a group: a global-peering mesh
        for other_region in range(regions):
            other = hubs.get((group, other_region))
            if other and other_region != region:
                spec["peerings"].append({"from": hub["name"], "to": other["name"], "allow_forwarded_traffic": True})
    if hub_names:
        spec["peerings"].append({"from": hub_names[0], "to_id": PARTNER_VNET, "state": "Connected", "name": "hub-to-partner", "remote_prefixes": ["172.31.0.0/16"]})

    reused: list[str] = []
    for k in range(spoke_count):
        sub_index = k % subscriptions
        group = min(sub_index // group_size, groups - 1)
        region = (k // subscriptions) % regions
        hub = hubs.get((group, region)) or hubs[next(iter(hubs))]
        sub = f"sub-{sub_index:03d}"
        name = f"spoke-{k:05d}"
        rg = f"rg-{name}"
        location = REGIONS[region]
        defect = rnd.choice(DEFECTS) if rnd.random() < broken else None
        if defect:
            defects.setdefault(name, defect)
        if rnd.random() < reuse:
            space = ipaddress.IPv4Network("10.0.0.0/16")  # copied from a template
            reused.append(name)
            subnet_space = _net("10.0.0.0", 1, 24)
        else:
            space = subnet_space = _net("10.1.0.0", k, 24)
        subnets = _quarters(subnet_space, subnets_per_spoke)
        sibling = _net("10.1.0.0", (k + subscriptions * regions) % max(1, spoke_count), 24)  # a spoke of the same hub
        address_space = [str(space)]
        if defect == "out_of_sync":
            address_space.append(str(_net("100.64.0.0", k, 24)))
        vnet = {"subscription": sub, "resource_group": rg, "location": location, "address_space": address_space, "subnets": {}}
        rt = f"rt-{name}"
        routes = [
            {"name": "default-via-firewall", "prefix": "0.0.0.0/0", "next_hop": "VirtualAppliance", "ip": hub["firewall_ip"]},
            {"name": "internal-via-firewall", "prefix": "10.0.0.0/8", "next_hop": "VirtualAppliance", "ip": hub["firewall_ip"]},
        ]
        if defect == "stale_nva":
            routes.append({"name": "legacy-nva", "prefix": "10.250.0.0/16", "next_hop": "VirtualAppliance", "ip": "10.254.0.4"})
        elif defect == "blackhole_hub":
            routes.append({"name": "block-hub", "prefix": hub["space"], "next_hop": "None"})
        elif defect == "gateway_route":
            routes.append({"name": "onprem-via-gateway", "prefix": "192.168.0.0/16", "next_hop": "VirtualNetworkGateway"})
        elif defect == "internet_hub":
            routes.append({"name": "hub-direct", "prefix": hub["space"], "next_hop": "Internet"})
        if defect != "no_route_table":
            spec["route_tables"][rt] = {"subscription": sub, "resource_group": rg, "location": location, "routes": routes}
        for i, (subnet, prefix) in enumerate(zip(SPOKE_SUBNETS, subnets)):
            nsg = f"nsg-{name}-{subnet}"
            body = {"prefix": prefix, "nsg": nsg}
            if defect != "no_route_table":
                body["route_table"] = rt
            vnet["subnets"][subnet] = body
            rules = [
                {"name": "allow-https-internal", "priority": 100, "source": "10.0.0.0/8", "destination": prefix, "ports": "443", "protocol": "Tcp"},
                {"name": "allow-hub-shared", "priority": 110, "source": hub["space"], "destination": prefix, "ports": ["22", "3389"], "protocol": "Tcp"},
                {"name": "deny-internet-in", "priority": 4000, "source": "Internet", "access": "Deny"},
            ]
            if i > 0:  # tiers talk to the tier before them
                rules.append({"name": f"allow-from-{SPOKE_SUBNETS[i - 1]}", "priority": 120, "source": subnets[i - 1], "destination": prefix, "ports": ["1433", "8080"], "protocol": "Tcp"})
            if defect == "no_route_table" and i == 0:
                rules.append({"name": "allow-partner-spoke", "priority": 130, "source": str(sibling), "ports": "443", "protocol": "Tcp"})
            if defect == "vnet_ssh" and i == 0:
                rules.append({"name": "allow-ssh-vnet", "priority": 140, "source": "VirtualNetwork", "ports": "22", "protocol": "Tcp"})
            if defect == "deny_peers" and i == 0:  # above every allow; 100 is Azure's lowest custom priority
                rules[0]["priority"] = 105
                rules.append({"name": "deny-internal", "priority": 100, "source": "10.0.0.0/8", "access": "Deny"})
            spec["nsgs"][nsg] = {"subscription": sub, "resource_group": rg, "location": location, "rules": rules}
        spec["vnets"][name] = vnet

        to_hub = {"from": name, "to": hub["name"], "use_remote_gateways": True, "allow_forwarded_traffic": True}
        from_hub = {"from": hub["name"], "to": name, "allow_gateway_transit": True, "allow_forwarded_traffic": True}
        if defect == "initiated":
            to_hub = None
        elif defect == "disconnected":
            to_hub["state"], from_hub = "Disconnected", None
        elif defect == "deleted_remote":
            deleted = f"/subscriptions/{{sub}}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/{name}-old"
            spec["peerings"].append({"from": name, "to_id": deleted.format(sub=_sub_id(spec, sub)), "name": f"{name}-to-old", "state": "Connected", "remote_prefixes": ["10.255.0.0/24"]})
        elif defect == "out_of_sync":
            from_hub.update(sync_level="RemoteNotInSync", remote_address_space=address_space[:1])
            to_hub["sync_level"] = "LocalNotInSync"
        elif defect == "access_disabled":
            to_hub["allow_virtual_network_access"] = False
        elif defect == "no_transit":
            from_hub["allow_gateway_transit"] = False
        elif defect in ("transit_unused", "gateway_route"):  # a gateway route left behind when transit was turned off
            to_hub["use_remote_gateways"] = False
        elif defect == "forwarding_off":
            to_hub["allow_forwarded_traffic"] = False
        for peering in (to_hub, from_hub):
            if peering:
                spec["peerings"].append(peering)
    spec["_stats"] = {"hubs": hub_count, "spokes": spoke_count, "reused_10_0_0_0_16": len(reused)}
    spec["_defects"], spec["_reused"] = defects, reused
    return spec


def _sub_id(spec: dict, name: str) -> str:
    return spec["subscriptions"][name].get("id") or guid("subscription", name)


def build_snapshot(spec: dict):
    spec = {k: v for k, v in spec.items() if not k.startswith("_")}
    return build_estate(spec).to_snapshot(source="synthetic")


# -- pathological shapes, for benchmarks/bench_shapes.py -------------------------------------
# Each is a topology description like `generate`'s, deterministic, with real work for the rules:
# NSG rules naming other VNets' ranges, route tables, gateways, forwarded-traffic choices.


def _shape_spec(subscriptions: int = 4) -> dict:
    subs = {f"sub-{i:03d}": {"tenant": "contoso", "name": f"Landing zone {i:03d}"}
            for i in range(subscriptions)}
    return {"tenants": {"contoso": {"name": "Contoso"}}, "subscriptions": subs, "vnets": {}, "peerings": [],
            "nsgs": {}, "route_tables": {}, "local_gateways": {}, "connections": {}}


def _rule(name: str, priority: int, source: str | list = "*", ports: str | list = "*", **more) -> dict:
    """An NSG rule of a topology description: Allow, Inbound, any protocol unless `more` says otherwise."""
    return {"name": name, "priority": priority, "source": source, "ports": ports, **more}


def _route(name: str, prefix: str, next_hop: str, ip: str | None = None) -> dict:
    return {"name": name, "prefix": prefix, "next_hop": next_hop, **({"ip": ip} if ip else {})}


def _add_hub(spec: dict, name: str, sub: str, space: ipaddress.IPv4Network, gateway: bool = False) -> str:
    """A hub on a /24: firewall, gateway and shared subnets, an NSG on the shared one; returns the
    firewall IP."""
    fw, gw, shared = (_net(str(space.network_address), i, 26) for i in range(3))
    nsg = f"nsg-{name}"
    subnets = {"AzureFirewallSubnet": str(fw), "GatewaySubnet": str(gw),
               "shared": {"prefix": str(shared), "nsg": nsg}}
    spec["vnets"][name] = {"subscription": sub, "address_space": [str(space)], "subnets": subnets}
    spec["nsgs"][nsg] = {"subscription": sub, "rules": [
        _rule("allow-spokes-dns", 100, "10.0.0.0/8", "53"),
        _rule("deny-internet", 4000, "Internet", access="Deny"),
    ]}
    if gateway:
        onprem = f"onprem-{name}"
        spec["vnets"][name]["gateway"] = {"type": "Vpn", "sku": "VpnGw2AZ", "bgp": True}
        spec["local_gateways"][onprem] = {"subscription": sub, "prefixes": ["192.168.0.0/16", "172.16.0.0/16"]}
        spec["connections"][f"{name}-s2s"] = {"subscription": sub, "gateway": name, "local_gateway": onprem}
    return str(fw.network_address + 4)


def _peer(spec: dict, a: str, b: str, a_side: dict | None = None, b_side: dict | None = None) -> None:
    """Both halves of a Connected peering, forwarded traffic allowed unless a side says otherwise."""
    spec["peerings"].append({"from": a, "to": b, "allow_forwarded_traffic": True, **(a_side or {})})
    spec["peerings"].append({"from": b, "to": a, "allow_forwarded_traffic": True, **(b_side or {})})


def _spoke_subnets(space: ipaddress.IPv4Network) -> tuple[str, str]:
    app, data = (_net(str(space.network_address), i, space.prefixlen + 2) for i in range(2))
    return str(app), str(data)


def chain_of_hubs(hubs: int = 50, spokes_per_hub: int = 100) -> dict:
    """Hubs peered in a line (hub i with hub i+1), each with `spokes_per_hub` spokes peered both ways.

    Spoke k (the k-th /24 from 10.0.0.0) has app and data subnets sharing one NSG that allows the next
    spoke of its hub, a spoke of the next hub (many hops away at the end of the line) and a /22 of
    four spokes of the previous hub; its route table sends all to the hub firewall (k % 3 == 0),
    only the two named spokes (k % 3 == 1), or exists on the data subnet only (k % 3 == 2). Hub 0
    has a VPN gateway its spokes use; every seventh spoke refuses forwarded traffic."""
    spec = _shape_spec()
    if hubs * spokes_per_hub > 200 * 256 or hubs > 56 * 256:
        raise ValueError("at most 51,200 spokes (10.0.0.0-10.199.255.255) and 14,336 hubs (10.200.0.0-)")
    firewall = [_add_hub(spec, f"hub-{i:03d}", "sub-000", _net("10.200.0.0", i, 24), gateway=i == 0)
                for i in range(hubs)]
    for i in range(hubs - 1):
        _peer(spec, f"hub-{i:03d}", f"hub-{i + 1:03d}")
    n = spokes_per_hub
    for k in range(hubs * n):
        i, j = divmod(k, n)
        name, hub, sub, ip = f"spoke-{k:05d}", f"hub-{i:03d}", f"sub-{1 + k % 3:03d}", firewall[i]
        space = _net("10.0.0.0", k, 24)
        app, data = _spoke_subnets(space)
        sibling = str(_net("10.0.0.0", i * n + (j + 1) % n, 24))
        far = str(_net("10.0.0.0", ((i + 1) % hubs) * n + (j + n // 2) % n, 24))
        block = str(_net("10.0.0.0", (((i - 1) % hubs) * n + (j * 7) % n) // 4, 22))
        rules = [
            _rule("allow-hub-ssh", 100, str(_net("10.200.0.0", i, 24)), "22", protocol="Tcp"),
            _rule("allow-sibling-https", 110, sibling, "443", destination=app, protocol="Tcp"),
            _rule("allow-far-sql", 120, far, "1433", destination=data, protocol="Tcp"),
            _rule("allow-neighbours-web", 130, block, ["80", "8080"], protocol="Tcp"),
            _rule("allow-app-to-data", 200, app, "5432", destination=data),
            _rule("deny-internet", 4000, "Internet", access="Deny"),
            _rule("to-sibling-https", 100, ports="443", direction="Outbound", destination=sibling),
        ]
        if k % 10 == 0:
            rules.append(_rule("allow-ssh-vnet", 140, "VirtualNetwork", "22", protocol="Tcp"))
        default = _route("default-via-firewall", "0.0.0.0/0", "VirtualAppliance", ip)
        routes = [[default],
                  [_route("to-sibling", sibling, "VirtualAppliance", ip), _route("to-far", far, "VirtualAppliance", ip),
                   _route("default-internet", "0.0.0.0/0", "Internet")],
                  [default, _route("drop-neighbours", block, "None")]][k % 3]
        spec["nsgs"][f"nsg-{name}"] = {"subscription": sub, "rules": rules}
        spec["route_tables"][f"rt-{name}"] = {"subscription": sub, "routes": routes}
        table = {"route_table": f"rt-{name}"}
        spec["vnets"][name] = {"subscription": sub, "address_space": [str(space)], "subnets": {
            "app": {"prefix": app, "nsg": f"nsg-{name}", **(table if k % 3 != 2 else {})},
            "data": {"prefix": data, "nsg": f"nsg-{name}", **table}}}
        _peer(spec, hub, name, {"allow_gateway_transit": i == 0},
              {"use_remote_gateways": i == 0, "allow_forwarded_traffic": j % 7 != 3})
    return spec


def hub_and_spokes(spokes: int = 500) -> dict:
    """One hub with `spokes` spokes: `chain_of_hubs` with a single hub (spokes allow each other)."""
    return chain_of_hubs(1, spokes)


def full_mesh(vnets: int = 200) -> dict:
    """`vnets` VNets (10.i.0.0/16), every pair peered both ways; mesh-000 hosts the firewall.

    Each VNet's NSG allows its two neighbours by range, every tenth allows SSH from the
    VirtualNetwork tag, every 25th denies 10.0.0.0/8 below those allows; route tables send the
    next VNet to the firewall (every 20th VNet refuses forwarded traffic from mesh-000), every
    50th drops a peer's range and every 30th names a stale appliance."""
    if vnets > 256:
        raise ValueError("at most 256 VNets fit 10.0.0.0/8 as /16s")
    spec = _shape_spec()
    names = [f"mesh-{i:03d}" for i in range(vnets)]
    for i, name in enumerate(names):
        space = _net("10.0.0.0", i, 16)
        app, data = (str(_net(str(space.network_address), s, 24)) for s in (1, 2))
        nxt, prev = (str(_net("10.0.0.0", (i + d) % vnets, 16)) for d in (1, -1))
        sub = f"sub-{i % 4:03d}"
        spec["vnets"][name] = {"subscription": sub, "address_space": [str(space)], "subnets": {
            "AzureFirewallSubnet": str(_net(str(space.network_address), 0, 26)),
            "app": {"prefix": app, "nsg": f"nsg-{name}", "route_table": f"rt-{name}"},
            "data": {"prefix": data, "nsg": f"nsg-{name}", "route_table": f"rt-{name}"}}}
        rules = [
            _rule("allow-next", 100, nxt, "443", protocol="Tcp"),
            _rule("allow-prev", 110, prev, "443", protocol="Tcp"),
            _rule("allow-app-to-data", 200, app, "1433", destination=data),
            _rule("deny-internet", 4000, "Internet", access="Deny"),
        ]
        if i % 10 == 0:
            rules.append(_rule("allow-ssh-vnet", 150, "VirtualNetwork", "22", protocol="Tcp"))
        if i % 25 == 0:
            rules.append(_rule("deny-internal", 3000, "10.0.0.0/8", access="Deny"))
        routes = [_route("to-next", nxt, "VirtualAppliance", "10.0.0.4"),
                  _route("default", "0.0.0.0/0", "VirtualAppliance", "10.0.0.4")]
        if i % 50 == 7:
            routes.append(_route("drop-prev", prev, "None"))
        if i % 30 == 11:
            routes.append(_route("legacy-nva", "172.20.0.0/16", "VirtualAppliance", "172.31.0.4"))
        spec["nsgs"][f"nsg-{name}"] = {"subscription": sub, "rules": rules}
        spec["route_tables"][f"rt-{name}"] = {"subscription": sub, "routes": routes}
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            refuses = a == names[0] and names.index(b) % 20 == 0
            _peer(spec, a, b, b_side={"allow_forwarded_traffic": not refuses})
    return spec


def one_range(vnets: int = 5000, spokes_per_hub: int = 99) -> dict:
    """`vnets` VNets on one address range: hubs on distinct /24s, every other VNet a spoke on
    10.0.0.0/16 (copied from a template). Hubs are peered in pairs, so a spoke's rule allowing the
    paired hub reaches two hops; every fifth spoke has no route table."""
    spec = _shape_spec()
    hubs = max(1, -(-vnets // (spokes_per_hub + 1)))
    firewall = [_add_hub(spec, f"hub-{h:03d}", "sub-000", _net("10.200.0.0", h, 24), gateway=h % 10 == 0)
                for h in range(hubs)]
    for h in range(0, hubs - 1, 2):
        _peer(spec, f"hub-{h:03d}", f"hub-{h + 1:03d}")
    space = ipaddress.IPv4Network("10.0.0.0/16")
    app, data = (str(_net("10.0.0.0", s, 24)) for s in (1, 2))
    for k in range(vnets - hubs):
        h = k % hubs
        name, hub, sub = f"spoke-{k:05d}", f"hub-{h:03d}", f"sub-{1 + k % 3:03d}"
        pair = _net("10.200.0.0", h ^ 1 if (h ^ 1) < hubs else h, 24)
        rules = [
            _rule("allow-own-https", 100, str(space), "443", protocol="Tcp"),
            _rule("allow-paired-hub", 110, str(pair), ["22", "443"], protocol="Tcp"),
            _rule("deny-internet", 4000, "Internet", access="Deny"),
        ]
        if k % 10 == 0:
            rules.append(_rule("allow-ssh-vnet", 140, "VirtualNetwork", "22", protocol="Tcp"))
        table = {"route_table": f"rt-{name}"} if k % 5 else {}
        if table:
            routes = [_route("default-via-firewall", "0.0.0.0/0", "VirtualAppliance", firewall[h])]
            spec["route_tables"][f"rt-{name}"] = {"subscription": sub, "routes": routes}
        spec["nsgs"][f"nsg-{name}"] = {"subscription": sub, "rules": rules}
        spec["vnets"][name] = {"subscription": sub, "address_space": [str(space)], "subnets": {
            "app": {"prefix": app, "nsg": f"nsg-{name}", **table},
            "data": {"prefix": data, "nsg": f"nsg-{name}", **table}}}
        _peer(spec, hub, name, {"allow_gateway_transit": h % 10 == 0}, {"use_remote_gateways": h % 10 == 0})
    return spec


def _hub_spoke_frame(spec: dict, spokes: int, spokes_per_hub: int) -> list[tuple[str, str, int, int]]:
    """Hubs in a line, spoke k on the k-th /24 from 10.0.0.0 with one subnet, peered with hub k % hubs:
    (spoke, its subnet, hub number, k). Hub 0 has the gateway its spokes use."""
    hubs = max(1, -(-spokes // spokes_per_hub))
    for h in range(hubs):
        _add_hub(spec, f"hub-{h:03d}", "sub-000", _net("10.200.0.0", h, 24), gateway=h == 0)
    for h in range(hubs - 1):
        _peer(spec, f"hub-{h:03d}", f"hub-{h + 1:03d}")
    out = []
    for k in range(spokes):
        h = k % hubs
        name, space = f"spoke-{k:05d}", str(_net("10.0.0.0", k, 24))
        spec["vnets"][name] = {"subscription": f"sub-{1 + k % 3:03d}", "address_space": [space],
                               "subnets": {"app": {"prefix": space}}}
        _peer(spec, f"hub-{h:03d}", name, {"allow_gateway_transit": h == 0}, {"use_remote_gateways": h == 0})
        out.append((name, "app", h, k))
    return out


def large_nsgs(nsgs: int = 500, rules: int = 1000, spokes_per_hub: int = 19) -> dict:
    """`nsgs` spokes of hubs in a line, one NSG of `rules` custom rules on each spoke.

    Rules, two in three inbound: allows of on-premises hosts and other spokes' hosts on assorted
    ports, denies of single hosts, a few service tags; one rule in fifty names a spoke of another
    hub (TRANS001), one NSG in ten allows SSH from VirtualNetwork and denies a hub range."""
    spec = _shape_spec()
    spokes = _hub_spoke_frame(spec, nsgs, spokes_per_hub)
    count = len(spokes)
    ports = ["443", "80", "22", "1433", "5432", "8080-8090", "3389", "*"]
    for name, subnet, _, k in spokes:
        own = _net("10.0.0.0", k, 24)
        body = []
        for r in range(rules):
            seq = k * 7919 + r * 104729  # spreads hosts and ports deterministically
            if r % 50 == 25:
                peer = str(_net("10.0.0.0", (k + spokes_per_hub * 2 + r) % count, 24))
            elif r % 7 == 0:
                peer = str(_net(str(own.network_address), seq % 64, 30))
            elif r % 11 == 0:
                peer = ["AzureLoadBalancer", "Storage", "AzureMonitor"][seq % 3]
            else:
                peer = str(ipaddress.IPv4Address("172.16.0.0") + seq % 65536) + "/32"
            side = {"source": peer} if r % 3 != 2 else {"direction": "Outbound", "destination": peer}
            body.append(_rule(f"r{r:04d}", 100 + r * 3, ports=ports[seq % len(ports)],
                              protocol=["Tcp", "Udp", "*"][seq % 3], access="Deny" if r % 13 == 6 else "Allow", **side))
        if k % 10 == 0:
            body[1] = _rule("allow-ssh-vnet", 103, "VirtualNetwork", "22", protocol="Tcp")
            body[4] = _rule("deny-hub", 112, str(_net("10.200.0.0", k % 3, 24)), access="Deny")
        spec["nsgs"][f"nsg-{name}"] = {"subscription": spec["vnets"][name]["subscription"], "rules": body}
        spec["vnets"][name]["subnets"][subnet]["nsg"] = f"nsg-{name}"
    return spec


def large_route_tables(tables: int = 500, routes: int = 400, spokes_per_hub: int = 19) -> dict:
    """`tables` spokes of hubs in a line, one route table of `routes` routes on each spoke.

    Nested, distinct prefixes (172.16-31.0.0/16 with some of their /20s, /24s and /28s) so that
    more specific routes take addresses from wider ones; next hops the hub firewall, Internet,
    None and, in spokes using hub 0's gateway, VirtualNetworkGateway; a 0.0.0.0/0 and a
    10.0.0.0/8 to the firewall; a few routes drop or send the hub's range to the Internet
    (ROUTE001/ROUTE003), name a stale appliance (TRANS003) or a gateway the spoke lacks (ROUTE002)."""
    if routes > 576:
        raise ValueError("at most 576 distinct routes per table in this plan")
    spec = _shape_spec()
    for name, subnet, h, k in _hub_spoke_frame(spec, tables, spokes_per_hub):
        hub = _net("10.200.0.0", h, 24)
        fw = str(hub.network_address + 4)
        body = [_route("default", "0.0.0.0/0", "VirtualAppliance"),
                _route("internal", "10.0.0.0/8", "VirtualAppliance")]
        body += [_route("block-hub", str(hub), "None")] if k % 9 == 1 else []
        body += [_route("hub-direct", str(hub), "Internet")] if k % 9 == 4 else []
        body += [_route("onprem-via-gateway", "192.168.0.0/16", "VirtualNetworkGateway")] if k % 13 == 6 else []
        hops = ["VirtualAppliance", "Internet", "None"] + (["VirtualNetworkGateway"] if h == 0 else [])
        for r in range(routes - len(body)):
            b, m = r % 16, r // 16  # base /16, then distinct /20, /24 and /28 numbers inside it
            base = str(_net("172.16.0.0", b, 16).network_address)
            plan = [(16, 0), (20, (m // 3) % 16), (24, (m * 7 + k) % 256), (28, (m * 131 + k * 3) % 4096)]
            bits, number = plan[0 if m == 0 else 1 + (m - 1) % 3]
            body.append(_route(f"r{r:04d}", str(_net(base, number, bits)), hops[(k + r) % len(hops)]))
        if k % 11 == 5:
            body[-1] = {**body[-1], "next_hop": "VirtualAppliance", "ip": "10.254.0.4"}
        for route in body:
            if route["next_hop"] == "VirtualAppliance":
                route.setdefault("ip", fw)
        sub = spec["vnets"][name]["subscription"]
        spec["route_tables"][f"rt-{name}"] = {"subscription": sub, "routes": body}
        spec["vnets"][name]["subnets"][subnet]["route_table"] = f"rt-{name}"
    return spec


#: Name -> builder of each pathological shape, at the size benchmarks/bench_shapes.py measures.
SHAPES = {
    "chain-50x100": lambda: chain_of_hubs(50, 100),
    "chain-500x10": lambda: chain_of_hubs(500, 10),
    "hub-500": lambda: hub_and_spokes(500),
    "mesh-200": lambda: full_mesh(200),
    "one-range-5000": lambda: one_range(5000),
    "nsgs-500x1000": lambda: large_nsgs(500, 1000),
    "routes-500x400": lambda: large_route_tables(500, 400),
}


# -- estates for reports and screenshots -------------------------------------------------------
REPORT_PARTNER_VNET = f"/subscriptions/{guid('subscription', 'partner')}/resourceGroups/rg-partner/providers/Microsoft.Network/virtualNetworks/partner-shared"


def _pair(a: str, b: str, **kw) -> list[dict]:
    """Both halves of a peering between hub `a` and spoke `b`; kw keys prefixed a_/b_ go to one side."""
    side_a = {k[2:]: v for k, v in kw.items() if k.startswith("a_")}
    side_b = {k[2:]: v for k, v in kw.items() if k.startswith("b_")}
    return [{"from": a, "to": b, **side_a}, {"from": b, "to": a, **side_b}]


def realistic_spec() -> dict:
    nsg_rules = [
        {"name": "allow-https-in", "priority": 100, "source": "VirtualNetwork", "ports": "443", "protocol": "Tcp"},
        {"name": "allow-ssh-from-hub", "priority": 110, "source": "10.0.1.0/26", "ports": "22", "protocol": "Tcp"},
        {"name": "deny-all-in", "priority": 4000, "access": "Deny", "source": "*"},
    ]
    return {
        "tenants": {"contoso": {"name": "Contoso Ltd"}, "fabrikam": {"name": "Fabrikam Inc"}},
        "subscriptions": {
            "connectivity": {"tenant": "contoso", "name": "Contoso Connectivity"},
            "prod": {"tenant": "contoso", "name": "Contoso Production"},
            "dev": {"tenant": "contoso", "name": "Contoso Dev/Test"},
            "data": {"tenant": "fabrikam", "name": "Fabrikam Data Platform"},
            "legacy": {"tenant": "contoso", "name": "Contoso Legacy", "coverage": "failed", "error_code": "AuthorizationFailed",
                       "error": "The client 'vnet-audit-reader' does not have authorization to perform action "
                                "'Microsoft.Network/virtualNetworks/read' over scope '/subscriptions/…/legacy'."},
        },
        "vnets": {
            "hub-weu": {"subscription": "connectivity", "address_space": ["10.0.0.0/16"], "dns_servers": ["10.0.1.4"],
                        "subnets": {"GatewaySubnet": "10.0.255.0/27", "AzureFirewallSubnet": "10.0.1.0/26",
                                    "management": {"prefix": "10.0.2.0/24", "nsg": "nsg-mgmt"}},
                        "gateway": {"type": "Vpn", "sku": "VpnGw2", "bgp": True}, "tags": {"env": "shared", "owner": "netops"}},
            "app-prod": {"subscription": "prod", "address_space": ["10.10.0.0/16"],
                         "subnets": {"web": {"prefix": "10.10.1.0/24", "nsg": "nsg-web", "route_table": "rt-prod"},
                                     "app": {"prefix": "10.10.2.0/24", "nsg": "nsg-web", "route_table": "rt-prod"}},
                         "tags": {"env": "prod", "costCenter": "CC-1042"}},
            "api-prod": {"subscription": "prod", "address_space": ["10.11.0.0/16"],
                         "subnets": {"api": {"prefix": "10.11.1.0/24", "nsg": "nsg-web", "route_table": "rt-prod"},
                                     "batch": {"prefix": "10.11.2.0/24", "route_table": "rt-blackhole"}}},
            "db-prod": {"subscription": "prod", "address_space": ["10.12.0.0/16"],
                        "subnets": {"sql": {"prefix": "10.12.1.0/24", "nsg": "nsg-web"}}},
            "dmz-old": {"subscription": "prod", "address_space": ["10.13.0.0/16"], "subnets": {"edge": "10.13.0.0/24"}},
            "app-dev": {"subscription": "dev", "address_space": ["10.20.0.0/16"], "subnets": {"default": "10.20.0.0/24"}},
            "test-dev": {"subscription": "dev", "address_space": ["10.10.128.0/20"], "subnets": {"default": "10.10.128.0/24"}},
            "sandbox": {"subscription": "dev", "address_space": ["10.21.0.0/16"], "subnets": {"default": "10.21.0.0/24"}},
            "analytics": {"subscription": "data", "address_space": ["10.30.0.0/16", "10.31.0.0/16"], "subnets": {"spark": "10.30.1.0/24"}},
        },
        "peerings": [
            *_pair("hub-weu", "app-prod", a_allow_gateway_transit=True, a_allow_forwarded_traffic=True, b_use_remote_gateways=True, b_allow_forwarded_traffic=True),
            *_pair("hub-weu", "api-prod", a_allow_gateway_transit=True, b_use_remote_gateways=True),
            *_pair("hub-weu", "db-prod", a_allow_gateway_transit=True, b_allow_virtual_network_access=False),
            *_pair("hub-weu", "app-dev", a_allow_gateway_transit=True, b_use_remote_gateways=True),
            *_pair("hub-weu", "test-dev", a_allow_gateway_transit=True, b_use_remote_gateways=True),
            *_pair("hub-weu", "analytics", a_allow_gateway_transit=True, b_use_remote_gateways=True, a_sync_level="LocalNotInSync", b_sync_level="RemoteNotInSync"),
            {"from": "hub-weu", "to": "sandbox"},  # Initiated: nobody created the other half
            {"from": "dmz-old", "to": "hub-weu", "state": "Disconnected"},
            {"from": "hub-weu", "to_id": REPORT_PARTNER_VNET, "remote_prefixes": ["172.16.0.0/16"]},
        ],
        "nsgs": {"nsg-web": {"subscription": "prod", "rules": nsg_rules},
                 "nsg-mgmt": {"subscription": "connectivity", "rules": nsg_rules[1:]}},
        "route_tables": {
            "rt-prod": {"subscription": "prod", "routes": [
                {"name": "default-to-firewall", "prefix": "0.0.0.0/0", "next_hop": "VirtualAppliance", "ip": "10.0.1.4"},
                {"name": "onprem-via-firewall", "prefix": "192.168.0.0/16", "next_hop": "VirtualAppliance", "ip": "10.0.1.4"}]},
            "rt-blackhole": {"subscription": "prod", "routes": [
                {"name": "drop-hub-mgmt", "prefix": "10.0.2.0/24", "next_hop": "None"},
                {"name": "hub-direct", "prefix": "10.0.0.0/16", "next_hop": "Internet"}]},
        },
        "local_gateways": {"onprem-dc1": {"subscription": "connectivity", "prefixes": ["192.168.0.0/16", "10.11.128.0/20"]}},
        "connections": {"hub-to-dc1": {"subscription": "connectivity", "gateway": "hub-weu", "local_gateway": "onprem-dc1"}},
    }


def large_spec(n_vnets: int = 300, n_subscriptions: int = 12) -> dict:
    """Three regional hubs and spokes spread over subscriptions in two tenants, with some faults."""
    subs = {"connectivity": {"tenant": "contoso", "name": "Connectivity"}}
    for i in range(1, n_subscriptions):
        tenant = "fabrikam" if i % 4 == 0 else "contoso"
        subs[f"lz{i:02d}"] = {"tenant": tenant, "name": f"Landing zone {i:02d}"}
    subs[f"lz{min(5, n_subscriptions - 1):02d}"].update(coverage="partial", error="429 TooManyRequests reading routeTables; gave up after 5 retries")
    hubs = ["hub-weu", "hub-neu", "hub-use"]
    vnets = {h: {"subscription": "connectivity", "address_space": [f"10.{200 + i}.0.0/16"],
                 "subnets": {"GatewaySubnet": f"10.{200 + i}.255.0/27"}, "gateway": {"type": "Vpn" if i else "ExpressRoute"}}
             for i, h in enumerate(hubs)}
    peerings = []
    lz = [s for s in subs if s != "connectivity"]
    for i in range(n_vnets - len(hubs)):
        name = f"spoke-{i:03d}"
        space = f"10.{i // 200}.{i % 200}.0/24" if i % 37 else "10.200.128.0/24"  # every 37th overlaps hub-weu
        vnets[name] = {"subscription": lz[i % len(lz)], "address_space": [space]}
        hub = hubs[i % len(hubs)]
        if i % 29 == 5:
            peerings.append({"from": hub, "to": name})  # one-sided
        elif i % 41 == 7:
            peerings += [{"from": hub, "to": name, "state": "Disconnected"}, {"from": name, "to": hub, "state": "Disconnected"}]
        else:
            peerings += _pair(hub, name, a_allow_gateway_transit=True, b_use_remote_gateways=i % 3 != 0)
    used = {s["tenant"] for s in subs.values()}
    return {"tenants": {t: {"name": t.title()} for t in ("contoso", "fabrikam") if t in used},
            "subscriptions": subs, "vnets": vnets, "peerings": peerings}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vnets", type=int, default=10_000)
    parser.add_argument("--subscriptions", type=int, default=100)
    parser.add_argument("--regions", type=int, default=4)
    parser.add_argument("--group-size", type=int, default=10, help="subscriptions per hub group")
    parser.add_argument("--subnets-per-spoke", type=int, default=3, choices=range(1, 5))
    parser.add_argument("--broken", type=float, default=0.1, help="fraction of spokes with a defect")
    parser.add_argument("--reuse", type=float, default=0.01, help="fraction of spokes reusing 10.0.0.0/16")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("-o", "--output", type=Path, default=Path("estate.json"))
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    spec = generate(args.vnets, args.subscriptions, args.regions, args.group_size, args.subnets_per_spoke, args.broken, args.reuse, args.seed)
    t1 = time.perf_counter()
    snapshot = build_snapshot(spec)
    t2 = time.perf_counter()
    snapshot.write(args.output)
    t3 = time.perf_counter()
    stats = spec["_stats"]
    print(
        f"wrote {args.output}: {len(snapshot.virtual_networks)} VNets ({stats['hubs']} hubs, {stats['spokes']} spokes, "
        f"{stats['reused_10_0_0_0_16']} reusing 10.0.0.0/16), {sum(len(v.peerings) for v in snapshot.virtual_networks)} peerings, "
        f"{len(snapshot.network_security_groups)} NSGs, {len(snapshot.route_tables)} route tables, "
        f"{len(snapshot.subscriptions)} subscriptions, {args.output.stat().st_size / 1e6:.1f} MB",
        file=sys.stderr,
    )
    print(f"  describe {t1 - t0:.2f}s, build snapshot {t2 - t1:.2f}s, write {t3 - t2:.2f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
