"""TOPO002 spoke-peered-to-two-hubs."""

from auditor.engine.intents import vnets_in_role
from auditor.engine.rule import Rule
from auditor.model.ids import norm_id

rule = Rule(
    id="TOPO002",
    slug="spoke-peered-to-two-hubs",
    title="A spoke is peered with more than one hub",
    severity="medium",
    reads=("virtualNetworks",),
    controls=("ALZ-NET",),
    uses_intents=True,
    flags="A VNet declared a spoke with peerings to two or more VNets declared hubs (policy one-hub-per-spoke).",
    rationale=(
        "A spoke attached to two hubs has two ways out, two firewalls that may see half a flow each (asymmetric "
        "routing), and a place in two address plans; it is usually a migration left half done."
    ),
    remediation="Keep the peering to the spoke's own hub and remove the others (or declare the VNet shared).",
    docs="https://learn.microsoft.com/azure/architecture/networking/architecture/hub-spoke",
    example=(
        "roles: {hub: {names: ['hub-*']}, spoke: {names: ['spoke-*']}}; spoke-a is peered with hub-we and hub-ne "
        "-> flagged.\nspoke-a peered with hub-we only passes."
    ),
    decisions="Peerings in any state count (a Disconnected one is PEER002's too). One finding per spoke.",
)


@rule.check
def check(snapshot, intents):
    if not intents.checks("one-hub-per-spoke"):
        return
    hubs = vnets_in_role(snapshot, intents, "hub")
    index = snapshot.index
    for key in sorted(vnets_in_role(snapshot, intents, "spoke")):
        vnet = index.vnets[key]
        peered = sorted({norm_id(p.remote_virtual_network_id) for p in vnet.peerings} & hubs)
        if len(peered) < 2:
            continue
        names = [index.vnets[h].name for h in peered]
        yield rule.finding(
            resource_id=vnet.id,
            message=f"Spoke {vnet.name} is peered with {len(peered)} hubs ({', '.join(names)}); the design gives each spoke one.",
            evidence={"hubs": names},
            related_ids=[index.vnets[h].id for h in peered],
            fingerprint_ids=[key],
        )
