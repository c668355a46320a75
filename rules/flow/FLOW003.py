"""FLOW003 internet-reaches-management-port."""

from auditor.analysis.endpoints import INTERNET_SOURCE, Endpoint
from auditor.analysis.reach import trace, vnets_on_path
from auditor.engine.rule import Rule
from auditor.model.ids import norm_id

PORTS = (22, 3389)

rule = Rule(
    id="FLOW003",
    slug="internet-reaches-management-port",
    title="A VM with a public IP is reachable from the Internet on SSH or RDP",
    severity="info",
    reads=("virtualNetworks", "networkSecurityGroups", "networkInterfaces"),
    controls=("NS-1", "ALZ-SEC"),
    flags=(
        "A network interface with a public IP whose private address the Internet reaches on TCP 22 or 3389 through "
        "every filter in its way (AVNM admin rules, subnet NSG, NIC NSG), traced as `vnet-audit reach` does."
    ),
    rationale=(
        "Management ports open to the Internet are the most scanned and brute-forced services there are. The "
        "answer depends on admin rules and two NSGs together, which is why it is traced rather than read off one NSG."
    ),
    remediation=(
        "Remove the public IP and use Azure Bastion or just-in-time access, or restrict the allowing rule's source to "
        "known addresses."
    ),
    docs="https://learn.microsoft.com/azure/security/fundamentals/network-best-practices",
    example=(
        "vm1-nic has a public IP; nsg-vm1 on the NIC allows 3389 from Internet -> flagged with the path.\n"
        "The same NIC without a public IP, or a subnet NSG without such an allow, passes."
    ),
    decisions=(
        "Only NICs the input shows with a public IP are judged (a load balancer's frontend is not followed). The "
        "Internet stands for a public address outside every service tag the input can resolve; a rule on a service "
        "tag (AzureCloud, a region) makes the verdict unknown and gives no finding. One finding per NIC, on the rule "
        "that admitted the traffic."
    ),
)


@rule.check
def check(snapshot):
    internet = Endpoint("Internet", INTERNET_SOURCE)
    for nic in snapshot.network_interfaces:
        configs = [c for c in nic.ip_configurations if c.public_ip_address_id and c.private_ip_address]
        if not configs:
            continue
        subnet_key = norm_id(configs[0].subnet_id)
        if subnet_key not in snapshot.index.subnets:
            continue
        # the NIC's own subnet: its address may lie in another, overlapping VNet's subnet too
        target = Endpoint(f"NIC {nic.name}", configs[0].private_ip_address.split("/")[0],
                          snapshot.index.vnet_of_subnet[subnet_key].key, subnet_key, nic=nic)
        open_ports = [(p, t) for p in PORTS if (t := trace(snapshot, internet, target, "tcp", p)).verdict == "allowed"]
        if not open_ports:
            continue
        port, first = open_ports[0]
        yield rule.finding(
            resource_id=first.decided_by or nic.id,
            message=(f"NIC {nic.name} ({target.address}, public IP {configs[0].public_ip_address_id.rsplit('/', 1)[-1]}) "
                     f"is reachable from the Internet on {', '.join(str(p) for p, _ in open_ports)}: {first.reason}."),
            evidence={"nic": nic.name, "ports": [p for p, _ in open_ports], "path": [h.text for h in first.hops],
                      "path_vnets": vnets_on_path(first)},
            related_ids=[nic.id],
            fingerprint_ids=[nic.key],
        )
