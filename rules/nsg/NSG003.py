"""NSG003 vnet-tag-exposes-peers."""

from auditor.analysis.nsg import ADMIN_PORTS, rules_in_order
from auditor.analysis.routing import peer_spaces
from auditor.analysis.wording import name_list
from auditor.engine.rule import Rule
from auditor.model.ids import norm_id

LIMIT = 50

rule = Rule(
    id="NSG003",
    slug="vnet-tag-exposes-peers",
    title="SSH/RDP allowed from the VirtualNetwork tag, which includes peered VNets",
    severity="medium",
    reads=("virtualNetworks", "networkSecurityGroups"),
    controls=("NS-1", "ALZ-NET", "ALZ-SEC"),
    flags=(
        "A custom inbound Allow with source VirtualNetwork to port 22, 3389 or all ports, in an NSG of a VNet "
        "that has peerings: the VirtualNetwork tag includes every peered VNet."
    ),
    rationale=(
        "VirtualNetwork reads like 'this VNet', but it also covers every peered VNet, connected on-premises "
        "range and UDR prefix. An admin-port rule written for the VNet's own jump host opens SSH/RDP to "
        "every spoke of the hub and beyond."
    ),
    remediation=(
        "Replace the VirtualNetwork source with the exact prefixes or an application security group of the "
        "hosts that need admin access (for example the Bastion subnet), or use Azure Bastion / JIT access."
    ),
    docs="https://learn.microsoft.com/azure/virtual-network/service-tags-overview#available-service-tags",
    example=(
        "spoke is peered with hub; nsg-app has allow-ssh (priority 100, source VirtualNetwork, Tcp 22) -> "
        "flagged.\nSource 10.1.0.0/24 (the spoke's own management subnet) passes."
    ),
    decisions=(
        "Only the VirtualNetwork tag as source counts (`*`/Any is a different, openly broad exposure). Ports: "
        "`*`, 0-65535, and any range or list containing 22 or 3389; protocol Tcp, Udp (RDP also runs over UDP) "
        "or `*`; Icmp/Esp/Ah rules pass. Peers are VNets peered per the catalogue plus Connected, access-allowed "
        "peerings to VNets outside the snapshot; peerings that are Initiated, Disconnected or have access "
        "disabled do not enter the tag and do not count. The VNets of an NSG are those of its subnets; NSGs on "
        "network interfaces only are skipped. The destination is not narrowed: any host is exposed. Rules "
        "shadowed by a higher-priority Deny are still reported (the Deny may be removed later)."
    ),
)


def _admin_reach(pr) -> list[str]:
    if pr.all_destination_ports and pr.protocol in ("*", "tcp", "udp"):
        return ["all ports"]
    return [f"{'SSH' if p == 22 else 'RDP'} ({p})" for p in ADMIN_PORTS if pr.reaches_port(p)]


@rule.check
def check(snapshot):
    index = snapshot.index
    for nsg in snapshot.network_security_groups:
        vnets = index.vnets_of(nsg.id)
        if not vnets:
            continue
        peers = {}
        for v in vnets:
            for name, pid, _space in peer_spaces(snapshot, v):
                peers.setdefault(norm_id(pid), (name, pid))
        if not peers:
            continue
        for pr in rules_in_order(snapshot, nsg, inbound=True):
            if not pr.allow or pr.is_default or not pr.source.vnet_tag:
                continue
            reach = _admin_reach(pr)
            if not reach:
                continue
            r = pr.rule
            names = [n for n, _ in peers.values()]
            yield rule.finding(
                resource_id=r.id,
                related_ids=[nsg.id, *(pid for _, pid in sorted(peers.values())[:LIMIT])],
                fingerprint_ids=[norm_id(r.id)],
                message=(
                    f"Rule {r.name} (priority {r.priority}, Allow {r.protocol}) in NSG {nsg.name} allows "
                    f"{' and '.join(reach)} from VirtualNetwork; for VNet {name_list(index.vnets[v].name for v in vnets)} "
                    f"that tag includes peered VNet {name_list(names)}, so all of them can reach these admin ports."
                ),
                evidence={
                    "nsg": nsg.name, "priority": r.priority, "protocol": r.protocol,
                    "destination_port_ranges": r.destination_port_ranges, "admin_access": reach,
                    "peered_vnets": sorted(names, key=str.lower)[:LIMIT], "peer_count": len(names),
                },
            )
