"""Azure's JSON shapes, as typed structs decoded in one pass.

One struct reads a network resource in every shape Azure prints it: REST and Resource
Graph (settings under `properties`; Graph rows add `subscriptionId`, `tenantId`, a
lower-case `type`) and `az` CLI output (settings flattened onto the resource, at every
level). Each shape is its settings (read flattened) plus an optional `properties` holding the
same settings, so `props(raw)` is `raw.properties or raw`.
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


class RawScopes(Struct, gc=False):
    managementGroups: list[str] | None = None
    subscriptions: list[str] | None = None


class RawMember(Struct, gc=False):
    """An item of AVNM's `hubs` (resourceId) or `appliesToGroups` (networkGroupId and its options)."""

    resourceId: str | None = None
    networkGroupId: str | None = None
    groupConnectivity: str | None = None
    useHubGateway: bool | None = None
    isGlobal: bool | None = None


class RawAddressItem(Struct, gc=False):
    addressPrefix: str | None = None
    addressPrefixType: str | None = None  # IPPrefix | ServiceTag


class RawStaticRoute(Struct, gc=False):
    name: str | None = None
    addressPrefixes: list[str | None] | None = None
    nextHopIpAddress: str | None = None


class RawVnetRoutes(Struct, gc=False):
    staticRoutes: list[RawStaticRoute] | None = None


class RawPropagated(Struct, gc=False):
    labels: list[str] | None = None
    ids: list[RawRef] | None = None


class RawRouting(Struct, gc=False):
    associatedRouteTable: RawRef | None = None
    propagatedRouteTables: RawPropagated | None = None
    vnetRoutes: RawVnetRoutes | None = None


class RawRoutingPolicy(Struct, gc=False):
    name: str | None = None
    destinations: list[str] | None = None
    nextHop: str | None = None


Port = str | int

#: The settings vnet-audit reads, per kind of resource or child (a key means the same wherever
#: Azure uses it). Children nested in a resource decode into their kind's small struct; a
#: resource of any kind, or a child listed on its own, decodes into `RawResource`, which holds all.
SETTINGS: dict[str, dict[str, Any]] = {
    "Delegation": {"serviceName": str},
    "IpConfiguration": {
        "subnet": RawRef, "privateIPAddress": str, "privateIPAddressVersion": str, "primary": bool,
        "applicationSecurityGroups": list[RawRef], "publicIPAddress": RawRef,
    },
    "Subnet": {
        "addressPrefix": str, "addressPrefixes": list[str | None], "networkSecurityGroup": RawRef, "routeTable": RawRef,
        "delegations": list["RawDelegation"], "privateEndpointNetworkPolicies": str, "provisioningState": str,
        "ipConfigurations": list["RawIpConfiguration"],
    },
    "Peering": {
        "remoteVirtualNetwork": RawRef, "peeringState": str, "peeringSyncLevel": str,
        "allowVirtualNetworkAccess": bool, "allowForwardedTraffic": bool, "allowGatewayTransit": bool,
        "useRemoteGateways": bool, "doNotVerifyRemoteGateways": bool, "remoteAddressSpace": RawSpace,
        "remoteVirtualNetworkAddressSpace": RawSpace, "peerCompleteVnets": bool, "enableOnlyIPv6Peering": bool,
        "localSubnetNames": list[str], "remoteSubnetNames": list[str], "localAddressSpace": RawSpace,
        "localVirtualNetworkAddressSpace": RawSpace, "provisioningState": str,
    },
    "SecurityRule": {
        "priority": int, "direction": str, "access": str, "protocol": str, "description": str,
        "sourceAddressPrefix": str, "sourceAddressPrefixes": list[str | None],
        "destinationAddressPrefix": str, "destinationAddressPrefixes": list[str | None],
        "sourcePortRange": Port, "sourcePortRanges": list[Port | None],
        "destinationPortRange": Port, "destinationPortRanges": list[Port | None],
        "sourceApplicationSecurityGroups": list[RawRef], "destinationApplicationSecurityGroups": list[RawRef],
    },
    "Route": {"addressPrefix": str, "nextHopType": str, "nextHopIpAddress": str},
    "VirtualNetwork": {
        "addressSpace": RawSpace, "dhcpOptions": RawDhcp, "subnets": list["RawSubnet"],
        "virtualNetworkPeerings": list["RawPeering"], "provisioningState": str,
    },
    "NetworkSecurityGroup": {
        "securityRules": list["RawSecurityRule"], "defaultSecurityRules": list["RawSecurityRule"],
        "subnets": list["RawSubnet"], "networkInterfaces": list[RawRef],
    },
    "RouteTable": {"routes": list["RawRoute"], "disableBgpRoutePropagation": bool, "subnets": list["RawSubnet"]},
    "Gateway": {
        "gatewayType": str, "vpnType": str, "sku": RawSku | str, "ipConfigurations": list["RawIpConfiguration"],
        "enableBgp": bool, "bgpSettings": RawBgp, "activeActive": bool, "provisioningState": str,
    },
    "LocalGateway": {"localNetworkAddressSpace": RawSpace, "gatewayIpAddress": str, "fqdn": str, "bgpSettings": RawBgp},
    "Connection": {
        "connectionType": str, "virtualNetworkGateway1": RawRef, "virtualNetworkGateway2": RawRef,
        "localNetworkGateway2": RawRef, "peer": RawRef, "connectionStatus": str, "enableBgp": bool,
    },
    "NetworkInterface": {
        "ipConfigurations": list["RawIpConfiguration"], "networkSecurityGroup": RawRef, "enableIPForwarding": bool,
        "virtualMachine": RawRef,
    },
    # REST names the WAN's type `type` under properties; Az PowerShell, flattened, `VirtualWANType`
    "VirtualWan": {"type": str, "virtualWANType": str, "allowBranchToBranchTraffic": bool, "disableVpnEncryption": bool},
    "HubConnection": {
        "remoteVirtualNetwork": RawRef, "allowHubToRemoteVnetTransit": bool, "allowRemoteVnetToUseHubVnetGateways": bool,
        "enableInternetSecurity": bool, "routingConfiguration": RawRouting, "provisioningState": str,
    },
    "VirtualHub": {
        "addressPrefix": str, "virtualWan": RawRef, "sku": RawSku | str, "virtualRouterAsn": int,
        "virtualRouterIps": list[str], "allowBranchToBranchTraffic": bool, "hubRoutingPreference": str,
        "routingState": str, "azureFirewall": RawRef, "securityProviderName": str, "vpnGateway": RawRef,
        "expressRouteGateway": RawRef, "p2SVpnGateway": RawRef, "ipConfigurations": list["RawIpConfiguration"],
        "virtualNetworkConnections": list["RawHubConnection"], "provisioningState": str,
    },
    "RoutingIntent": {"routingPolicies": list[RawRoutingPolicy]},
    "NetworkManager": {"networkManagerScopes": RawScopes, "networkManagerScopeAccesses": list[str]},
    "NetworkGroup": {"memberType": str, "description": str},
    "StaticMember": {"resourceId": str, "region": str},
    "ConnectivityConfiguration": {
        "connectivityTopology": str, "hubs": list[RawMember], "isGlobal": bool, "deleteExistingPeering": bool,
        "appliesToGroups": list[RawMember],
    },
    "SecurityAdminConfiguration": {"applyOnNetworkIntentPolicyBasedServices": list[str]},
    "AdminRule": {
        "priority": int, "direction": str, "access": str, "protocol": str, "description": str,
        "sources": list[RawAddressItem], "destinations": list[RawAddressItem],
        "sourcePortRanges": list[Port | None], "destinationPortRanges": list[Port | None], "flag": str,
    },
    "Account": {"state": str},  # subscription listings (Resource Graph puts it under properties)
}

#: What every nested child carries besides its settings.
_CHILD = {"id": str, "name": str, "type": str, "kind": str}
#: What a resource (or a listing entry) carries besides its settings.
_RESOURCE = {
    **_CHILD, "location": str, "tags": dict[str, Any], "resourceGroup": str, "subscriptionId": str, "tenantId": str,
    "displayName": str, "defaultDomain": str, "homeTenantId": str, "isDefault": bool, "cloudName": str,
    "resources": list[Raw],  # sub-resources, as PSRule for Azure exports them
}


def _optional(fields: dict[str, Any]) -> list[tuple[str, Any, None]]:
    return [(name, kind | None, None) for name, kind in fields.items()]


def _struct(name: str, fields: dict[str, Any]) -> type:
    return msgspec.defstruct(name, _optional(fields), gc=False, module=__name__)


def _shape(kind: str, envelope: dict[str, Any], settings: dict[str, Any]) -> type:
    """A struct reading `settings` both flattened (az) and under `properties` (REST, Graph)."""
    props_type = _struct(f"Raw{kind}Props", settings)
    return msgspec.defstruct(f"Raw{kind}", [*_optional({**envelope, **settings}), ("properties", props_type | None, None)],
                             gc=False, module=__name__)


def _union(tables: list[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for table in tables:
        for name, kind in table.items():
            if merged.setdefault(name, kind) != kind:
                raise TypeError(f"setting {name} has two types: {merged[name]} and {kind}")
    return merged


RawDelegation = _shape("Delegation", _CHILD, SETTINGS["Delegation"])
RawIpConfiguration = _shape("IpConfiguration", _CHILD, SETTINGS["IpConfiguration"])
RawSubnet = _shape("Subnet", _CHILD, SETTINGS["Subnet"])
RawPeering = _shape("Peering", _CHILD, SETTINGS["Peering"])
RawSecurityRule = _shape("SecurityRule", _CHILD, SETTINGS["SecurityRule"])
RawRoute = _shape("Route", _CHILD, SETTINGS["Route"])
RawHubConnection = _shape("HubConnection", _CHILD, SETTINGS["HubConnection"])
RawResource = _shape("Resource", _RESOURCE, _union(list(SETTINGS.values())))


def props(raw: Any) -> Any:
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
