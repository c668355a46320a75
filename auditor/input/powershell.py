"""Az PowerShell and PSRule for Azure exports, turned into the REST shape `normalize` reads.

`Get-AzVirtualNetwork | ConvertTo-Json -Depth 20` and its kin print PowerShell's objects: PascalCase
keys, settings flattened as `az` does, a few names of PowerShell's own (`Tag`, `ResourceGroupName`,
`PrivateIpAddress`), list values under singular names (`Subnets[].AddressPrefix`, a security rule's
`SourceAddressPrefix` and port ranges) and a `<Name>Text` copy of most settings as a JSON string.
PSRule for Azure's `Export-AzRuleData` wraps ARM resources in a Get-AzResource envelope (`ResourceId`,
`ResourceType`, `Properties`, ...) with sub-resources under `resources`.

The conversion is generic: first letters lowered, the tables below applied, nothing else. A new
resource type needs at most a table entry. Only an item without a lower-case `id` is looked at, so
the other shapes never pay for it.
"""

from __future__ import annotations

from typing import Any

#: PowerShell's names that differ from REST's by more than the first letter's case (after lowering it).
RENAMES = {
    "tag": "tags",
    "resourceGroupName": "resourceGroup",
    "privateIpAddress": "privateIPAddress",
    "privateIpAddressVersion": "privateIPAddressVersion",
    "privateIpAllocationMethod": "privateIPAllocationMethod",
    "publicIpAddress": "publicIPAddress",
    "publicIpAllocationMethod": "publicIPAllocationMethod",
}
#: The Get-AzResource envelope (old PSRule exports) names the resource's own id, type and name twice.
_ENVELOPE = {"resourceId": "id", "resourceType": "type", "resourceName": "name"}
#: Settings REST holds as one value and a list beside it, which PowerShell prints as one list.
PLURALS = {
    "addressPrefix": "addressPrefixes",
    "sourceAddressPrefix": "sourceAddressPrefixes",
    "destinationAddressPrefix": "destinationAddressPrefixes",
    "sourcePortRange": "sourcePortRanges",
    "destinationPortRange": "destinationPortRanges",
}
#: Display copies that hold no setting of their own.
DROPPED = {"tagsTable"}


def is_powershell(doc: Any) -> bool:
    """An object as PowerShell prints it (an `Id` or `ResourceId`, no lower-case `id`) or a Get-AzContext."""
    if not isinstance(doc, dict) or "id" in doc:
        return False
    return "Id" in doc or "ResourceId" in doc or _is_context(doc)


def to_rest(doc: Any) -> Any:
    """A PowerShell-shaped item in the REST shape, or None when it is not PowerShell-shaped."""
    if not is_powershell(doc):
        return None
    if _is_context(doc):
        environment = doc.get("Environment")
        cloud = environment.get("Name") if isinstance(environment, dict) else None
        return _account(_convert(doc["Subscription"]), cloud)
    rest = _convert(doc)
    for ps_name, name in _ENVELOPE.items():
        value = rest.pop(ps_name, None)
        if rest.get(name) is None and value is not None:
            rest[name] = value
    if "subscriptionId" in rest and "homeTenantId" in rest:  # Get-AzSubscription
        return _account(rest)
    return rest


def _is_context(doc: dict) -> bool:
    """Get-AzContext: the signed-in account, environment, subscription and tenant."""
    return isinstance(doc.get("Subscription"), dict) and "Account" in doc and "Environment" in doc


def _account(subscription: dict, cloud: Any = None) -> dict:
    """A PSAzureSubscription, converted, as `az account list` prints a subscription (`cloudName` included)."""
    extended = subscription.pop("extendedProperties", None)
    cloud = cloud or (extended.get("environment") if isinstance(extended, dict) else None)
    if cloud is not None:
        subscription["cloudName"] = cloud
    return subscription


def _key(name: str) -> str:
    name = name[:1].lower() + name[1:]
    return RENAMES.get(name, name)


def _convert(value: Any) -> Any:
    if isinstance(value, list):
        return [_convert(v) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for ps_name, item in value.items():
        name = _key(str(ps_name))
        if name in DROPPED or (name.endswith("Text") and (item is None or isinstance(item, str))):
            continue  # `AddressSpaceText`: the setting beside it again, as a JSON string
        item = _convert(item)
        plural = PLURALS.get(name)
        if plural is not None and isinstance(item, list):
            out[plural] = [*item, *(v for v in out.get(plural) or () if v not in item)]
            continue
        if out.get(name) is None:
            out[name] = item
    return out
