"""What changed between two snapshots: resources added, removed or changed, matched by normalized ARM id."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from auditor.model.ids import norm_id
from auditor.model.snapshot import Snapshot

ADDED, REMOVED, CHANGED = "added", "removed", "changed"

PEERING_FIELDS = ("peering_state", "peering_sync_level", "allow_virtual_network_access",
                  "allow_forwarded_traffic", "allow_gateway_transit", "use_remote_gateways",
                  "remote_virtual_network_id")
SECURITY_RULE_FIELDS = ("priority", "direction", "access", "protocol", "source_address_prefixes",
                        "destination_address_prefixes", "source_port_ranges", "destination_port_ranges",
                        "source_application_security_group_ids", "destination_application_security_group_ids")
ROUTE_FIELDS = ("address_prefix", "next_hop_type", "next_hop_ip_address")
GATEWAY_FIELDS = ("gateway_type", "sku", "virtual_network_id")
SUBSCRIPTION_FIELDS = ("status", "state")
KINDS = ("subscription", "virtual_network", "peering", "network_security_group", "security_rule",
         "route_table", "route", "gateway")


@dataclass
class Change:
    change: str  # added | removed | changed
    kind: str  # virtual_network, peering, security_rule, route, gateway, subscription, ...
    id: str
    fields: dict[str, dict] = field(default_factory=dict)  # name -> {"old": ..., "new": ...}


def _value(item: object, name: str) -> object:
    value = getattr(item, name)
    if hasattr(value, "value"):  # an Enum
        return value.value
    return sorted(value, key=str) if isinstance(value, list) else value  # ordering carries no meaning here


def _compare(kind: str, old: Iterable, new: Iterable, fields: tuple[str, ...],
             key=lambda r: r.id) -> list[Change]:
    before = {norm_id(key(r)): r for r in old}
    after = {norm_id(key(r)): r for r in new}
    changes = [Change(REMOVED, kind, key(before[k])) for k in before.keys() - after.keys()]
    changes += [Change(ADDED, kind, key(after[k])) for k in after.keys() - before.keys()]
    for k in before.keys() & after.keys():
        differing = {name: {"old": _value(before[k], name), "new": _value(after[k], name)} for name in fields}
        differing = {name: v for name, v in differing.items() if v["old"] != v["new"]}
        if differing:
            changes.append(Change(CHANGED, kind, key(after[k]), differing))
    return changes


def diff(old: Snapshot, new: Snapshot) -> list[Change]:
    """Every difference the audit cares about, sorted by resource kind, id and change."""
    changes = [
        *_compare("subscription", old.subscriptions, new.subscriptions, SUBSCRIPTION_FIELDS,
                  key=lambda s: s.subscription_id),
        *_compare("virtual_network", old.virtual_networks, new.virtual_networks, ("address_prefixes",)),
        *_compare("peering", _peerings(old), _peerings(new), PEERING_FIELDS),
        *_compare("network_security_group", old.network_security_groups, new.network_security_groups, ()),
        *_compare("security_rule", _security_rules(old), _security_rules(new), SECURITY_RULE_FIELDS),
        *_compare("route_table", old.route_tables, new.route_tables, ("disable_bgp_route_propagation",)),
        *_compare("route", _routes(old), _routes(new), ROUTE_FIELDS),
        *_compare("gateway", old.virtual_network_gateways, new.virtual_network_gateways, GATEWAY_FIELDS),
    ]
    order = {kind: i for i, kind in enumerate(KINDS)}
    return sorted(changes, key=lambda c: (order[c.kind], norm_id(c.id), c.change))


def _peerings(snapshot: Snapshot) -> list:
    return [p for v in snapshot.virtual_networks for p in v.peerings]


def _security_rules(snapshot: Snapshot) -> list:
    return [r for n in snapshot.network_security_groups for r in n.security_rules]  # defaults never change


def _routes(snapshot: Snapshot) -> list:
    return [r for t in snapshot.route_tables for r in t.routes]
