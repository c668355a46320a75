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
