"""NSG003 vnet-tag-exposes-peers."""

from auditor.analysis.addresses import families, union
from auditor.analysis.admin_rules import IF_DEPLOYED, admin_rules_for
from auditor.analysis.filtering import decide, target_of
from auditor.analysis.nics import nic_label, nic_subnet, nics_by_nsg
from auditor.analysis.nsg import ADMIN_PORTS, rules_in_order
from auditor.analysis.routing import peer_spaces
from auditor.analysis.wording import name_list
from auditor.engine.rule import Rule
from auditor.model.ids import norm_id

LIMIT = 50
PORT_NAMES = {22: "SSH (22)", 3389: "RDP (3389)"}
PROTOCOLS = {22: ("tcp",), 3389: ("tcp", "udp")}  # SSH runs over TCP, RDP over TCP and UDP

rule = Rule(
    id="NSG003",
    slug="vnet-tag-exposes-peers",
    title="SSH/RDP allowed from the VirtualNetwork tag, which includes peered VNets",
    severity="medium",
    reads=("virtualNetworks", "networkSecurityGroups"),
    controls=("NS-1", "ALZ-NET", "ALZ-SEC"),
    flags=(
        "A custom inbound Allow with source VirtualNetwork to port 22, 3389 or all ports, in an NSG of a subnet "
        "or a network interface of a VNet that has peerings: the VirtualNetwork tag includes every peered VNet."
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
        "`*`, 0-65535, and any range or list containing 22 or 3389; protocol Tcp or `*`, and Udp for RDP "
        "(which also runs over UDP; SSH does not); Icmp/Esp/Ah rules pass. Peers are VNets peered per the "
        "catalogue plus Connected, access-allowed peerings to VNets outside the snapshot; peerings that are Initiated, Disconnected or have access "
        "disabled do not enter the tag and do not count. The VNets of an NSG are those of its subnets and of "
        "its network interfaces' subnets (VM wizards put SSH/RDP rules on the NIC's NSG). Order, per "
        "https://learn.microsoft.com/azure/virtual-network/network-security-group-how-it-works and "
        "https://learn.microsoft.com/azure/virtual-network-manager/concept-security-admins: security admin "
        "rules first, then the subnet's NSG, then the NIC's. A peer whose admin-port traffic a security admin "
        "Deny drops (static network group members; if the configuration is deployed in the VNet's region) or "
        "an AlwaysAllow takes past the NSGs (NSG004 judges those) never reaches the rule, and neither does, for "
        "a NIC's NSG, traffic the subnet's NSG denies: such peers do not count and the evidence names the "
        "admin rules; where no peer remains, nothing is flagged. A subnet NSG's rule is reported even when the "
        "NSGs of the NICs now in the subnet deny the traffic: it admits every NIC added later. IPv4 and IPv6 "
        "are judged apart: a peer counts only in the families the subnet or NIC has addresses in. Where the answer depends on what the snapshot "
        "cannot tell (an application security group whose NICs were not read, a rule matching part of the "
        "subnet), the peer does not count. The destination is not narrowed: any host is exposed. Rules "
        "shadowed by a higher-priority Deny in the same NSG are still reported (the Deny may be removed later)."
    ),
)


def _admin_ports(pr) -> list[int]:
    return [p for p in ADMIN_PORTS if _queries(pr, p) and pr.reaches_port(p)]


def _queries(pr, port: int) -> list[tuple[str, int]]:
    return [(proto, port) for proto in PROTOCOLS[port] if pr.protocol in ("*", proto)]


class _Exposure:
    """Which peers of the NSG's VNets reach one rule, per attachment (subnet or NIC)."""

    def __init__(self, snapshot, pr):
        self.snapshot, self.pr = snapshot, pr
        self.vnets: set[str] = set()
        self.peers: dict[str, tuple[str, str]] = {}  # key -> (name, id)
        self.ports: set[int] = set()
        self.admin_denied: dict[str, str] = {}  # admin rule key -> label

    def judge(self, target_id: str, vnet_key: str, subnet_key: str, layers: tuple[str, ...], ports) -> None:
        peers = peer_spaces(self.snapshot, vnet_key)
        if not peers:
            return
        reached: dict[int, object] = {}
        remote = union(s for _, _, s in peers)
        if layers == ("admin",) and not admin_rules_for(self.snapshot, vnet_key, subnet_key):
            # nothing before the NSG: every peer address of a family the target has reaches it
            local = families(target_of(self.snapshot, target_id).space)
            space = union(part for part, mine in zip(families(remote), local) if mine)
            reached = dict.fromkeys(ports, space)
        else:
            for port in ports:
                pieces = []
                for proto, p in _queries(self.pr, port):
                    for v in decide(self.snapshot, target_id, True, remote, proto, p, layers):
                        if v.access in ("allow", "pass") and v.layer != "admin":
                            pieces.append(v.space)
                        elif v.access == "deny" and v.layer == "admin":
                            self.admin_denied[v.rule.rule.key] = _admin_label(
                                self.snapshot, vnet_key, subnet_key, v.rule
                            )
                reached[port] = union(pieces)
        for port, space in reached.items():
            hit = [(name, pid) for name, pid, s in peers if s.overlaps(space)]
            if hit:
                self.vnets.add(vnet_key)
                self.ports.add(port)
                self.peers.update((norm_id(pid), (name, pid)) for name, pid in hit)


def _admin_label(snapshot, vnet_key, subnet_key, parsed) -> str:
    applied = next(a for a in admin_rules_for(snapshot, vnet_key, subnet_key) if a.parsed is parsed)
    return applied.label()


@rule.check
def check(snapshot):
    index = snapshot.index
    on_nics = nics_by_nsg(snapshot)
    for nsg in snapshot.network_security_groups:
        subnets = index.subnets_of(nsg.id)
        nics = [n for n in on_nics.get(nsg.key, []) if nic_subnet(n) in index.subnets]
        if not subnets and not nics:
            continue
        for pr in rules_in_order(snapshot, nsg, inbound=True):
            if not pr.allow or pr.is_default or not pr.source.vnet_tag or not (ports := _admin_ports(pr)):
                continue
            seen = _Exposure(snapshot, pr)
            for s in subnets:
                seen.judge(s, index.vnet_of_subnet[s].key, s, ("admin",), ports)
            for nic in nics:
                s = nic_subnet(nic)
                seen.judge(nic.id, index.vnet_of_subnet[s].key, s, ("admin", "subnet"), ports)
            if seen.peers:
                yield _finding(snapshot, nsg, pr, seen, nics)


def _finding(snapshot, nsg, pr, seen: _Exposure, nics):
    index = snapshot.index
    r = pr.rule
    all_ports = pr.all_destination_ports and seen.ports == set(ADMIN_PORTS)
    reach = ["all ports"] if all_ports else [PORT_NAMES[p] for p in sorted(seen.ports)]
    names = [n for n, _ in seen.peers.values()]
    nic_names = [nic_label(n) for n in nics]
    on = f", on NIC {name_list(nic_names)}," if nics and not index.subnets_of(nsg.id) else ""
    admin = (
        f" Security admin rules already deny some of this traffic ({IF_DEPLOYED}): "
        f"{name_list(seen.admin_denied.values())}."
        if seen.admin_denied
        else ""
    )
    return rule.finding(
        resource_id=r.id,
        related_ids=[nsg.id, *(pid for _, pid in sorted(seen.peers.values())[:LIMIT])],
        fingerprint_ids=[norm_id(r.id)],
        message=(
            f"Rule {r.name} (priority {r.priority}, Allow {r.protocol}) in NSG {nsg.name}{on} allows "
            f"{' and '.join(reach)} from VirtualNetwork; for VNet "
            f"{name_list(index.vnets[v].name for v in seen.vnets)} that tag includes peered VNet "
            f"{name_list(names)}, so all of them can reach these admin ports.{admin}"
        ),
        evidence={
            "nsg": nsg.name,
            "priority": r.priority,
            "protocol": r.protocol,
            "destination_port_ranges": r.destination_port_ranges,
            "admin_access": reach,
            "peered_vnets": sorted(names, key=str.lower)[:LIMIT],
            "peer_count": len(names),
            **({"nics": nic_names} if nics else {}),
            **({"admin_rules_denying": sorted(seen.admin_denied.values())} if seen.admin_denied else {}),
        },
    )
