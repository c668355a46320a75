"""The snapshot: the versioned, normalized contract between collection and analysis.

Field names follow Azure's own (snake_case of the ARM property). Resource ids keep
their original casing for display; every lookup goes through `auditor.model.ids.norm_id`.
Lists of resources are sorted by normalized id, so equal estates serialize equally.

Models are msgspec structs: a snapshot file decodes straight into them in one typed pass
(no intermediate dicts, no second validation), and they take a fraction of a dict's memory.
Resources are not tracked by the cyclic garbage collector (`gc=False`): they hold no cycles,
and a large estate is millions of them.

Versions: `schema_version` is MAJOR.MINOR. A minor version only adds optional fields. A reader
of 1.x reads any 1.y: an older file lacks the new fields, which take their defaults; a newer
file's fields it does not know are dropped (`decode_newer_minor`). In a file of its own or an
older minor version an unknown field can only be a mistake, and is refused. A new major is
refused with a hint to upgrade.
"""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import Any

import msgspec
from msgspec import Struct, field

from auditor.model.ids import norm_id, parent_id, subscription_of
from auditor.model.index import SnapshotIndex
from auditor.outputs import write_atomic

SCHEMA_VERSION = "1.1"  # 1.1 added NICs, ASGs, virtual WANs and hubs, network managers, coverage per type


class Resource(Struct, kw_only=True, gc=False, forbid_unknown_fields=True):
    id: str
    name: str
    resource_group: str | None = None
    location: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return norm_id(self.id)

    @property
    def subscription_id(self) -> str | None:
        return subscription_of(self.id)


class CoverageStatus(str, Enum):
    complete = "complete"
    partial = "partial"
    failed = "failed"


class CollectionError(Struct, kw_only=True, gc=False, forbid_unknown_fields=True):
    """Something that could not be read: which call, what Azure answered."""

    scope: str  # e.g. "virtualNetworks", "subscription", an input file
    code: str | None = None  # e.g. "AuthorizationFailed", "429", "Timeout"
    message: str


class Subscription(Struct, kw_only=True, forbid_unknown_fields=True):
    subscription_id: str
    display_name: str | None = None
    tenant_id: str | None = None
    state: str | None = None
    status: CoverageStatus = CoverageStatus.complete
    errors: list[CollectionError] = field(default_factory=list)
    #: The resource types (lower-case ARM types) the input holds for this subscription; None when
    #: every type vnet-audit reads was listed (a live collection). Imported files cover what they hold.
    resource_types: list[str] | None = None

    def covers(self, resource_type: str) -> bool:
        """True when the input listed `resource_type` in this subscription, so its absence means something."""
        return self.resource_types is None or resource_type.lower() in self.resource_types


class Tenant(Struct, kw_only=True, forbid_unknown_fields=True):
    tenant_id: str
    display_name: str | None = None
    default_domain: str | None = None


def _now() -> datetime:
    return datetime.now(timezone.utc)


class ScanMetadata(Struct, kw_only=True, forbid_unknown_fields=True):
    scanned_at: datetime = field(default_factory=_now)
    tool_version: str = ""
    source: str = "import"  # arm | graph | import | demo
    cloud: str = "AzureCloud"
    run_by: str | None = None
    inputs: list[str] = field(default_factory=list)
    skipped_resource_types: dict[str, int] = field(default_factory=dict)


class Delegation(Struct, kw_only=True, gc=False, forbid_unknown_fields=True):
    name: str | None = None
    service_name: str


class Subnet(Resource, kw_only=True, gc=False, forbid_unknown_fields=True):
    address_prefixes: list[str] = field(default_factory=list)
    network_security_group_id: str | None = None
    route_table_id: str | None = None
    delegations: list[Delegation] = field(default_factory=list)
    private_endpoint_network_policies: str | None = None
    #: Resources other than network interfaces with an ip configuration in the subnet (virtual network
    #: gateways, Route Servers, firewalls, load balancers), from the subnet's `ipConfigurations`: evidence
    #: of them even when the input does not list their type.
    ip_configuration_owner_ids: list[str] = field(default_factory=list)


class Peering(Resource, kw_only=True, gc=False, forbid_unknown_fields=True):
    remote_virtual_network_id: str | None = None
    peering_state: str | None = None  # Initiated | Connected | Disconnected
    peering_sync_level: str | None = None  # FullyInSync | LocalNotInSync | RemoteNotInSync | ...
    allow_virtual_network_access: bool = True
    allow_forwarded_traffic: bool = False
    allow_gateway_transit: bool = False
    use_remote_gateways: bool = False
    do_not_verify_remote_gateways: bool = False
    remote_address_space: list[str] = field(default_factory=list)
    remote_virtual_network_address_space: list[str] = field(default_factory=list)
    peer_complete_vnets: bool | None = None
    enable_only_ipv6_peering: bool | None = None
    local_subnet_names: list[str] = field(default_factory=list)
    remote_subnet_names: list[str] = field(default_factory=list)
    local_address_space: list[str] = field(default_factory=list)
    local_virtual_network_address_space: list[str] = field(default_factory=list)
    provisioning_state: str | None = None

    @property
    def virtual_network_id(self) -> str:
        return parent_id(self.id)

    @property
    def state(self) -> str:
        """`peering_state` in lower case ('' when unknown): Azure's casing varies between exports."""
        return (self.peering_state or "").lower()


class VirtualNetwork(Resource, kw_only=True, gc=False, forbid_unknown_fields=True):
    address_prefixes: list[str] = field(default_factory=list)
    dns_servers: list[str] = field(default_factory=list)
    subnets: list[Subnet] = field(default_factory=list)
    peerings: list[Peering] = field(default_factory=list)
    provisioning_state: str | None = None


class SecurityRule(Resource, kw_only=True, gc=False, forbid_unknown_fields=True):
    priority: int
    direction: str  # Inbound | Outbound
    access: str  # Allow | Deny
    protocol: str = "*"
    source_address_prefixes: list[str] = field(default_factory=list)
    destination_address_prefixes: list[str] = field(default_factory=list)
    source_port_ranges: list[str] = field(default_factory=list)
    destination_port_ranges: list[str] = field(default_factory=list)
    source_application_security_group_ids: list[str] = field(default_factory=list)
    destination_application_security_group_ids: list[str] = field(default_factory=list)
    description: str | None = None
    is_default: bool = False


class NetworkSecurityGroup(Resource, kw_only=True, gc=False, forbid_unknown_fields=True):
    security_rules: list[SecurityRule] = field(default_factory=list)
    default_security_rules: list[SecurityRule] = field(default_factory=list)
    subnet_ids: list[str] = field(default_factory=list)
    network_interface_ids: list[str] = field(default_factory=list)


class Route(Resource, kw_only=True, gc=False, forbid_unknown_fields=True):
    address_prefix: str
    next_hop_type: str  # VirtualNetworkGateway | VnetLocal | Internet | VirtualAppliance | None
    next_hop_ip_address: str | None = None


class RouteTable(Resource, kw_only=True, gc=False, forbid_unknown_fields=True):
    routes: list[Route] = field(default_factory=list)
    disable_bgp_route_propagation: bool = False
    subnet_ids: list[str] = field(default_factory=list)


class VirtualNetworkGateway(Resource, kw_only=True, gc=False, forbid_unknown_fields=True):
    gateway_type: str | None = None  # Vpn | ExpressRoute | LocalGateway
    vpn_type: str | None = None
    sku: str | None = None
    virtual_network_id: str | None = None
    enable_bgp: bool = False
    bgp_asn: int | None = None
    active_active: bool = False
    provisioning_state: str | None = None


class LocalNetworkGateway(Resource, kw_only=True, gc=False, forbid_unknown_fields=True):
    address_prefixes: list[str] = field(default_factory=list)
    gateway_ip_address: str | None = None
    fqdn: str | None = None
    bgp_asn: int | None = None
    bgp_peering_address: str | None = None


class Connection(Resource, kw_only=True, gc=False, forbid_unknown_fields=True):
    connection_type: str | None = None  # IPsec | Vnet2Vnet | ExpressRoute | VPNClient
    virtual_network_gateway1_id: str | None = None
    virtual_network_gateway2_id: str | None = None
    local_network_gateway2_id: str | None = None
    peer_id: str | None = None  # ExpressRoute circuit
    connection_status: str | None = None
    enable_bgp: bool = False


class NicIpConfiguration(Resource, kw_only=True, gc=False, forbid_unknown_fields=True):
    subnet_id: str | None = None
    private_ip_address: str | None = None
    private_ip_address_version: str | None = None  # IPv4 | IPv6
    primary: bool = False
    application_security_group_ids: list[str] = field(default_factory=list)
    public_ip_address_id: str | None = None


class NetworkInterface(Resource, kw_only=True, gc=False, forbid_unknown_fields=True):
    ip_configurations: list[NicIpConfiguration] = field(default_factory=list)
    network_security_group_id: str | None = None
    enable_ip_forwarding: bool = False
    virtual_machine_id: str | None = None


class ApplicationSecurityGroup(Resource, kw_only=True, gc=False, forbid_unknown_fields=True):
    pass


class VirtualWan(Resource, kw_only=True, gc=False, forbid_unknown_fields=True):
    virtual_wan_type: str | None = None  # Basic | Standard (Azure's `type` property)
    allow_branch_to_branch_traffic: bool = False
    disable_vpn_encryption: bool = False


class HubStaticRoute(Struct, kw_only=True, gc=False, forbid_unknown_fields=True):
    name: str | None = None
    address_prefixes: list[str] = field(default_factory=list)
    next_hop_ip_address: str | None = None


class HubVirtualNetworkConnection(Resource, kw_only=True, gc=False, forbid_unknown_fields=True):
    """A VNet connected to a Virtual WAN hub (the spoke sees it as a peering to the hub's managed VNet)."""

    remote_virtual_network_id: str | None = None
    allow_hub_to_remote_vnet_transit: bool = True
    allow_remote_vnet_to_use_hub_vnet_gateways: bool = True
    enable_internet_security: bool = False
    associated_route_table_id: str | None = None
    propagated_route_table_ids: list[str] = field(default_factory=list)
    propagated_route_table_labels: list[str] = field(default_factory=list)
    static_routes: list[HubStaticRoute] = field(default_factory=list)
    provisioning_state: str | None = None


class VirtualHubIpConfiguration(Resource, kw_only=True, gc=False, forbid_unknown_fields=True):
    """A Route Server's foot in its VNet: the subnet (RouteServerSubnet) and address it holds."""

    subnet_id: str | None = None
    private_ip_address: str | None = None


class RoutingPolicy(Struct, kw_only=True, gc=False, forbid_unknown_fields=True):
    name: str | None = None
    destinations: list[str] = field(default_factory=list)  # Internet | PrivateTraffic
    next_hop: str | None = None  # the firewall or NVA id


class RoutingIntent(Resource, kw_only=True, gc=False, forbid_unknown_fields=True):
    routing_policies: list[RoutingPolicy] = field(default_factory=list)


class VirtualHub(Resource, kw_only=True, gc=False, forbid_unknown_fields=True):
    """A Virtual WAN hub, or a Route Server (a hub with no virtual WAN and ip configurations in a VNet)."""

    kind: str | None = None  # "RouteServer" on Route Servers
    address_prefix: str | None = None
    virtual_wan_id: str | None = None
    sku: str | None = None  # Basic | Standard
    virtual_router_asn: int | None = None
    virtual_router_ips: list[str] = field(default_factory=list)
    allow_branch_to_branch_traffic: bool = False
    hub_routing_preference: str | None = None
    routing_state: str | None = None
    azure_firewall_id: str | None = None
    security_provider_name: str | None = None
    vpn_gateway_id: str | None = None
    express_route_gateway_id: str | None = None
    p2s_vpn_gateway_id: str | None = None
    ip_configurations: list[VirtualHubIpConfiguration] = field(default_factory=list)
    virtual_network_connections: list[HubVirtualNetworkConnection] = field(default_factory=list)
    routing_intents: list[RoutingIntent] = field(default_factory=list)
    provisioning_state: str | None = None

    @property
    def is_route_server(self) -> bool:
        if (self.kind or "").lower() == "routeserver":
            return True
        return not self.virtual_wan_id and any(c.subnet_id for c in self.ip_configurations)

    @property
    def route_server_vnet_id(self) -> str | None:
        """The VNet a Route Server sits in (the parent of its ip configurations' subnet)."""
        subnets = [c.subnet_id for c in self.ip_configurations if c.subnet_id]
        return parent_id(subnets[0]) if subnets else None


class StaticMember(Resource, kw_only=True, gc=False, forbid_unknown_fields=True):
    resource_id: str | None = None  # the VNet (or subnet) that is a member
    region: str | None = None


class NetworkGroup(Resource, kw_only=True, gc=False, forbid_unknown_fields=True):
    """Members are the static ones listed. Members added by Azure Policy (dynamic membership) are not
    readable from the network manager's resources: `dynamic_members_known` stays False."""

    member_type: str | None = None  # VirtualNetwork | Subnet
    description: str | None = None
    static_members: list[StaticMember] = field(default_factory=list)
    dynamic_members_known: bool = False


class ConnectivityGroupItem(Struct, kw_only=True, gc=False, forbid_unknown_fields=True):
    network_group_id: str
    group_connectivity: str | None = None  # None | DirectlyConnected
    use_hub_gateway: bool = False
    is_global: bool = False


class ConnectivityConfiguration(Resource, kw_only=True, gc=False, forbid_unknown_fields=True):
    """Per-region deployment cannot be read with GET calls: `deployment_status` stays None (unknown)."""

    connectivity_topology: str | None = None  # HubAndSpoke | Mesh
    hub_ids: list[str] = field(default_factory=list)
    is_global: bool = False
    delete_existing_peering: bool = False
    applies_to_groups: list[ConnectivityGroupItem] = field(default_factory=list)
    deployment_status: str | None = None


class AdminRule(Resource, kw_only=True, gc=False, forbid_unknown_fields=True):
    kind: str = "Custom"  # Custom | Default
    priority: int | None = None
    direction: str | None = None  # Inbound | Outbound
    access: str | None = None  # Allow | Deny | AlwaysAllow
    protocol: str = "Any"
    source_address_prefixes: list[str] = field(default_factory=list)  # prefixes or service tags
    destination_address_prefixes: list[str] = field(default_factory=list)
    source_port_ranges: list[str] = field(default_factory=list)
    destination_port_ranges: list[str] = field(default_factory=list)
    description: str | None = None
    flag: str | None = None  # the default rule a Default-kind rule stands for


class AdminRuleCollection(Resource, kw_only=True, gc=False, forbid_unknown_fields=True):
    applies_to_group_ids: list[str] = field(default_factory=list)
    rules: list[AdminRule] = field(default_factory=list)


class SecurityAdminConfiguration(Resource, kw_only=True, gc=False, forbid_unknown_fields=True):
    """Like connectivity, deployment per region is unknown (`deployment_status` None)."""

    description: str | None = None
    apply_on_network_intent_policy_based_services: list[str] = field(default_factory=list)
    rule_collections: list[AdminRuleCollection] = field(default_factory=list)
    deployment_status: str | None = None


class NetworkManager(Resource, kw_only=True, gc=False, forbid_unknown_fields=True):
    scope_subscriptions: list[str] = field(default_factory=list)
    scope_management_groups: list[str] = field(default_factory=list)
    scope_accesses: list[str] = field(default_factory=list)  # Connectivity | SecurityAdmin | Routing
    network_groups: list[NetworkGroup] = field(default_factory=list)
    connectivity_configurations: list[ConnectivityConfiguration] = field(default_factory=list)
    security_admin_configurations: list[SecurityAdminConfiguration] = field(default_factory=list)


#: The snapshot's lists of top-level resources, in file order.
RESOURCE_LISTS = (
    "virtual_networks",
    "network_security_groups",
    "route_tables",
    "virtual_network_gateways",
    "local_network_gateways",
    "connections",
    "network_interfaces",
    "application_security_groups",
    "virtual_wans",
    "virtual_hubs",
    "network_managers",
)
#: Lists of children, per kind of parent, kept in id order.
CHILD_LISTS = {
    "VirtualNetwork": ("subnets", "peerings"),
    "RouteTable": ("routes",),
    "NetworkInterface": ("ip_configurations",),
    "VirtualHub": ("ip_configurations", "virtual_network_connections", "routing_intents"),
    "NetworkManager": ("network_groups", "connectivity_configurations", "security_admin_configurations"),
    "NetworkGroup": ("static_members",),
    "SecurityAdminConfiguration": ("rule_collections",),
    "AdminRuleCollection": ("rules",),
}


def _by_key(item: Resource) -> str:
    return item.key


def _rule_order(rule: SecurityRule) -> tuple[str, int, str]:
    return rule.direction.lower(), rule.priority, rule.id.lower()


def _sort_children(resource: Struct) -> None:
    for attr in CHILD_LISTS.get(type(resource).__name__, ()):
        children = getattr(resource, attr)
        children.sort(key=_by_key)
        for child in children:
            _sort_children(child)


class Snapshot(Struct, kw_only=True, dict=True, forbid_unknown_fields=True):
    schema_version: str = SCHEMA_VERSION
    metadata: ScanMetadata = field(default_factory=ScanMetadata)
    tenants: list[Tenant] = field(default_factory=list)
    subscriptions: list[Subscription] = field(default_factory=list)
    virtual_networks: list[VirtualNetwork] = field(default_factory=list)
    network_security_groups: list[NetworkSecurityGroup] = field(default_factory=list)
    route_tables: list[RouteTable] = field(default_factory=list)
    virtual_network_gateways: list[VirtualNetworkGateway] = field(default_factory=list)
    local_network_gateways: list[LocalNetworkGateway] = field(default_factory=list)
    connections: list[Connection] = field(default_factory=list)
    network_interfaces: list[NetworkInterface] = field(default_factory=list)
    application_security_groups: list[ApplicationSecurityGroup] = field(default_factory=list)
    virtual_wans: list[VirtualWan] = field(default_factory=list)
    virtual_hubs: list[VirtualHub] = field(default_factory=list)
    network_managers: list[NetworkManager] = field(default_factory=list)

    def __post_init__(self) -> None:
        """Every snapshot, built or decoded, is sorted and has its associations reconciled."""
        self._reconcile_associations()
        for name in RESOURCE_LISTS:
            resources = getattr(self, name)
            resources.sort(key=_by_key)
            for resource in resources:
                _sort_children(resource)
        for nsg in self.network_security_groups:
            nsg.security_rules.sort(key=_rule_order)
            nsg.default_security_rules.sort(key=_rule_order)
        self.tenants.sort(key=lambda t: t.tenant_id.lower())
        self.subscriptions.sort(key=lambda s: s.subscription_id.lower())

    def _reconcile_associations(self) -> None:
        """Make subnet or NIC -> NSG/route table and NSG/route table -> subnets or NICs say the same thing.

        Exports often carry only one side (a subnet list without NSGs, or an NSG list
        without VNets); an association seen from either side is recorded on both.
        """
        subnets = {s.key: s for v in self.virtual_networks for s in v.subnets}
        nics = {n.key: n for n in self.network_interfaces}
        for members, attr, owners, listing in (
            (subnets, "network_security_group_id", self.network_security_groups, "subnet_ids"),
            (subnets, "route_table_id", self.route_tables, "subnet_ids"),
            (nics, "network_security_group_id", self.network_security_groups, "network_interface_ids"),
        ):
            _reconcile(members, attr, owners, listing)

    # -- serialization ------------------------------------------------------
    def to_json(self) -> str:
        return encode(self).decode("utf-8")

    @classmethod
    def from_json(cls, text: str | bytes) -> Snapshot:
        return msgspec.json.decode(text, type=cls)

    def write(self, path: Path) -> None:
        write_atomic(path, encode(self))

    @classmethod
    def json_schema(cls) -> dict:
        """The published JSON Schema (Draft 2020-12), the snapshot at its root."""
        generated = msgspec.json.schema(cls)
        defs = generated["$defs"]
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://vnet-audit.dev/schema/snapshot-{SCHEMA_VERSION}.json",
            **defs.pop(cls.__name__),
            "$defs": defs,
        }
        return schema

    # -- coverage -----------------------------------------------------------
    @property
    def incomplete_subscriptions(self) -> list[Subscription]:
        return [s for s in self.subscriptions if s.status != CoverageStatus.complete]

    def is_scanned(self, subscription_id: str | None) -> bool:
        """True when the subscription was read completely enough to judge absence in it."""
        sub = self.index.subscriptions.get((subscription_id or "").lower())
        return sub is not None and sub.status == CoverageStatus.complete

    # -- lookups (built once, on first use) -----------------------------------
    @cached_property
    def index(self) -> SnapshotIndex:
        return SnapshotIndex(self)


def _reconcile(members: dict[str, Any], attr: str, owners: list[Any], listing: str) -> None:
    """Each member's `attr` (its owner's id) and each owner's `listing` (its members' ids) agree."""
    # each owner's listing as normalized id -> id as written (a repeated id keeps its last spelling),
    # each id normalized once
    listings = [{norm_id(i): i for i in getattr(owner, listing)} for owner in owners]
    by_key = {owner.key: ids for owner, ids in zip(owners, listings)}
    for owner, ids in zip(owners, listings):
        for member_key in ids:
            member = members.get(member_key)
            if member is not None and not getattr(member, attr):
                setattr(member, attr, owner.id)
    for key, member in members.items():
        ids = by_key.get(norm_id(getattr(member, attr)))
        if ids is not None and key not in ids:
            ids[key] = member.id
    for owner, ids in zip(owners, listings):
        setattr(owner, listing, [ids[k] for k in sorted(ids)])


def encode(value: Any) -> bytes:
    """JSON as the snapshot file holds it: two-space indented, fields in declaration order, newline at the end."""
    return msgspec.json.format(msgspec.json.encode(value), indent=2) + b"\n"


def to_builtins(value: Any) -> Any:
    """A model as plain dicts and lists (ids as written): for comparing and describing content."""
    return msgspec.to_builtins(value)


def minor_of(version: str) -> int:
    """The MINOR of a MAJOR.MINOR version (0 when absent or not a number)."""
    part = version.split(".")[1] if "." in version else "0"
    return int(part) if part.isdigit() else 0


def decode_newer_minor(data: bytes) -> Snapshot:
    """A snapshot written by a newer minor version: fields this version does not know are dropped,
    so what is left is a snapshot of this version."""
    doc = _known(msgspec.json.decode(data), Snapshot)
    doc["schema_version"] = SCHEMA_VERSION
    return msgspec.convert(doc, Snapshot)


def _known(value: Any, kind: Any) -> Any:
    """`value` with only the fields the struct types in `kind` declare, recursively."""
    if isinstance(value, list):
        return [_known(v, kind) for v in value]
    struct = next((t for t in _types_in(kind) if isinstance(t, type) and issubclass(t, Struct)), None)
    if struct is None or not isinstance(value, dict):
        return value
    fields = {f.encode_name: f.type for f in msgspec.structs.fields(struct)}
    return {k: _known(v, fields[k]) for k, v in value.items() if k in fields}


def _types_in(kind: Any) -> list:
    """The types a field annotation allows: `list[X] | None` -> [X, None]."""
    args = getattr(kind, "__args__", None)
    if args is None:
        return [kind]
    return [t for a in args for t in _types_in(a)]
