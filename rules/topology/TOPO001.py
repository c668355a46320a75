"""TOPO001 spoke-to-spoke-peering."""

from auditor.engine.intents import vnets_in_role
from auditor.engine.rule import Rule

rule = Rule(
    id="TOPO001",
    slug="spoke-to-spoke-peering",
    title="Two spokes are peered directly, against the declared hub-and-spoke design",
    severity="medium",
    reads=("virtualNetworks",),
    controls=("NS-1", "ALZ-NET"),
    uses_intents=True,
    flags="A peering between two VNets the intents file's `roles` declares as spokes (policy no-spoke-to-spoke-peering).",
    rationale=(
        "In a hub-and-spoke design spokes talk through the hub, where the firewall inspects and logs the traffic. "
        "A direct spoke-to-spoke peering bypasses it: a check Azure Policy, judging one resource at a time, "
        "cannot express."
    ),
    remediation="Remove the peering and route the traffic through the hub, or declare one of the VNets shared.",
    docs="https://learn.microsoft.com/azure/architecture/networking/architecture/hub-spoke",
    example=(
        "roles: {spoke: {names: ['spoke-*']}}; spoke-a is peered with spoke-b -> flagged once for the pair.\n"
        "spoke-a peered with the hub only passes."
    ),
    decisions=(
        "Each pair is reported once, on the half of the peering whose VNet sorts first; either half counts, in any "
        "state. VNets matched by no role are not judged."
    ),
)


@rule.check
def check(snapshot, intents):
    if not intents.checks("no-spoke-to-spoke-peering"):
        return
    spokes = vnets_in_role(snapshot, intents, "spoke")
    index = snapshot.index
    seen = set()
    for vnet in snapshot.virtual_networks:
        if vnet.key not in spokes:
            continue
        for peering in vnet.peerings:
            remote = index.remote_vnet(peering)
            pair = tuple(sorted((vnet.key, remote.key))) if remote is not None else None
            if remote is None or remote.key not in spokes or pair in seen:
                continue
            seen.add(pair)
            yield rule.finding(
                resource_id=peering.id,
                message=(f"Spokes {vnet.name} and {remote.name} are peered directly ({peering.name}); the declared "
                         f"design sends spoke-to-spoke traffic through a hub."),
                evidence={"spokes": sorted([vnet.name, remote.name]), "peering_state": peering.peering_state},
                related_ids=[vnet.id, remote.id],
                fingerprint_ids=[*pair],
            )
