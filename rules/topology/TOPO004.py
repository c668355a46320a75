"""TOPO004 isolated-vnet-reachable."""

from auditor.analysis.endpoints import endpoint_of_subnet, workload_subnets
from auditor.analysis.reach import trace
from auditor.engine.intents import vnets_in_role
from auditor.engine.rule import Rule

PORTS = (22, 443, 3389)

rule = Rule(
    id="TOPO004",
    slug="isolated-vnet-reachable",
    title="A VNet declared isolated is reachable from a spoke",
    severity="high",
    reads=("virtualNetworks", "networkSecurityGroups", "routeTables"),
    controls=("NS-1", "ALZ-SEC"),
    uses_intents=True,
    flags=(
        "A subnet of a VNet declared isolated that a subnet of a spoke reaches on SSH, HTTPS or RDP, by any path "
        "the estate allows (policy isolated-unreachable)."
    ),
    rationale=(
        "Isolated networks (regulated workloads, break-glass, labs) are trusted because nothing reaches them. One "
        "peering or connected group later, something does."
    ),
    remediation="Remove the path named in the evidence (the peering, connected group or route), or deny the traffic.",
    docs="https://learn.microsoft.com/azure/cloud-adoption-framework/ready/azure-best-practices/define-an-azure-network-topology",
    example=(
        "roles: spoke and isolated; the isolated VNet is peered with a spoke and keeps the default NSG rules -> "
        "flagged.\nWithout the peering (or with a Deny of the spoke's range) it passes."
    ),
    decisions=(
        "Every spoke subnet is traced (`vnet-audit reach`) to every isolated subnet on TCP 22, 443 and 3389; a flow "
        "allowed on any of them is a finding (unknown ones are not). One finding per isolated VNet, listing the "
        "spoke subnets that reach it."
    ),
)


@rule.check
def check(snapshot, intents):
    if not intents.checks("isolated-unreachable"):
        return
    index = snapshot.index
    spokes = sorted(vnets_in_role(snapshot, intents, "spoke"))
    sources = [endpoint_of_subnet(snapshot, s.key) for k in spokes for s in workload_subnets(index.vnets[k])]
    for key in sorted(vnets_in_role(snapshot, intents, "isolated") - set(spokes)):
        vnet = index.vnets[key]
        reached = []
        for subnet in workload_subnets(vnet):
            target = endpoint_of_subnet(snapshot, subnet.key)
            for source in sources:
                allowed = next((p for p in PORTS if trace(snapshot, source, target, "tcp", p).verdict == "allowed"), None)
                if allowed is not None:
                    reached.append({"from": source.label, "to": target.label, "port": allowed})
        if reached:
            names = sorted({r["from"].removeprefix("subnet ") for r in reached})
            yield rule.finding(
                resource_id=vnet.id,
                message=(f"Isolated VNet {vnet.name} is reachable from {len(names)} spoke subnet(s) "
                         f"({', '.join(names[:5])}{' ...' if len(names) > 5 else ''})."),
                evidence={"flows": reached[:20], "flow_count": len(reached)},
                fingerprint_ids=[key],
            )
