"""The fast analysis algorithms against simple brute-force versions, on small seeded random inputs,
so that a speed-up cannot change a result silently."""

import ipaddress
import random
from collections import deque

import pytest

from auditor.analysis.addresses import (
    V6_OFFSET,
    BlockIndex,
    IntervalSet,
    aligned_blocks,
    interval,
    span_text,
    subtract,
)
from auditor.analysis.routing import (
    effective_routes,
    nested_children,
    peering_path,
    system_prefixes,
    vnets_overlapping_in_component,
)
from auditor.input.synthetic import snapshot_from_spec

SEEDS = range(12)


def _random_spans(rnd: random.Random, count: int, width: int = 12) -> list[tuple[int, int]]:
    out = []
    for _ in range(count):
        lo = rnd.randrange(1 << width)
        out.append((lo, min((1 << width) - 1, lo + rnd.randrange(1 << rnd.randrange(width)))))
    return out


def _random_cidr(rnd: random.Random, wide: bool = True) -> str:
    bits = rnd.choice([8, 12, 16, 16, 20, 24, 24, 28]) if wide else rnd.choice([16, 20, 24, 26])
    net = ipaddress.IPv4Network((rnd.choice([10 << 24, (10 << 24) + (rnd.randrange(4) << 16)]) + rnd.randrange(1 << 18), bits),
                                strict=False)
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
    for lo, hi in _random_spans(rnd, 200, width=40) + [(0, 0), (0, (1 << 32) - 1), (V6_OFFSET, V6_OFFSET + (1 << 128) - 1)]:
        blocks = aligned_blocks(lo, hi)
        assert blocks[0][0] == lo and blocks[-1][0] + (1 << blocks[-1][1]) - 1 == hi
        for (a, bits), (b, _) in zip(blocks, blocks[1:]):
            assert a % (1 << bits) == 0 and a + (1 << bits) == b


@pytest.mark.parametrize("seed", SEEDS)
def test_block_index_matches_brute_force(seed):
    rnd = random.Random(seed)
    spaces = {f"k{i}": IntervalSet(_random_spans(rnd, rnd.randrange(0, 4))) for i in range(rnd.randrange(1, 30))}
    spaces["wide"] = IntervalSet([(0, (1 << 11) - 1)]) if seed % 2 else IntervalSet()
    index = BlockIndex(spaces.items())
    for _ in range(50):
        query = IntervalSet(_random_spans(rnd, rnd.randrange(1, 3)))
        assert index.overlapping(query) == {k for k, space in spaces.items() if space.overlaps(query)}
        lo, hi = _random_spans(rnd, 1)[0]
        assert index.overlaps(lo, hi) == any(space.overlaps(IntervalSet([(lo, hi)])) for space in spaces.values())


@pytest.mark.parametrize("seed", SEEDS)
def test_nested_children_subtracts_like_every_more_specific_span(seed):
    rnd = random.Random(seed)
    spans = {interval(_random_cidr(rnd)) for _ in range(rnd.randrange(1, 40))}
    children = nested_children(spans)
    for lo, hi in spans:
        smaller = [(s, e) for s, e in spans if lo <= s and e <= hi and e - s < hi - lo]
        want = subtract(IntervalSet([(lo, hi)]), IntervalSet(smaller))
        assert subtract(IntervalSet([(lo, hi)]), IntervalSet(children.get((lo, hi), []))) == want


# -- estates -------------------------------------------------------------------------
def _random_estate(rnd: random.Random, size: int) -> dict:
    """Hubs and spokes peered at random (some leaves, some cycles, some islands), random
    overlapping address spaces, one route table per VNet with nested random routes."""
    names = [f"v{i:02d}" for i in range(size)]
    vnets, tables, peerings = {}, {}, []
    for name in names:
        vnets[name] = {"subscription": "prod", "address_space": [_random_cidr(rnd, wide=False)],
                       "subnets": {"app": {"prefix": "10.250.0.0/24", "route_table": f"rt-{name}"}}}
        tables[f"rt-{name}"] = {"subscription": "prod", "routes": [
            {"name": f"r{j}", "prefix": _random_cidr(rnd), "next_hop": rnd.choice(["VirtualAppliance", "None", "Internet"]),
             "ip": "10.0.0.4"} for j in range(rnd.randrange(0, 8))]}
    hubs = names[: max(1, size // 4)]
    for i, name in enumerate(names):
        links = set()
        if name not in hubs and rnd.random() < 0.9:
            links.add(rnd.choice(hubs))
        if rnd.random() < 0.3:
            links.add(rnd.choice(names[:i + 1]))
        for other in links - {name}:
            peerings += [{"from": name, "to": other}, {"from": other, "to": name}]
    unique = {(p["from"], p["to"]): p for p in peerings}
    return {"subscriptions": {"prod": {}}, "vnets": vnets, "peerings": list(unique.values()), "route_tables": tables}


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
