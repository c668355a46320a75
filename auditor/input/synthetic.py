"""Build ARM resources, shaped like Azure's REST responses, from a small topology description.

One description serves rule fixtures, cassettes, the demo estate and benchmarks:

    subscriptions: {prod: {tenant: contoso, name: Production}}
    vnets:
      hub: {subscription: prod, address_space: [10.0.0.0/16],
            subnets: {GatewaySubnet: 10.0.255.0/27, app: {prefix: 10.0.1.0/24, nsg: nsg-app}},
            gateway: {type: Vpn, sku: VpnGw1}}
    peerings:
      - {from: hub, to: spoke1, allow_gateway_transit: true}   # one side; list the other side too
    nsgs: {nsg-app: {subscription: prod, rules: [{name: ssh, priority: 100, source: VirtualNetwork, ports: "22"}]}}
    route_tables: {rt: {subscription: prod, routes: [{name: r, prefix: 0.0.0.0/0, next_hop: VirtualAppliance, ip: 10.0.1.4}]}}
    local_gateways: {onprem: {subscription: prod, prefixes: [192.168.0.0/16]}}
    connections: {hub-onprem: {subscription: prod, gateway: hub, local_gateway: onprem}}

NSG rules may also set `protocol`, `access`, `direction`, `destination`, `source_ports`, and
`source_asgs`/`destination_asgs` (application security group names, instead of prefixes).

Names stand for ids: subscription and tenant ids are derived from names (uuid5) unless
`id:` is given. A peering's `to_id:` points at a VNet outside the description.

Imported files cover only the types they hold: `subscriptions: {apps: {imported: [networkSecurityGroups]}}`
gives only those kinds of the subscription's resources to the input (`imported: true`, all of them), and a
VNet with `in_input: false` is described (others may point at it) but left out of the input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from auditor.input import synthetic_avnm, synthetic_hubs
from auditor.input.builder import SnapshotBuilder
from auditor.input.synthetic_ids import NET, guid, listed
from auditor.model.ids import name_of, norm_id, subscription_of
from auditor.model.snapshot import (
    CollectionError,
    CoverageStatus,
    ScanMetadata,
    Snapshot,
)

DEFAULT_RULES = [
    ("AllowVnetInBound", 65000, "Inbound", "Allow", "VirtualNetwork", "VirtualNetwork", "Allow inbound traffic from all VMs in VNET"),
    ("AllowAzureLoadBalancerInBound", 65001, "Inbound", "Allow", "AzureLoadBalancer", "*", "Allow inbound traffic from azure load balancer"),
    ("DenyAllInBound", 65500, "Inbound", "Deny", "*", "*", "Deny all inbound traffic"),
    ("AllowVnetOutBound", 65000, "Outbound", "Allow", "VirtualNetwork", "VirtualNetwork", "Allow outbound traffic from all VMs to all VMs in VNET"),
    ("AllowInternetOutBound", 65001, "Outbound", "Allow", "*", "Internet", "Allow outbound traffic from all VMs to Internet"),
    ("DenyAllOutBound", 65500, "Outbound", "Deny", "*", "*", "Deny all outbound traffic"),
]


@dataclass
class SyntheticEstate:
    """ARM resources per subscription, plus the subscription and tenant listings."""

    tenants: list[dict] = field(default_factory=list)
    subscriptions: list[dict] = field(default_factory=list)  # GetSubscriptions shape, plus coverage hints
    resources: dict[str, dict[str, list[dict]]] = field(default_factory=dict)  # sub id -> kind -> resources

    def all_resources(self) -> list[dict]:
        return [r for kinds in self.resources.values() for items in kinds.values() for r in items]

    def to_snapshot(self, source: str = "synthetic") -> Snapshot:
        imported = {s["subscriptionId"]: s["imported"] for s in self.subscriptions if s.get("imported")}
        builder = SnapshotBuilder(record_types=bool(imported))
        builder.covers_all.update(s["subscriptionId"].lower() for s in self.subscriptions
                                  if not s.get("imported"))
        for sub in self.subscriptions:
            status = sub.get("coverage", "complete")
            errors = [CollectionError(scope="subscription", code=sub.get("error_code"), message=sub["error"])] if sub.get("error") else []
            builder.note_subscription(
                sub["subscriptionId"], sub["tenantId"], display_name=sub["displayName"], state=sub["state"],
                status=CoverageStatus(status), errors=errors,
            )
        for sub in self.subscriptions:
            if sub.get("coverage", "complete") == "failed":
                continue
            kinds = imported.get(sub["subscriptionId"])
            for kind, items in self.resources.get(sub["subscriptionId"], {}).items():
                if isinstance(kinds, list) and kind.split("/")[0] not in kinds:
                    continue
                for resource in items:
                    builder.add(resource, origin="synthetic")
        for tenant in self.tenants:
            builder.tenants[tenant["tenantId"]].display_name = tenant.get("displayName")
        return builder.build(ScanMetadata(source=source))


class _Builder:
    def __init__(self, spec: dict):
        self.spec = spec
        self.estate = SyntheticEstate()
        self.sub_ids: dict[str, str] = {}
        self.vnet_ids: dict[str, str] = {}
        self.gateway_ids: dict[str, str] = {}

    # -- ids --------------------------------------------------------------------
    def sub_id(self, name: str) -> str:
        if name not in self.sub_ids:
            raise ValueError(f"unknown subscription {name!r}")
        return self.sub_ids[name]

    def rid(self, sub: str, rg: str, kind: str, name: str) -> str:
        return f"/subscriptions/{self.sub_id(sub)}/resourceGroups/{rg}/providers/{NET}/{kind}/{name}"

    def put(self, sub: str, kind: str, resource: dict) -> None:
        self.estate.resources.setdefault(self.sub_id(sub), {}).setdefault(kind, []).append(resource)

    def base(self, sub: str, kind: str, name: str, body: dict, location: str | None = None, rg: str | None = None) -> dict:
        rg = rg or body.get("resource_group") or "rg-network"
        resource = {
            "name": name,
            "id": self.rid(sub, rg, kind, name),
            "etag": f'W/"{guid("etag", name)}"',
            "type": f"{NET}/{kind}",
            "location": location or body.get("location") or "westeurope",
            "properties": {"provisioningState": "Succeeded"},
        }
        if body.get("tags"):
            resource["tags"] = dict(body["tags"])
        return resource

    # -- build ------------------------------------------------------------------
    def build(self) -> SyntheticEstate:
        spec = self.spec
        tenants = spec.get("tenants") or {"default": {}}
        tenant_ids = {name: (t or {}).get("id") or guid("tenant", name) for name, t in tenants.items()}
        for name, tid in tenant_ids.items():
            self.estate.tenants.append({"id": f"/tenants/{tid}", "tenantId": tid, "displayName": (tenants[name] or {}).get("name", name)})
        for name, sub in (spec.get("subscriptions") or {}).items():
            sub = sub or {}
            sid = sub.get("id") or guid("subscription", name)
            self.sub_ids[name] = sid
            tenant = sub.get("tenant") or next(iter(tenant_ids))
            entry = {
                "id": f"/subscriptions/{sid}",
                "subscriptionId": sid,
                "tenantId": tenant_ids[tenant],
                "displayName": sub.get("name", name),
                "state": sub.get("state", "Enabled"),
                "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "EnterpriseAgreement_2014-09-01", "spendingLimit": "Off"},
                "authorizationSource": "RoleBased",
            }
            for key in ("coverage", "error", "error_code", "fault", "imported"):
                if sub.get(key) is not None:
                    entry[key] = sub[key]
            self.estate.subscriptions.append(entry)
        for name, vnet in (spec.get("vnets") or {}).items():
            self.vnet_ids[name] = self.rid(vnet["subscription"], vnet.get("resource_group", "rg-network"), "virtualNetworks", name)
        vnets = {name: self.vnet(name, body) for name, body in (spec.get("vnets") or {}).items()}
        for body in spec.get("peerings") or []:
            self.peering(vnets, body)
        for name, body in (spec.get("nsgs") or {}).items():
            self.nsg(name, body, vnets)
        for name, body in (spec.get("route_tables") or {}).items():
            self.route_table(name, body, vnets)
        for name, body in (spec.get("local_gateways") or {}).items():
            self.local_gateway(name, body)
        for name, body in (spec.get("connections") or {}).items():
            self.connection(name, body)
        synthetic_hubs.add_asgs_and_nics(self, spec)
        synthetic_hubs.add_virtual_wans(self, spec, vnets)
        synthetic_hubs.add_route_servers(self, spec, vnets)
        synthetic_avnm.add_network_managers(self, spec)
        return self.estate

    def vnet(self, name: str, body: dict) -> dict:
        sub = body["subscription"]
        resource = self.base(sub, "virtualNetworks", name, body)
        p = resource["properties"]
        p["addressSpace"] = {"addressPrefixes": listed(body.get("address_space"))}
        if body.get("dns_servers"):
            p["dhcpOptions"] = {"dnsServers": listed(body["dns_servers"])}
        p["subnets"] = []
        for subnet_name, sbody in (body.get("subnets") or {}).items():
            sbody = sbody if isinstance(sbody, dict) else {"prefix": sbody}
            sp: dict[str, Any] = {"provisioningState": "Succeeded"}
            prefixes = listed(sbody.get("prefix"))
            if len(prefixes) == 1:
                sp["addressPrefix"] = prefixes[0]
            else:
                sp["addressPrefixes"] = prefixes
            rg = body.get("resource_group", "rg-network")
            if sbody.get("nsg"):
                nsg_sub = (self.spec.get("nsgs") or {}).get(sbody["nsg"], {}).get("subscription", sub)
                sp["networkSecurityGroup"] = {"id": self.rid(nsg_sub, rg, "networkSecurityGroups", sbody["nsg"])}
            if sbody.get("route_table"):
                rt_sub = (self.spec.get("route_tables") or {}).get(sbody["route_table"], {}).get("subscription", sub)
                sp["routeTable"] = {"id": self.rid(rt_sub, rg, "routeTables", sbody["route_table"])}
            if sbody.get("ip_configurations"):  # ids of ip configurations in the subnet, as Azure lists them
                sp["ipConfigurations"] = [{"id": i} for i in listed(sbody["ip_configurations"])]
            if sbody.get("delegation"):
                sp["delegations"] = [{"name": "delegation", "id": f"{resource['id']}/subnets/{subnet_name}/delegations/delegation",
                                      "properties": {"serviceName": sbody["delegation"], "actions": [], "provisioningState": "Succeeded"}}]
            p["subnets"].append({"name": subnet_name, "id": f"{resource['id']}/subnets/{subnet_name}", "properties": sp})
        p["virtualNetworkPeerings"] = []
        p["enableDdosProtection"] = False
        if body.get("in_input", True):
            self.put(sub, "virtualNetworks", resource)
        if body.get("gateway"):
            self.gateway(name, body, resource)
        return resource

    def gateway(self, vnet_name: str, vnet_body: dict, vnet: dict) -> None:
        gw = vnet_body["gateway"] if isinstance(vnet_body["gateway"], dict) else {}
        gw_name = gw.get("name") or f"{vnet_name}-gw"
        sub = vnet_body["subscription"]
        resource = self.base(sub, "virtualNetworkGateways", gw_name, vnet_body)
        self.gateway_ids[vnet_name] = self.gateway_ids[gw_name] = resource["id"]
        gateway_type = gw.get("type", "Vpn")
        resource["properties"].update({
            "gatewayType": gateway_type,
            "vpnType": "RouteBased" if gateway_type == "Vpn" else None,
            "activeActive": bool(gw.get("active_active", False)),
            "enableBgp": bool(gw.get("bgp", False)),
            "sku": {"name": gw.get("sku", "VpnGw1" if gateway_type == "Vpn" else "Standard"), "tier": gw.get("sku", "VpnGw1" if gateway_type == "Vpn" else "Standard")},
            "bgpSettings": {"asn": gw.get("asn", 65515), "bgpPeeringAddress": "", "peerWeight": 0},
            "ipConfigurations": [{
                "name": "gwipconfig1",
                "id": f"{resource['id']}/ipConfigurations/gwipconfig1",
                "properties": {
                    "privateIPAllocationMethod": "Dynamic",
                    "subnet": {"id": f"{vnet['id']}/subnets/GatewaySubnet"},
                    "publicIPAddress": {"id": self.rid(sub, vnet_body.get("resource_group", "rg-network"), "publicIPAddresses", f"{gw_name}-pip")},
                    "provisioningState": "Succeeded",
                },
            }],
        })
        if resource["properties"]["vpnType"] is None:
            del resource["properties"]["vpnType"]
        for subnet in vnet["properties"]["subnets"]:  # Azure lists the gateway's ip configuration on GatewaySubnet
            if subnet["name"] == "GatewaySubnet":
                subnet["properties"].setdefault("ipConfigurations", []).append({"id": f"{resource['id']}/ipConfigurations/gwipconfig1"})
        self.put(sub, "virtualNetworkGateways", resource)

    def peering(self, vnets: dict[str, dict], body: dict) -> None:
        local = vnets[body["from"]]
        remote_name = body.get("to")
        remote_id = self.vnet_ids[remote_name] if remote_name else body["to_id"]
        remote = vnets.get(remote_name) if remote_name else None
        remote_space = listed(body.get("remote_address_space")) or (
            remote["properties"]["addressSpace"]["addressPrefixes"] if remote else listed(body.get("remote_prefixes"))
        )
        if not hasattr(self, "_pairs"):  # (from, to) of every described peering; a set keeps large estates linear
            self._pairs = {(p.get("from"), p.get("to")) for p in self.spec.get("peerings") or []}
        back = (remote_name, body["from"]) in self._pairs
        name = body.get("name") or f"{body['from']}-to-{remote_name or name_of(remote_id)}"
        properties = {
            "allowForwardedTraffic": bool(body.get("allow_forwarded_traffic", False)),
            "allowGatewayTransit": bool(body.get("allow_gateway_transit", False)),
            "allowVirtualNetworkAccess": bool(body.get("allow_virtual_network_access", True)),
            "doNotVerifyRemoteGateways": bool(body.get("do_not_verify_remote_gateways", False)),
            "peeringState": body.get("state") or ("Connected" if back or not remote_name else "Initiated"),
            "peeringSyncLevel": body.get("sync_level", "FullyInSync"),
            "provisioningState": "Succeeded",
            "remoteAddressSpace": {"addressPrefixes": remote_space},
            "remoteVirtualNetwork": {"id": remote_id},
            "remoteVirtualNetworkAddressSpace": {"addressPrefixes": listed(body.get("remote_virtual_network_address_space")) or remote_space},
            "useRemoteGateways": bool(body.get("use_remote_gateways", False)),
            "remoteBgpCommunities": {"regionalCommunity": "12076:50004", "virtualNetworkCommunity": "12076:20002"},
        }
        # subnet peering (peerCompleteVnets false) and IPv6-only peering, only when described
        for key, arm in (("peer_complete_vnets", "peerCompleteVnets"), ("enable_only_ipv6_peering", "enableOnlyIPv6Peering")):
            if key in body:
                properties[arm] = bool(body[key])
        for key, arm in (("local_subnet_names", "localSubnetNames"), ("remote_subnet_names", "remoteSubnetNames")):
            if key in body:
                properties[arm] = listed(body[key])
        if "local_address_space" in body:
            properties["localAddressSpace"] = {"addressPrefixes": listed(body["local_address_space"])}
        local["properties"]["virtualNetworkPeerings"].append({
            "name": name,
            "id": f"{local['id']}/virtualNetworkPeerings/{name}",
            "etag": f'W/"{guid("etag", name)}"',
            "type": f"{NET}/virtualNetworks/virtualNetworkPeerings",
            "properties": properties,
        })

    def _associated_subnets(self, vnets: dict[str, dict], attr: str, resource_id: str) -> list[dict]:
        cache = self.__dict__.setdefault("_subnets_by_ref", {})  # (attr, NSG/route table id) -> subnets, built once
        if attr not in cache:
            by_ref: dict[str, list[dict]] = {}
            for v in vnets.values():
                for s in v["properties"]["subnets"]:
                    by_ref.setdefault(norm_id((s["properties"].get(attr) or {}).get("id")), []).append({"id": s["id"]})
            cache[attr] = by_ref
        return [dict(ref) for ref in cache[attr].get(norm_id(resource_id), [])]

    def nsg(self, name: str, body: dict, vnets: dict[str, dict]) -> None:
        resource = self.base(body["subscription"], "networkSecurityGroups", name, body)
        rules = []
        for rule in body.get("rules") or []:
            sources, destinations = listed(rule.get("source", "*")), listed(rule.get("destination", "*"))
            ports = [str(p) for p in listed(rule.get("ports", "*"))]
            rp: dict[str, Any] = {
                "protocol": rule.get("protocol", "*"),
                "sourcePortRange": "*",
                "access": rule.get("access", "Allow"),
                "priority": rule["priority"],
                "direction": rule.get("direction", "Inbound"),
                "provisioningState": "Succeeded",
            }
            for label, values in (("sourceAddressPrefix", sources), ("destinationAddressPrefix", destinations), ("destinationPortRange", ports)):
                if len(values) == 1:
                    rp[label] = values[0]
                else:
                    rp[label + "es" if label.endswith("Prefix") else label + "s"] = values
            # optional: source_ports, source_asgs / destination_asgs (ASG names, replacing the prefixes)
            if rule.get("source_ports") is not None:
                source_ports = [str(p) for p in listed(rule["source_ports"])]
                rp.pop("sourcePortRange")
                rp["sourcePortRange" if len(source_ports) == 1 else "sourcePortRanges"] = source_ports[0] if len(source_ports) == 1 else source_ports
            for key, arm, prefix in (("source_asgs", "sourceApplicationSecurityGroups", "sourceAddressPrefix"),
                                     ("destination_asgs", "destinationApplicationSecurityGroups", "destinationAddressPrefix")):
                if rule.get(key):
                    rp.pop(prefix, None)
                    rp.pop(prefix + "es", None)
                    rp[arm] = [{"id": self.rid(body["subscription"], body.get("resource_group", "rg-network"), "applicationSecurityGroups", a)}
                               for a in listed(rule[key])]
            rules.append({"name": rule["name"], "id": f"{resource['id']}/securityRules/{rule['name']}", "type": f"{NET}/networkSecurityGroups/securityRules", "properties": rp})
        defaults = [
            {"name": n, "id": f"{resource['id']}/defaultSecurityRules/{n}", "properties": {
                "description": d, "protocol": "*", "sourcePortRange": "*", "destinationPortRange": "*",
                "sourceAddressPrefix": src, "destinationAddressPrefix": dst, "access": acc, "priority": pri,
                "direction": direction, "provisioningState": "Succeeded"}}
            for n, pri, direction, acc, src, dst, d in DEFAULT_RULES
        ]
        resource["properties"].update({
            "securityRules": rules,
            "defaultSecurityRules": defaults,
            "subnets": self._associated_subnets(vnets, "networkSecurityGroup", resource["id"]),
        })
        self.put(body["subscription"], "networkSecurityGroups", resource)

    def route_table(self, name: str, body: dict, vnets: dict[str, dict]) -> None:
        resource = self.base(body["subscription"], "routeTables", name, body)
        routes = []
        for route in body.get("routes") or []:
            rp = {"addressPrefix": route["prefix"], "nextHopType": route.get("next_hop", "VirtualAppliance"), "provisioningState": "Succeeded"}
            if route.get("ip"):
                rp["nextHopIpAddress"] = route["ip"]
            routes.append({"name": route["name"], "id": f"{resource['id']}/routes/{route['name']}", "type": f"{NET}/routeTables/routes", "properties": rp})
        resource["properties"].update({
            "disableBgpRoutePropagation": bool(body.get("disable_bgp_route_propagation", False)),
            "routes": routes,
            "subnets": self._associated_subnets(vnets, "routeTable", resource["id"]),
        })
        self.put(body["subscription"], "routeTables", resource)

    def local_gateway(self, name: str, body: dict) -> None:
        resource = self.base(body["subscription"], "localNetworkGateways", name, body)
        resource["properties"].update({
            "localNetworkAddressSpace": {"addressPrefixes": listed(body.get("prefixes"))},
            "gatewayIpAddress": body.get("gateway_ip", "203.0.113.10"),
            "resourceGuid": guid("lgw", name),
        })
        self.put(body["subscription"], "localNetworkGateways", resource)

    def connection(self, name: str, body: dict) -> None:
        resource = self.base(body["subscription"], "connections", name, body)
        p = resource["properties"]
        p["virtualNetworkGateway1"] = {"id": self.gateway_ids[body["gateway"]]}
        if body.get("local_gateway"):
            lgw_sub = (self.spec.get("local_gateways") or {}).get(body["local_gateway"], {}).get("subscription", body["subscription"])
            p["localNetworkGateway2"] = {"id": self.rid(lgw_sub, body.get("resource_group", "rg-network"), "localNetworkGateways", body["local_gateway"])}
            p["connectionType"] = "IPsec"
        elif body.get("remote_gateway"):
            p["virtualNetworkGateway2"] = {"id": self.gateway_ids[body["remote_gateway"]]}
            p["connectionType"] = "Vnet2Vnet"
        elif body.get("circuit_id"):
            p["peer"] = {"id": body["circuit_id"]}
            p["connectionType"] = "ExpressRoute"
        p["connectionStatus"] = body.get("status", "Connected")
        p["enableBgp"] = bool(body.get("bgp", False))
        p["routingWeight"] = 0
        self.put(body["subscription"], "connections", resource)


def build_estate(spec: dict) -> SyntheticEstate:
    """The ARM resources a topology description stands for."""
    return _Builder(spec).build()


def snapshot_from_spec(spec: dict) -> Snapshot:
    return build_estate(spec).to_snapshot()


__all__ = ["SyntheticEstate", "build_estate", "snapshot_from_spec", "guid", "subscription_of"]
