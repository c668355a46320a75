"""Virtual Network Manager (AVNM) in the topology description (see `auditor.input.synthetic`).

    network_managers:
      avnm:
        subscription: conn
        scope_subscriptions: [prod]            # default: every described subscription
        groups: {ng-spokes: {members: [spoke1, spoke2]}, ng-policy: {}}   # members: static members (VNets)
        connectivity:
          cc-mesh: {topology: Mesh, groups: [ng-spokes]}
          cc-hub: {topology: HubAndSpoke, hubs: [hub], groups: [{group: ng-spokes, direct: true, use_hub_gateway: true}]}
        security_admin:
          sac: {collections: {rc: {groups: [ng-spokes], rules: [
            {name: deny-ssh, priority: 10, access: Deny, protocol: Tcp, source: Internet, ports: "22"}]}}}

Children are listed as Azure lists them (networkGroups, staticMembers, connectivityConfigurations,
securityAdminConfigurations, ruleCollections, rules), with AVNM's string booleans ("True"/"False").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditor.input.synthetic_ids import NET, listed

if TYPE_CHECKING:
    from auditor.input.synthetic import _Builder


def _flag(value: Any) -> str:
    return "True" if value else "False"


def _child(parent_id: str, segment: str, type_path: str, name: str, properties: dict, **more: Any) -> dict:
    return {"name": name, "id": f"{parent_id}/{segment}/{name}", "type": f"{NET}/{type_path}", **more,
            "properties": {**properties, "provisioningState": "Succeeded"}}


def add_network_managers(b: _Builder, spec: dict) -> None:
    for name, body in (spec.get("network_managers") or {}).items():
        sub = body["subscription"]
        resource = b.base(sub, "networkManagers", name, body)
        scope = listed(body.get("scope_subscriptions")) or list(b.sub_ids)
        resource["properties"].update({
            "displayName": name, "description": "",
            "networkManagerScopes": {"managementGroups": [], "subscriptions": [f"/subscriptions/{b.sub_id(s)}" for s in scope]},
            "networkManagerScopeAccesses": listed(body.get("accesses")) or ["Connectivity", "SecurityAdmin"],
        })
        b.put(sub, "networkManagers", resource)
        nm = resource["id"]
        group_ids = {}
        for group, gbody in (body.get("groups") or {}).items():
            gbody = gbody or {}
            item = _child(nm, "networkGroups", "networkManagers/networkGroups", group,
                          {"description": gbody.get("description", ""), "memberType": gbody.get("member_type", "VirtualNetwork")})
            group_ids[group] = item["id"]
            b.put(sub, "networkManagers/networkGroups", item)
            for member in listed(gbody.get("members")):
                b.put(sub, "networkManagers/networkGroups/staticMembers", _child(
                    item["id"], "staticMembers", "networkManagers/networkGroups/staticMembers", f"sm-{member}",
                    {"resourceId": b.vnet_ids[member], "region": spec["vnets"][member].get("location", "westeurope")}))
        for config, cbody in (body.get("connectivity") or {}).items():
            groups = [g if isinstance(g, dict) else {"group": g} for g in listed(cbody.get("groups"))]
            mesh = cbody.get("topology", "Mesh") == "Mesh"
            b.put(sub, "networkManagers/connectivityConfigurations", _child(
                nm, "connectivityConfigurations", "networkManagers/connectivityConfigurations", config, {
                    "displayName": config, "description": "",
                    "connectivityTopology": cbody.get("topology", "Mesh"),
                    "hubs": [{"resourceId": b.vnet_ids[h], "resourceType": f"{NET}/virtualNetworks"} for h in listed(cbody.get("hubs"))],
                    "isGlobal": _flag(cbody.get("global", False)),
                    "deleteExistingPeering": _flag(cbody.get("delete_existing_peering", False)),
                    "appliesToGroups": [{
                        "networkGroupId": group_ids[g["group"]],
                        "useHubGateway": _flag(g.get("use_hub_gateway", False)),
                        "isGlobal": _flag(g.get("global", False)),
                        "groupConnectivity": "DirectlyConnected" if mesh or g.get("direct") else "None",
                    } for g in groups],
                }))
        for config, sbody in (body.get("security_admin") or {}).items():
            item = _child(nm, "securityAdminConfigurations", "networkManagers/securityAdminConfigurations", config,
                          {"description": "", "applyOnNetworkIntentPolicyBasedServices": ["None"]})
            b.put(sub, "networkManagers/securityAdminConfigurations", item)
            for collection, rbody in (sbody.get("collections") or {}).items():
                rc = _child(item["id"], "ruleCollections", "networkManagers/securityAdminConfigurations/ruleCollections",
                            collection, {"description": "", "appliesToGroups": [{"networkGroupId": group_ids[g]} for g in listed(rbody.get("groups"))]})
                b.put(sub, "networkManagers/securityAdminConfigurations/ruleCollections", rc)
                for rule in rbody.get("rules") or []:
                    b.put(sub, "networkManagers/securityAdminConfigurations/ruleCollections/rules", _child(
                        rc["id"], "rules", "networkManagers/securityAdminConfigurations/ruleCollections/rules", rule["name"],
                        _admin_rule(rule), kind="Custom"))


def _addresses(values: list) -> list[dict]:
    return [{"addressPrefix": v, "addressPrefixType": "IPPrefix" if any(c.isdigit() for c in v) and ("." in v or ":" in v) or v == "*" else "ServiceTag"}
            for v in values]


def _admin_rule(rule: dict) -> dict:
    return {
        "description": rule.get("description", ""),
        "protocol": rule.get("protocol", "Any"),
        "sources": _addresses(listed(rule.get("source", "*"))),
        "destinations": _addresses(listed(rule.get("destination", "*"))),
        "sourcePortRanges": [str(p) for p in listed(rule.get("source_ports", "0-65535"))],
        "destinationPortRanges": [str(p) for p in listed(rule.get("ports", "0-65535"))],
        "access": rule.get("access", "Deny"),
        "priority": rule["priority"],
        "direction": rule.get("direction", "Inbound"),
    }
