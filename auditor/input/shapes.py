"""Azure's JSON shapes, as typed structs decoded in one pass.

One struct reads a network resource in every shape Azure prints it: REST and Resource
Graph (settings under `properties`; Graph rows add `subscriptionId`, `tenantId`, a
lower-case `type`) and `az` CLI output (settings flattened onto the resource, at every
level). `RawResource` is the settings (`RawProps`) plus the envelope fields and an optional
`properties` holding the same settings, so `props(raw)` is `raw.properties or raw`.
Only the fields vnet-audit reads are declared; everything else is skipped while decoding.
Decoding is lax (`strict=False`): "true" and "100" read as true and 100, as Azure's own
exports sometimes spell them.

Files are decoded from bytes: the envelope (`{"data": [...]}`, `{"value": [...]}`, an array)
first, with each item kept as a slice of the input (`msgspec.Raw`), then each item into a
`RawResource`, so no dict of the whole file is ever built.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from msgspec import Raw, Struct, field


class RawRef(Struct, gc=False):
    id: str | None = None


class RawSpace(Struct, gc=False):
    addressPrefixes: list[str | None] | None = None


class RawDhcp(Struct, gc=False):
    dnsServers: list[str | None] | None = None


class RawSku(Struct, gc=False):
    name: str | None = None
    tier: str | None = None


class RawBgp(Struct, gc=False):
    asn: int | None = None
    bgpPeeringAddress: str | None = None


Port = str | int
Flag = bool | None


class RawProps(Struct, gc=False):
    """The settings of every network resource and child vnet-audit reads (one flat union: a key
    means the same wherever Azure uses it)."""

    provisioningState: str | None = None
    # virtual networks
    addressSpace: RawSpace | None = None
    dhcpOptions: RawDhcp | None = None
    subnets: list[RawResource] | None = None  # VNet: subnets; NSG and route table: {id} references
    virtualNetworkPeerings: list[RawResource] | None = None
    # subnets
    addressPrefix: str | None = None  # also routes
    addressPrefixes: list[str | None] | None = None
    networkSecurityGroup: RawRef | None = None
    routeTable: RawRef | None = None
    delegations: list[RawResource] | None = None
    serviceName: str | None = None  # a delegation's service
    privateEndpointNetworkPolicies: str | None = None
    # peerings
    remoteVirtualNetwork: RawRef | None = None
    peeringState: str | None = None
    peeringSyncLevel: str | None = None
    allowVirtualNetworkAccess: Flag = None
    allowForwardedTraffic: Flag = None
    allowGatewayTransit: Flag = None
    useRemoteGateways: Flag = None
    doNotVerifyRemoteGateways: Flag = None
    remoteAddressSpace: RawSpace | None = None
    remoteVirtualNetworkAddressSpace: RawSpace | None = None
    peerCompleteVnets: Flag = None
    enableOnlyIPv6Peering: Flag = None
    localSubnetNames: list[str] | None = None
    remoteSubnetNames: list[str] | None = None
    localAddressSpace: RawSpace | None = None
    localVirtualNetworkAddressSpace: RawSpace | None = None
    # network security groups and their rules
    securityRules: list[RawResource] | None = None
    defaultSecurityRules: list[RawResource] | None = None
    networkInterfaces: list[RawRef] | None = None
    priority: int | None = None
    direction: str | None = None
    access: str | None = None
    protocol: str | None = None
    sourceAddressPrefix: str | None = None
    sourceAddressPrefixes: list[str | None] | None = None
    destinationAddressPrefix: str | None = None
    destinationAddressPrefixes: list[str | None] | None = None
    sourcePortRange: Port | None = None
    sourcePortRanges: list[Port | None] | None = None
    destinationPortRange: Port | None = None
    destinationPortRanges: list[Port | None] | None = None
    sourceApplicationSecurityGroups: list[RawRef] | None = None
    destinationApplicationSecurityGroups: list[RawRef] | None = None
    description: str | None = None
    # route tables and routes
    routes: list[RawResource] | None = None
    disableBgpRoutePropagation: Flag = None
    nextHopType: str | None = None
    nextHopIpAddress: str | None = None
    # gateways, local gateways, connections
    gatewayType: str | None = None
    vpnType: str | None = None
    sku: RawSku | str | None = None
    ipConfigurations: list[RawResource] | None = None
    subnet: RawRef | None = None  # an ip configuration's subnet
    enableBgp: Flag = None
    bgpSettings: RawBgp | None = None
    activeActive: Flag = None
    localNetworkAddressSpace: RawSpace | None = None
    gatewayIpAddress: str | None = None
    fqdn: str | None = None
    connectionType: str | None = None
    virtualNetworkGateway1: RawRef | None = None
    virtualNetworkGateway2: RawRef | None = None
    localNetworkGateway2: RawRef | None = None
    peer: RawRef | None = None
    connectionStatus: str | None = None
    # subscription and tenant listings
    state: str | None = None


class RawResource(RawProps, gc=False):
    id: str | None = None
    name: str | None = None
    type: str | None = None
    location: str | None = None
    tags: dict[str, Any] | None = None
    resourceGroup: str | None = None
    subscriptionId: str | None = None
    tenantId: str | None = None
    displayName: str | None = None
    defaultDomain: str | None = None
    homeTenantId: str | None = None
    isDefault: Flag = None
    cloudName: str | None = None
    properties: RawProps | None = None


def props(raw: RawResource) -> RawProps:
    """The settings of a resource in REST/Graph shape (`properties`) or `az` shape (flattened)."""
    return raw.properties or raw


class Head(Struct, gc=False):
    """Just enough of an item to say what it is, when it does not decode as a resource."""

    id: Any = None
    type: Any = None
    name: Any = None


#: An absent undecoded field (msgspec cannot make a Raw optional): empty, so false.
NOTHING = Raw(b"")


class Envelope(Struct, gc=False):
    """The top level of an input file that is an object: a snapshot, a list response, a Resource Graph
    result, a findings file or a single resource. Large parts stay undecoded slices."""

    schema_version: Any = None
    virtual_networks: Raw = NOTHING
    metadata: Raw = NOTHING
    data: Raw = NOTHING
    value: Raw = NOTHING
    nextLink: str | None = None
    skipToken: str | None = None
    dollar_skip_token: str | None = field(default=None, name="$skipToken")
    skip_token: str | None = None
    resultTruncated: bool | str | None = None
    totalRecords: int | None = None
    total_records: int | None = None
    findings: Raw = NOTHING
    id: Any = None
    type: Any = None
    properties: Raw = NOTHING
    subscriptionId: Any = None
    tenantId: Any = None


RESOURCE = msgspec.json.Decoder(RawResource, strict=False)
ITEMS = msgspec.json.Decoder(list[Raw])
ENVELOPE = msgspec.json.Decoder(Envelope, strict=False)
HEAD = msgspec.json.Decoder(Head)


def resource_from(obj: Any) -> RawResource:
    """A resource that already is Python data (a collector's page, a test) as a `RawResource`."""
    return msgspec.convert(obj, RawResource, strict=False)


_ERROR = re.compile(r"^(?P<what>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


def describe_error(error: msgspec.ValidationError, doc: Any = None) -> str:
    """msgspec's "Expected `int | null`, got `str` - at `$.a[0].b`" as "a[0].b: expected int or null,
    got 'high'" (the value itself when `doc`, the decoded document, is given)."""
    match = _ERROR.match(str(error))
    what, path = match.group("what"), (match.group("path") or "").lstrip(".")
    what = what.replace("`", "").replace(" | ", " or ")
    what = what[:1].lower() + what[1:]
    if doc is not None and path and what.startswith("expected"):
        value = _at(doc, path)
        if value is not _MISSING:
            what = f"{what.rsplit(', got', 1)[0]}, got {value!r}"
    return f"{path}: {what}" if path else what


_MISSING = object()


def _at(doc: Any, path: str) -> Any:
    for key, position in _STEP.findall("." + path):
        try:
            doc = doc[int(position)] if position else doc[key]
        except (KeyError, IndexError, TypeError):
            return _MISSING
    return doc
