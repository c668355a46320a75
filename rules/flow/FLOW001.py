"""FLOW001 forbidden-flow-allowed."""

from auditor.analysis.reach import vnets_on_path
from auditor.engine.intents import check as outcomes_of
from auditor.engine.intents import flows_evidence, flows_text
from auditor.engine.rule import Rule
from auditor.model.ids import name_of

rule = Rule(
    id="FLOW001",
    slug="forbidden-flow-allowed",
    title="A flow declared forbidden is allowed",
    severity="high",
    reads=("virtualNetworks", "networkSecurityGroups", "routeTables"),
    controls=("NS-1", "ALZ-SEC"),
    uses_intents=True,
    flags=(
        "A flow declared under `forbid:` in the intents file that the estate allows on some path: every route, "
        "peering and filter (admin rules, subnet and NIC NSGs) on its way lets it through."
    ),
    rationale=(
        "A segmentation promise (no SSH between spokes, nothing from the Internet to the data tier) holds only "
        "if every path keeps it. One broad allow or one extra peering breaks it without anyone noticing."
    ),
    remediation=(
        "Change the resource named as primary: it is the rule that admits the flow at the destination (add a "
        "Deny above it, or narrow it), or the route or peering that carries it when no filter stands in the way."
    ),
    docs="https://learn.microsoft.com/azure/virtual-network/network-security-group-how-it-works",
    example=(
        "intents: forbid spoke-* -> spoke-* on 22; the spokes are in one AVNM mesh and their NSGs keep the "
        "default AllowVnetInBound -> flagged on AllowVnetInBound of each destination's NSG.\n"
        "A Deny of port 22 from 10.0.0.0/8 in the spokes' NSGs passes."
    ),
    decisions=(
        "Every pair of subnets in the intent's scopes is judged as `vnet-audit reach` would trace it (first "
        "usable address of each subnet); between subnets, all pairs are decided at once, so an estate-wide "
        "scope is not refused. Allowed means every step allowed it; an unknown step (an application security "
        "group or a service tag the input cannot resolve) never counts as allowed, and what the trace assumes "
        "(an appliance forwards the flow) is listed in the evidence. Flows leaving to the Internet or through "
        "a gateway are judged up to the edge. One finding per intent and deciding resource, with the number "
        "of flows it lets through and up to 20 of them traced (while the intent has traced fewer than 2,000 "
        "besides each finding's first)."
    ),
)


@rule.check
def check(snapshot, intents):
    for first_outcome in outcomes_of(snapshot, intents):
        if first_outcome.kind != "forbid":
            continue
        outcomes = [first_outcome, *first_outcome.others]  # the flows this resource decides (the first 20 kept)
        count = len(outcomes) + first_outcome.more
        them = "it" if count == 1 else "them"
        intent, first = first_outcome.intent.name, first_outcome.trace
        primary = first.decided_by or first.destination.vnet_key or first.source.vnet_key
        assumptions = sorted({a for o in outcomes for a in o.trace.assumptions})
        step = next((h.text for h in reversed(first.hops) if h.decided_by == first.decided_by), first.reason)
        if first.decided_at != "filter":  # nothing filters it: the peering or route that carries it is named
            step = f"no admin rule or NSG stands in the way ({step})"
        yield rule.finding(
            resource_id=primary,
            message=(f"Intent {intent} forbids {flows_text(outcomes)}, but the estate allows {them} "
                     f"({first.reason}); {name_of(primary)} lets {them} through: {step}."),
            evidence={"intent": intent, "flows": flows_evidence(outcomes), "flow_count": count,
                      "assumptions": assumptions, "path_vnets": vnets_on_path(first)},
            fingerprint_ids=[primary],
        )
