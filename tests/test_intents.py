"""The intents file: one-line errors, scope limits, and forbidden flows grouped by the resource that lets them."""

import re

import pytest

from auditor.engine import intents as intents_mod
from auditor.engine.intents import check, parse_intents
from auditor.errors import InputError
from auditor.input.synthetic import snapshot_from_spec


def mesh(n: int) -> dict:
    vnets = {f"spoke{i}": {"subscription": "prod", "address_space": f"10.{i}.0.0/16", "subnets": {"app": f"10.{i}.1.0/24"}}
             for i in range(n)}
    return {"subscriptions": {"prod": {}, "conn": {}}, "vnets": vnets,
            "network_managers": {"avnm": {"subscription": "conn", "groups": {"ng": {"members": list(vnets)}},
                                          "connectivity": {"cc": {"topology": "Mesh", "groups": ["ng"]}}}}}


FORBID = {"forbid": [{"name": "no-ssh", "from": {"names": ["spoke*"]}, "to": {"names": ["spoke*"]}, "ports": [22]}]}


@pytest.mark.parametrize("doc, message", [
    ({"forbid": [{"name": "x", "from": {"names": ["a"]}, "to": {}, "ports": [70000]}]}, "intent x: ports must be 0-65535"),
    ({"forbid": [{"name": "x", "from": {}, "to": {}, "protocol": "sctp"}]}, "protocol must be tcp, udp, icmp or any"),
    ({"roles": {"hubb": {"names": ["h"]}}}, "unknown role 'hubb'"),
    ({"require": [{"name": "x", "from": {"vnet": ["a"]}, "to": {}}]}, "unknown key 'require[0].from.vnet'"),
])
def test_a_bad_intents_file_is_one_line(doc, message):
    with pytest.raises(InputError, match=re.escape(message)) as error:
        parse_intents(doc, "intents.yaml")
    assert str(error.value).startswith("intents.yaml: ") and "\n" not in str(error.value)


def test_too_many_flows_to_trace_are_refused_before_tracing(monkeypatch):
    monkeypatch.setattr(intents_mod, "MAX_PAIRS", 10)
    snap = snapshot_from_spec(mesh(5))  # 5 x 4 routable pairs
    required = {"require": [{**FORBID["forbid"][0], "name": "ssh"}]}
    with pytest.raises(InputError, match="intent ssh: more than 10 flows to trace"):
        list(check(snap, parse_intents(required, "f")))
    # a forbid intent between subnets is decided for all pairs at once: no limit
    assert sum(1 + len(o.others) + o.more for o in check(snap, parse_intents(FORBID, "f"))) == 20


def test_forbidden_flows_keep_a_few_traces_and_count_the_rest(monkeypatch):
    monkeypatch.setattr(intents_mod, "KEPT", 3)
    snap = snapshot_from_spec(mesh(4))  # every spoke reaches every other: 12 flows, one deciding resource (no NSG)
    outcomes = [o for o in check(snap, parse_intents(FORBID, "f")) if o.kind == "forbid"]
    assert sum(1 + len(o.others) + o.more for o in outcomes) == 12
    assert all(len(o.others) <= 2 for o in outcomes)
    assert any(o.more for o in outcomes), "the rest are counted, not kept"


def test_exclude_paths_leave_out_the_pairs_they_match():
    snap = snapshot_from_spec(mesh(3))
    plain = parse_intents(FORBID, "f")
    with_exclude = parse_intents({"forbid": [{**FORBID["forbid"][0], "exclude": [
        {"from": {"vnets": ["spoke0"]}},  # anything from spoke0
        {"from": {"vnets": ["spoke1"]}, "to": {"vnets": ["spoke2"]}},  # and spoke1 -> spoke2
    ]}]}, "f")

    def flows(intents) -> set[tuple[str, str]]:
        out = set()
        for o in check(snap, intents):
            for flow in [o, *o.others]:
                out.add((flow.trace.source.label.split()[-1], flow.trace.destination.label.split()[-1]))
        return out

    everything = flows(plain)
    assert len(everything) == 6
    assert flows(with_exclude) == {("spoke1/app", "spoke0/app"), ("spoke2/app", "spoke0/app"), ("spoke2/app", "spoke1/app")}


@pytest.mark.parametrize("content, message", [
    (b"forbid: [\n", "not valid YAML at line"),
    (b"\xff\xfeforbid: []", "cannot read intents file"),  # not UTF-8
])
def test_an_unreadable_intents_file_is_one_line(tmp_path, content, message):
    from auditor.engine.intents import load_intents

    path = tmp_path / "intents.yaml"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as error:
        load_intents(path)
    assert str(error.value).startswith(str(path)) and "\n" not in str(error.value)


def test_the_message_counts_every_flow_besides_those_shown(monkeypatch):
    monkeypatch.setattr(intents_mod, "KEPT", 2)
    snap = snapshot_from_spec(mesh(4))  # 12 flows, all carried by the connected group (no NSG)
    outcomes = [o for o in check(snap, parse_intents(FORBID, "f")) if o.kind == "forbid"]
    for first in outcomes:
        group = [first, *first.others]
        total = len(group) + first.more
        text = intents_mod.flows_text(group)
        assert text.count("->") == len(group)
        assert (f"and {total - len(group)} more" in text) == (total > len(group)), text
