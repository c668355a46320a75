"""`vnet-audit reach`: table-driven flows that encode Azure's documented routing and filtering
(cases in tests/reach_cases/*.yaml, each file citing the docs it follows), and the command line."""

import ipaddress
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.analysis.addresses import IntervalSet, interval
from auditor.analysis.endpoints import resolve
from auditor.analysis.filtering import decide
from auditor.analysis.reach import trace, vnets_on_path
from auditor.input.synthetic import snapshot_from_spec
from tests.conftest import run_cli

CASES = Path(__file__).resolve().parent / "reach_cases"


def all_cases():
    for path in sorted(CASES.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text())["cases"]:
            yield pytest.param(case, id=f"{path.stem}:{case['name']}")


@pytest.mark.parametrize("case", list(all_cases()))
def test_flow(case):
    snap = snapshot_from_spec(case["estate"])
    flow = case["flow"]
    result = trace(snap, resolve(snap, flow["from"]), resolve(snap, str(flow["to"])), flow.get("protocol", "tcp"), flow["port"])
    hops = "\n".join(h.text for h in result.hops)
    expect = case["expect"]
    assert result.verdict == expect["verdict"], f"{result.reason}\n{hops}"
    for text in expect.get("reason", []):
        assert text in result.reason, result.reason
    for text in expect.get("hops", []):
        assert text in hops, hops
    if "path" in expect:  # the VNets it passes through, by name, as the report's Show path draws them
        assert [snap.index.vnets[k].name for k in vnets_on_path(result)] == expect["path"], hops
    for text in case.get("no_hops", []):
        assert text not in hops, hops
    for text in case.get("not_in_input", []):
        assert any(text in u for u in result.not_in_input), result.not_in_input


def test_cases_cover_every_verdict():
    verdicts = {c.values[0]["expect"]["verdict"] for c in all_cases()}
    assert verdicts == {"allowed", "denied", "unknown"}


SPEC = yaml.safe_load((CASES / "routing.yaml").read_text())["base"]


@pytest.fixture
def snapshot_file(tmp_path):
    path = tmp_path / "snap.json"
    snapshot_from_spec(SPEC).write(path)
    return path


@pytest.mark.parametrize("to,port,code", [("spoke2/db", 1433, 0), ("10.2.1.4", 443, 0), ("10.7.0.1", 443, 1)])
def test_cli_exit_code_is_the_verdict(snapshot_file, capsys, monkeypatch, to, port, code):
    got, out, _ = run_cli(capsys, monkeypatch, "reach", snapshot_file, "--from", "spoke1/app", "--to", to, "--port", port)
    assert got == code, out
    assert out.splitlines()[0].startswith("subnet spoke1/app (10.1.1.4) -> ")


def test_cli_json_names_each_hop(snapshot_file, capsys, monkeypatch):
    code, out, _ = run_cli(capsys, monkeypatch, "reach", snapshot_file, "--from", "nva-nic", "--to", "spoke2/db",
                           "--port", "22", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["verdict"] == "allowed"
    assert doc["source"]["nic"].endswith("/networkInterfaces/nva-nic")
    whats = [h["what"] for h in doc["hops"]]
    assert whats[0] == "route" and whats[-1] == "arrive", "no NSG on either side: routes alone decide"


@pytest.mark.parametrize("args,message", [
    (["--from", "nowhere", "--to", "spoke2/db"], "nowhere: not an IP address, NIC, subnet"),
    (["--from", "spoke1/app", "--to", "spoke2/db", "--protocol", "sctp"], "--protocol must be"),
])
def test_cli_bad_endpoint_is_one_line(snapshot_file, capsys, monkeypatch, args, message):
    code, _, err = run_cli(capsys, monkeypatch, "reach", snapshot_file, *args)
    assert code == 2 and message in err and "Traceback" not in err


# -- property: filtering at one flow's two addresses agrees with a brute-force reading of the rules --
PREFIXES = ["10.1.0.0/16", "10.1.1.0/24", "10.1.1.128/25", "10.2.0.0/16", "10.0.0.0/8", "*", "0.0.0.0/0", "10.1.1.4"]
PORTS = ["*", "22", "443", "1000-2000", "0-1023"]
rule_st = st.fixed_dictionaries({
    "priority": st.integers(100, 4096), "access": st.sampled_from(["Allow", "Deny"]),
    "protocol": st.sampled_from(["Tcp", "Udp", "*"]), "source": st.sampled_from(PREFIXES),
    "destination": st.sampled_from(PREFIXES), "ports": st.sampled_from(PORTS),
})


def brute_force(rules: list[dict], source: str, destination: str, protocol: str, port: int) -> str:
    def holds(prefix: str, address: str) -> bool:
        return prefix == "*" or ipaddress.ip_address(address) in ipaddress.ip_network(prefix, strict=False)

    def port_ok(spec: str) -> bool:
        if spec == "*":
            return True
        low, _, high = spec.partition("-")
        return int(low) <= port <= int(high or low)

    for rule in sorted(rules, key=lambda r: r["priority"]):
        if rule["protocol"] in ("*", protocol.capitalize()) and port_ok(rule["ports"]) \
                and holds(rule["source"], source) and holds(rule["destination"], destination):
            return "allowed" if rule["access"] == "Allow" else "denied"
    return "default"


@settings(max_examples=150, deadline=None)
@given(rules=st.lists(rule_st, max_size=6, unique_by=lambda r: r["priority"]),
       source=st.sampled_from(["10.1.1.4", "10.1.1.200", "10.2.3.4", "10.9.0.1"]),
       protocol=st.sampled_from(["tcp", "udp"]), port=st.sampled_from([22, 443, 1500, 3389]))
def test_filtering_at_a_point_agrees_with_brute_force(rules, source, protocol, port):
    named = [{**r, "name": f"r{i}"} for i, r in enumerate(rules)]
    spec = {"subscriptions": {"prod": {}},
            "vnets": {"a": {"subscription": "prod", "address_space": "10.1.0.0/16", "subnets": {"s": {"prefix": "10.1.1.0/24", "nsg": "n"}}}},
            "nsgs": {"n": {"subscription": "prod", "rules": named}}}
    snap = snapshot_from_spec(spec)
    subnet = snap.virtual_networks[0].subnets[0]
    (verdict,) = decide(snap, subnet.id, True, IntervalSet([interval(source)]), protocol, port,
                        local=IntervalSet([interval("10.1.1.4")]))
    expected = brute_force(named, source, "10.1.1.4", protocol, port)
    if expected == "default":  # the default rules: the VNet's own space (and nothing else here) is let in
        expected = "allowed" if ipaddress.ip_address(source) in ipaddress.ip_network("10.1.0.0/16") else "denied"
    assert {"allow": "allowed", "deny": "denied"}[verdict.access] == expected, verdict
