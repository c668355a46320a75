"""NSG002 required-flow-blocked."""

from auditor.analysis.reach import assumes_transitivity, vnets_on_path
from auditor.engine.intents import check as outcomes_of
from auditor.engine.intents import flows_evidence, flows_text, grouped
from auditor.engine.rule import Rule
from auditor.model.ids import name_of, norm_id

rule = Rule(
    id="NSG002",
    slug="required-flow-blocked",
    title="A flow declared required is blocked",
    severity="high",
    reads=("virtualNetworks", "networkSecurityGroups", "routeTables"),
    controls=("NS-1", "ALZ-NET"),
    uses_intents=True,
    flags=(
        "A flow declared under `require:` in the intents file that a rule or route blocks: an admin rule, an "
        "NSG rule (a default DenyAllInBound names its NSG), a route with next hop None, a peering refusing "
        "forwarded traffic, an appliance without IP forwarding."
    ),
    rationale=(
        "Required flows are what the network was built for (the app to its database, monitoring to every "
        "subnet). A block found before the release, with the rule to change, saves an outage."
    ),
    remediation=(
        "Change the resource named as primary: add an Allow above the blocking NSG rule (or in the NSG when no "
        "rule allows it), remove or fix the route, allow forwarded traffic on the peering."
    ),
    docs="https://learn.microsoft.com/azure/virtual-network/network-security-group-how-it-works",
    example=(
        "intents: require spoke-app -> spoke-data/snet-sql on 1433; nsg-sql has deny-all at priority 4000 and no "
        "allow above -> flagged on deny-all.\n"
        "An allow of 1433 from spoke-app's range at priority 300 in nsg-sql passes."
    ),
    decisions=(
        "Each pair of subnets in the intent's scopes is traced by `vnet-audit reach`. A drop for lack of a route "
        "between VNets a peering chain links is FLOW002's (peering is not transitive). A flow the input cannot "
        "decide (unknown) is not reported. When a default rule blocks, the primary resource is the NSG, where "
        "the missing allow belongs. One finding per intent and blocking resource."
    ),
)


@rule.check
def check(snapshot, intents):
    index = snapshot.index
    blocked = [o for o in outcomes_of(snapshot, intents)
               if o.kind == "require" and o.trace.verdict == "denied" and assumes_transitivity(snapshot, o.trace) is None]
    for (intent, _), outcomes in grouped(blocked).items():
        first = outcomes[0].trace
        primary = first.decided_by or first.source.vnet_key
        default_rule = "/defaultsecurityrules/" in norm_id(primary)
        if default_rule:  # the missing allow belongs in the NSG
            primary = primary.rsplit("/", 2)[0]
        yield rule.finding(
            resource_id=primary,
            message=f"Intent {intent} requires {flows_text(outcomes)}, but {first.reason}.",
            evidence={"intent": intent, "flows": flows_evidence(outcomes), "flow_count": len(outcomes),
                      "blocked_by_default_rule": default_rule, "nsg": name_of(primary) if default_rule else None,
                      "path_vnets": vnets_on_path(first)},
            fingerprint_ids=[primary],
            related_ids=[index.vnets[k].id for k in dict.fromkeys([first.source.vnet_key, first.destination.vnet_key])
                         if k in index.vnets],
        )
