"""Properties over generated input: whatever `import` writes loads and evaluates again, and a
damaged findings.json given to `report` is one line and exit 2, or a report; never a traceback."""

import contextlib
import io
import json
import math
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor import cli
from auditor.engine import discover_rules, evaluate
from auditor.engine.waivers import apply_waivers, load_waivers
from auditor.errors import InputError
from auditor.input.estates import build_snapshot, realistic_spec
from auditor.input.importer import load_snapshot
from auditor.input.synthetic import build_estate
from auditor.model.snapshot import CollectionError, CoverageStatus
from reports.json_report import render

RULES = discover_rules()
BOUNDED = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- import output always loads in evaluate -----------------------------------------------------

# Spellings a value may take, valid and not, as exports and hand edits hold them. An estate draws
# from the invalid ones only now and then, so that most estates load and the rules run on them.
GOOD_PREFIXES = st.one_of(
    st.builds("10.{}.{}.0/{}".format, st.integers(0, 255), st.integers(0, 255),
              st.sampled_from([16, 20, 24, 26, 28])),
    st.sampled_from(["10.0.0.0/8", "192.168.0.0/16", "10.1.2.3/16", "fd00:1::/48", "2001:db8::/32", "0.0.0.0/0"]),
)
BAD_PREFIXES = st.sampled_from(["10.0.0.0/33", "banana", "", "300.1.0.0/16", " 10.0.0.0/16", "10.0.0", "fe80::/129"])
TAGS = st.sampled_from(["*", "Any", "VirtualNetwork", "Internet", "AzureLoadBalancer", "Storage.WestEurope"])
BAD_TAGS = st.sampled_from(["a b", "10.0.0.0/8,10.1.0.0/16", "**"])
PORTS = st.sampled_from(["*", "22", "443", "1024-65535", "80,443", "0", "65535", ""])
BAD_PORTS = st.sampled_from(["70000", "2000-1000", "http", "-1"])
PRIORITIES = st.integers(100, 4096) | st.just(100.0)
BAD_PRIORITIES = st.sampled_from([0, 99, 4097, 65000, 100.5, "high", math.inf])
NEXT_HOPS = st.sampled_from([None, "10.0.1.4", "fd00::4", ""])
BAD_NEXT_HOPS = st.sampled_from(["10.0.1.256", "firewall", "10.0.1.0/24"])
ASNS = st.sampled_from([65515, 64512, 0, 65515.0, "65515"])
BAD_ASNS = st.sampled_from([-1, 4294967296])


@st.composite
def estates(draw) -> dict:
    """A small topology description (auditor.input.synthetic) with values drawn from the above."""
    dirty = draw(st.integers(0, 3)) == 0

    def value(good, bad):
        return draw(good | bad) if dirty and draw(st.integers(0, 4)) == 0 else draw(good)

    subscriptions = {"prod": {}, "shared": {}}
    names = [f"vnet{i}" for i in range(draw(st.integers(1, 4)))]
    nsgs = {f"nsg{i}": {"subscription": draw(st.sampled_from(list(subscriptions))), "rules": [
        {"name": f"r{j}", "priority": value(PRIORITIES, BAD_PRIORITIES),
         "source": [value(GOOD_PREFIXES | TAGS, BAD_PREFIXES | BAD_TAGS) for _ in range(draw(st.integers(1, 2)))],
         "destination": value(GOOD_PREFIXES | TAGS, BAD_PREFIXES | BAD_TAGS),
         "ports": [value(PORTS, BAD_PORTS) for _ in range(draw(st.integers(1, 2)))],
         "source_ports": draw(st.none()) if draw(st.booleans()) else value(PORTS, BAD_PORTS),
         "access": draw(st.sampled_from(["Allow", "Deny"])),
         "direction": draw(st.sampled_from(["Inbound", "Outbound"])),
         "protocol": draw(st.sampled_from(["*", "Tcp", "Udp"]))}
        for j in range(draw(st.integers(0, 3)))]} for i in range(draw(st.integers(0, 2)))}
    tables = {f"rt{i}": {"subscription": "prod", "routes": [
        {"name": f"route{j}", "prefix": value(GOOD_PREFIXES | st.just("AzureCloud"), BAD_PREFIXES),
         "next_hop": draw(st.sampled_from(["VirtualAppliance", "Internet", "VnetLocal", "None"])),
         "ip": value(NEXT_HOPS, BAD_NEXT_HOPS)}
        for j in range(draw(st.integers(0, 2)))]} for i in range(draw(st.integers(0, 2)))}
    vnets = {}
    for name in names:
        subnets = {f"s{j}": {"prefix": value(GOOD_PREFIXES, BAD_PREFIXES),
                             "nsg": draw(st.none() | st.sampled_from(sorted(nsgs) or [None])),
                             "route_table": draw(st.none() | st.sampled_from(sorted(tables) or [None]))}
                   for j in range(draw(st.integers(0, 2)))}
        vnets[name] = {"subscription": draw(st.sampled_from(list(subscriptions))), "subnets": subnets,
                       "address_space": [value(GOOD_PREFIXES, BAD_PREFIXES) for _ in range(draw(st.integers(1, 2)))]}
        if draw(st.booleans()):
            vnets[name]["gateway"] = {"type": "Vpn", "asn": value(ASNS, BAD_ASNS)}
    pairs = draw(st.lists(st.tuples(st.sampled_from(names), st.sampled_from(names)), max_size=4, unique=True))
    flags = ("allow_gateway_transit", "use_remote_gateways", "allow_forwarded_traffic")
    peerings = [{"from": a, "to": b, **{flag: draw(st.booleans()) for flag in flags}} for a, b in pairs if a != b]
    local = {"onprem": {"subscription": "prod", "prefixes": [value(GOOD_PREFIXES, BAD_PREFIXES)
                                                             for _ in range(draw(st.integers(0, 2)))]}}
    return {"subscriptions": subscriptions, "vnets": vnets, "peerings": peerings, "nsgs": nsgs,
            "route_tables": tables, "local_gateways": local if draw(st.booleans()) else {}}


@BOUNDED
@given(spec=estates())
def test_what_import_writes_loads_and_evaluates(spec):
    resources = build_estate(spec).all_resources()
    with tempfile.TemporaryDirectory() as tmp:
        exports = Path(tmp) / "exports.json"
        exports.write_text(json.dumps(resources))
        try:
            imported = load_snapshot([exports])
        except InputError as exc:
            assert "\n" not in str(exc) and str(exports) in str(exc)
            return
        written = Path(tmp) / "snapshot.json"
        imported.write(written)
        again = load_snapshot([written])
    result = evaluate(again, RULES)
    assert result.errors == [], result.errors[0].detail
    assert result.findings == evaluate(imported, RULES).findings


# -- a damaged findings.json --------------------------------------------------------------------

def _findings_document() -> dict:
    """Every part a findings.json has: incomplete coverage, waivers applied, a rule error."""
    snapshot = build_snapshot(realistic_spec())
    snapshot.subscriptions[0].status = CoverageStatus.failed
    snapshot.subscriptions[0].errors = [
        CollectionError(scope="virtualNetworks", code="AuthorizationFailed", message="no")]
    result = evaluate(snapshot, RULES)
    with tempfile.TemporaryDirectory() as tmp:
        waivers = Path(tmp) / "waivers.json"
        waivers.write_text(json.dumps({"waivers": [
            {"rule": result.findings[0].rule_id, "resource": "*", "justification": "j", "expires": "2999-01-01",
             "owner": "o"},
            {"rule": "NOPE*", "resource": "*", "justification": "j", "expires": "2000-01-01", "owner": "o"}]}))
        apply_waivers(result, load_waivers(waivers))
    doc = json.loads(render(result))
    doc["errors"] = [{"rule_id": "ZZZ999", "error": "KeyError: 'boom'"}]
    return doc


FINDINGS = _findings_document()
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def _paths(doc, prefix=()) -> list[tuple]:
    """Every key and index in a document, outermost first."""
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    found = []
    for key, value in items:
        found.append((*prefix, key))
        found += _paths(value, (*prefix, key))
    return found


def _parent(doc, path: tuple):
    for key in path[:-1]:
        doc = doc[key]
    return doc


@st.composite
def damaged(draw) -> bytes:
    doc = json.loads(json.dumps(FINDINGS))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _parent(doc, path)
        if draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(JSON_VALUES)
    text = json.dumps(doc).encode()
    how = draw(st.sampled_from(["as is", "as is", "truncated", "not an object"]))
    if how == "truncated":
        return text[:draw(st.integers(0, len(text) - 1))]
    if how == "not an object":
        return json.dumps(draw(JSON_VALUES)).encode()
    return text


def _report(*args) -> tuple[int, str]:
    """`vnet-audit report` in this process: (exit code, stderr). Anything but an exit propagates."""
    err = io.StringIO()
    argv, sys.argv = sys.argv, ["vnet-audit", "report", *map(str, args)]
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            cli.main()
        code = 0
    except SystemExit as done:
        code = done.code or 0
    finally:
        sys.argv = argv
    return code, err.getvalue()


def test_an_undamaged_findings_file_reports():
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "findings.json"
        path.write_text(json.dumps(FINDINGS))
        code, err = _report(path, "--format", "html,csv,json,sarif,md", "--out", Path(tmp) / "out")
        assert code == 4, err  # the rule error
        assert json.loads((Path(tmp) / "out" / "findings.json").read_text())["findings"] == FINDINGS["findings"]


@BOUNDED
@given(data=damaged())
def test_a_damaged_findings_file_is_one_line_or_a_report(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "findings.json"
        path.write_bytes(data)
        code, err = _report(path, "--format", "html,csv,json,sarif,md", "--out", Path(tmp) / "out")
    lines = err.strip().splitlines()
    if code == 2:
        assert len(lines) == 1 and lines[0].startswith("vnet-audit: error: ") and str(path) in lines[0], err
    else:
        assert code in (0, 1, 3, 4) and all(line.startswith(("vnet-audit: ", "wrote ")) for line in lines), err
