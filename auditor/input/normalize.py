"""Turn ARM-shaped resources into snapshot models.

Accepts every shape Azure prints for the same resource: REST (settings under
`properties`), Resource Graph rows (REST plus `subscriptionId`/`tenantId`, lower-case
`type`) and `az` CLI output (settings flattened onto the resource, at every level).
"""

from __future__ import annotations

import re
from typing import Any

from auditor.model import snapshot as m
from auditor.model.ids import (
    name_of,
    norm_id,
    parent_id,
    resource_group_of,
    subscription_of,
)


class InputError(ValueError):
    """A problem with user input; the message is one line and names what is wrong."""


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

_PROVIDER_PATH = re.compile(r"/providers/([^/]+)/(.+)$", re.IGNORECASE)


def resource_type(resource: dict) -> str:
    """Lower-case ARM type, from `type` or, when absent (peering list responses), from the id."""
    declared = resource.get("type")
    if isinstance(declared, str) and "/" in declared:
        return declared.lower()
    match = _PROVIDER_PATH.search(str(resource.get("id") or ""))
    if not match:
        return ""
    segments = match.group(2).split("/")
    return "/".join([match.group(1), *segments[0::2]]).lower()


def props(obj: Any) -> dict:
    """The settings of a resource in REST/Graph shape (`properties`) or `az` shape (flattened)."""
    if not isinstance(obj, dict):
        return {}
    inner = obj.get("properties")
    return inner if isinstance(inner, dict) else obj


def _ref(value: Any) -> str | None:
    """An `{"id": ...}` reference, or a bare id string."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _refs(values: Any) -> list[str]:
    return [r for r in (_ref(v) for v in values or []) if r]


def _prefixes(space: Any) -> list[str]:
    """`{"addressPrefixes": [...]}` or a bare list."""
    if isinstance(space, dict):
        space = space.get("addressPrefixes")
    return [str(p) for p in space or [] if p]


def _singular_and_plural(p: dict, singular: str, plural: str) -> list[str]:
    values = [v for v in (p.get(plural) or []) if v not in (None, "")]
    one = p.get(singular)
    if one not in (None, "") and one not in values:
        values.insert(0, one)
    return [str(v) for v in values]


def _bool(value: Any, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _common(resource: dict) -> dict:
    rid = resource["id"]
    tags = resource.get("tags") or {}
    return {
        "id": rid,
        "name": resource.get("name") or name_of(rid),
        "resource_group": resource_group_of(rid) or resource.get("resourceGroup"),
        "location": resource.get("location"),
        "tags": {str(k): str(v) for k, v in tags.items()} if isinstance(tags, dict) else {},
    }


def _child_common(child: dict) -> dict:
    rid = child["id"]
    return {"id": rid, "name": child.get("name") or name_of(rid), "resource_group": resource_group_of(rid)}


def subnet(raw: dict) -> m.Subnet:
    p = props(raw)
    return m.Subnet(
        **_child_common(raw),
        address_prefixes=_singular_and_plural(p, "addressPrefix", "addressPrefixes"),
        network_security_group_id=_ref(p.get("networkSecurityGroup")),
        route_table_id=_ref(p.get("routeTable")),
        delegations=[
            m.Delegation(name=d.get("name"), service_name=props(d).get("serviceName") or "")
            for d in p.get("delegations") or []
            if isinstance(d, dict)
        ],
        private_endpoint_network_policies=p.get("privateEndpointNetworkPolicies"),
    )


def peering(raw: dict) -> m.Peering:
    p = props(raw)
    return m.Peering(
        **_child_common(raw),
        remote_virtual_network_id=_ref(p.get("remoteVirtualNetwork")),
        peering_state=p.get("peeringState"),
        peering_sync_level=p.get("peeringSyncLevel"),
        allow_virtual_network_access=_bool(p.get("allowVirtualNetworkAccess"), True),
        allow_forwarded_traffic=_bool(p.get("allowForwardedTraffic")),
        allow_gateway_transit=_bool(p.get("allowGatewayTransit")),
        use_remote_gateways=_bool(p.get("useRemoteGateways")),
        do_not_verify_remote_gateways=_bool(p.get("doNotVerifyRemoteGateways")),
        remote_address_space=_prefixes(p.get("remoteAddressSpace")),
        remote_virtual_network_address_space=_prefixes(p.get("remoteVirtualNetworkAddressSpace")),
        peer_complete_vnets=p.get("peerCompleteVnets"),
        enable_only_ipv6_peering=p.get("enableOnlyIPv6Peering"),
        local_subnet_names=list(p.get("localSubnetNames") or []),
        remote_subnet_names=list(p.get("remoteSubnetNames") or []),
        local_address_space=_prefixes(p.get("localAddressSpace")),
        local_virtual_network_address_space=_prefixes(p.get("localVirtualNetworkAddressSpace")),
        provisioning_state=p.get("provisioningState"),
    )


def virtual_network(raw: dict) -> m.VirtualNetwork:
    p = props(raw)
    return m.VirtualNetwork(
        **_common(raw),
        address_prefixes=_prefixes(p.get("addressSpace")),
        dns_servers=list((p.get("dhcpOptions") or {}).get("dnsServers") or []),
        subnets=[subnet(s) for s in p.get("subnets") or [] if _ref(s)],
        peerings=[peering(x) for x in p.get("virtualNetworkPeerings") or [] if _ref(x)],
        provisioning_state=p.get("provisioningState"),
    )


def security_rule(raw: dict, is_default: bool) -> m.SecurityRule:
    p = props(raw)
    try:
        priority = int(p.get("priority"))
    except (TypeError, ValueError):
        raise InputError(f"security rule {raw.get('id')} has no numeric priority") from None
    return m.SecurityRule(
        **_child_common(raw),
        priority=priority,
        direction=p.get("direction") or "Inbound",
        access=p.get("access") or "Allow",
        protocol=p.get("protocol") or "*",
        source_address_prefixes=_singular_and_plural(p, "sourceAddressPrefix", "sourceAddressPrefixes"),
        destination_address_prefixes=_singular_and_plural(p, "destinationAddressPrefix", "destinationAddressPrefixes"),
        source_port_ranges=_singular_and_plural(p, "sourcePortRange", "sourcePortRanges"),
        destination_port_ranges=_singular_and_plural(p, "destinationPortRange", "destinationPortRanges"),
        source_application_security_group_ids=_refs(p.get("sourceApplicationSecurityGroups")),
        destination_application_security_group_ids=_refs(p.get("destinationApplicationSecurityGroups")),
        description=p.get("description"),
        is_default=is_default,
    )


def network_security_group(raw: dict) -> m.NetworkSecurityGroup:
    p = props(raw)
    return m.NetworkSecurityGroup(
        **_common(raw),
        security_rules=[security_rule(r, False) for r in p.get("securityRules") or [] if _ref(r)],
        default_security_rules=[security_rule(r, True) for r in p.get("defaultSecurityRules") or [] if _ref(r)],
        subnet_ids=_refs(p.get("subnets")),
        network_interface_ids=_refs(p.get("networkInterfaces")),
    )


def route(raw: dict) -> m.Route:
    p = props(raw)
    return m.Route(
        **_child_common(raw),
        address_prefix=p.get("addressPrefix") or "",
        next_hop_type=p.get("nextHopType") or "None",
        next_hop_ip_address=p.get("nextHopIpAddress") or None,
    )


def route_table(raw: dict) -> m.RouteTable:
    p = props(raw)
    return m.RouteTable(
        **_common(raw),
        routes=[route(r) for r in p.get("routes") or [] if _ref(r)],
        disable_bgp_route_propagation=_bool(p.get("disableBgpRoutePropagation")),
        subnet_ids=_refs(p.get("subnets")),
    )


def virtual_network_gateway(raw: dict) -> m.VirtualNetworkGateway:
    p = props(raw)
    subnets = [_ref(props(c).get("subnet")) for c in p.get("ipConfigurations") or []]
    vnet_ids = [parent_id(s) for s in subnets if s]
    sku = p.get("sku") or raw.get("sku")
    bgp = p.get("bgpSettings") or {}
    return m.VirtualNetworkGateway(
        **_common(raw),
        gateway_type=p.get("gatewayType"),
        vpn_type=p.get("vpnType"),
        sku=(sku.get("name") or sku.get("tier")) if isinstance(sku, dict) else sku,
        virtual_network_id=vnet_ids[0] if vnet_ids else None,
        enable_bgp=_bool(p.get("enableBgp")),
        bgp_asn=bgp.get("asn"),
        active_active=_bool(p.get("activeActive")),
        provisioning_state=p.get("provisioningState"),
    )


def local_network_gateway(raw: dict) -> m.LocalNetworkGateway:
    p = props(raw)
    bgp = p.get("bgpSettings") or {}
    return m.LocalNetworkGateway(
        **_common(raw),
        address_prefixes=_prefixes(p.get("localNetworkAddressSpace")),
        gateway_ip_address=p.get("gatewayIpAddress"),
        fqdn=p.get("fqdn"),
        bgp_asn=bgp.get("asn"),
        bgp_peering_address=bgp.get("bgpPeeringAddress"),
    )


def connection(raw: dict) -> m.Connection:
    p = props(raw)
    return m.Connection(
        **_common(raw),
        connection_type=p.get("connectionType"),
        virtual_network_gateway1_id=_ref(p.get("virtualNetworkGateway1")),
        virtual_network_gateway2_id=_ref(p.get("virtualNetworkGateway2")),
        local_network_gateway2_id=_ref(p.get("localNetworkGateway2")),
        peer_id=_ref(p.get("peer")),
        connection_status=p.get("connectionStatus"),
        enable_bgp=_bool(p.get("enableBgp")),
    )


TOP_LEVEL = {
    VNET: ("virtual_networks", virtual_network),
    NSG: ("network_security_groups", network_security_group),
    ROUTE_TABLE: ("route_tables", route_table),
    GATEWAY: ("virtual_network_gateways", virtual_network_gateway),
    LOCAL_GATEWAY: ("local_network_gateways", local_network_gateway),
    CONNECTION: ("connections", connection),
}
#: child type -> (parent type, list attribute on the parent, normalizer)
CHILDREN = {
    SUBNET: (VNET, "subnets", subnet),
    PEERING: (VNET, "peerings", peering),
    SECURITY_RULE: (NSG, "security_rules", lambda r: security_rule(r, False)),
    DEFAULT_SECURITY_RULE: (NSG, "default_security_rules", lambda r: security_rule(r, True)),
    ROUTE: (ROUTE_TABLE, "routes", route),
}


_SUBSCRIPTION_ID = re.compile(r"^/subscriptions/([^/]+)/?$", re.IGNORECASE)
_TENANT_ID = re.compile(r"^/tenants/([^/]+)/?$", re.IGNORECASE)
_WORSE = {m.CoverageStatus.complete: 0, m.CoverageStatus.partial: 1, m.CoverageStatus.failed: 2}


def account_entry(raw: dict) -> str | None:
    """'subscription' or 'tenant' for listing entries (GetSubscriptions, `az account list`,
    Resource Graph resourcecontainers, GetTenants, `az account tenant list`), else None."""
    rid = str(raw.get("id") or "")
    if _SUBSCRIPTION_ID.match(rid):
        return "subscription"
    if raw.get("tenantId") and "/" not in rid and {"homeTenantId", "isDefault", "cloudName"} & raw.keys():
        return "subscription"  # `az account list`: id is the bare subscription GUID, name the display name
    if _TENANT_ID.match(rid):
        return "tenant"
    return None


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and value[:15].lower() == "/subscriptions/"


def _canonical(value: Any) -> Any:
    """Content with ids and resource groups case-folded, and lists of children or ids in any
    order (prefix and DNS server order is kept): what 'the same resource' means."""
    if isinstance(value, dict):
        return {k: v.lower() if k == "resource_group" and isinstance(v, str) else _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        unordered = all(isinstance(v, dict) or _is_id(v) for v in items)
        return sorted(items, key=repr) if unordered else items
    return norm_id(value) if _is_id(value) else value


def _difference(a: Any, b: Any) -> str:
    """The first field two versions of a resource disagree on, for the error message."""
    left, right = _canonical(a.model_dump()), _canonical(b.model_dump())
    for key in left:
        if left[key] != right.get(key):
            if isinstance(left[key], (list, dict)):
                return key
            return f"{key} {a.model_dump()[key]!r} vs {b.model_dump()[key]!r}"
    return "content"


class SnapshotBuilder:
    """Collects resources from any number of sources into one snapshot.

    The same resource seen twice (a peering inline and as a child listing, or in two
    files, with ids differing only in case) is kept once; two different contents under
    one id are an input error naming both origins, unless `latest_wins`: a live collection
    can read a resource twice when it changes while a list is paged, and the later read is
    the current one.
    """

    def __init__(self, latest_wins: bool = False) -> None:
        self.latest_wins = latest_wins
        self._top: dict[str, tuple[str, Any, str]] = {}  # key -> (list attr, model, origin)
        self._children: dict[str, tuple[str, str, Any, str]] = {}  # key -> (parent key, attr, model, origin)
        self.subscriptions: dict[str, m.Subscription] = {}
        self.tenants: dict[str, m.Tenant] = {}
        self.skipped: dict[str, int] = {}
        self.cloud: str | None = None  # from `az account list` (cloudName)

    def add(self, raw: Any, origin: str, tenant_id: str | None = None) -> None:
        if not isinstance(raw, dict):
            raise InputError(f"expected a resource object, got {type(raw).__name__}")
        rid = raw.get("id")
        if not isinstance(rid, str) or not rid.strip():
            if "type" not in raw and "name" not in raw:
                raise InputError(
                    f"not a resource (no id, type or name; keys: {', '.join(sorted(map(str, raw))[:5]) or 'none'}); "
                    "export whole resources, e.g. a Resource Graph query that keeps id, type and properties"
                )
            raise InputError(f"resource {raw.get('name')!r} of type {raw.get('type')!r} has no id")
        kind = account_entry(raw)
        if kind:
            self._add_account(kind, raw)
            return
        rtype = resource_type(raw)
        self.note_subscription(subscription_of(rid), raw.get("tenantId") or tenant_id)
        if rtype in TOP_LEVEL:
            attr, make = TOP_LEVEL[rtype]
            self._keep(self._top, norm_id(rid), (attr, make(raw), origin))
        elif rtype in CHILDREN:
            _, attr, make = CHILDREN[rtype]
            self._keep(self._children, norm_id(rid), (norm_id(parent_id(rid)), attr, make(raw), origin))
        else:
            self.skipped[rtype or "unknown"] = self.skipped.get(rtype or "unknown", 0) + 1

    def _add_account(self, kind: str, raw: dict) -> None:
        if kind == "tenant":
            tid = str(raw.get("tenantId") or name_of(raw["id"]))
            self.note_tenant(tid, display_name=raw.get("displayName"), default_domain=raw.get("defaultDomain"))
            return
        p = props(raw)
        match = _SUBSCRIPTION_ID.match(raw["id"])
        sid = raw.get("subscriptionId") or (match.group(1) if match else raw["id"])
        # GetSubscriptions and Graph name it displayName / name; `az account list` name
        display = raw.get("displayName") or raw.get("name")
        self.note_subscription(str(sid), raw.get("tenantId"), display_name=display, state=raw.get("state") or p.get("state"))
        if raw.get("cloudName") and not self.cloud:
            self.cloud = raw["cloudName"]

    def add_model(self, attr: str, model: Any, origin: str) -> None:
        """Add an already-normalized top-level model (from another snapshot)."""
        self.note_subscription(subscription_of(model.id))
        self._keep(self._top, norm_id(model.id), (attr, model, origin))

    def _keep(self, store: dict, key: str, entry: tuple) -> None:
        model, origin = entry[-2], entry[-1]
        previous = store.get(key)
        if previous is None:
            store[key] = entry
        elif _canonical(previous[-2].model_dump()) != _canonical(model.model_dump()):
            if not self.latest_wins:
                raise InputError(_conflict(model, origin, previous[-2], previous[-1]))
            store[key] = entry
        elif model.model_dump_json() < previous[-2].model_dump_json():
            store[key] = (*entry[:-1], previous[-1])  # equal copies: keep one independent of input order

    def note_tenant(self, tenant_id: str, **fields: Any) -> m.Tenant:
        tenant = self.tenants.setdefault(tenant_id.lower(), m.Tenant(tenant_id=tenant_id.lower()))
        for key, value in fields.items():
            if value is not None:
                setattr(tenant, key, value)
        return tenant

    def note_subscription(self, subscription_id: str | None, tenant_id: str | None = None, **fields: Any) -> None:
        """Register a subscription; the worst coverage status wins and errors accumulate."""
        if not subscription_id:
            return
        sub = self.subscriptions.setdefault(subscription_id.lower(), m.Subscription(subscription_id=subscription_id.lower()))
        if tenant_id and not sub.tenant_id:
            sub.tenant_id = str(tenant_id).lower()
        status, errors = fields.pop("status", None), fields.pop("errors", None) or []
        if status is not None and _WORSE[m.CoverageStatus(status)] > _WORSE[sub.status]:
            sub.status = m.CoverageStatus(status)
        sub.errors += [e for e in errors if e not in sub.errors]
        for key, value in fields.items():
            if value is not None:
                setattr(sub, key, value)
        if sub.tenant_id:
            self.note_tenant(sub.tenant_id)

    def build(self, metadata: m.ScanMetadata | None = None) -> m.Snapshot:
        lists: dict[str, list] = {attr: [] for attr, _ in TOP_LEVEL.values()}
        parents = {}
        for key, (attr, model, origin) in self._top.items():
            lists[attr].append(model)
            parents[key] = (model, origin)
        inline_children: dict[tuple[str, str], dict[str, Any]] = {}
        for key, (parent_key, attr, model, origin) in sorted(self._children.items()):
            if parent_key not in parents:  # e.g. a peering listing without its VNet: nothing to attach it to
                label = f"{resource_type({'id': model.id})} (parent not in input)"
                self.skipped[label] = self.skipped.get(label, 0) + 1
                continue
            parent, parent_origin = parents[parent_key]
            children = getattr(parent, attr)
            if (parent_key, attr) not in inline_children:
                inline_children[parent_key, attr] = {norm_id(c.id): c for c in children}
            inline = inline_children[parent_key, attr].get(key)
            if inline is None:
                children.append(model)
            elif _canonical(inline.model_dump()) != _canonical(model.model_dump()):
                raise InputError(f"{origin}: {_conflict(model, origin, inline, parent_origin)}")
        metadata = metadata or m.ScanMetadata()
        metadata.skipped_resource_types = dict(sorted(self.skipped.items()))
        if self.cloud:
            metadata.cloud = self.cloud
        return m.Snapshot(
            metadata=metadata,
            tenants=list(self.tenants.values()),
            subscriptions=list(self.subscriptions.values()),
            **lists,
        )


def _conflict(model: Any, origin: str, other: Any, other_origin: str) -> str:
    also = "" if origin == other_origin else f"; also in {other_origin}"
    return f"duplicate id {model.id} with conflicting content ({_difference(model, other)}){also}"
