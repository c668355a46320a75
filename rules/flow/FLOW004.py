"""FLOW004 peers-reach-management-ports."""

from auditor.analysis.endpoints import endpoints_of_subnet, family_of, workload_subnets
from auditor.analysis.reach import trace
from auditor.analysis.routing import connected_vnets
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
    opt_in=True,
    flags=(
        "A VNet whose subnets a peered VNet (or one joined by a Standard Virtual WAN hub or an AVNM connected group) "
        "reaches on TCP 22 or 3389, over IPv4 or IPv6, through every route "
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
        "Opt-in (`--rules FLOW004`): with the default NSG rules it fires on nearly every peered VNet, and it traces "
        "every peering. A peer's first workload subnet stands for it, at its first usable address in each family (gateway, "
        "firewall, Route Server and Bastion subnets are left out); each workload subnet of the VNet is a "
        "destination, in each family it has. Only "
        "direct paths are traced (peerings, Standard hubs, connected groups), not paths through appliances. One "
        "finding per "
        "reached VNet, listing up to 20 peers."
    ),
)


@rule.check
def check(snapshot):
    index = snapshot.index
    for vnet in snapshot.virtual_networks:
        targets = [end for s in workload_subnets(vnet) for end in endpoints_of_subnet(snapshot, s.key)]
        reached = {}
        for peer_key in sorted(connected_vnets(snapshot, vnet.key)):
            peer = index.vnets.get(peer_key)
            # the peer's first workload subnet, in each family, stands for the peer
            first = workload_subnets(peer)[:1] if peer else []
            sources = [end for s in first for end in endpoints_of_subnet(snapshot, s.key)]
            pairs = [(src, dst) for src in sources for dst in targets if family_of(src.address) == family_of(dst.address)]
            hit = next(((src, dst, p, t) for src, dst in pairs for p in PORTS
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
                     f"({', '.join(names[:5])}{' ...' if len(names) > 5 else ''}); e.g. {src.label} ({src.address}) -> "
                     f"{dst.label} ({dst.address}) "
                     f"on {port}: {first.reason}."),
            evidence={"peers": names[:LIMIT], "peer_count": len(names), "example_path": [h.text for h in first.hops]},
            fingerprint_ids=[vnet.key],
        )
