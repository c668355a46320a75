"""NSG004 admin-rule-always-allows-management-ports."""

from auditor.analysis.addresses import V6_OFFSET, IntervalSet, describe_space, interval
from auditor.analysis.admin_rules import IF_DEPLOYED, member_names
from auditor.analysis.nsg import ADMIN_PORTS, NON_PUBLIC, Addresses, ParsedRule
from auditor.analysis.wording import name_list
from auditor.engine.rule import Rule

LIMIT = 50
PORT_NAMES = {22: "SSH (22)", 3389: "RDP (3389)"}
PROTOCOLS = {22: ("tcp",), 3389: ("tcp", "udp")}  # SSH runs over TCP, RDP over TCP and UDP
#: Written prefixes at least this wide (by family) count as broad: a /16 of IPv4, a /48 of IPv6.
BROAD_SIZE = (1 << 16, 1 << 80)
BROAD_TAGS = ("azurecloud",)  # every Azure public address (AzureCloud, AzureCloud.<region>)

rule = Rule(
    id="NSG004",
    slug="admin-rule-always-allows-management-ports",
    title="Security admin rule always allows SSH/RDP from a broad source",
    severity="high",
    reads=("virtualNetworks", "networkManagers"),
    controls=("NS-1", "ALZ-SEC"),
    flags=(
        "An inbound AlwaysAllow security admin rule of Azure Virtual Network Manager reaching port 22 (TCP) or "
        "3389 (TCP or UDP) from `*`/Any, a /0, Internet, VirtualNetwork, AzureCloud, a public address or a "
        "private prefix of a /16 (IPv6: /48) or wider, in a rule collection applying to VNets."
    ),
    rationale=(
        "AlwaysAllow ends the evaluation before any NSG: the traffic goes straight to the VMs and no NSG rule "
        "of the VNet's owners can stop it. Used for SSH/RDP from a broad range it opens every VM of every "
        "member VNet to brute force and lateral movement."
    ),
    remediation=(
        "Narrow the source to the management hosts (the Bastion or jump-host prefixes), or change the access to "
        "Allow so that the NSGs still filter the traffic; delete the rule if it is not needed."
    ),
    docs="https://learn.microsoft.com/azure/virtual-network-manager/concept-security-admins",
    example=(
        "Network manager avnm, configuration sac, collection rc applying to ng-spokes (spoke1, spoke2) has "
        "always-mgmt (priority 10, AlwaysAllow, Tcp 22, source *) -> flagged.\nSource 10.0.1.0/26 (the "
        "Bastion subnet) passes."
    ),
    decisions=(
        "Security admin rules are evaluated before NSGs; AlwaysAllow ends the evaluation and the traffic does "
        "not reach the NSGs (https://learn.microsoft.com/azure/virtual-network-manager/concept-security-admins). "
        "Only inbound AlwaysAllow rules count; Allow hands the traffic to the NSGs and Deny drops it. Broad: "
        "`*`/Any, 0.0.0.0/0 or ::/0 (each a whole family), the Internet, VirtualNetwork and AzureCloud tags, a "
        "prefix holding any public address, or a private prefix of 65,536 IPv4 addresses (a /16) or a /48 of "
        "IPv6 or more; other service tags (a single Azure service) and narrower private prefixes pass. The "
        "destination is not narrowed. A rule earlier in priority that denies the same traffic is not "
        "looked for: the AlwaysAllow still shows intent. The collection must apply to a network group with a "
        "static member: members added by Azure Policy cannot be read, and a rule applying to nothing the "
        "snapshot can name is not flagged. Deployment per region cannot be read either: the message says 'if "
        "the configuration is deployed in the VNet's region'. One finding per admin rule."
    ),
)


def _ports(pr) -> list[int]:
    return [
        p for p in ADMIN_PORTS if pr.protocol in ("*", *PROTOCOLS[p]) and pr.reaches_port(p, PROTOCOLS[p])
    ]


def _broad(side: Addresses, prefixes: list[str]) -> list[str]:
    """The parts of the source that make it broad, as written."""
    found = []
    if side.any:
        found.append("*")
    if side.internet_tag:
        found.append("Internet")
    if side.vnet_tag:
        found.append("VirtualNetwork")
    found += [t for t in side.other_tags if t.lower().split(".")[0] in BROAD_TAGS]
    for prefix in prefixes:
        span = interval(prefix)
        if span is None:
            continue
        size = span[1] - span[0] + 1
        v6 = span[0] >= V6_OFFSET
        public = not NON_PUBLIC.covers(IntervalSet([span]))
        if public or size >= BROAD_SIZE[v6]:
            found.append(describe_space(IntervalSet([span])))
    return found


@rule.check
def check(snapshot):
    for manager in snapshot.network_managers:
        for configuration in manager.security_admin_configurations:
            for collection in configuration.rule_collections:
                members = member_names(snapshot, collection)
                if not members:
                    continue
                for admin_rule in collection.rules:
                    pr = ParsedRule(admin_rule)
                    if pr.access != "alwaysallow" or not pr.inbound or not (ports := _ports(pr)):
                        continue
                    broad = _broad(pr.source, admin_rule.source_address_prefixes)
                    if broad:
                        yield _finding(
                            manager, configuration, collection, admin_rule, pr, ports, broad, members
                        )


def _finding(manager, configuration, collection, r, pr, ports, broad, members):
    reach = " and ".join(PORT_NAMES[p] for p in ports)
    return rule.finding(
        resource_id=r.id,
        related_ids=[configuration.id, *collection.applies_to_group_ids],
        message=(
            f"Security admin rule {r.name} (priority {r.priority}, AlwaysAllow {r.protocol}) in configuration "
            f"{configuration.name} (collection {collection.name}) of network manager {manager.name} lets "
            f"{reach} from {', '.join(broad)} straight to the VMs of VNet {name_list(members)}, {IF_DEPLOYED}: "
            f"no NSG can stop it."
        ),
        evidence={
            "network_manager": manager.name,
            "configuration": configuration.name,
            "collection": collection.name,
            "priority": r.priority,
            "protocol": r.protocol,
            "destination_port_ranges": r.destination_port_ranges,
            "admin_access": [PORT_NAMES[p] for p in ports],
            "broad_sources": broad,
            "member_vnets": members[:LIMIT],
            "member_count": len(members),
            "deployment": "unknown",
        },
    )
