"""FLOW002 required-flow-assumes-transitivity."""

from auditor.analysis.reach import assumes_transitivity
from auditor.engine.intents import check as outcomes_of
from auditor.engine.intents import flows_evidence, flows_text, grouped
from auditor.engine.rule import Rule

rule = Rule(
    id="FLOW002",
    slug="required-flow-assumes-transitivity",
    title="A required flow works only if peering were transitive",
    severity="high",
    reads=("virtualNetworks", "routeTables"),
    controls=("ALZ-NET",),
    uses_intents=True,
    flags=(
        "A flow declared under `require:` in the intents file that Azure drops for lack of a route (the "
        "default None route of 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10, or no route at "
        "all), between VNets that a chain of two or more peerings links."
    ),
    rationale=(
        "Peering is not transitive: spoke A peered with hub H and H peered with spoke B does not let A "
        "reach B. The required flow looks possible on a diagram and fails in production."
    ),
    remediation=(
        "Route the flow through the hub: a route table on the source subnet sending the destination's "
        "prefix to the hub appliance (VirtualAppliance), IP forwarding on the appliance, and "
        "allowForwardedTraffic on the destination's peering to the hub; or connect the VNets directly "
        "(a peering, an AVNM connected group, a Standard Virtual WAN hub)."
    ),
    docs="https://learn.microsoft.com/azure/virtual-network/virtual-network-peering-overview",
    example=(
        "intents: require spoke1 -> spoke2 on 1433; spoke1 and spoke2 are each peered with hub only -> "
        "flagged on spoke1's VNet.\n"
        "A route on spoke1's subnet sending 10.2.0.0/16 to the hub appliance (and forwarded traffic allowed "
        "on spoke2's peering) passes."
    ),
    decisions=(
        "Each pair of subnets in the intent's scopes is traced by `vnet-audit reach` (first usable address "
        "of each subnet). Only a drop by a missing route counts, and only when a peering chain of two or "
        "more hops links the two VNets; any other denial is NSG002's. One finding per intent and source VNet."
    ),
)


@rule.check
def check(snapshot, intents):
    index = snapshot.index
    paths = {}
    for outcome in outcomes_of(snapshot, intents):
        if outcome.kind == "require" and (path := assumes_transitivity(snapshot, outcome.trace)) is not None:
            paths[id(outcome)] = (outcome, path)
    found = [o for o, _ in paths.values()]
    for (intent, vnet_key), outcomes in grouped(found, key=lambda o: o.trace.source.vnet_key).items():
        vnet = index.vnets[vnet_key]
        path = paths[id(outcomes[0])][1]
        chain = " -> ".join(index.vnets[k].name if k in index.vnets else k for k in path)
        yield rule.finding(
            resource_id=vnet.id,
            message=(f"Intent {intent} requires {flows_text(outcomes)}, but only a chain of peerings ({chain}) links "
                     f"them and peering is not transitive: Azure drops the traffic."),
            evidence={"intent": intent, "flows": flows_evidence(outcomes), "flow_count": len(outcomes),
                      "peering_chain": chain, "path_vnets": path},  # the chain the flow would need
            fingerprint_ids=[vnet_key],
            related_ids=[index.vnets[k].id for k in path if k in index.vnets],
        )
