"""The snapshot: the versioned, normalized contract between collection and analysis.

Field names follow Azure's own (snake_case of the ARM property). Resource ids keep
their original casing for display; every lookup goes through `auditor.model.ids.norm_id`.
Lists of resources are sorted by normalized id, so equal estates serialize equally.
"""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from auditor.model.ids import norm_id, parent_id, subscription_of

if TYPE_CHECKING:
    from auditor.model.index import SnapshotIndex

SCHEMA_VERSION = "1.0"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)


class Resource(_Model):
    id: str
    name: str
    resource_group: str | None = None
    location: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)

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


class CollectionError(_Model):
    """Something that could not be read: which call, what Azure answered."""

    scope: str  # e.g. "virtualNetworks", "subscription", an input file
    code: str | None = None  # e.g. "AuthorizationFailed", "429", "Timeout"
    message: str


class Subscription(_Model):
    subscription_id: str
    display_name: str | None = None
    tenant_id: str | None = None
    state: str | None = None
    status: CoverageStatus = CoverageStatus.complete
    errors: list[CollectionError] = Field(default_factory=list)


class Tenant(_Model):
    tenant_id: str
    display_name: str | None = None
    default_domain: str | None = None


class ScanMetadata(_Model):
    scanned_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
    tool_version: str = ""
    source: str = "import"  # arm | graph | import | demo
    cloud: str = "AzureCloud"
    run_by: str | None = None
    inputs: list[str] = Field(default_factory=list)
    skipped_resource_types: dict[str, int] = Field(default_factory=dict)


class Delegation(_Model):
    name: str | None = None
    service_name: str


class Subnet(Resource):
    address_prefixes: list[str] = Field(default_factory=list)
    network_security_group_id: str | None = None
    route_table_id: str | None = None
    delegations: list[Delegation] = Field(default_factory=list)
    private_endpoint_network_policies: str | None = None


class Peering(Resource):
    remote_virtual_network_id: str | None = None
    peering_state: str | None = None  # Initiated | Connected | Disconnected
    peering_sync_level: str | None = None  # FullyInSync | LocalNotInSync | RemoteNotInSync | ...
    allow_virtual_network_access: bool = True
    allow_forwarded_traffic: bool = False
    allow_gateway_transit: bool = False
    use_remote_gateways: bool = False
    do_not_verify_remote_gateways: bool = False
    remote_address_space: list[str] = Field(default_factory=list)
    remote_virtual_network_address_space: list[str] = Field(default_factory=list)
    peer_complete_vnets: bool | None = None
    enable_only_ipv6_peering: bool | None = None
    local_subnet_names: list[str] = Field(default_factory=list)
    remote_subnet_names: list[str] = Field(default_factory=list)
    local_address_space: list[str] = Field(default_factory=list)
    local_virtual_network_address_space: list[str] = Field(default_factory=list)
    provisioning_state: str | None = None

    @property
    def virtual_network_id(self) -> str:
        return parent_id(self.id)

    @property
    def state(self) -> str:
        """`peering_state` in lower case ('' when unknown): Azure's casing varies between exports."""
        return (self.peering_state or "").lower()


class VirtualNetwork(Resource):
    address_prefixes: list[str] = Field(default_factory=list)
    dns_servers: list[str] = Field(default_factory=list)
    subnets: list[Subnet] = Field(default_factory=list)
    peerings: list[Peering] = Field(default_factory=list)
    provisioning_state: str | None = None


class SecurityRule(Resource):
    priority: int
    direction: str  # Inbound | Outbound
    access: str  # Allow | Deny
    protocol: str = "*"
    source_address_prefixes: list[str] = Field(default_factory=list)
    destination_address_prefixes: list[str] = Field(default_factory=list)
    source_port_ranges: list[str] = Field(default_factory=list)
    destination_port_ranges: list[str] = Field(default_factory=list)
    source_application_security_group_ids: list[str] = Field(default_factory=list)
    destination_application_security_group_ids: list[str] = Field(default_factory=list)
    description: str | None = None
    is_default: bool = False


class NetworkSecurityGroup(Resource):
    security_rules: list[SecurityRule] = Field(default_factory=list)
    default_security_rules: list[SecurityRule] = Field(default_factory=list)
    subnet_ids: list[str] = Field(default_factory=list)
    network_interface_ids: list[str] = Field(default_factory=list)


class Route(Resource):
    address_prefix: str
    next_hop_type: str  # VirtualNetworkGateway | VnetLocal | Internet | VirtualAppliance | None
    next_hop_ip_address: str | None = None


class RouteTable(Resource):
    routes: list[Route] = Field(default_factory=list)
    disable_bgp_route_propagation: bool = False
    subnet_ids: list[str] = Field(default_factory=list)


class VirtualNetworkGateway(Resource):
    gateway_type: str | None = None  # Vpn | ExpressRoute | LocalGateway
    vpn_type: str | None = None
    sku: str | None = None
    virtual_network_id: str | None = None
    enable_bgp: bool = False
    bgp_asn: int | None = None
    active_active: bool = False
    provisioning_state: str | None = None


class LocalNetworkGateway(Resource):
    address_prefixes: list[str] = Field(default_factory=list)
    gateway_ip_address: str | None = None
    fqdn: str | None = None
    bgp_asn: int | None = None
    bgp_peering_address: str | None = None


class Connection(Resource):
    connection_type: str | None = None  # IPsec | Vnet2Vnet | ExpressRoute | VPNClient
    virtual_network_gateway1_id: str | None = None
    virtual_network_gateway2_id: str | None = None
    local_network_gateway2_id: str | None = None
    peer_id: str | None = None  # ExpressRoute circuit
    connection_status: str | None = None
    enable_bgp: bool = False


_RESOURCE_LISTS = (
    "virtual_networks",
    "network_security_groups",
    "route_tables",
    "virtual_network_gateways",
    "local_network_gateways",
    "connections",
)


def _sorted_by_id(items: list[Any]) -> list[Any]:
    return sorted(items, key=lambda r: norm_id(r.id))


class Snapshot(_Model):
    schema_version: str = SCHEMA_VERSION
    metadata: ScanMetadata = Field(default_factory=ScanMetadata)
    tenants: list[Tenant] = Field(default_factory=list)
    subscriptions: list[Subscription] = Field(default_factory=list)
    virtual_networks: list[VirtualNetwork] = Field(default_factory=list)
    network_security_groups: list[NetworkSecurityGroup] = Field(default_factory=list)
    route_tables: list[RouteTable] = Field(default_factory=list)
    virtual_network_gateways: list[VirtualNetworkGateway] = Field(default_factory=list)
    local_network_gateways: list[LocalNetworkGateway] = Field(default_factory=list)
    connections: list[Connection] = Field(default_factory=list)

    @model_validator(mode="after")
    def _normalize(self) -> Snapshot:
        self._reconcile_associations()
        for name in _RESOURCE_LISTS:
            setattr(self, name, _sorted_by_id(getattr(self, name)))
        for vnet in self.virtual_networks:
            vnet.subnets = _sorted_by_id(vnet.subnets)
            vnet.peerings = _sorted_by_id(vnet.peerings)
        for nsg in self.network_security_groups:
            for attr in ("security_rules", "default_security_rules"):
                setattr(nsg, attr, sorted(getattr(nsg, attr), key=lambda r: (r.direction.lower(), r.priority, norm_id(r.id))))
        for table in self.route_tables:
            table.routes = _sorted_by_id(table.routes)
        self.tenants = sorted(self.tenants, key=lambda t: t.tenant_id.lower())
        self.subscriptions = sorted(self.subscriptions, key=lambda s: s.subscription_id.lower())
        return self

    def _reconcile_associations(self) -> None:
        """Make subnet -> NSG/route table and NSG/route table -> subnets say the same thing.

        Exports often carry only one side (a subnet list without NSGs, or an NSG list
        without VNets); an association seen from either side is recorded on both.
        """
        subnets = {s.key: s for v in self.virtual_networks for s in v.subnets}
        for attr, resources in (
            ("network_security_group_id", self.network_security_groups),
            ("route_table_id", self.route_tables),
        ):
            by_key = {r.key: r for r in resources}
            for resource in resources:
                for subnet_id in resource.subnet_ids:
                    subnet = subnets.get(norm_id(subnet_id))
                    if subnet is not None and not getattr(subnet, attr):
                        setattr(subnet, attr, resource.id)
            for subnet in subnets.values():
                owner = by_key.get(norm_id(getattr(subnet, attr)))
                if owner is not None and subnet.key not in {norm_id(i) for i in owner.subnet_ids}:
                    owner.subnet_ids.append(subnet.id)
            for resource in resources:
                resource.subnet_ids = sorted(set(resource.subnet_ids), key=norm_id)

    # -- serialization ------------------------------------------------------
    def to_json(self) -> str:
        return self.model_dump_json(indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> Snapshot:
        return cls.model_validate_json(text)

    def write(self, path: Path) -> None:
        Path(path).write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def json_schema(cls) -> dict:
        schema = cls.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://vnet-audit.dev/schema/snapshot-{SCHEMA_VERSION}.json"
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
        from auditor.model.index import SnapshotIndex

        return SnapshotIndex(self)
