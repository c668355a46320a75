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
