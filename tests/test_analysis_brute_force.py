"""The fast analysis algorithms against simple brute-force versions, on small seeded random inputs,
so that a speed-up cannot change a result silently."""

import ipaddress
import random
from collections import deque
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.analysis.addresses import (
    V6_OFFSET,
    BlockIndex,
    IntervalSet,
    aligned_blocks,
    describe_space,
    interval,
    is_family_wide,
    span_minus,
    span_text,
    subtract,
    union,
)
from auditor.analysis.admin_rules import admin_rules_for
from auditor.analysis.filtering import decide
from auditor.analysis.nics import nic_subnet, nsg_of_nic
from auditor.analysis.nsg import (
    NON_PUBLIC,
    Coverage,
    ParsedRule,
    first_denies,
    rules_in_order,
    vnet_tag_space,
)
from auditor.analysis.routing import (
    TRANSIT_NEXT_HOPS,
    component_index,
    connected_vnets,
    effective_routes,
    is_multi_hop,
    nested_children,
    next_hop,
    peer_spaces,
    peered_by_address,
    peering_path,
    peers_overlapping,
    system_prefixes,
    vnets_overlapping_in_component,
)
from auditor.engine import discover_rules
from auditor.input.synthetic import snapshot_from_spec
from auditor.model.ids import norm_id
from auditor.model.snapshot import SecurityRule

SEEDS = range(12)


def _random_spans(rnd: random.Random, count: int, width: int = 12) -> list[tuple[int, int]]:
    out = []
    for _ in range(count):
        lo = rnd.randrange(1 << width)
        out.append((lo, min((1 << width) - 1, lo + rnd.randrange(1 << rnd.randrange(width)))))
    return out


def _random_cidr(rnd: random.Random, wide: bool = True) -> str:
    bits = rnd.choice([8, 12, 16, 16, 20, 24, 24, 28]) if wide else rnd.choice([16, 20, 24, 26])
    net = ipaddress.IPv4Network(
        (rnd.choice([10 << 24, (10 << 24) + (rnd.randrange(4) << 16)]) + rnd.randrange(1 << 18), bits),
        strict=False,
    )
    return str(net)


# -- addresses -----------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_span_text_matches_ipaddress(seed):
    rnd = random.Random(seed)
    for _ in range(300):
        v6 = rnd.random() < 0.2
        top = (1 << 128) if v6 else (1 << 32)
        lo = rnd.randrange(top)
        hi = min(top - 1, lo + rnd.randrange(1 << rnd.randrange(1, 40)))
        cls = ipaddress.IPv6Address if v6 else ipaddress.IPv4Address
        want = ", ".join(str(n) for n in ipaddress.summarize_address_range(cls(lo), cls(hi)))
        offset = V6_OFFSET if v6 else 0
        assert span_text((lo + offset, hi + offset)) == want


@pytest.mark.parametrize("seed", SEEDS)
def test_aligned_blocks_tile_the_interval(seed):
    rnd = random.Random(seed)
    for lo, hi in _random_spans(rnd, 200, width=40) + [
        (0, 0),
        (0, (1 << 32) - 1),
        (V6_OFFSET, V6_OFFSET + (1 << 128) - 1),
    ]:
        blocks = aligned_blocks(lo, hi)
        assert blocks[0][0] == lo and blocks[-1][0] + (1 << blocks[-1][1]) - 1 == hi
        for (a, bits), (b, _) in pairwise(blocks):
            assert a % (1 << bits) == 0 and a + (1 << bits) == b


@pytest.mark.parametrize("seed", SEEDS)
def test_block_index_matches_brute_force(seed):
    rnd = random.Random(seed)
    spaces = {
        f"k{i}": IntervalSet(_random_spans(rnd, rnd.randrange(0, 4))) for i in range(rnd.randrange(1, 30))
    }
    spaces["wide"] = IntervalSet([(0, (1 << 11) - 1)]) if seed % 2 else IntervalSet()
    index = BlockIndex(spaces.items())
    for _ in range(50):
        query = IntervalSet(_random_spans(rnd, rnd.randrange(1, 3)))
        assert index.overlapping(query) == {k for k, space in spaces.items() if space.overlaps(query)}
        lo, hi = _random_spans(rnd, 1)[0]
        assert index.overlaps(lo, hi) == any(
            space.overlaps(IntervalSet([(lo, hi)])) for space in spaces.values()
        )


@pytest.mark.parametrize("seed", SEEDS)
def test_intersection_and_subtract_match_address_by_address(seed):
    """Both build their result without sorting or merging it again: it must still be the merged
    set of exactly the right addresses (touching pieces would compare unequal here)."""
    rnd = random.Random(seed)
    for _ in range(100):
        a = IntervalSet(_random_spans(rnd, rnd.randrange(0, 6), width=8))
        b = IntervalSet(_random_spans(rnd, rnd.randrange(0, 6), width=8))
        in_a = {x for lo, hi in a for x in range(lo, hi + 1)}
        in_b = {x for lo, hi in b for x in range(lo, hi + 1)}
        assert a.intersection(b) == IntervalSet((x, x) for x in in_a & in_b)
        assert subtract(a, b) == IntervalSet((x, x) for x in in_a - in_b)


@pytest.mark.parametrize("seed", SEEDS)
def test_nested_children_subtracts_like_every_more_specific_span(seed):
    rnd = random.Random(seed)
    spans = {interval(_random_cidr(rnd)) for _ in range(rnd.randrange(1, 40))}
    children = nested_children(spans)
    for lo, hi in spans:
        smaller = [(s, e) for s, e in spans if lo <= s and e <= hi and e - s < hi - lo]
        want = subtract(IntervalSet([(lo, hi)]), IntervalSet(smaller))
        assert span_minus((lo, hi), children.get((lo, hi), [])) == want


# -- estates -------------------------------------------------------------------------
def _random_estate(rnd: random.Random, size: int) -> dict:
    """Hubs and spokes peered at random (some leaves, some cycles, some islands), random
    overlapping address spaces, one route table per VNet with nested random routes."""
    names = [f"v{i:02d}" for i in range(size)]
    vnets, tables, peerings, nsgs = {}, {}, [], {}
    for name in names:
        vnets[name] = {
            "subscription": "prod",
            "address_space": [_random_cidr(rnd, wide=False)],
            "subnets": {
                "app": {
                    "prefix": "10.250.0.0/24",
                    "route_table": f"rt-{name}",
                    "nsg": f"nsg-{rnd.choice(names[: size // 2 + 1])}",
                },
                "data": {
                    "prefix": "10.251.0.0/24",
                    "nsg": f"nsg-{name}",
                    **({"route_table": f"rt-{rnd.choice(names)}"} if rnd.random() < 0.5 else {}),
                },
            },
        }
        tables[f"rt-{name}"] = {
            "subscription": "prod",
            "routes": [
                {
                    "name": f"r{j}",
                    "prefix": _random_cidr(rnd),
                    "ip": "10.0.0.4",
                    "next_hop": rnd.choice(["VirtualAppliance", "VirtualNetworkGateway", "None", "Internet"]),
                }
                for j in range(rnd.randrange(0, 8))
            ],
        }
    for name in names:  # rules naming other VNets' ranges, parts of them, or anything
        nsgs[f"nsg-{name}"] = {
            "subscription": "prod",
            "rules": [
                {
                    "name": f"n{j}",
                    "priority": 100 + j,
                    "direction": rnd.choice(["Inbound", "Outbound"]),
                    "access": rnd.choice(["Allow", "Allow", "Deny"]),
                    "source": rnd.choice(
                        [
                            vnets[rnd.choice(names)]["address_space"][0],
                            _random_cidr(rnd),
                            "*",
                            "VirtualNetwork",
                        ]
                    ),
                    "destination": rnd.choice(["*", vnets[rnd.choice(names)]["address_space"][0]]),
                }
                for j in range(rnd.randrange(0, 5))
            ],
        }
    hubs = names[: max(1, size // 4)]
    for i, name in enumerate(names):
        links = set()
        if name not in hubs and rnd.random() < 0.9:
            links.add(rnd.choice(hubs))
        if rnd.random() < 0.3:
            links.add(rnd.choice(names[: i + 1]))
        for other in links - {name}:
            peerings += [{"from": name, "to": other}, {"from": other, "to": name}]
    unique = {(p["from"], p["to"]): p for p in peerings}
    for name in rnd.sample(names, k=size // 5):  # Connected to a VNet outside the snapshot
        outside = (
            f"/subscriptions/{'0' * 8}-0000-4000-8000-{'0' * 12}/resourceGroups/r/providers/Microsoft.Network/"
            f"virtualNetworks/outside-{name}"
        )
        unique[(name, outside)] = {
            "from": name,
            "to_id": outside,
            "state": "Connected",
            "remote_prefixes": [_random_cidr(rnd, wide=False)],
        }
    return {
        "subscriptions": {"prod": {}},
        "vnets": vnets,
        "peerings": list(unique.values()),
        "route_tables": tables,
        "nsgs": nsgs,
    }


def _bfs_path(index, a: str, c: str) -> list[str] | None:
    """Breadth-first search from A visiting neighbours in sorted order: the path peering_path promises."""
    prev = {a: None}
    queue = deque([a])
    while queue:
        cur = queue.popleft()
        for nxt in sorted(index.peered_vnets(cur)):
            if nxt not in prev:
                prev[nxt] = cur
                queue.append(nxt)
    if c not in prev:
        return None
    path = [c]
    while prev[path[-1]] is not None:
        path.append(prev[path[-1]])
    return path[::-1]


@pytest.fixture(scope="module", params=SEEDS)
def estate(request):
    rnd = random.Random(request.param)
    return snapshot_from_spec(_random_estate(rnd, rnd.randrange(3, 16)))


def test_peering_path_matches_full_search(estate):
    keys = sorted(estate.index.vnets)
    for a in keys:
        for c in keys:
            assert peering_path(estate, a, c) == _bfs_path(estate.index, a, c), (a, c)


def test_vnets_overlapping_in_component_matches_brute_force(estate):
    index = estate.index
    rnd = random.Random(len(index.vnets))
    for a in sorted(index.vnets):
        reachable = {v for v in index.vnets if _bfs_path(index, a, v) is not None}
        for _ in range(5):
            query = IntervalSet.of([_random_cidr(rnd)])
            want = {v for v in reachable if index.address_space(v).overlaps(query)}
            assert vnets_overlapping_in_component(estate, a, query) == want
            (lo, hi), = query
            assert component_index(estate, a).overlaps(lo, hi) == bool(want)


def test_peer_lookups_by_address_match_filtering_every_peer(estate):
    index = estate.index
    rnd = random.Random(len(index.vnets))
    for vnet in sorted(index.vnets):
        for _ in range(5):
            query = IntervalSet.of([_random_cidr(rnd)])
            want = [p for p in peer_spaces(estate, vnet) if p[2].overlaps(query)]
            assert peers_overlapping(estate, vnet, query) == want
            peered = {p for p in index.peered_vnets(vnet) if index.address_space(p).overlaps(query)}
            assert peered_by_address(estate, vnet).overlapping(query) == peered


def test_effective_routes_match_pairwise_subtraction(estate):
    index = estate.index
    for table in estate.route_tables:
        for vnet in index.vnets_of(table.id):
            system = system_prefixes(estate, vnet)
            parsed = [(r, interval(r.address_prefix)) for r in table.routes]
            for (route, space), (same, (lo, hi)) in zip(effective_routes(estate, table, vnet), parsed):
                assert route is same
                specific = [(s, e) for _, (s, e) in parsed if lo <= s and e <= hi and e - s < hi - lo]
                specific += [(s, e) for s, e in system if lo <= s and e <= hi and e - s < hi - lo]
                assert space == subtract(IntervalSet([(lo, hi)]), IntervalSet(specific))


# -- NSG rules -------------------------------------------------------------------------
def _random_side(rnd: random.Random) -> dict:
    pick = rnd.random()
    if pick < 0.1:
        return {"prefixes": ["*"]}
    if pick < 0.2:
        return {"prefixes": ["VirtualNetwork"]}
    if pick < 0.27:
        return {
            "prefixes": [],
            "asgs": [
                "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/applicationSecurityGroups/web"
            ],
        }
    if pick < 0.32:
        return {"prefixes": [rnd.choice(["Internet", "AzureLoadBalancer"])]}
    return {"prefixes": [_random_cidr(rnd) for _ in range(rnd.randrange(1, 3))]}


def _random_rule(rnd: random.Random, i: int) -> ParsedRule:
    source, destination = _random_side(rnd), _random_side(rnd) if rnd.random() < 0.3 else {"prefixes": ["*"]}
    return ParsedRule(
        SecurityRule(
            id=f"/x/securityRules/r{i}",
            name=f"r{i}",
            priority=100 + i,
            direction="Inbound",
            access=rnd.choice(["Allow", "Deny", "Deny"]),
            protocol=rnd.choice(["*", "*", "Tcp"]),
            source_address_prefixes=source["prefixes"],
            source_application_security_group_ids=source.get("asgs", []),
            destination_address_prefixes=destination["prefixes"],
            destination_application_security_group_ids=destination.get("asgs", []),
            source_port_ranges=["*"],
            destination_port_ranges=[rnd.choice(["*", "*", "443"])],
        )
    )


def _walk_per_peer(rules, subnet_space, tag, peers):
    """Each peer on its own: the first rule that decides it, kept when it is a Deny."""
    denied = {}
    for p, space in peers.items():
        for pr in rules:
            dest = pr.destination.coverage(subnet_space, tag, target_in_tag=True)
            cov = pr.source.coverage(space, tag, target_in_tag=True)
            if pr.allow and dest != Coverage.NONE and cov != Coverage.NONE:
                break
            if (
                not pr.allow
                and pr.all_traffic
                and dest == Coverage.FULL
                and cov in (Coverage.FULL, Coverage.PARTIAL)
            ):
                denied[p] = (pr, cov)
                break
    return denied


@pytest.mark.parametrize("seed", range(40))
def test_first_denies_matches_walking_each_peer(seed):
    rnd = random.Random(seed)
    peers = {
        f"p{i:02d}": IntervalSet.of([_random_cidr(rnd, wide=False)]) for i in range(rnd.randrange(1, 25))
    }
    if seed % 5 == 0:
        peers["empty"] = IntervalSet()
    rules = [_random_rule(rnd, i) for i in range(rnd.randrange(1, 15))]
    subnet_space = IntervalSet.of([_random_cidr(rnd, wide=False)])
    tag = union([subnet_space, *peers.values()])
    got = first_denies(rules, subnet_space, tag, peers, BlockIndex(peers.items()))
    assert got == _walk_per_peer(rules, subnet_space, tag, peers)
    assert list(got) == sorted(got, key=lambda p: (got[p][0].priority, p))  # reported by rule, then peer


# -- TRANS001 --------------------------------------------------------------------------
def _transit_space_brute(snapshot, table_id, vnet):
    table = snapshot.index.route_tables.get(norm_id(table_id)) if table_id else None
    if table is None:
        return IntervalSet()
    spans = [interval(r.address_prefix) for r in table.routes]
    system = system_prefixes(snapshot, vnet)
    out = []
    for route, (lo, hi) in zip(table.routes, spans):
        if next_hop(route) in TRANSIT_NEXT_HOPS:
            specific = [(s, e) for s, e in [*spans, *system] if lo <= s and e <= hi and e - s < hi - lo]
            out.append(subtract(IntervalSet([(lo, hi)]), IntervalSet(specific)))
    return union(out)


def _trans001_brute(snapshot) -> dict[str, list[dict]]:
    """Rule id -> every (A, C, prefix) pair it fails for, judged one pair at a time in the rule's order."""
    index = snapshot.index
    out = {}
    for nsg in snapshot.network_security_groups:
        for direction in (True, False):
            for r in [
                p.rule for p in rules_in_order(snapshot, nsg, direction) if p.allow and not p.is_default
            ]:
                pairs = []
                for a in index.vnets_of(nsg.id):
                    near = [a, *connected_vnets(snapshot, a)]
                    local = union([index.address_space(v) for v in near])
                    own = [
                        interval(p) for v in near if v in index.vnets for p in index.vnets[v].address_prefixes
                    ]
                    for prefix in (*r.source_address_prefixes, *r.destination_address_prefixes):
                        span = None if is_family_wide(prefix) else interval(prefix)
                        if span is None or local.covers(IntervalSet([span])):
                            continue
                        if any(span[0] <= s and e <= span[1] for s, e in own):
                            continue  # a summary of the estate
                        for c in sorted(index.vnets):
                            if not is_multi_hop(snapshot, a, c):
                                continue
                            wanted = subtract(IntervalSet([span]), local).intersection(index.address_space(c))
                            missing = {}
                            for s in index.subnets_of(nsg.id):
                                subnet = index.subnets[s]
                                if index.vnet_of_subnet[s].key == a:
                                    left = subtract(
                                        wanted, _transit_space_brute(snapshot, subnet.route_table_id, a)
                                    )
                                    if left:
                                        missing[subnet.name] = describe_space(left)
                            if missing:
                                pairs.append(
                                    {
                                        "vnet": index.vnets[a].name,
                                        "remote_vnet": index.vnets[c].name,
                                        "prefix": prefix,
                                        "subnets_without_route": missing,
                                    }
                                )
                if pairs:
                    out[r.id] = pairs
    return out


def test_trans001_matches_judging_each_pair(estate):
    rule = next(r for r in discover_rules() if r.id == "TRANS001")
    findings = {f.resource_id: f for f in rule.run(estate)}
    want = _trans001_brute(estate)
    assert set(findings) == set(want)
    for rule_id, pairs in want.items():
        evidence = findings[rule_id].evidence
        assert evidence["pair_count"] == len(pairs)
        assert [{k: p[k] for k in pairs[0]} for p in evidence["pairs"]] == pairs[: len(evidence["pairs"])]


# -- Azure's order of filtering against a per-address-and-port evaluator ----------------------
SIDES = ["*", "Any", "0.0.0.0/0", "::/0", "VirtualNetwork", "Internet", "AzureLoadBalancer", "10.0.0.0/16",
         "10.0.0.0/17", "10.0.128.0/24", "10.1.1.4", "10.1.1.5", "10.1.1.0/24", "10.0.0.0/8", "fd00::/48", "fd00::/64",
         "fd00:1:0:1::4", "20.0.0.0/8", "2001:db8::/32"]
REMOTE = ["10.0.0.0/8", "fd00::/16", "20.0.0.0/8", "2001:db8::/32"]
ASG = "asg-web"


def _side_strategy(st, asgs: bool):
    prefixes = st.lists(st.sampled_from(SIDES), min_size=1, max_size=2)
    if not asgs:
        return prefixes.map(lambda p: {"prefixes": p})
    return st.one_of(prefixes.map(lambda p: {"prefixes": p}), st.just({"asgs": [ASG]}))


def _rule_strategy(st, admin: bool):
    return st.fixed_dictionaries({
        "access": st.sampled_from(["Allow", "Deny", "AlwaysAllow"] if admin else ["Allow", "Deny"]),
        "direction": st.sampled_from(["Inbound", "Outbound"]),
        "protocol": st.sampled_from(["Any", "Tcp", "Udp", "Icmp"] if admin else ["*", "Tcp", "Udp", "Icmp"]),
        "source": _side_strategy(st, not admin),
        "destination": _side_strategy(st, not admin),
        "ports": st.sampled_from(["0-65535" if admin else "*", "22", "20-25", "443", "3389"]),
        "source_ports": st.sampled_from(["*"] * 6 + ["1024-65535"]),
    })


def _spec_rule(name: str, priority: int, drawn: dict, admin: bool) -> dict:
    out = {"name": name, "priority": priority, "access": drawn["access"], "direction": drawn["direction"],
           "protocol": drawn["protocol"], "ports": drawn["ports"]}
    if drawn["source_ports"] != "*":
        out["source_ports"] = drawn["source_ports"]
    for side in ("source", "destination"):
        if "asgs" in drawn[side]:
            out[f"{side}_asgs"] = drawn[side]["asgs"]
        else:
            out[side] = drawn[side]["prefixes"]
    if admin and out.get("source_ports") is None:
        out["source_ports"] = "0-65535"
    return out


def _ranges(values: list[str]) -> list[tuple[int, int]]:
    """`*`, `22`, `1024-65535` as (first, last) port pairs."""
    pairs = [(v if v != "*" else "0-65535").partition("-") for v in values or ["*"]]
    return [(int(a), int(b or a)) for a, _, b in pairs]


def _brute_addr(value: int):
    return ipaddress.IPv4Address(value) if value < V6_OFFSET else ipaddress.IPv6Address(value - V6_OFFSET)


class _Brute:
    """Azure's evaluation for one (remote address, NIC address, protocol, port, source port), rule by rule."""

    def __init__(self, snapshot, nic, asg_world):
        index = snapshot.index
        subnet = nic_subnet(nic)
        vnet = index.vnet_of_subnet[subnet].key
        self.tag, self.non_public = vnet_tag_space(snapshot, vnet), NON_PUBLIC
        self.asg_world = asg_world  # address -> member of asg-web
        self.admin = {d: [a.parsed.rule for a in admin_rules_for(snapshot, vnet, subnet, d)] for d in (True, False)}
        nsgs = [("subnet", index.nsg_of_subnet(subnet)), ("nic", nsg_of_nic(snapshot, nic))]
        self.nsgs = {d: [(layer, sorted((r for r in (*n.security_rules, *n.default_security_rules)
                                         if (r.direction == "Inbound") == d), key=lambda r: r.priority))
                         for layer, n in (nsgs if d else nsgs[::-1]) if n is not None] for d in (True, False)}

    def side(self, prefixes, asgs, value: int) -> bool:
        address = _brute_addr(value)
        for p in prefixes:
            text = p.strip().lower()
            if text in ("*", "any") or (text == "virtualnetwork" and self.tag.contains_point(value)):
                return True
            if text == "internet" and not self.non_public.contains_point(value) and not self.tag.contains_point(value):
                return True
            try:
                net = ipaddress.ip_network(p, strict=False)
            except ValueError:
                continue
            if net.version == address.version and address in net:
                return True
        return bool(asgs) and self.asg_world(value)

    def matches(self, r, inbound, remote, local, protocol, port, source_port) -> bool:
        if (r.direction == "Inbound") != inbound:
            return False
        if r.protocol.lower() not in ("*", "any", protocol):
            return False
        if protocol in ("tcp", "udp") and not any(a <= port <= b for a, b in _ranges(r.destination_port_ranges)):
            return False
        if not any(a <= source_port <= b for a, b in _ranges(r.source_port_ranges)):
            return False
        src, dst = (remote, local) if inbound else (local, remote)
        return (self.side(r.source_address_prefixes, getattr(r, "source_application_security_group_ids", []), src)
                and self.side(r.destination_address_prefixes,
                              getattr(r, "destination_application_security_group_ids", []), dst))

    def verdict(self, inbound, remote, local, protocol, port, source_port):
        for r in self.admin[inbound]:
            if self.matches(r, inbound, remote, local, protocol, port, source_port):
                if r.access == "Deny":
                    return "deny", r.id, "admin"
                if r.access == "AlwaysAllow":
                    return "allow", r.id, "admin"
                break  # Allow: on to the NSGs
        last = (None, "")
        for layer, rules in self.nsgs[inbound]:
            for r in rules:
                if self.matches(r, inbound, remote, local, protocol, port, source_port):
                    if r.access == "Deny":
                        return "deny", r.id, layer
                    last = (r.id, layer)
                    break
        return "allow", *last


def _points(spaces) -> list[int]:
    """Every address where some prefix starts or ends, and its neighbours: the decisions are constant between."""
    out = set()
    for span in spaces:
        out.update({span[0] - 1, span[0], span[1], span[1] + 1})
    return sorted(out)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    admin=st.lists(_rule_strategy(st, admin=True), max_size=4),
    subnet=st.one_of(st.none(), st.lists(_rule_strategy(st, admin=False), max_size=4)),
    nic=st.one_of(st.none(), st.lists(_rule_strategy(st, admin=False), max_size=4)),
    nics_read=st.booleans(),
    inbound=st.booleans(),
    query=st.sampled_from([("tcp", 22), ("tcp", 443), ("udp", 3389), ("icmp", 0), ("tcp", 24)]),
)
def test_decide_matches_evaluating_each_address_and_port(admin, subnet, nic, nics_read, inbound, query):
    spec = {
        "subscriptions": {"prod": {} if nics_read else {"coverage": "partial", "error": "networkInterfaces: 403"}},
        "vnets": {
            "hub": {"subscription": "prod", "address_space": ["10.0.0.0/16", "fd00::/48"]},
            "spoke": {"subscription": "prod", "address_space": ["10.1.0.0/16", "fd00:1::/48"], "subnets": {"app": {
                "prefix": ["10.1.1.0/24", "fd00:1:0:1::/64"], **({"nsg": "nsg-app"} if subnet is not None else {})}}},
        },
        "peerings": [{"from": "hub", "to": "spoke"}, {"from": "spoke", "to": "hub"}],
        "asgs": {ASG: {"subscription": "prod"}},
        "nics": {
            "vm1-nic": {"subscription": "prod", "vnet": "spoke", "subnet": "app", "ip": ["10.1.1.4", "fd00:1:0:1::4"],
                        **({"nsg": "nsg-vm1"} if nic is not None else {})},
            "vm2-nic": {"subscription": "prod", "vnet": "spoke", "subnet": "app", "ip": "10.1.1.5", "asgs": [ASG]},
        },
        "nsgs": {name: {"subscription": "prod", "rules": [_spec_rule(f"r{i}", 100 + i, r, False) for i, r in enumerate(rules)]}
                 for name, rules in (("nsg-app", subnet), ("nsg-vm1", nic)) if rules is not None},
        "network_managers": {"avnm": {"subscription": "prod", "groups": {"ng": {"members": ["spoke"]}},
                                      "security_admin": {"sac": {"collections": {"rc": {"groups": ["ng"], "rules": [
                                          _spec_rule(f"a{i}", 10 + i, r, True) for i, r in enumerate(admin)]}}}}}},
    }
    snap = snapshot_from_spec(spec)
    nic_model = next(n for n in snap.network_interfaces if n.name == "vm1-nic")
    locals_ = [interval(c.private_ip_address)[0] for c in nic_model.ip_configurations]
    member = interval("10.1.1.5")[0]
    worlds = [lambda a: a == member] if nics_read else [lambda a: True, lambda a: False]
    brutes = [_Brute(snap, nic_model, w) for w in worlds]
    remote = IntervalSet.of(REMOTE)
    verdicts = decide(snap, nic_model.id, inbound, remote, *query)
    strict = nics_read and all(r["source_ports"] == "*" for r in (*admin, *(subnet or []), *(nic or [])))
    spans = [interval(p) for p in [*SIDES, *REMOTE] if interval(p)] + list(vnet_tag_space_of(snap, nic_model))
    for point in _points(spans):
        if not remote.contains_point(point):
            continue
        got = [v for v in verdicts if v.space.contains_point(point)]
        family = [d for d in locals_ if (d >= V6_OFFSET) == (point >= V6_OFFSET)]
        assert len(got) == (1 if family else 0), (point, got)
        if not family:
            continue
        v = got[0]
        want = {b.verdict(inbound, point, d, query[0], query[1], sp)
                for b in brutes for d in family for sp in (0, 1023, 1024, 65535)}
        if v.access == "unknown":
            assert not strict, (describe_space(IntervalSet([(point, point)])), v)
            continue
        assert want == {(v.access, v.rule.rule.id if v.rule else None, v.layer)}, (
            describe_space(IntervalSet([(point, point)])), want, v)


def vnet_tag_space_of(snapshot, nic):
    return [*vnet_tag_space(snapshot, snapshot.index.vnet_of_subnet[nic_subnet(nic)].key), *NON_PUBLIC]


def test_brute_evaluator_is_not_vacuous():
    """The per-address evaluator above tells the layers, the families and the kinds of allow apart."""
    spec = {
        "subscriptions": {"prod": {}},
        "vnets": {"spoke": {"subscription": "prod", "address_space": ["10.1.0.0/16", "fd00:1::/48"], "subnets": {
            "app": {"prefix": ["10.1.1.0/24", "fd00:1:0:1::/64"], "nsg": "nsg-app"}}}},
        "nics": {"vm1-nic": {"subscription": "prod", "vnet": "spoke", "subnet": "app", "ip": ["10.1.1.4", "fd00:1:0:1::4"]}},
        "nsgs": {"nsg-app": {"subscription": "prod", "rules": [
            {"name": "deny-v4", "priority": 100, "access": "Deny", "source": "0.0.0.0/0"}]}},
        "network_managers": {"avnm": {"subscription": "prod", "groups": {"ng": {"members": ["spoke"]}},
                                      "security_admin": {"sac": {"collections": {"rc": {"groups": ["ng"], "rules": [
                                          {"name": "aa", "priority": 1, "access": "AlwaysAllow", "source": "20.0.0.1"},
                                          {"name": "al", "priority": 2, "access": "Allow", "source": "20.0.0.2"}]}}}}}},
    }
    snap = snapshot_from_spec(spec)
    nic = snap.network_interfaces[0]
    brute = _Brute(snap, nic, lambda a: False)
    v4, v6 = interval("10.1.1.4")[0], interval("fd00:1:0:1::4")[0]

    def at(remote, local):
        return brute.verdict(True, interval(remote)[0], local, "tcp", 22, 0)[::2]

    assert at("20.0.0.1", v4) == ("allow", "admin")
    assert at("20.0.0.2", v4) == ("deny", "subnet")
    assert at("2001:db8::1", v6) == ("deny", "subnet")  # DenyAllInBound: not the IPv4 deny
    assert brute.verdict(True, interval("2001:db8::1")[0], v6, "tcp", 22, 0)[1].endswith("DenyAllInBound")
