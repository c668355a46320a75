import sys

import pytest

from auditor.engine import discover_rules, select_rules


def ids(rules):
    return [r.id for r in rules]


def test_id_glob_does_not_match_slugs():
    # NSG001 is peer-traffic-denied and ROUTE001 peer-route-blackholed: PEER* must not pick them
    assert ids(select_rules(discover_rules(), ["PEER*"])) == ["PEER001", "PEER002", "PEER003", "PEER004", "PEER005"]


def test_exact_slug_and_lower_case_id_select_one_rule():
    assert ids(select_rules(discover_rules(), ["peer-traffic-denied", "gw001"])) == ["GW001", "NSG001"]


def test_skip_removes_from_selection():
    assert ids(select_rules(discover_rules(), ["OVLP*"], ["OVLP004", "hub-spokes-overlap"])) == ["OVLP001", "OVLP003"]


def test_pattern_matching_nothing_is_an_error():
    with pytest.raises(ValueError, match="peer-\\*"):
        select_rules(discover_rules(), ["peer-*"])


PACK = '''
from auditor.engine.rule import Rule

rule = Rule(id="ACME001", slug="vnet-without-dns", title="VNet uses Azure DNS", severity="low",
            rationale="r", remediation="m", docs="https://example.com/acme001", flags="f", example="e")


@rule.check
def check(snapshot):
    for vnet in snapshot.virtual_networks:
        if not vnet.dns_servers:
            yield rule.finding(resource_id=vnet.id, message=f"VNet {vnet.name} has no custom DNS servers.")

RULES = [rule]
'''


def _with_pack(monkeypatch, tmp_path, source: str, value: str):
    import importlib.metadata

    import auditor.engine.discovery as engine

    (tmp_path / "acme_rules.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "acme_rules", raising=False)
    real = importlib.metadata.entry_points(group=engine.ENTRY_POINT_GROUP)
    extra = importlib.metadata.EntryPoint(name="acme", value=value, group=engine.ENTRY_POINT_GROUP)
    monkeypatch.setattr(engine, "entry_points", lambda group: [*real, extra])


def test_third_party_pack_is_discovered_and_runs(monkeypatch, tmp_path, estate):
    from auditor.engine import evaluate

    _with_pack(monkeypatch, tmp_path, PACK, "acme_rules:RULES")
    rules = discover_rules()
    assert "ACME001" in ids(rules) and "PEER001" in ids(rules)
    snapshot = estate("""
subscriptions: {prod: {}}
vnets:
  hub: {subscription: prod, address_space: 10.0.0.0/16, dns_servers: [10.0.0.4]}
  spoke: {subscription: prod, address_space: 10.1.0.0/16}
""")
    result = evaluate(snapshot, select_rules(rules, ["ACME*"]))
    assert [f.resource_name for f in result.findings] == ["spoke"]
    assert result.findings[0].rule_id == "ACME001" and not result.errors


def test_broken_pack_is_a_clear_error(monkeypatch, tmp_path):
    from auditor.engine import RuleLoadError

    _with_pack(monkeypatch, tmp_path, "RULES = 42\n", "acme_rules:RULES")
    with pytest.raises(RuleLoadError, match="'acme'.*not a vnet-audit Rule"):
        discover_rules()


def test_pack_reusing_a_builtin_id_is_refused(monkeypatch, tmp_path):
    from auditor.engine import RuleLoadError

    _with_pack(monkeypatch, tmp_path, PACK.replace('"ACME001"', '"PEER001"'), "acme_rules:RULES")
    with pytest.raises(RuleLoadError, match="PEER001 is defined twice"):
        discover_rules()


def test_an_opt_in_rule_runs_only_when_named():
    from auditor.engine import discover_rules, select_rules

    rules = discover_rules()
    assert "FLOW004" not in [r.id for r in select_rules(rules)]
    assert "FLOW004" in [r.id for r in select_rules(rules, ["FLOW*"])]
    assert [r.id for r in select_rules(rules, ["peers-reach-management-ports"])] == ["FLOW004"]
