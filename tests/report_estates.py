"""The report tests' evaluation of the shared estates (auditor.input.estates), with waivers."""

from __future__ import annotations

from datetime import date

from auditor.engine import Evaluation, discover_rules, evaluate
from auditor.input.estates import large_spec, realistic_spec  # noqa: F401 - re-exported for the report tests
from auditor.input.synthetic import snapshot_from_spec
from auditor.model.snapshot import Snapshot


#: The estate-wide inventories (info findings on every peered VNet with default NSGs) are left out: these
#: tests are about how reports show findings, and the inventories would drown the estates' problems.
INVENTORIES = ("FLOW003", "FLOW004")


def report_rules() -> list:
    return [r for r in discover_rules() if r.id not in INVENTORIES]


def evaluated(spec: dict, waive: bool = True) -> tuple[Evaluation, Snapshot]:
    """Snapshot and evaluation with every rule but the inventories; with `waive`, two findings are waived and
    one waiver is stale."""
    snapshot = snapshot_from_spec(spec)
    snapshot.metadata.run_by = "alice@contoso.com"
    snapshot.metadata.inputs = ["estate/snapshot.json"]
    result = evaluate(snapshot, report_rules())
    if waive:
        from auditor.engine.waivers import Waiver, apply_waivers

        waivers = [
            Waiver(rule="PEER005", resource="*", justification="Partner VNet is managed by Northwind under contract NW-2291",
                   expires=date(2099, 12, 31), owner="partner-team@contoso.com", source="waivers.yaml#waivers[0]"),
            Waiver(rule="PEER001", resource="*/hub-weu-to-sandbox", justification="Sandbox peering is being set up in CHG-4412",
                   expires=date(2099, 1, 31), owner="alice@contoso.com", source="waivers.yaml#waivers[1]"),
            Waiver(rule="OVLP004", resource="*/old-thing", justification="Decommissioned", expires=date(2099, 1, 1),
                   owner="bob@contoso.com", source="waivers.yaml#waivers[2]"),
        ]
        apply_waivers(result, waivers)
    return result, snapshot


def path_spec() -> dict:
    """A hub and three spokes; spoke1's subnet routes spoke2's range to the hub appliance; spoke3 and legacy (peered
    from spoke3 only) are off the path."""
    def vnet(i: int) -> dict:
        return {"subscription": "prod", "address_space": f"10.{i}.0.0/16", "subnets": {"app": f"10.{i}.1.0/24"}}

    spokes = {f"spoke{i}": vnet(i) for i in (1, 2, 3)}
    spokes["spoke1"]["subnets"] = {"app": {"prefix": "10.1.1.0/24", "route_table": "rt"}}
    return {
        "subscriptions": {"prod": {}},
        "vnets": {"hub": {"subscription": "prod", "address_space": "10.0.0.0/16", "subnets": {"nva": "10.0.1.0/24"}},
                  **spokes, "legacy": vnet(4)},
        "nics": {"nva-nic": {"subscription": "prod", "vnet": "hub", "subnet": "nva", "ip": "10.0.1.4", "ip_forwarding": True}},
        "route_tables": {"rt": {"subscription": "prod", "routes": [
            {"name": "via-nva", "prefix": "10.2.0.0/16", "next_hop": "VirtualAppliance", "ip": "10.0.1.4"}]}},
        "peerings": [p for s in spokes for p in ({"from": "hub", "to": s, "allow_forwarded_traffic": True},
                                                 {"from": s, "to": "hub", "allow_forwarded_traffic": True})]
        + [{"from": "spoke3", "to": "legacy"}],  # Initiated: a finding without a path
    }


def evaluated_with_intents(spec: dict, intents: dict) -> tuple[Evaluation, Snapshot]:
    """Snapshot and evaluation with every rule but the inventories, and the intents given as YAML data."""
    from auditor.engine.intents import parse_intents

    snapshot = snapshot_from_spec(spec)
    return evaluate(snapshot, report_rules(), parse_intents(intents, "intents.yaml")), snapshot


#: spoke1 reaches spoke2's SQL port through the hub appliance, though declared forbidden (FLOW001).
PATH_INTENTS = {"forbid": [{"name": "no-sql-across", "from": {"subnets": ["spoke1/app"]}, "to": {"subnets": ["spoke2/app"]},
                            "ports": [1433]}]}
