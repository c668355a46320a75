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
