"""auditor.analysis.overlap: the interval sweep and the estate-wide overlap index, checked against brute force."""

import ipaddress
import random

from auditor.analysis.overlap import (
    OverlapIndex,
    describe,
    network_set,
    overlap_detail,
    overlapping_pairs,
    prefix_spans,
)


def _brute_pairs(items):
    out = set()
    for i, (s1, e1, k1) in enumerate(items):
        for s2, e2, k2 in items[i + 1:]:
            if k1 != k2 and s1 <= e2 and s2 <= e1:
                out.add((min(k1, k2), max(k1, k2)))
    return out


def test_overlapping_pairs_matches_brute_force_on_random_intervals():
    rng = random.Random(7)
    for _ in range(50):
        items = []
        for key in range(rng.randint(0, 40)):
            for _ in range(rng.randint(1, 3)):
                start = rng.randint(0, 200)
                items.append((start, start + rng.randint(0, 30), key))
        assert overlapping_pairs(items) == _brute_pairs(items)


def test_overlapping_pairs_touching_is_not_overlapping_and_same_key_is_skipped():
    assert overlapping_pairs([(0, 9, "a"), (10, 19, "b")]) == set()
    assert overlapping_pairs([(0, 9, "a"), (9, 19, "b")]) == {("a", "b")}
    assert overlapping_pairs([(0, 9, "a"), (5, 19, "a")]) == set()


def test_prefix_spans_dedupes_normalizes_and_drops_junk():
    spans = prefix_spans(["10.0.0.0/24", "10.0.0.7/24", "VirtualNetwork", "", "fd00::/64"])
    assert len(spans) == 2
    assert spans[0] == (int(ipaddress.ip_address("10.0.0.0")), int(ipaddress.ip_address("10.0.0.255")))
    assert spans[1][0] > 2**32  # IPv6 sits above the IPv4 line


def test_network_set_ignores_order_case_and_host_bits():
    assert network_set(["10.1.5.5/16", "FD00:DB8::/48"]) == network_set(["fd00:db8:0:0::/48", "10.1.0.0/16"])
    assert network_set(["10.1.0.0/16"]) != network_set(["10.1.0.0/17"])


def test_overlap_detail_and_describe():
    detail = overlap_detail(["10.0.0.0/16", "192.168.0.0/24"], ["10.0.1.0/24", "10.0.0.0/16", "172.16.0.0/12"])
    assert detail == [("10.0.0.0/16", "10.0.1.0/24"), ("10.0.0.0/16", "10.0.0.0/16")]
    assert describe(detail) == "10.0.0.0/16 with 10.0.1.0/24, 10.0.0.0/16"
    assert overlap_detail(["10.0.0.0/16"], ["fd00::/8"]) == []


def _random_spaces(rng, n):
    pool = ["10.0.0.0/8", "10.0.0.0/16", "10.1.0.0/16", "10.0.1.0/24", "10.1.128.0/17", "192.168.0.0/24",
            "fd00::/48", "fd00:0:0:1::/64", "172.16.0.0/12", "172.20.0.0/16"]
    return {f"vnet{i:03d}": rng.sample(pool, rng.randint(0, 3)) for i in range(n)}


def test_overlap_index_matches_brute_force():
    rng = random.Random(11)
    for _ in range(20):
        spaces = _random_spaces(rng, 60)
        index = OverlapIndex(spaces)
        nets = {k: [ipaddress.ip_network(p) for p in v] for k, v in spaces.items()}
        for key in spaces:
            want = sorted(
                other for other in spaces
                if other != key and any(a.version == b.version and a.overlaps(b) for a in nets[key] for b in nets[other])
            )
            assert list(index.overlapping(key)) == want
            assert index.count(key) == len(want)
            for other in spaces:
                assert index.overlaps(key, other) == (other in want)


def test_overlap_index_groups_identical_spaces():
    index = OverlapIndex({f"v{i}": ["10.0.0.0/16"] for i in range(1000)} | {"lone": ["10.9.0.0/16"], "empty": []})
    assert len(index.members) == 2  # one group per distinct space; the empty VNet is left out
    assert index.count("v5") == 999
    assert index.count("lone") == 0 and index.count("empty") == 0
    assert list(index.overlapping("v0"))[:3] == ["v1", "v10", "v100"]


def test_count_among_counts_only_overlapping_others():
    index = OverlapIndex({"a": ["10.0.0.0/16"], "b": ["10.0.1.0/24"], "c": ["10.1.0.0/16"], "d": []})
    assert index.count_among("a", ["a", "b", "c", "d", "unknown"]) == 1
    assert index.count_among("d", ["a", "b"]) == 0


def test_count_alike_matches_brute_force():
    rng = random.Random(5)
    for _ in range(20):
        spaces = _random_spaces(rng, 60)
        labels = {k: rng.randint(0, 3) for k in spaces}
        index = OverlapIndex(spaces)
        for key in spaces:
            want = sum(1 for other in index.overlapping(key) if labels[other] == labels[key])
            assert index.count_alike(key, labels) == want
