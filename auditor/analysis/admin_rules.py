"""Azure Virtual Network Manager security admin rules: which apply to a VNet, in Azure's order.

Security admin rules are evaluated before NSGs; lower priority numbers first. AlwaysAllow ends the
evaluation (no NSG sees the traffic), Deny drops it whatever the NSGs say, Allow hands it to the NSGs
(https://learn.microsoft.com/azure/virtual-network-manager/concept-security-admins). A rule collection
applies to the VNets of the network groups it names. Only static members are readable: members
added by Azure Policy (dynamic membership) are unknown, and so are the regions a configuration is
deployed to (https://learn.microsoft.com/azure/virtual-network-manager/concept-deployments): every
statement built on these rules holds "if the configuration is deployed in the VNet's region". Only
one security admin configuration is deployed per region, which one cannot be read: the rules of every
configuration applying to a VNet are walked together, and findings name the configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from auditor.analysis.nsg import ParsedRule
from auditor.model.ids import name_of, norm_id

if TYPE_CHECKING:
    from auditor.model.snapshot import (
        AdminRuleCollection,
        NetworkManager,
        SecurityAdminConfiguration,
        Snapshot,
    )

#: When two admin rules share a priority the order Azure applies is not documented; the reading
#: that drops more traffic goes first, so nothing is assumed to pass that might not.
_ACCESS_ORDER = {"deny": 0, "allow": 1, "alwaysallow": 2}
IF_DEPLOYED = "if the configuration is deployed in the VNet's region"


@dataclass(frozen=True, slots=True)
class AppliedAdminRule:
    """One admin rule with where it comes from."""

    parsed: ParsedRule
    manager: NetworkManager
    configuration: SecurityAdminConfiguration
    collection: AdminRuleCollection

    @property
    def origin(self) -> str:
        """`configuration sac (collection rc) of network manager avnm`."""
        return (
            f"configuration {self.configuration.name} (collection {self.collection.name}) of network manager "
            f"{self.manager.name}"
        )

    def label(self) -> str:
        r = self.parsed.rule
        return f"security admin rule {r.name} (priority {r.priority}, {r.access}) in {self.origin}"


def _order(applied: AppliedAdminRule) -> tuple:
    p = applied.parsed
    return p.priority, _ACCESS_ORDER.get(p.access, 0), p.rule.key


def _by_member(snapshot: Snapshot) -> dict[str, list[AppliedAdminRule]]:
    """Static member (VNet or subnet) -> the admin rules of the collections applying to it, sorted."""
    memo = snapshot.index.memo("admin_rules")
    if "by_member" in memo:
        return memo["by_member"]
    index = snapshot.index
    found: dict[str, dict[str, AppliedAdminRule]] = {}
    for manager in snapshot.network_managers:
        for configuration in manager.security_admin_configurations:
            for collection in configuration.rule_collections:
                members = set().union(*(index.static_members(g) for g in collection.applies_to_group_ids))
                for rule in collection.rules:
                    applied = AppliedAdminRule(ParsedRule(rule), manager, configuration, collection)
                    for member in members:
                        found.setdefault(member, {})[rule.key] = applied
    memo["by_member"] = {m: sorted(rules.values(), key=_order) for m, rules in found.items()}
    return memo["by_member"]


def admin_rules_for(
    snapshot: Snapshot, vnet_key: str, subnet_key: str | None = None, inbound: bool = True
) -> list[AppliedAdminRule]:
    """The admin rules of one direction applying to a VNet (and to the subnet, when a network group
    lists subnets), in evaluation order."""
    if not _by_member(snapshot):
        return []  # no network manager applies security admin rules to anything in the snapshot
    memo = snapshot.index.memo("admin_rules.for")
    key = (norm_id(vnet_key), norm_id(subnet_key) if subnet_key else None, inbound)
    if key not in memo:
        by_member = _by_member(snapshot)
        rules = {a.parsed.rule.key: a for m in filter(None, key[:2]) for a in by_member.get(m, [])}
        memo[key] = sorted((a for a in rules.values() if a.parsed.inbound == inbound), key=_order)
    return memo[key]


def member_names(snapshot: Snapshot, collection: AdminRuleCollection) -> list[str]:
    """Names of the static members of the collection's groups, sorted."""
    index = snapshot.index
    return sorted(
        {name_of(m) for g in collection.applies_to_group_ids for m in index.static_members(g)}, key=str.lower
    )
