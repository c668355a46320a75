"""Estates for report tests and screenshots: a realistic hub-and-spoke estate and a large one.

Both are synthetic topology descriptions (auditor.input.synthetic), deterministic, with findings
of several rules, a failed subscription and waived findings.
"""

from __future__ import annotations

from datetime import date

from auditor.engine import Evaluation, discover_rules, evaluate
from auditor.input.synthetic import guid, snapshot_from_spec
from auditor.model.snapshot import Snapshot

PARTNER_VNET = f"/subscriptions/{guid('subscription', 'partner')}/resourceGroups/rg-partner/providers/Microsoft.Network/virtualNetworks/partner-shared"


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
            {"from": "hub-weu", "to_id": PARTNER_VNET, "remote_prefixes": ["172.16.0.0/16"]},
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


def evaluated(spec: dict, waive: bool = True) -> tuple[Evaluation, Snapshot]:
    """Snapshot and evaluation with every rule; with `waive`, two findings are waived and one waiver is stale."""
    snapshot = snapshot_from_spec(spec)
    snapshot.metadata.run_by = "alice@contoso.com"
    snapshot.metadata.inputs = ["estate/snapshot.json"]
    result = evaluate(snapshot, discover_rules())
    if waive:
        from auditor.engine.waivers import Waiver, apply_waivers

        waivers = [
            Waiver(rule="PEER005", resource="*", justification="Partner VNet is managed by Northwind under contract NW-2291",
                   expires=date(2099, 12, 31), owner="partner-team@contoso.com", source="waivers.yaml#waivers[0]"),
            Waiver(rule="PEER001", resource="*/hub-weu-to-sandbox", justification="Sandbox peering is being set up in CHG-4412",
                   expires=date(2099, 1, 31), owner="alice@contoso.com", source="waivers.yaml#waivers[1]"),
            Waiver(rule="OVLP004", resource="*/old-thing", justification="Decommissioned", expires=date(2099, 1, 1),
                   owner="bob@contoso.com", source="waivers.yaml#waivers[2]"),
        ]
        apply_waivers(result, waivers)
    return result, snapshot
