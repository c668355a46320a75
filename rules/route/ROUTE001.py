"""ROUTE001 peer-route-blackholed."""

from auditor.engine.rule import Rule
from rules.route._peer_routes import peer_route_findings

rule = Rule(
    id="ROUTE001",
    slug="peer-route-blackholed",
    title="Route drops traffic to a peered VNet",
    severity="high",
    reads=("virtualNetworks", "routeTables"),
    controls=("ALZ-NET",),
    flags=(
        "A user-defined route with next hop None whose prefix overlaps the address space of a VNet "
        "peered with the route table's VNet."
    ),
    rationale=(
        "Next hop None drops packets. A route that wins for a peered VNet's range silently "
        "blackholes traffic from the subnets using the table to that peer, although the peering "
        "shows Connected and the NSGs allow the traffic."
    ),
    remediation=(
        "Delete the route, narrow its prefix so it no longer covers the peer, or send the range to "
        "the intended appliance (next hop VirtualAppliance). Use Network Watcher next hop to confirm."
    ),
    docs="https://learn.microsoft.com/azure/virtual-network/virtual-networks-udr-overview#custom-routes",
    example=(
        "spoke1 is peered with hub (10.0.0.0/16); route table rt-spoke1 has route block-hub "
        "10.0.0.0/16 -> None -> flagged.\n"
        "A route 10.0.0.0/8 -> None passes: the more specific system route for the peered 10.0.0.0/16 wins."
    ),
    decisions=(
        "Longest-prefix match decides: a None route shorter than the peer's prefix loses to the peering's "
        "system route and is not flagged; a more specific user route inside the None route takes its "
        "addresses; a None route with the same or a longer prefix than the peer's wins (user routes beat "
        "system routes of equal length). "
        "Route tables associated with subnets of several VNets are judged per VNet; one finding per route "
        "lists them all. Unassociated route tables route nothing and are skipped. "
        "A Connected peering to a VNet outside the snapshot counts with its recorded remote address space. "
        "Peerings with allowVirtualNetworkAccess false are not 'peered' (PEER004 reports them)."
    ),
)


@rule.check
def check(snapshot):
    yield from peer_route_findings(rule, snapshot, "none", "drops traffic")
