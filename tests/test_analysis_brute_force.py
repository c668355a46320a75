"""The fast analysis algorithms against simple brute-force versions, on small seeded random inputs,
so that a speed-up cannot change a result silently."""

import ipaddress
import random
from collections import deque
from itertools import pairwise

import pytest

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
from auditor.analysis.nsg import Coverage, ParsedRule, first_denies, rules_in_order
from auditor.analysis.routing import (
    TRANSIT_NEXT_HOPS,
    component_overlaps,
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
            assert component_overlaps(estate, a, lo, hi) == bool(want)


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
