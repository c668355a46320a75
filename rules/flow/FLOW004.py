"""FLOW004 peers-reach-management-ports."""

from auditor.analysis.reach import endpoint_of_subnet, trace, workload_subnets
from auditor.engine.rule import Rule

PORTS = (22, 3389)
LIMIT = 20

rule = Rule(
    id="FLOW004",
    slug="peers-reach-management-ports",
    title="Peered VNets reach this VNet's SSH or RDP",
    severity="info",
    reads=("virtualNetworks", "networkSecurityGroups", "routeTables"),
    controls=("NS-1",),
    flags=(
        "A VNet whose subnets a directly peered (or AVNM-connected) VNet reaches on TCP 22 or 3389 through every route "
        "and filter in the way: an inventory of lateral management paths, with the path of the first one."
    ),
    rationale=(
        "Peering plus the default AllowVnetInBound rule opens every port between peers. Whether that is intended is a "
        "design question only the owner can answer; the list answers who can reach whose management ports."
    ),
    remediation=(
        "Where the access is not intended, deny 22 and 3389 from the peers' ranges (or the VirtualNetwork tag) above "
        "AllowVnetInBound, and manage machines through Azure Bastion."
    ),
    docs="https://learn.microsoft.com/azure/virtual-network/network-security-groups-overview",
    example=(
        "hub and spoke are peered and both keep the default NSG rules -> spoke is reachable from hub on 22 and 3389 "
        "(and hub from spoke): one finding per reached VNet.\nA Deny of 22 and 3389 from 10.0.0.0/8 passes."
    ),
    decisions=(
        "Each workload subnet of a peer stands for its first usable address (gateway, firewall, Route Server and "
        "Bastion subnets are left out); each workload subnet of the VNet is a destination. Only "
        "direct paths are traced (peerings and connected groups), not paths through appliances. One finding per "
        "reached VNet, listing up to 20 peers."
    ),
)


@rule.check
def check(snapshot):
    index = snapshot.index
    for vnet in snapshot.virtual_networks:
        targets = [endpoint_of_subnet(snapshot, s.key) for s in workload_subnets(vnet)]
        reached = {}
        for peer_key in sorted(index.peered_vnets(vnet.key)):
            peer = index.vnets.get(peer_key)
            sources = [endpoint_of_subnet(snapshot, s.key) for s in workload_subnets(peer)] if peer else []
            hit = next(((src, dst, p, t) for src in sources for dst in targets for p in PORTS
                        if (t := trace(snapshot, src, dst, "tcp", p)).verdict == "allowed"), None)
            if hit is not None:
                reached[peer.name] = hit
        if not reached:
            continue
        names = sorted(reached)
        src, dst, port, first = reached[names[0]]
        yield rule.finding(
            resource_id=vnet.id,
            message=(f"{len(names)} peered VNet(s) reach management ports of {vnet.name} "
                     f"({', '.join(names[:5])}{' ...' if len(names) > 5 else ''}); e.g. {src.label} -> {dst.label} "
                     f"on {port}: {first.reason}."),
            evidence={"peers": names[:LIMIT], "peer_count": len(names), "example_path": [h.text for h in first.hops]},
            fingerprint_ids=[vnet.key],
        )
