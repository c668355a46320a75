"""Virtual WAN hubs, Route Servers, NICs and ASGs in the topology description (see `auditor.input.synthetic`).

    asgs: {asg-web: {subscription: prod}}
    nics:
      vm1-nic: {subscription: prod, vnet: spoke, subnet: app, ip: 10.1.1.4, nsg: nsg-vm1, asgs: [asg-web], public_ip: true}
    virtual_wans: {vwan: {subscription: conn, type: Standard}}
    virtual_hubs:
      hub-we: {subscription: conn, virtual_wan: vwan, address_prefix: 10.100.0.0/23, firewall: true,
               routing_intent: [PrivateTraffic, Internet], connections: {spoke1: {}, spoke2: {internet_security: true}}}
    route_servers: {rs-hub: {vnet: hub}}   # the VNet needs a RouteServerSubnet

A hub connection also appears, as Azure shows it, on the spoke: a peering named
RemoteVnetToHubPeering_<guid> to the hub's managed VNet HV_<hub>_<guid>, in a subscription Microsoft owns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditor.input.synthetic_ids import NET, guid, listed

if TYPE_CHECKING:
    from auditor.input.synthetic import _Builder


def managed_hub_vnet_id(hub_name: str) -> str:
    """The id of the VNet Azure runs a Virtual WAN hub in (subscription and names owned by Microsoft)."""
    tag = guid("hubvnet", hub_name)
    sub = guid("microsoft-managed", hub_name)
    return (f"/subscriptions/{sub}/resourceGroups/RG_{hub_name}_{tag}/providers/"
            f"{NET}/virtualNetworks/HV_{hub_name}_{tag}")


def add_asgs_and_nics(b: _Builder, spec: dict) -> None:
    for name, body in (spec.get("asgs") or {}).items():
        b.put(body["subscription"], "applicationSecurityGroups", b.base(body["subscription"], "applicationSecurityGroups", name, body))
    for name, body in (spec.get("nics") or {}).items():
        sub = body["subscription"]
        resource = b.base(sub, "networkInterfaces", name, body)
        rg = body.get("resource_group", "rg-network")
        subnet_id = f"{b.vnet_ids[body['vnet']]}/subnets/{body['subnet']}"
        configs = []
        for position, ip in enumerate(listed(body.get("ip", "10.0.0.4"))):
            cp: dict[str, Any] = {
                "privateIPAddress": ip, "privateIPAllocationMethod": "Dynamic", "primary": position == 0,
                "privateIPAddressVersion": "IPv6" if ":" in ip else "IPv4", "provisioningState": "Succeeded",
                "subnet": {"id": subnet_id},
            }
            if body.get("public_ip") and position == 0:
                cp["publicIPAddress"] = {"id": b.rid(sub, rg, "publicIPAddresses", f"{name}-pip")}
            if body.get("asgs"):
                cp["applicationSecurityGroups"] = [{"id": b.rid(sub, rg, "applicationSecurityGroups", a)} for a in listed(body["asgs"])]
            configs.append({"name": f"ipconfig{position + 1}", "id": f"{resource['id']}/ipConfigurations/ipconfig{position + 1}",
                            "type": f"{NET}/networkInterfaces/ipConfigurations", "properties": cp})
        p = resource["properties"]
        p.update({"ipConfigurations": configs, "enableIPForwarding": bool(body.get("ip_forwarding", False)),
                  "enableAcceleratedNetworking": True, "primary": True, "macAddress": "00-0D-3A-1B-C7-21"})
        if body.get("nsg"):
            p["networkSecurityGroup"] = {"id": b.rid(sub, rg, "networkSecurityGroups", body["nsg"])}
        if body.get("vm"):
            p["virtualMachine"] = {"id": f"/subscriptions/{b.sub_id(sub)}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{body['vm']}"}
        b.put(sub, "networkInterfaces", resource)


def add_virtual_wans(b: _Builder, spec: dict, vnets: dict[str, dict]) -> None:
    wan_ids = {}
    for name, body in (spec.get("virtual_wans") or {}).items():
        resource = b.base(body["subscription"], "virtualWans", name, body)
        resource["properties"].update({"type": body.get("type", "Standard"), "disableVpnEncryption": False,
                                       "allowBranchToBranchTraffic": bool(body.get("branch_to_branch", True))})
        wan_ids[name] = resource["id"]
        b.put(body["subscription"], "virtualWans", resource)
    for name, body in (spec.get("virtual_hubs") or {}).items():
        _virtual_hub(b, name, body, wan_ids, vnets)


def _virtual_hub(b: _Builder, name: str, body: dict, wan_ids: dict[str, str], vnets: dict[str, dict]) -> None:
    sub = body["subscription"]
    rg = body.get("resource_group", "rg-network")
    resource = b.base(sub, "virtualHubs", name, body)
    p = resource["properties"]
    p.update({"addressPrefix": body.get("address_prefix", "10.100.0.0/23"), "virtualWan": {"id": wan_ids[body["virtual_wan"]]},
              "sku": body.get("sku", "Standard"), "routingState": "Provisioned", "virtualRouterAsn": 65515,
              "virtualRouterIps": [], "allowBranchToBranchTraffic": False, "hubRoutingPreference": "ExpressRoute",
              "virtualHubRouteTableV2s": [], "routeTable": {"routes": []}})
    for key, kind in (("vpn_gateway", "vpnGateways"), ("expressroute_gateway", "expressRouteGateways")):
        if body.get(key):
            p["vpnGateway" if kind == "vpnGateways" else "expressRouteGateway"] = {"id": b.rid(sub, rg, kind, f"{name}-{kind[:-1].lower()}")}
    if body.get("firewall"):
        p["azureFirewall"] = {"id": b.rid(sub, rg, "azureFirewalls", f"{name}-fw")}
    connections = []
    for spoke, cbody in (body.get("connections") or {}).items():
        cbody = cbody or {}
        conn_name = cbody.get("name") or f"{name}-to-{spoke}"
        conn_id = f"{resource['id']}/hubVirtualNetworkConnections/{conn_name}"
        connections.append({"id": conn_id})
        default_rt = f"{resource['id']}/hubRouteTables/defaultRouteTable"
        b.put(sub, "virtualHubs/hubVirtualNetworkConnections", {
            "name": conn_name, "id": conn_id, "etag": f'W/"{guid("etag", conn_name)}"',
            "type": f"{NET}/virtualHubs/hubVirtualNetworkConnections",
            "properties": {
                "remoteVirtualNetwork": {"id": b.vnet_ids[spoke]},
                "allowHubToRemoteVnetTransit": True, "allowRemoteVnetToUseHubVnetGateways": True,
                "enableInternetSecurity": bool(cbody.get("internet_security", False)),
                "routingConfiguration": {
                    "associatedRouteTable": {"id": default_rt},
                    "propagatedRouteTables": {"labels": ["default"], "ids": [{"id": default_rt}]},
                    "vnetRoutes": {"staticRoutes": []},
                },
                "provisioningState": "Succeeded",
            },
        })
        _spoke_side_peering(vnets[spoke], name, p["addressPrefix"])
    p["virtualNetworkConnections"] = connections
    if body.get("routing_intent"):
        intent_id = f"{resource['id']}/routingIntent/{name}-intent"
        b.put(sub, "virtualHubs/routingIntent", {
            "name": f"{name}-intent", "id": intent_id, "type": f"{NET}/virtualHubs/routingIntent",
            "properties": {"routingPolicies": [{"name": f"{d}Policy", "destinations": [d], "nextHop": p.get("azureFirewall", {}).get("id")}
                                               for d in listed(body["routing_intent"])],
                           "provisioningState": "Succeeded"},
        })
    b.put(sub, "virtualHubs", resource)


def _spoke_side_peering(spoke: dict, hub_name: str, hub_prefix: str) -> None:
    """Flags as real exports show them: forwarded traffic off, remote gateways used, not verified."""
    name = f"RemoteVnetToHubPeering_{guid('hubpeering', spoke['name'] + hub_name)}"
    spoke["properties"]["virtualNetworkPeerings"].append({
        "name": name, "id": f"{spoke['id']}/virtualNetworkPeerings/{name}", "etag": f'W/"{guid("etag", name)}"',
        "type": f"{NET}/virtualNetworks/virtualNetworkPeerings",
        "properties": {
            "peeringState": "Connected", "peeringSyncLevel": "FullyInSync", "provisioningState": "Succeeded",
            "remoteVirtualNetwork": {"id": managed_hub_vnet_id(hub_name)},
            "allowVirtualNetworkAccess": True, "allowForwardedTraffic": False, "allowGatewayTransit": False,
            "useRemoteGateways": True, "doNotVerifyRemoteGateways": True, "peerCompleteVnets": True,
            "remoteAddressSpace": {"addressPrefixes": [hub_prefix]},
            "remoteVirtualNetworkAddressSpace": {"addressPrefixes": [hub_prefix]},
        },
    })


def add_route_servers(b: _Builder, spec: dict, vnets: dict[str, dict]) -> None:
    for name, body in (spec.get("route_servers") or {}).items():
        vnet = vnets[body["vnet"]]
        sub = spec["vnets"][body["vnet"]]["subscription"]
        resource = b.base(sub, "virtualHubs", name, body, location=vnet["location"])
        resource["kind"] = "RouteServer"
        subnet = next(s for s in vnet["properties"]["subnets"] if s["name"] == "RouteServerSubnet")
        first = subnet["properties"].get("addressPrefix") or subnet["properties"]["addressPrefixes"][0]
        base_ip = first.split("/")[0].rsplit(".", 1)[0]
        ips = [f"{base_ip}.4", f"{base_ip}.5"]
        config_id = f"{resource['id']}/ipConfigurations/ipconfig1"
        resource["properties"].update({
            "sku": "Standard", "virtualRouterAsn": 65515, "virtualRouterIps": ips, "routingState": "Provisioned",
            "allowBranchToBranchTraffic": bool(body.get("branch_to_branch", False)), "hubRoutingPreference": "ExpressRoute",
            "ipConfigurations": [{"id": config_id}],
        })
        b.put(sub, "virtualHubs", resource)
        b.put(sub, "virtualHubs/ipConfigurations", {
            "name": "ipconfig1", "id": config_id, "type": f"{NET}/virtualHubs/ipConfigurations",
            "properties": {"privateIPAddress": ips[0], "privateIPAllocationMethod": "Dynamic",
                           "subnet": {"id": subnet["id"]}, "provisioningState": "Succeeded"},
        })
        subnet["properties"].setdefault("ipConfigurations", []).append({"id": config_id})
