"""TOPO003 default-route-bypasses-hub."""

from auditor.analysis.effective_routes import routes_of
from auditor.analysis.endpoints import workload_subnets
from auditor.engine.intents import vnets_in_role
from auditor.engine.rule import Rule

rule = Rule(
    id="TOPO003",
    slug="default-route-bypasses-hub",
    title="A spoke subnet's default route does not go through a hub",
    severity="high",
    reads=("virtualNetworks", "routeTables"),
    controls=("NS-3", "ALZ-NET"),
    uses_intents=True,
    flags=(
        "A subnet of a VNet declared a spoke whose effective 0.0.0.0/0 route is not a virtual appliance in a VNet "
        "declared a hub (nor a Virtual WAN hub): its Internet egress bypasses the hub firewall "
        "(policy default-route-through-hub)."
    ),
    rationale=(
        "Hub-and-spoke designs inspect egress in the hub. A spoke subnet without the route table that sends "
        "0.0.0.0/0 to the hub firewall goes straight to the Internet: a data exfiltration path nobody sees."
    ),
    remediation=(
        "Associate the spoke subnet with a route table whose 0.0.0.0/0 route has next hop VirtualAppliance at the "
        "hub firewall's private address (or use Virtual WAN routing intent)."
    ),
    docs="https://learn.microsoft.com/azure/firewall/forced-tunneling",
    example=(
        "roles: hub and spoke; spoke-a/app has no route table -> its 0.0.0.0/0 is the system Internet route -> "
        "flagged.\nA route table sending 0.0.0.0/0 to the hub firewall 10.0.1.4 passes."
    ),
    decisions=(
        "The effective route is computed as Azure does (see `vnet-audit reach`). A VirtualAppliance next hop counts "
        "when its address lies in a hub VNet's space; a Virtual WAN hub route counts (routing intent sends it to "
        "the hub's firewall); BGP-learned default routes (ExpressRoute forced tunneling, a Route Server) are not "
        "in the input: such subnets are not flagged when the VNet has or uses a gateway or Route Server. "
        "Gateway, firewall and Bastion subnets are skipped. One finding per subnet."
    ),
)


@rule.check
def check(snapshot, intents):
    if not intents.checks("default-route-through-hub"):
        return
    index = snapshot.index
    hub_space = [index.address_space(k) for k in vnets_in_role(snapshot, intents, "hub")]
    for key in sorted(vnets_in_role(snapshot, intents, "spoke")):
        vnet = index.vnets[key]
        for subnet in workload_subnets(vnet):
            table = routes_of(snapshot, subnet.id)
            route = table.lookup("8.8.8.8")
            if route is None or _through_hub(route, hub_space) or table.unknown:
                continue
            where = f"{route.next_hop_type}{f' {route.next_hop_ip}' if route.next_hop_ip else ''}"
            yield rule.finding(
                resource_id=subnet.id,
                message=(f"Subnet {vnet.name}/{subnet.name}'s default route {route.prefix} goes to {where} "
                         f"({route.source} route), not through a hub: Internet egress bypasses the hub firewall."),
                evidence={"route": route.prefix, "next_hop_type": route.next_hop_type, "next_hop_ip": route.next_hop_ip,
                          "source": route.source},
                related_ids=[vnet.id],
                fingerprint_ids=[subnet.key],
            )


def _through_hub(route, hub_space) -> bool:
    if route.next_hop_type.lower() == "virtualhub":
        return True
    if route.next_hop_type.lower() != "virtualappliance" or not route.next_hop_ip:
        return False
    from auditor.analysis.addresses import interval

    span = interval(route.next_hop_ip)
    return span is not None and any(space.contains_point(span[0]) for space in hub_space)
