"""reports.fix_first on the realistic estate: problems, their order, and the az commands."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report_estates import evaluated, realistic_spec  # noqa: E402

from reports import fix_first  # noqa: E402
from reports.html_report import SEVERITY_RANK  # noqa: E402

NET = "/subscriptions/s1/resourceGroups/rg-net/providers/Microsoft.Network"


@pytest.fixture(scope="module")
def estate():
    result, snapshot = evaluated(realistic_spec())
    return result, snapshot, fix_first.problems(result.findings, snapshot)


def test_both_halves_of_a_peering_are_one_problem(estate):
    _, _, problems = estate
    sync = [p for p in problems if any(f.rule_id == "PEER003" for f in p.findings)]
    assert len(sync) == 1
    names = {r.name for r in sync[0].resources}
    assert {"analytics-to-hub-weu", "hub-weu-to-analytics"} <= names
    # TRANS002 names the same peering: shown once, with PEER003 linked
    assert sync[0].primary.rule_id == "TRANS002" and sync[0].related_rules == ["PEER003"]


def test_rules_on_one_resource_are_one_problem(estate):
    _, _, problems = estate
    db = [p for p in problems if any(r.name == "db-prod-to-hub-weu" for r in p.resources)]
    assert len(db) == 1 and [f.rule_id for f in db[0].findings] == ["GW002", "PEER004"]


def test_every_unwaived_finding_once_and_ordered_by_severity_then_blast(estate):
    result, _, problems = estate
    shown = [f.fingerprint for p in problems for f in p.findings]
    assert sorted(shown) == sorted(f.fingerprint for f in result.findings if not f.waived)
    keys = [(-SEVERITY_RANK[p.severity], -p.blast) for p in problems]
    assert keys == sorted(keys) and problems[0].severity == "high" and problems[-1].severity == "medium"
    nsg = next(p for p in problems if p.primary.rule_id == "NSG001")
    assert nsg.blast == 5 and nsg.resources[0].resource_group == "rg-network"


@pytest.mark.parametrize("rid, cmd", [
    (f"{NET}/virtualNetworks/a/virtualNetworkPeerings/a-to-b", "az network vnet peering show"),
    (f"{NET}/networkSecurityGroups/n/securityRules/r", "az network nsg rule show"),
    (f"{NET}/routeTables/t/routes/r", "az network route-table route show"),
    (f"{NET}/virtualNetworks/a", "az network vnet show"),
])
def test_az_command_from_the_arm_type(rid, cmd):
    assert fix_first.az_command(rid) == f"{cmd} --ids {rid}"


def test_az_command_quotes_odd_ids_and_knows_when_there_is_none():
    assert fix_first.az_command(f"{NET}/virtualNetworks/a b") == f"az network vnet show --ids '{NET}/virtualNetworks/a b'"
    assert fix_first.az_command("/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/x") is None


def test_first_step_is_the_first_sentence():
    assert fix_first.first_step("Delete the route. Then check. ") == "Delete the route."
    assert fix_first.first_step("Set x (az a --set y=true). Do the same.") == "Set x (az a --set y=true)."


def test_one_rules_findings_on_both_halves_of_a_peering_are_one_problem():
    """OVLP001 reports the overlap on each half of the peering: one problem to fix, not two."""
    from auditor.engine import discover_rules, evaluate
    from auditor.input.synthetic import snapshot_from_spec

    spec = {"subscriptions": {"lab": {}},
            "vnets": {"lab1": {"subscription": "lab", "address_space": "10.50.0.0/16"},
                      "lab2": {"subscription": "lab", "address_space": "10.50.128.0/17"}},
            "peerings": [{"from": "lab1", "to": "lab2"}, {"from": "lab2", "to": "lab1"}]}
    snapshot = snapshot_from_spec(spec)
    result = evaluate(snapshot, [r for r in discover_rules() if r.id == "OVLP001"])
    assert len(result.findings) == 2, "one finding per half"
    (problem,) = fix_first.problems(result.findings, snapshot)
    assert {r.name for r in problem.resources} == {"lab1-to-lab2", "lab2-to-lab1"}
