"""`vnet-audit diff OLD NEW`: what changed between two snapshots, by normalized ARM id."""

import copy
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import run_cli as run  # noqa: E402

from auditor.input.synthetic import snapshot_from_spec
from auditor.model.diff import diff

OLD = {
    "subscriptions": {"prod": {}, "dev": {}},
    "vnets": {
        "hub": {"subscription": "prod", "address_space": "10.0.0.0/16", "gateway": {"type": "Vpn"},
                "subnets": {"app": {"prefix": "10.0.1.0/24", "nsg": "nsg-app", "route_table": "rt"}}},
        "spoke": {"subscription": "prod", "address_space": "10.1.0.0/16"},
        "old": {"subscription": "dev", "address_space": "10.9.0.0/16"},
    },
    "peerings": [{"from": "hub", "to": "spoke"}, {"from": "spoke", "to": "hub"}],
    "nsgs": {"nsg-app": {"subscription": "prod", "rules": [
        {"name": "ssh", "priority": 100, "source": "VirtualNetwork", "ports": "22"},
        {"name": "rdp", "priority": 110, "source": "VirtualNetwork", "ports": "3389"}]}},
    "route_tables": {"rt": {"subscription": "prod", "routes": [
        {"name": "default", "prefix": "0.0.0.0/0", "next_hop": "VirtualAppliance", "ip": "10.0.1.4"},
        {"name": "onprem", "prefix": "192.168.0.0/16", "next_hop": "VirtualNetworkGateway"}]}},
}


def changed(spec_edit) -> dict:
    spec = copy.deepcopy(OLD)
    spec_edit(spec)
    return spec


def kinds(old: dict, new: dict) -> set[tuple[str, str, str]]:
    return {(c.change, c.kind, c.id.rsplit("/", 1)[-1]) for c in diff(snapshot_from_spec(old), snapshot_from_spec(new))}


def test_identical_estates_have_no_changes():
    assert diff(snapshot_from_spec(OLD), snapshot_from_spec(copy.deepcopy(OLD))) == []


def test_vnets_added_and_removed_and_address_space_changed():
    def edit(s):
        del s["vnets"]["old"]
        s["vnets"]["new"] = {"subscription": "dev", "address_space": "10.8.0.0/16"}
        s["vnets"]["spoke"]["address_space"] = ["10.1.0.0/16", "10.2.0.0/16"]
    [space] = [c for c in diff(snapshot_from_spec(OLD), snapshot_from_spec(changed(edit)))
               if c.change == "changed"]
    assert space.fields == {"address_prefixes": {"old": ["10.1.0.0/16"], "new": ["10.1.0.0/16", "10.2.0.0/16"]}}
    assert kinds(OLD, changed(edit)) == {("removed", "virtual_network", "old"), ("added", "virtual_network", "new"),
                                         ("changed", "virtual_network", "spoke")}


def test_peerings_added_removed_and_flags_and_state_changed():
    def edit(s):
        s["peerings"] = [
            {"from": "hub", "to": "spoke", "allow_forwarded_traffic": True, "allow_gateway_transit": True,
             "allow_virtual_network_access": False, "sync_level": "RemoteNotInSync"},
            {"from": "spoke", "to": "hub", "use_remote_gateways": True, "state": "Disconnected"},
            {"from": "hub", "to": "old"},
        ]
    changes = {c.id.rsplit("/", 1)[-1]: c for c in diff(snapshot_from_spec(OLD), snapshot_from_spec(changed(edit)))}
    assert changes["hub-to-old"].change == "added"
    assert set(changes["hub-to-spoke"].fields) == {"allow_forwarded_traffic", "allow_gateway_transit",
                                                    "allow_virtual_network_access", "peering_sync_level"}
    assert changes["spoke-to-hub"].fields["peering_state"] == {"old": "Connected", "new": "Disconnected"}
    assert "use_remote_gateways" in changes["spoke-to-hub"].fields
    assert kinds(changed(edit), OLD) >= {("removed", "peering", "hub-to-old")}


def test_nsg_rules_routes_and_gateways():
    def edit(s):
        s["nsgs"]["nsg-app"]["rules"] = [
            {"name": "ssh", "priority": 100, "source": "Internet", "ports": "22"},  # changed
            {"name": "https", "priority": 120, "source": "*", "ports": "443"},  # added; rdp removed
        ]
        s["route_tables"]["rt"]["routes"] = [
            {"name": "default", "prefix": "0.0.0.0/0", "next_hop": "VirtualAppliance", "ip": "10.0.1.5"},
            {"name": "spoke", "prefix": "10.1.0.0/16", "next_hop": "VnetLocal"},
        ]
        del s["vnets"]["hub"]["gateway"]
        s["vnets"]["spoke"]["gateway"] = {"type": "ExpressRoute"}
    found = kinds(OLD, changed(edit))
    assert found >= {("changed", "security_rule", "ssh"), ("added", "security_rule", "https"),
                     ("removed", "security_rule", "rdp"), ("changed", "route", "default"),
                     ("added", "route", "spoke"), ("removed", "route", "onprem"),
                     ("removed", "gateway", "hub-gw"), ("added", "gateway", "spoke-gw")}


def test_subscription_coverage_changed():
    def edit(s):
        s["subscriptions"]["dev"] = {"coverage": "failed", "error": "denied", "error_code": "AuthorizationFailed"}
        s["subscriptions"]["test"] = {}
    new = changed(edit)
    del new["vnets"]["old"]  # a failed subscription's VNets are not read
    changes = diff(snapshot_from_spec(OLD), snapshot_from_spec(new))
    subs = {c.change: c for c in changes if c.kind == "subscription"}
    assert subs["changed"].fields["status"] == {"old": "complete", "new": "failed"}
    assert "added" in subs


def test_ids_compare_case_insensitively():
    new = snapshot_from_spec(OLD)
    for vnet in new.virtual_networks:
        vnet.id = vnet.id.upper()
    assert diff(snapshot_from_spec(OLD), new) == []




def test_command_exit_codes_and_formats(tmp_path, capsys, monkeypatch):
    old, same, new = tmp_path / "old.json", tmp_path / "same.json", tmp_path / "new.json"
    snapshot_from_spec(OLD).write(old)
    snapshot_from_spec(OLD).write(same)
    snapshot_from_spec(changed(lambda s: s["peerings"][0].update(allow_forwarded_traffic=True))).write(new)
    assert run(capsys, monkeypatch, "diff", old, same) == (0, "", "")
    code, out, _ = run(capsys, monkeypatch, "diff", old, new)
    assert code == 1
    assert out.splitlines()[0].startswith("~ peering /subscriptions/")
    assert out.splitlines()[1].strip() == "allow_forwarded_traffic: false -> true"
    code, out, _ = run(capsys, monkeypatch, "diff", old, new, "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["identical"] is False and doc["changes"][0]["kind"] == "peering"
    code, _, err = run(capsys, monkeypatch, "diff", old, tmp_path / "missing.json")
    assert code == 2 and err.count("\n") == 1 and "missing.json" in err
    code, _, err = run(capsys, monkeypatch, "diff", old, new, "--format", "xml")
    assert code == 2 and "--format" in err
