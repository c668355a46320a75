"""Turn Azure's resources (typed `RawResource`s, see `auditor.input.shapes`) into snapshot models.

Every function also takes the resource as Python data (a dict in REST, Graph or `az` shape),
as collectors and tests hold it.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from auditor.errors import InputError
from auditor.input.shapes import RawResource, RawSpace, props, resource_from
from auditor.input.validate import check
from auditor.model import snapshot as m
from auditor.model.ids import name_of, parent_id, resource_group_of

VNET = "microsoft.network/virtualnetworks"
SUBNET = "microsoft.network/virtualnetworks/subnets"
PEERING = "microsoft.network/virtualnetworks/virtualnetworkpeerings"
NSG = "microsoft.network/networksecuritygroups"
SECURITY_RULE = "microsoft.network/networksecuritygroups/securityrules"
DEFAULT_SECURITY_RULE = "microsoft.network/networksecuritygroups/defaultsecurityrules"
ROUTE_TABLE = "microsoft.network/routetables"
ROUTE = "microsoft.network/routetables/routes"
GATEWAY = "microsoft.network/virtualnetworkgateways"
LOCAL_GATEWAY = "microsoft.network/localnetworkgateways"
CONNECTION = "microsoft.network/connections"
NIC = "microsoft.network/networkinterfaces"
NIC_IP_CONFIGURATION = "microsoft.network/networkinterfaces/ipconfigurations"
ASG = "microsoft.network/applicationsecuritygroups"
VIRTUAL_WAN = "microsoft.network/virtualwans"
VIRTUAL_HUB = "microsoft.network/virtualhubs"
HUB_IP_CONFIGURATION = "microsoft.network/virtualhubs/ipconfigurations"
HUB_CONNECTION = "microsoft.network/virtualhubs/hubvirtualnetworkconnections"
ROUTING_INTENT = "microsoft.network/virtualhubs/routingintent"
NETWORK_MANAGER = "microsoft.network/networkmanagers"
NETWORK_GROUP = "microsoft.network/networkmanagers/networkgroups"
STATIC_MEMBER = "microsoft.network/networkmanagers/networkgroups/staticmembers"
CONNECTIVITY_CONFIGURATION = "microsoft.network/networkmanagers/connectivityconfigurations"
SECURITY_ADMIN_CONFIGURATION = "microsoft.network/networkmanagers/securityadminconfigurations"
ADMIN_RULE_COLLECTION = "microsoft.network/networkmanagers/securityadminconfigurations/rulecollections"
ADMIN_RULE = "microsoft.network/networkmanagers/securityadminconfigurations/rulecollections/rules"

_PROVIDER_PATH = re.compile(r"/providers/([^/]+)/(.+)$", re.IGNORECASE)


def resource_type(resource: Any) -> str:
    """Lower-case ARM type, from `type` or, when absent (peering list responses), from the id."""
    if isinstance(resource, dict):
        declared, rid = resource.get("type"), resource.get("id")
    else:
        declared, rid = resource.type, resource.id
    if isinstance(declared, str) and "/" in declared:
        return declared.lower()
    match = _PROVIDER_PATH.search(rid if isinstance(rid, str) else "")
    if not match:
        return ""
    segments = match.group(2).split("/")
    return "/".join([match.group(1), *segments[0::2]]).lower()


def _typed(raw: Any) -> Any:
    """A decoded shape as it is; Python data (a dict) as a `RawResource`."""
    return raw if isinstance(raw, msgspec.Struct) else resource_from(raw)


def _ref(value: Any) -> str | None:
    """An `{"id": ...}` reference's id (None when empty)."""
    rid = getattr(value, "id", None)
    return rid if isinstance(rid, str) and rid else None


def _refs(values: Any) -> list[str]:
    if not values:
        return []
    return [r for r in (_ref(v) for v in values) if r]


def _prefixes(space: RawSpace | None) -> list[str]:
    return [p for p in (space.addressPrefixes or ()) if p] if space is not None else []


def _singular_and_plural(one: Any, many: Any) -> list[str]:
    if not many:  # the usual case: one value, or none
        return [] if one in (None, "") else [str(one)]
    values = [str(v) for v in many if v not in (None, "")]
    if one not in (None, "") and str(one) not in values:
        values.insert(0, str(one))
    return values


def _common(raw: RawResource) -> dict:
    rid = raw.id
    tags = raw.tags or {}
    return {
        "id": rid,
        "name": raw.name or name_of(rid),
        "resource_group": resource_group_of(rid) or raw.resourceGroup,
        "location": raw.location,
        "tags": {str(k): str(v) for k, v in tags.items()},
    }


def _child_common(raw: RawResource, resource_group: str | None = None) -> dict:
    """Id, name and resource group of a child (the parent's group, when the parent knows it)."""
    rid = raw.id
    return {"id": rid, "name": raw.name or name_of(rid), "resource_group": resource_group or resource_group_of(rid)}


def subnet(raw: Any, resource_group: str | None = None) -> m.Subnet:
    raw = _typed(raw)
    p = props(raw)
    return check(m.Subnet(
        **_child_common(raw, resource_group),
        address_prefixes=_singular_and_plural(p.addressPrefix, p.addressPrefixes),
        network_security_group_id=_ref(p.networkSecurityGroup),
        route_table_id=_ref(p.routeTable),
        delegations=[m.Delegation(name=d.name, service_name=props(d).serviceName or "") for d in p.delegations or ()],
        private_endpoint_network_policies=p.privateEndpointNetworkPolicies,
        ip_configuration_owner_ids=_owners(p.ipConfigurations),
    ))


def _owners(ip_configurations: Any) -> list[str]:
    """The resources (not network interfaces) whose ip configurations are listed: `.../X/ipConfigurations/c` -> X."""
    owners = {}
    for ref in _refs(ip_configurations):
        owner = parent_id(ref)
        if owner and "/networkinterfaces/" not in owner.lower():
            owners.setdefault(owner.lower(), owner)
    return [owners[k] for k in sorted(owners)]


def peering(raw: Any, resource_group: str | None = None) -> m.Peering:
    raw = _typed(raw)
    p = props(raw)
    return check(m.Peering(
        **_child_common(raw, resource_group),
        remote_virtual_network_id=_ref(p.remoteVirtualNetwork),
        peering_state=p.peeringState,
        peering_sync_level=p.peeringSyncLevel,
        allow_virtual_network_access=p.allowVirtualNetworkAccess is not False,
        allow_forwarded_traffic=bool(p.allowForwardedTraffic),
        allow_gateway_transit=bool(p.allowGatewayTransit),
        use_remote_gateways=bool(p.useRemoteGateways),
        do_not_verify_remote_gateways=bool(p.doNotVerifyRemoteGateways),
        remote_address_space=_prefixes(p.remoteAddressSpace),
        remote_virtual_network_address_space=_prefixes(p.remoteVirtualNetworkAddressSpace),
        peer_complete_vnets=p.peerCompleteVnets,
        enable_only_ipv6_peering=p.enableOnlyIPv6Peering,
        local_subnet_names=list(p.localSubnetNames or ()),
        remote_subnet_names=list(p.remoteSubnetNames or ()),
        local_address_space=_prefixes(p.localAddressSpace),
        local_virtual_network_address_space=_prefixes(p.localVirtualNetworkAddressSpace),
        provisioning_state=p.provisioningState,
    ))


def virtual_network(raw: Any) -> m.VirtualNetwork:
    raw = _typed(raw)
    p = props(raw)
    dns = p.dhcpOptions.dnsServers if p.dhcpOptions is not None else None
    common = _common(raw)
    rg = common["resource_group"]
    return check(m.VirtualNetwork(
        **common,
        address_prefixes=_prefixes(p.addressSpace),
        dns_servers=[s for s in dns or () if s],
        subnets=[subnet(s, rg) for s in p.subnets or () if _ref(s)],
        peerings=[peering(x, rg) for x in p.virtualNetworkPeerings or () if _ref(x)],
        provisioning_state=p.provisioningState,
    ))


def security_rule(raw: Any, is_default: bool, resource_group: str | None = None) -> m.SecurityRule:
    # the hottest mapping (hundreds of thousands of rules in a large estate): written out flat
    raw = _typed(raw)
    p = raw.properties or raw
    if p.priority is None:
        raise InputError(f"security rule {raw.id} has no numeric priority")
    rid = raw.id
    return check(m.SecurityRule(
        id=rid,
        name=raw.name or name_of(rid),
        resource_group=resource_group or resource_group_of(rid),
        priority=p.priority,
        direction=p.direction or "Inbound",
        access=p.access or "Allow",
        protocol=p.protocol or "*",
        source_address_prefixes=_singular_and_plural(p.sourceAddressPrefix, p.sourceAddressPrefixes),
        destination_address_prefixes=_singular_and_plural(p.destinationAddressPrefix, p.destinationAddressPrefixes),
        source_port_ranges=_singular_and_plural(p.sourcePortRange, p.sourcePortRanges),
        destination_port_ranges=_singular_and_plural(p.destinationPortRange, p.destinationPortRanges),
        source_application_security_group_ids=_refs(p.sourceApplicationSecurityGroups),
        destination_application_security_group_ids=_refs(p.destinationApplicationSecurityGroups),
        description=p.description,
        is_default=is_default,
    ))


def network_security_group(raw: Any) -> m.NetworkSecurityGroup:
    raw = _typed(raw)
    p = props(raw)
    common = _common(raw)
    rg = common["resource_group"]
    return m.NetworkSecurityGroup(
        **common,
        security_rules=[security_rule(r, False, rg) for r in p.securityRules or () if _ref(r)],
        default_security_rules=[security_rule(r, True, rg) for r in p.defaultSecurityRules or () if _ref(r)],
        subnet_ids=_refs(p.subnets),
        network_interface_ids=_refs(p.networkInterfaces),
    )


def route(raw: Any, resource_group: str | None = None) -> m.Route:
    raw = _typed(raw)
    p = props(raw)
    return check(m.Route(
        **_child_common(raw, resource_group),
        address_prefix=p.addressPrefix or "",
        next_hop_type=p.nextHopType or "None",
        next_hop_ip_address=p.nextHopIpAddress or None,
    ))


def route_table(raw: Any) -> m.RouteTable:
    raw = _typed(raw)
    p = props(raw)
    common = _common(raw)
    return m.RouteTable(
        **common,
        routes=[route(r, common["resource_group"]) for r in p.routes or () if _ref(r)],
        disable_bgp_route_propagation=bool(p.disableBgpRoutePropagation),
        subnet_ids=_refs(p.subnets),
    )


def virtual_network_gateway(raw: Any) -> m.VirtualNetworkGateway:
    raw = _typed(raw)
    p = props(raw)
    subnets = [_ref(props(c).subnet) for c in p.ipConfigurations or ()]
    vnet_ids = [parent_id(s) for s in subnets if s]
    bgp = p.bgpSettings
    return check(m.VirtualNetworkGateway(
        **_common(raw),
        gateway_type=p.gatewayType,
        vpn_type=p.vpnType,
        sku=_sku_name(p.sku or raw.sku),
        virtual_network_id=vnet_ids[0] if vnet_ids else None,
        enable_bgp=bool(p.enableBgp),
        bgp_asn=bgp.asn if bgp is not None else None,
        active_active=bool(p.activeActive),
        provisioning_state=p.provisioningState,
    ))


def local_network_gateway(raw: Any) -> m.LocalNetworkGateway:
    raw = _typed(raw)
    p = props(raw)
    bgp = p.bgpSettings
    return check(m.LocalNetworkGateway(
        **_common(raw),
        address_prefixes=_prefixes(p.localNetworkAddressSpace),
        gateway_ip_address=p.gatewayIpAddress,
        fqdn=p.fqdn,
        bgp_asn=bgp.asn if bgp is not None else None,
        bgp_peering_address=bgp.bgpPeeringAddress if bgp is not None else None,
    ))


def connection(raw: Any) -> m.Connection:
    raw = _typed(raw)
    p = props(raw)
    return m.Connection(
        **_common(raw),
        connection_type=p.connectionType,
        virtual_network_gateway1_id=_ref(p.virtualNetworkGateway1),
        virtual_network_gateway2_id=_ref(p.virtualNetworkGateway2),
        local_network_gateway2_id=_ref(p.localNetworkGateway2),
        peer_id=_ref(p.peer),
        connection_status=p.connectionStatus,
        enable_bgp=bool(p.enableBgp),
    )


def nic_ip_configuration(raw: Any, resource_group: str | None = None) -> m.NicIpConfiguration:
    raw = _typed(raw)
    p = props(raw)
    return check(m.NicIpConfiguration(
        **_child_common(raw, resource_group),
        subnet_id=_ref(p.subnet),
        private_ip_address=p.privateIPAddress,
        private_ip_address_version=p.privateIPAddressVersion,
        primary=bool(p.primary),
        application_security_group_ids=_refs(p.applicationSecurityGroups),
        public_ip_address_id=_ref(p.publicIPAddress),
    ))


def network_interface(raw: Any) -> m.NetworkInterface:
    raw = _typed(raw)
    p = props(raw)
    common = _common(raw)
    return m.NetworkInterface(
        **common,
        ip_configurations=[nic_ip_configuration(c, common["resource_group"]) for c in p.ipConfigurations or () if _ref(c)],
        network_security_group_id=_ref(p.networkSecurityGroup),
        enable_ip_forwarding=bool(p.enableIPForwarding),
        virtual_machine_id=_ref(p.virtualMachine),
    )


def application_security_group(raw: Any) -> m.ApplicationSecurityGroup:
    return m.ApplicationSecurityGroup(**_common(_typed(raw)))


def virtual_wan(raw: Any) -> m.VirtualWan:
    raw = _typed(raw)
    p = props(raw)
    wan_type = p.virtualWANType or p.type  # flattened (az), `type` is the ARM type, which has a "/"
    return m.VirtualWan(
        **_common(raw),
        virtual_wan_type=wan_type if wan_type and "/" not in wan_type else None,
        allow_branch_to_branch_traffic=bool(p.allowBranchToBranchTraffic),
        disable_vpn_encryption=bool(p.disableVpnEncryption),
    )


def hub_connection(raw: Any, resource_group: str | None = None) -> m.HubVirtualNetworkConnection:
    raw = _typed(raw)
    p = props(raw)
    routing = p.routingConfiguration
    propagated = routing.propagatedRouteTables if routing is not None else None
    static = routing.vnetRoutes.staticRoutes if routing is not None and routing.vnetRoutes is not None else None
    return m.HubVirtualNetworkConnection(
        **_child_common(raw, resource_group),
        remote_virtual_network_id=_ref(p.remoteVirtualNetwork),
        allow_hub_to_remote_vnet_transit=p.allowHubToRemoteVnetTransit is not False,
        allow_remote_vnet_to_use_hub_vnet_gateways=p.allowRemoteVnetToUseHubVnetGateways is not False,
        enable_internet_security=bool(p.enableInternetSecurity),
        associated_route_table_id=_ref(routing.associatedRouteTable) if routing is not None else None,
        propagated_route_table_ids=_refs(propagated.ids) if propagated is not None else [],
        propagated_route_table_labels=list(propagated.labels or ()) if propagated is not None else [],
        static_routes=[
            m.HubStaticRoute(name=r.name, address_prefixes=[a for a in r.addressPrefixes or () if a],
                             next_hop_ip_address=r.nextHopIpAddress)
            for r in static or ()
        ],
        provisioning_state=p.provisioningState,
    )


def hub_ip_configuration(raw: Any, resource_group: str | None = None) -> m.VirtualHubIpConfiguration:
    raw = _typed(raw)
    p = props(raw)
    return m.VirtualHubIpConfiguration(
        **_child_common(raw, resource_group), subnet_id=_ref(p.subnet), private_ip_address=p.privateIPAddress,
    )


def routing_intent(raw: Any, resource_group: str | None = None) -> m.RoutingIntent:
    raw = _typed(raw)
    return m.RoutingIntent(
        **_child_common(raw, resource_group),
        routing_policies=[m.RoutingPolicy(name=r.name, destinations=list(r.destinations or ()), next_hop=r.nextHop)
                          for r in props(raw).routingPolicies or ()],
    )


def _sku_name(sku: Any) -> str | None:
    return sku if isinstance(sku, str) or sku is None else (sku.name or sku.tier)


def virtual_hub(raw: Any) -> m.VirtualHub:
    raw = _typed(raw)
    p = props(raw)
    common = _common(raw)
    rg = common["resource_group"]
    return m.VirtualHub(
        **common,
        kind=raw.kind,
        address_prefix=p.addressPrefix,
        virtual_wan_id=_ref(p.virtualWan),
        sku=_sku_name(p.sku),
        virtual_router_asn=p.virtualRouterAsn,
        virtual_router_ips=[i for i in p.virtualRouterIps or () if i],
        allow_branch_to_branch_traffic=bool(p.allowBranchToBranchTraffic),
        hub_routing_preference=p.hubRoutingPreference,
        routing_state=p.routingState,
        azure_firewall_id=_ref(p.azureFirewall),
        security_provider_name=p.securityProviderName,
        vpn_gateway_id=_ref(p.vpnGateway),
        express_route_gateway_id=_ref(p.expressRouteGateway),
        p2s_vpn_gateway_id=_ref(p.p2SVpnGateway),
        # the hub lists its children as bare references; only whole children (az, older APIs) are kept
        ip_configurations=[hub_ip_configuration(c, rg) for c in p.ipConfigurations or () if props(c).subnet],
        virtual_network_connections=[hub_connection(c, rg) for c in p.virtualNetworkConnections or ()
                                     if props(c).remoteVirtualNetwork],
        provisioning_state=p.provisioningState,
    )


def network_manager(raw: Any) -> m.NetworkManager:
    raw = _typed(raw)
    p = props(raw)
    scopes = p.networkManagerScopes
    return m.NetworkManager(
        **_common(raw),
        scope_subscriptions=list(scopes.subscriptions or ()) if scopes is not None else [],
        scope_management_groups=list(scopes.managementGroups or ()) if scopes is not None else [],
        scope_accesses=list(p.networkManagerScopeAccesses or ()),
    )


def network_group(raw: Any) -> m.NetworkGroup:
    raw = _typed(raw)
    p = props(raw)
    return m.NetworkGroup(**_child_common(raw), member_type=p.memberType, description=p.description)


def static_member(raw: Any) -> m.StaticMember:
    raw = _typed(raw)
    p = props(raw)
    return m.StaticMember(**_child_common(raw), resource_id=p.resourceId, region=p.region)


def connectivity_configuration(raw: Any) -> m.ConnectivityConfiguration:
    raw = _typed(raw)
    p = props(raw)
    return m.ConnectivityConfiguration(
        **_child_common(raw),
        connectivity_topology=p.connectivityTopology,
        hub_ids=[h.resourceId for h in p.hubs or () if h.resourceId],
        is_global=bool(p.isGlobal),
        delete_existing_peering=bool(p.deleteExistingPeering),
        applies_to_groups=[
            m.ConnectivityGroupItem(network_group_id=g.networkGroupId, group_connectivity=g.groupConnectivity,
                                    use_hub_gateway=bool(g.useHubGateway), is_global=bool(g.isGlobal))
            for g in p.appliesToGroups or () if g.networkGroupId
        ],
    )


def security_admin_configuration(raw: Any) -> m.SecurityAdminConfiguration:
    raw = _typed(raw)
    p = props(raw)
    return m.SecurityAdminConfiguration(
        **_child_common(raw), description=p.description,
        apply_on_network_intent_policy_based_services=list(p.applyOnNetworkIntentPolicyBasedServices or ()),
    )


def admin_rule_collection(raw: Any) -> m.AdminRuleCollection:
    raw = _typed(raw)
    groups = props(raw).appliesToGroups
    return m.AdminRuleCollection(
        **_child_common(raw), applies_to_group_ids=[g.networkGroupId for g in groups or () if g.networkGroupId],
    )


def _addresses(items: Any) -> list[str]:
    return [a.addressPrefix for a in items or () if a.addressPrefix]


def admin_rule(raw: Any) -> m.AdminRule:
    raw = _typed(raw)
    p = props(raw)
    return check(m.AdminRule(
        **_child_common(raw),
        kind=raw.kind or "Custom",
        priority=p.priority,
        direction=p.direction,
        access=p.access,
        protocol=p.protocol or "Any",
        source_address_prefixes=_addresses(p.sources),
        destination_address_prefixes=_addresses(p.destinations),
        source_port_ranges=[str(r) for r in p.sourcePortRanges or () if r not in (None, "")],
        destination_port_ranges=[str(r) for r in p.destinationPortRanges or () if r not in (None, "")],
        description=p.description,
        flag=p.flag,
    ))


TOP_LEVEL = {
    VNET: ("virtual_networks", virtual_network),
    NSG: ("network_security_groups", network_security_group),
    ROUTE_TABLE: ("route_tables", route_table),
    GATEWAY: ("virtual_network_gateways", virtual_network_gateway),
    LOCAL_GATEWAY: ("local_network_gateways", local_network_gateway),
    CONNECTION: ("connections", connection),
    NIC: ("network_interfaces", network_interface),
    ASG: ("application_security_groups", application_security_group),
    VIRTUAL_WAN: ("virtual_wans", virtual_wan),
    VIRTUAL_HUB: ("virtual_hubs", virtual_hub),
    NETWORK_MANAGER: ("network_managers", network_manager),
}
#: child type -> (parent type, list attribute on the parent, normalizer)
CHILDREN = {
    SUBNET: (VNET, "subnets", subnet),
    PEERING: (VNET, "peerings", peering),
    SECURITY_RULE: (NSG, "security_rules", lambda r: security_rule(r, False)),
    DEFAULT_SECURITY_RULE: (NSG, "default_security_rules", lambda r: security_rule(r, True)),
    ROUTE: (ROUTE_TABLE, "routes", route),
    NIC_IP_CONFIGURATION: (NIC, "ip_configurations", nic_ip_configuration),
    HUB_IP_CONFIGURATION: (VIRTUAL_HUB, "ip_configurations", hub_ip_configuration),
    HUB_CONNECTION: (VIRTUAL_HUB, "virtual_network_connections", hub_connection),
    ROUTING_INTENT: (VIRTUAL_HUB, "routing_intents", routing_intent),
    NETWORK_GROUP: (NETWORK_MANAGER, "network_groups", network_group),
    STATIC_MEMBER: (NETWORK_GROUP, "static_members", static_member),
    CONNECTIVITY_CONFIGURATION: (NETWORK_MANAGER, "connectivity_configurations", connectivity_configuration),
    SECURITY_ADMIN_CONFIGURATION: (NETWORK_MANAGER, "security_admin_configurations", security_admin_configuration),
    ADMIN_RULE_COLLECTION: (SECURITY_ADMIN_CONFIGURATION, "rule_collections", admin_rule_collection),
    ADMIN_RULE: (ADMIN_RULE_COLLECTION, "rules", admin_rule),
}

_SUBSCRIPTION_ID = re.compile(r"^/subscriptions/([^/]+)/?$", re.IGNORECASE)
_TENANT_ID = re.compile(r"^/tenants/([^/]+)/?$", re.IGNORECASE)


def account_entry(raw: Any) -> str | None:
    """'subscription' or 'tenant' for listing entries (GetSubscriptions, `az account list`,
    Resource Graph resourcecontainers, GetTenants, `az account tenant list`), else None.
    Takes a `RawResource` or Python data of any shape."""
    def get(name: str) -> Any:
        return raw.get(name) if isinstance(raw, dict) else getattr(raw, name, None)

    rid = get("id")
    rid = rid if isinstance(rid, str) else ""
    if _SUBSCRIPTION_ID.match(rid):
        return "subscription"
    az_account = any(get(k) is not None for k in ("homeTenantId", "isDefault", "cloudName"))
    if get("tenantId") and "/" not in rid and az_account:
        return "subscription"  # `az account list`: id is the bare subscription GUID, name the display name
    if _TENANT_ID.match(rid):
        return "tenant"
    return None


def subscription_id_of(raw: RawResource) -> str:
    """The subscription id of a subscription listing entry."""
    match = _SUBSCRIPTION_ID.match(raw.id or "")
    return raw.subscriptionId or (match.group(1) if match else raw.id)
