"""Azure's order of traffic filtering for one VNet, subnet or NIC, decided per remote address.

Security admin rules come first (AlwaysAllow ends the evaluation, Deny drops the traffic, Allow hands
it to the NSGs: https://learn.microsoft.com/azure/virtual-network-manager/concept-security-admins).
Inbound traffic then passes the subnet's NSG and then the NIC's NSG, outbound traffic the NIC's NSG
first; both must allow it, and a place without an NSG lets everything through
(https://learn.microsoft.com/azure/virtual-network/network-security-group-how-it-works).

`decide` splits the remote addresses (the source of inbound traffic, the destination of outbound
traffic) into pieces, each with the rule that decides it. A rule that matches the piece but only
some of the target's addresses or only some source ports, or whose application security groups the
snapshot cannot resolve, makes the piece "unknown": the answer depends on what the snapshot
cannot tell, and callers never build a finding on it.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from auditor.analysis.addresses import (
    V4_SPAN,
    V6_SPAN,
    IntervalSet,
    families,
    subtract,
    union,
)
from auditor.analysis.admin_rules import admin_rules_for
from auditor.analysis.nics import asg_space, nic_space, nic_subnet, nsg_of_nic
from auditor.analysis.nsg import (
    AsgSpace,
    Coverage,
    ParsedRule,
    TagSpace,
    normalize_protocol,
    rules_in_order,
    vnet_tag_space,
)
from auditor.model.ids import norm_id

if TYPE_CHECKING:
    from auditor.model.snapshot import Snapshot

LAYERS = ("admin", "subnet", "nic")


@dataclass(frozen=True, slots=True)
class Verdict:
    """What happens to traffic from (inbound) or to (outbound) the addresses of `space`.

    access: "allow", "deny", "unknown", or "pass" when the target is a VNet (or NSG layers were
    left out) and no admin rule ends the evaluation: the NSGs decide.
    rule: the deciding rule: the Deny, the AlwaysAllow, or the last NSG Allow on the path (None when
    no NSG is on it); for "unknown", the rule that could not be judged.
    layer: where `rule` sits: "admin", "subnet" (the subnet's NSG) or "nic" (the NIC's NSG).
    """

    space: IntervalSet
    access: str
    rule: ParsedRule | None = None
    layer: str = ""


@dataclass(frozen=True, slots=True)
class Target:
    kind: str  # vnet | subnet | nic
    vnet_key: str
    subnet_key: str | None
    nic_key: str | None
    space: IntervalSet


def target_of(snapshot: Snapshot, resource_id: str) -> Target | None:
    """The VNet, subnet or NIC with that id, as a target of filtering; None if the snapshot lacks it."""
    index, key = snapshot.index, norm_id(resource_id)
    if key in index.vnets:
        return Target("vnet", key, None, None, index.address_space(key))
    if key in index.subnets:
        vnet_key = index.vnet_of_subnet[key].key
        space = IntervalSet.of(index.subnets[key].address_prefixes) or index.address_space(vnet_key)
        return Target("subnet", vnet_key, key, None, space)  # a subnet listed without prefixes: its VNet
    nic = index.nics.get(key)
    subnet_key = nic_subnet(nic) if nic is not None else None
    if subnet_key is None or subnet_key not in index.subnets:
        return None
    return Target("nic", index.vnet_of_subnet[subnet_key].key, subnet_key, key, nic_space(nic))


def _layers(snapshot: Snapshot, target: Target, inbound: bool, wanted: tuple[str, ...]) -> list[tuple]:
    """(layer, rules in order) for the steps wanted, in Azure's order for the direction."""
    index = snapshot.index
    out: list[tuple[str, list]] = []
    if "admin" in wanted:
        applied = admin_rules_for(snapshot, target.vnet_key, target.subnet_key, inbound)
        out.append(("admin", [a.parsed for a in applied]))
    nsgs = []
    if target.subnet_key and "subnet" in wanted and (nsg := index.nsg_of_subnet(target.subnet_key)):
        nsgs.append(("subnet", nsg))
    if target.nic_key and "nic" in wanted and (nsg := nsg_of_nic(snapshot, index.nics[target.nic_key])):
        nsgs.append(("nic", nsg))
    if not inbound:
        nsgs.reverse()
    out += [(layer, rules_in_order(snapshot, nsg, inbound)) for layer, nsg in nsgs]
    return out


def decide(snapshot: Snapshot, target_id: str, inbound: bool, remote: IntervalSet, protocol: str, port: int,
           layers: tuple[str, ...] = LAYERS, local: IntervalSet | None = None) -> list[Verdict]:
    """Pieces of `remote`, sorted by address, each with its verdict for traffic of `protocol`
    ("tcp", "udp", "icmp", ...) to destination `port` from any source port, between the remote
    addresses and every address of the target (a VNet, subnet or NIC id) of the same family:
    IPv4 never meets IPv6, and remote addresses of a family the target has none of are left out.
    `layers` picks the steps walked, in Azure's order: "admin", "subnet", "nic". `local` narrows the
    target to some of its addresses (one flow's end: `vnet-audit reach`). An unknown target gives []."""
    target = target_of(snapshot, target_id)
    if target is None or not remote:
        return []
    steps = _layers(snapshot, target, inbound, layers)
    final = "allow" if target.kind != "vnet" and {"subnet", "nic"} & set(layers) else "pass"
    tag, asgs = partial(vnet_tag_space, snapshot, target.vnet_key), asg_space(snapshot, target.vnet_key)
    done: list[Verdict] = []
    space = target.space if local is None else local
    for part, own in zip(families(remote), families(space)):
        if not part or not own:
            continue
        walk = _Walk(normalize_protocol(protocol), port, inbound, own, tag, asgs)
        open_ = [(part, None, "")]  # (space, last allowing rule, its layer) still being filtered
        for layer, rules in steps:
            after = []
            for space, last, last_layer in open_:
                passed, verdicts = walk.layer(layer, rules, space)
                done += verdicts
                after += [(piece, rule or last, layer if rule else last_layer) for piece, rule in passed]
            open_ = after
        done += [Verdict(space, final, last, last_layer) for space, last, last_layer in open_ if space]
    return sorted(done, key=lambda v: v.space.starts[0])


EVERY_ADDRESS = IntervalSet([V4_SPAN, V6_SPAN])


@dataclass(frozen=True, slots=True)
class Table:
    """`decide` over every remote address, for one local address: the verdict at any remote address by
    bisection. Pointwise the same as `decide` for that one address (first match is decided per address)."""

    starts: list[int]
    ends: list[int]
    verdicts: list[Verdict]

    def at(self, address: int) -> Verdict | None:
        """The verdict for traffic from (inbound) or to (outbound) the address; None when no step applies."""
        i = bisect.bisect_right(self.starts, address) - 1
        return self.verdicts[i] if i >= 0 and address <= self.ends[i] else None


def verdict_at(snapshot: Snapshot, target_id: str, inbound: bool, protocol: str, port: int, local: int,
               remote: int) -> Verdict | None:
    """The verdict for one flow between `remote` and the target's address `local` (None: no step applies):
    from the target's decision table when one was built (flows sharing an end), else for that flow alone."""
    table = snapshot.index.memo("filtering.tables").get((target_id, inbound, protocol, port, local))
    if table is not None:
        return table.at(remote)
    verdicts = decide(snapshot, target_id, inbound, IntervalSet([(remote, remote)]), protocol, port,
                      local=IntervalSet([(local, local)]))
    return verdicts[0] if verdicts else None


def decision_table(snapshot: Snapshot, target_id: str, inbound: bool, protocol: str, port: int,
                   local: int) -> Table:
    """The verdicts of traffic at one address of the target (a subnet or NIC), memoized per snapshot:
    flows that share an end (`reach`, intents over many pairs) decide the filters there once."""
    memo = snapshot.index.memo("filtering.tables")
    key = (target_id, inbound, protocol, port, local)
    table = memo.get(key)
    if table is None:
        pieces = sorted((start, end, v) for v in decide(snapshot, target_id, inbound, EVERY_ADDRESS, protocol, port,
                                                        local=IntervalSet([(local, local)]))
                        for start, end in v.space)
        memo[key] = table = Table([p[0] for p in pieces], [p[1] for p in pieces], [p[2] for p in pieces])
    return table


@dataclass(frozen=True, slots=True)
class _Walk:
    """One query (protocol, port, direction, target addresses of one family) walked through rule lists."""

    protocol: str
    port: int
    inbound: bool
    local: IntervalSet
    tag: TagSpace
    asgs: AsgSpace

    def layer(self, layer: str, rules: list[ParsedRule], space: IntervalSet):
        """(pieces passed on, each with the Allow that passed it or None) and the final verdicts."""
        undecided, passed, verdicts = space, [], []
        for pr in rules:
            if not undecided:
                break
            query = pr.matches_query(self.protocol, self.port)
            if query == Coverage.NONE:
                continue
            remote_side, local_side = (
                (pr.source, pr.destination) if self.inbound else (pr.destination, pr.source))
            local = local_side.coverage(self.local, self.tag, target_in_tag=True, asg_space=self.asgs)
            if local == Coverage.NONE:
                continue
            sure = _matched(remote_side, undecided, self.tag, self.asgs)
            maybe = undecided if remote_side.asgs_unknown(self.asgs) else sure
            if not maybe:
                continue
            undecided = subtract(undecided, maybe)
            if local != Coverage.FULL or query != Coverage.FULL:
                verdicts.append(Verdict(maybe, "unknown", pr, layer))
                continue
            if unsure := subtract(maybe, sure):
                verdicts.append(Verdict(unsure, "unknown", pr, layer))
            if not sure:
                continue
            if pr.access == "deny":
                verdicts.append(Verdict(sure, "deny", pr, layer))
            elif pr.access == "alwaysallow":
                verdicts.append(Verdict(sure, "allow", pr, layer))
            else:  # an admin Allow hands over to the NSGs; an NSG Allow to the next NSG, if any
                passed.append((sure, pr if layer != "admin" else None))
        if undecided:
            passed.append((undecided, None))
        return passed, verdicts


def _matched(side, undecided: IntervalSet, tag, asgs) -> IntervalSet:
    """The undecided addresses the side surely matches."""
    if side.any:
        return undecided
    space = side.space(tag)
    if side.asgs:
        space = union([space, side.asg_members(asgs)])
    return space.intersection(undecided)
