"""`vnet-audit reach`: one flow traced hop by hop through the estate, from the snapshot alone.

At the source the flow meets its outbound filters; then, at each subnet, the effective route for the
destination (`effective_routes`) says where it goes: VnetLocal, a peering (the receiving side must
allow forwarded traffic when an appliance forwarded it), a virtual appliance (which must sit in a
subnet the flow can reach), a gateway, a Virtual WAN hub, an AVNM connected group, the Internet or
None. At the destination it meets the inbound filters (`filtering.verdict_at`, at the flow's two addresses).
Loops are detected. The
verdict is allowed, denied (by which rule or route), or unknown (naming what the input lacks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from auditor.analysis.addresses import BlockIndex, IntervalSet, interval, subtract
from auditor.analysis.effective_routes import EffectiveRoute, routes_of
from auditor.analysis.endpoints import (
    Endpoint,
    family_of,
    nic_with,
    subnets_holding,
)
from auditor.analysis.filtering import verdict_at
from auditor.analysis.gateways import gateway_vnets_used
from auditor.analysis.nsg import NON_PUBLIC
from auditor.model.ids import name_of, norm_id, parent_id

if TYPE_CHECKING:
    from auditor.model.snapshot import NetworkInterface, Snapshot

ALLOWED, DENIED, UNKNOWN = "allowed", "denied", "unknown"
MAX_HOPS = 32


@dataclass
class Hop:
    at: str
    what: str  # route | filter | forward | arrive | leave
    text: str
    decided_by: str | None = None
    vnet_key: str | None = None  # the VNet the hop happens in; None outside the estate


@dataclass
class Trace:
    source: Endpoint
    destination: Endpoint
    protocol: str
    port: int
    verdict: str = UNKNOWN
    reason: str = ""
    hops: list[Hop] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    not_in_input: list[str] = field(default_factory=list)  # what could change the verdict if it were known
    decided_by: str | None = None  # the id of the rule, route, peering, NSG or gateway that decided
    decided_at: str = ""  # filter | route | peering | appliance | gateway | edge


# -- endpoints ---------------------------------------------------------------------------------
def trace(snapshot: Snapshot, source: Endpoint, destination: Endpoint, protocol: str = "tcp", port: int = 443) -> Trace:
    source, destination = _same_family(source, destination)
    result = Trace(source, destination, protocol.lower(), port)
    if family_of(source.address) != family_of(destination.address):
        return _finish(result, DENIED, f"{source.address} and {destination.address} are of different families: "
                                       "IPv4 and IPv6 never meet")
    flow = Flow(source.address, destination.address, result.protocol, port)
    if source.vnet_key is None:
        return _from_outside(snapshot, result, flow)
    if not _filtered(snapshot, result, flow, source.vnet_key, source.subnet_key, source.nic, inbound=False):
        return result
    _walk(snapshot, result, flow, source.subnet_key)
    return result


def _from_outside(snapshot: Snapshot, result: Trace, flow: Flow) -> Trace:
    """From the Internet (or on-premises) straight to the destination: only through a public IP the input
    shows on the destination's NIC; a load balancer, application gateway or firewall in front is not read."""
    destination = result.destination
    if destination.vnet_key is None:
        return _finish(result, UNKNOWN, "neither end is in the input")
    public = _public_nic(snapshot, destination)
    if public is None:
        return _finish(result, UNKNOWN, f"no public IP in the input leads to {destination.label} (load balancers, "
                                        "application gateways and firewalls in front are not read)")
    if public is not destination.nic:
        nic, address = public
        destination = result.destination = Endpoint(f"NIC {nic.name}", address, destination.vnet_key,
                                                    destination.subnet_key, nic=nic)
        flow = Flow(flow.source, address, flow.protocol, flow.port)
    result.hops.append(Hop(destination.label, "arrive", f"from {result.source.label} ({flow.source}) at its public IP",
                           vnet_key=destination.vnet_key))
    if _filtered(snapshot, result, flow, destination.vnet_key, destination.subnet_key, destination.nic, inbound=True):
        _finish(result, ALLOWED, f"{destination.label} admits it", result.decided_by, result.decided_at)
    return result


@dataclass(frozen=True)
class Flow:
    source: str  # an address
    destination: str
    protocol: str  # tcp | udp | icmp | any
    port: int


_VERDICTS = {"allow": ALLOWED, "deny": DENIED, "unknown": UNKNOWN, "pass": ALLOWED}
_LAYERS = {"admin": "admin rule", "subnet": "subnet NSG", "nic": "NIC NSG"}


def _filtered(snapshot: Snapshot, result: Trace, flow: Flow, vnet_key: str, subnet_key: str | None,
              nic: NetworkInterface | None, inbound: bool) -> bool:
    """Record the filters at one end (admin rules, subnet NSG, NIC NSG in Azure's order); True when the
    flow passes them."""
    here, there = (interval(a) for a in ((flow.destination, flow.source) if inbound else (flow.source, flow.destination)))
    target = nic.id if nic is not None else subnet_key
    verdict = verdict_at(snapshot, target, inbound, flow.protocol, flow.port, here[0], there[0]) \
        if target and here and there else None
    where = snapshot.index.vnets[vnet_key].name
    direction = "inbound" if inbound else "outbound"
    if verdict is None:  # no filter on the way (or a family the target does not have)
        return True
    access = _VERDICTS[verdict.access]
    rule = verdict.rule
    if rule is None:  # no NSG on the way
        return True
    if verdict.layer == "admin":
        label = f"admin rule {rule.label()}, if its configuration is deployed"
    else:
        label = f"{_LAYERS.get(verdict.layer, verdict.layer)} {name_of(parent_id(rule.rule.id))}: {rule.label()}"
    word = {ALLOWED: "allows", DENIED: "denies", UNKNOWN: "may decide (not known from the input)"}[access]
    result.hops.append(Hop(where, "filter", f"{direction}: {label} {word} it", rule.rule.id, vnet_key))
    if access != ALLOWED:
        why = "" if access == DENIED else (": the input cannot tell whether it matches (an application security group "
                                           "whose members are not in the input, a service tag, or source ports)")
        _finish(result, access, label + why, rule.rule.id, "filter")
        return False
    result.decided_by, result.decided_at = rule.rule.id, "filter"
    return True


def _same_family(source: Endpoint, destination: Endpoint) -> tuple[Endpoint, Endpoint]:
    """A NIC or subnet end given in one family takes its address of the other end's family, if it has one."""
    from dataclasses import replace

    def in_family(end: Endpoint, family: int) -> Endpoint:
        if family_of(end.address) == family:
            return end
        if end.nic is not None:
            for config in end.nic.ip_configurations:
                address = (config.private_ip_address or "").split("/")[0]
                if address and family_of(address) == family:
                    return replace(end, address=address, subnet_key=norm_id(config.subnet_id) or end.subnet_key)
        return end

    family = family_of(source.address)
    destination = in_family(destination, family)
    return in_family(source, family_of(destination.address)), destination


def _public_nic(snapshot: Snapshot, end: Endpoint):
    """The end's NIC when it has a public IP (returned as is); else the first NIC of its subnet with one, as
    (nic, private address); None when the input shows none."""
    def public_address(nic) -> str | None:
        return next(((c.private_ip_address or "").split("/")[0] for c in nic.ip_configurations
                     if c.public_ip_address_id and c.private_ip_address), None)

    if end.nic is not None:
        return end.nic if public_address(end.nic) else None
    for nic, _ in snapshot.index.nic_configs_in(end.subnet_key or ""):
        if (address := public_address(nic)) is not None:
            return nic, address
    return None


def _finish(result: Trace, verdict: str, reason: str, by: str | None = None, at: str = "") -> Trace:
    result.verdict, result.reason, result.decided_by, result.decided_at = verdict, reason, by, at
    return result


def _walk(snapshot: Snapshot, result: Trace, flow: Flow, subnet_key: str) -> None:
    index = snapshot.index
    forwarded = False
    seen: set[tuple[str, bool]] = set()
    for _ in range(MAX_HOPS):
        vnet = index.vnet_of_subnet[subnet_key]
        if (subnet_key, forwarded) in seen:
            _finish(result, DENIED, f"routing loop: the flow comes back to {vnet.name}", vnet.id, "route")
            return
        seen.add((subnet_key, forwarded))
        table = routes_of(snapshot, subnet_key)
        route = table.lookup(flow.destination)
        at = f"{vnet.name}/{index.subnets[subnet_key].name}"
        if route is None:
            _finish(result, DENIED, f"no route in {at} for {flow.destination}", vnet.id, "route")
            return
        result.hops.append(Hop(at, "route", _route_text(route), route.via, vnet.key))
        result.not_in_input += [u for u in table.unknown if u not in result.not_in_input]
        step = _next(snapshot, result, flow, vnet.key, route, forwarded)
        if step is None:
            return
        subnet_key, forwarded = step
    _finish(result, UNKNOWN, f"more than {MAX_HOPS} hops")


def _route_text(route: EffectiveRoute) -> str:
    target = f" {route.next_hop_ip}" if route.next_hop_ip else ""
    return f"{route.prefix} -> {route.next_hop_type}{target} ({route.source} route)"


def _next(snapshot: Snapshot, result: Trace, flow: Flow, vnet_key: str, route: EffectiveRoute,
          forwarded: bool) -> tuple[str, bool] | None:
    """Where the route sends the flow: (subnet, forwarded) to go on from, or None when the walk ends."""
    hop = route.next_hop_type.lower()
    index = snapshot.index
    vnet = index.vnets[vnet_key]
    if hop == "vnetlocal":
        return _arrive(snapshot, result, flow, vnet_key)
    if hop in ("vnetpeering", "vnetglobalpeering"):
        peering = index.peerings.get(norm_id(route.via))
        remote = index.remote_vnet(peering) if peering else None
        if remote is None:
            _finish(result, UNKNOWN, f"peering {peering.name if peering else route.via} leads to a VNet not in the input")
            return None
        back = index.reverse_peering(peering)
        if forwarded and back is not None and not back.allow_forwarded_traffic:
            _finish(result, DENIED, f"peering {back.name} of {remote.name} refuses forwarded traffic (allowForwardedTraffic off)",
                    back.id, "peering")
            return None
        result.hops.append(Hop(vnet.name, "forward", f"over peering {peering.name} to {remote.name}", peering.id,
                               vnet.key))
        return _arrive(snapshot, result, flow, remote.key)
    if hop in ("virtualhub", "connectedgroup"):
        target = _vnet_holding(snapshot, flow.destination)
        if target is None:
            _finish(result, UNKNOWN, f"{route.next_hop_type} route: the destination's VNet is not in the input")
            return None
        how = "through Virtual WAN hub" if hop == "virtualhub" else "in AVNM connected group"
        result.hops.append(Hop(vnet.name, "forward", f"{how} {route.via.rsplit('/', 1)[-1] if route.via else ''} to {index.vnets[target].name}",
                               route.via, vnet.key))
        if hop == "connectedgroup":
            result.assumptions.append("the connectivity configuration is deployed in these regions")
        return _arrive(snapshot, result, flow, target)
    if hop == "virtualappliance":
        return _appliance(snapshot, result, flow, vnet_key, route)
    if hop == "virtualnetworkgateway":
        return _gateway(snapshot, result, flow, vnet_key, route)
    if hop == "internet":
        if _is_public(flow.destination):
            _finish(result, ALLOWED, f"leaves {vnet.name} to the Internet", route.via, "edge")
        else:
            _finish(result, DENIED, f"{flow.destination} is private but the route sends it to the Internet, where it is dropped",
                    route.via or vnet.id, "route")
        return None
    _finish(result, DENIED, f"route {route.prefix} in {vnet.name} has next hop None: Azure drops the traffic"
                            f"{_unconnected_peering(snapshot, vnet, flow.destination)}",
            route.via if route.source == "User" else vnet.id, "route")
    return None


def _unconnected_peering(snapshot: Snapshot, vnet, destination: str) -> str:
    """`; peering X is Initiated` when a peering towards the destination's VNet exists but carries nothing."""
    target = _vnet_holding(snapshot, destination)
    for peering in vnet.peerings:
        if target is not None and norm_id(peering.remote_virtual_network_id) == target and peering.state != "connected":
            return f" (peering {peering.name} to {snapshot.index.vnets[target].name} is {peering.peering_state or 'not Connected'})"
    return ""


def _arrive(snapshot: Snapshot, result: Trace, flow: Flow, vnet_key: str) -> None:
    holders = subnets_holding(snapshot, flow.destination, vnet_key)
    vnet = snapshot.index.vnets[vnet_key]
    if not holders:
        _finish(result, DENIED, f"{flow.destination} is in no subnet of {vnet.name}", vnet.id, "route")
        return
    subnet = snapshot.index.subnets[holders[0]]
    wanted = result.destination.subnet_key
    if wanted is not None and holders[0] != wanted:  # overlapping ranges: the route leads elsewhere
        _finish(result, DENIED, f"{flow.destination} is routed to {vnet.name}/{subnet.name}, not to "
                                f"{result.destination.label}: the two address ranges overlap", vnet.id, "route")
        return
    nic = nic_with(snapshot, flow.destination, holders[0])
    carrier = next((h.decided_by for h in reversed(result.hops) if h.what in ("forward", "route") and h.decided_by), None)
    result.decided_by, result.decided_at = carrier or vnet.id, "route"  # unless a filter at this end admits it
    result.hops.append(Hop(f"{vnet.name}/{subnet.name}", "arrive", f"at {flow.destination}", vnet_key=vnet_key))
    if _filtered(snapshot, result, flow, vnet_key, holders[0], nic, inbound=True):
        _finish(result, ALLOWED, f"{vnet.name}/{subnet.name} admits it", result.decided_by, result.decided_at)
    return


def _vnet_holding(snapshot: Snapshot, address: str) -> str | None:
    holders = subnets_holding(snapshot, address)
    return snapshot.index.vnet_of_subnet[holders[0]].key if len(holders) == 1 else None


def appliance_at(snapshot: Snapshot, vnet_key: str, ip: str) -> tuple[str, NetworkInterface | None] | None:
    """(the subnet, and the NIC if the input has it) of a virtual appliance next hop used in a VNet: in that
    VNet or a peered one; None when no such subnet holds the address (Azure drops the traffic)."""
    reachable = [vnet_key, *sorted(snapshot.index.peered_vnets(vnet_key))]
    holders = [k for v in reachable for k in subnets_holding(snapshot, ip, v)]
    return (holders[0], nic_with(snapshot, ip, holders[0])) if holders else None


def gateways_used(snapshot: Snapshot, vnet_key: str) -> list:
    """The gateways a VNet's traffic leaves by: its own, or the remote one it uses through peering."""
    return [g for used in gateway_vnets_used(snapshot, vnet_key) for g in snapshot.index.gateways_of(used)]


def expressroute_only(gateways: list) -> bool:
    """No gateway but ExpressRoute ones: none can be the next hop of a user-defined route."""
    return all((g.gateway_type or "").lower() == "expressroute" for g in gateways)


def _appliance(snapshot: Snapshot, result: Trace, flow: Flow, vnet_key: str, route: EffectiveRoute) -> tuple[str, bool] | None:
    index = snapshot.index
    ip = route.next_hop_ip or ""
    found = appliance_at(snapshot, vnet_key, ip)
    vnet = index.vnets[vnet_key]
    if found is None:
        _finish(result, DENIED, f"next hop {ip} of route {route.prefix} is in no subnet of {vnet.name} or its peers: "
                                "Azure drops the traffic", route.via, "appliance")
        return None
    subnet_key, nic = found
    appliance_vnet = index.vnet_of_subnet[subnet_key]
    if nic is not None and not nic.enable_ip_forwarding:
        _finish(result, DENIED, f"appliance NIC {nic.name} ({ip}) has IP forwarding off: it drops traffic not addressed to it",
                nic.id, "appliance")
        return None
    to_appliance = Flow(flow.source, ip, flow.protocol, flow.port)
    result.hops.append(Hop(appliance_vnet.name, "forward", f"to appliance {ip}{f' (NIC {nic.name})' if nic else ''}", route.via,
                           appliance_vnet.key))
    if not _filtered(snapshot, result, to_appliance, appliance_vnet.key, subnet_key, nic, inbound=True):
        return None
    result.assumptions.append(f"the appliance at {ip} forwards the flow (its own rules are not in the input)")
    return subnet_key, True


def _gateway(snapshot: Snapshot, result: Trace, flow: Flow, vnet_key: str, route: EffectiveRoute) -> None:
    index = snapshot.index
    vnet = index.vnets[vnet_key]
    gateways = gateways_used(snapshot, vnet_key)
    if not gateways:
        _finish(result, DENIED, f"route {route.prefix} points to a virtual network gateway, but {vnet.name} has none and uses none",
                route.via, "gateway")
        return None
    if route.source == "User" and expressroute_only(gateways):
        _finish(result, DENIED, f"route {route.prefix} points to gateway {gateways[0].name}, an ExpressRoute gateway, "
                                "which cannot be the next hop of a user-defined route", route.via, "gateway")
        return None
    target = _vnet_holding(snapshot, flow.destination)
    if target is not None and target != vnet_key:
        result.hops.append(Hop(vnet.name, "forward", f"through gateway {gateways[0].name} to {index.vnets[target].name}", gateways[0].id,
                               vnet.key))
        return _arrive(snapshot, result, flow, target)
    result.hops.append(Hop(vnet.name, "leave", f"through gateway {gateways[0].name}", gateways[0].id, vnet.key))
    _finish(result, ALLOWED, f"leaves through gateway {gateways[0].name} towards on-premises (beyond it is not in the input)",
            gateways[0].id, "gateway")
    return None


def _is_public(address: str) -> bool:
    span = interval(address)
    return span is not None and not NON_PUBLIC.contains_point(span[0])


def vnets_on_path(result: Trace) -> list[str]:
    """Keys of the VNets the flow passed through, in order: its source VNet, then each VNet a hop moved it to."""
    path: list[str] = []
    for key in [result.source.vnet_key, *(h.vnet_key for h in result.hops)]:
        if key is not None and (not path or path[-1] != key):
            path.append(key)
    return path


def assumes_transitivity(snapshot: Snapshot, result: Trace) -> list[str] | None:
    """The peering chain (VNet keys, two or more hops) a flow dropped for lack of a route would need to be
    transitive; None when the drop has another cause or no such chain links the two VNets."""
    from auditor.analysis.routing import peering_path

    src, dst = result.source.vnet_key, result.destination.vnet_key
    if result.verdict != DENIED or result.decided_at != "route" or src is None or dst is None or src == dst:
        return None
    path = peering_path(snapshot, src, dst)
    return path if path is not None and len(path) > 2 else None


def routable_vnets(snapshot: Snapshot, subnet_key: str) -> set[str]:
    """Keys of the VNets a flow from this subnet could end in by routing alone: a superset of where any flow
    can be allowed (filters only take away). Its own VNet, and for each effective route that carries traffic
    on, where it leads: peers, hub- and group-connected VNets, VNets behind gateways, VNets on public
    addresses the Internet route sends to the edge, and, through an appliance, wherever the appliance's
    subnet routes. Every other VNet's subnets are dropped by routing (a None route, or the Internet route
    for private space), so pair-by-pair checks trace only these."""
    memo = snapshot.index.memo("reach.routable")
    if subnet_key in memo:
        return memo[subnet_key]
    memo[subnet_key] = found = set()  # entered first: appliances routing back here end the recursion
    index = snapshot.index
    vnet = index.vnet_of_subnet[subnet_key]
    found.add(vnet.key)
    for route in routes_of(snapshot, subnet_key).routes:
        hop = route.next_hop_type.lower()
        if hop in ("none", "vnetlocal"):
            continue
        if hop == "virtualappliance":
            for holder in subnets_holding(snapshot, route.next_hop_ip or ""):
                found |= routable_vnets(snapshot, holder)
            continue
        space = IntervalSet([route.span])
        if hop == "internet":  # a VNet on public addresses: the flow is allowed as far as the edge (`_next`)
            space = subtract(space, NON_PUBLIC)
        found |= _vnet_blocks(snapshot).overlapping(space)
    return found


def _vnet_blocks(snapshot: Snapshot) -> BlockIndex:
    memo = snapshot.index.memo("reach.vnet_blocks")
    if "index" not in memo:
        memo["index"] = BlockIndex((v.key, snapshot.index.address_space(v.key)) for v in snapshot.virtual_networks)
    return memo["index"]
