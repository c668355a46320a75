"""ROUTE003 peer-route-to-internet."""

from auditor.engine.rule import Rule
from rules.route._peer_routes import peer_route_findings

rule = Rule(
    id="ROUTE003",
    slug="peer-route-to-internet",
    title="Route sends a peered VNet's range to the Internet",
    severity="high",
    reads=("virtualNetworks", "routeTables"),
    controls=("NS-9", "ALZ-NET"),
    flags=(
        "A user-defined route with next hop Internet whose prefix overlaps the address space of a VNet "
        "peered with the route table's VNet."
    ),
    rationale=(
        "Next hop Internet hands packets to Azure's Internet edge. Private peer addresses are not routed "
        "there, so traffic to the peer is lost; for a peer using public ranges the packets leave Azure "
        "for whoever owns those addresses on the Internet."
    ),
    remediation=(
        "Delete the route or narrow its prefix so the peered range keeps its peering route; send "
        "Internet-bound traffic with a 0.0.0.0/0 route, which loses to the more specific peering routes."
    ),
    docs="https://learn.microsoft.com/azure/virtual-network/virtual-networks-udr-overview#custom-routes",
    example=(
        "spoke1 is peered with hub (10.0.0.0/16); route to-hub 10.0.0.0/16 -> Internet -> flagged.\n"
        "A route 0.0.0.0/0 -> Internet passes: the system route for the peered 10.0.0.0/16 is more specific."
    ),
    decisions=(
        "Same longest-prefix-match semantics as ROUTE001: the route is flagged only for the peer addresses it "
        "actually wins (equal or longer prefix than the peering's system route, minus more specific user routes). "
        "Route tables of several VNets are judged per VNet, one finding per route; unassociated tables are "
        "skipped; Connected peerings to VNets outside the snapshot count with their recorded remote space."
    ),
)


@rule.check
def check(snapshot):
    yield from peer_route_findings(rule, snapshot, "internet", "sends traffic to the Internet")
