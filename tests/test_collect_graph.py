"""The Resource Graph source: batches queried in parallel, paced by the user's query quota.

Against the loopback fake ARM (fakes/fakearm.py), which enforces a quota the way Azure documents
it (x-ms-user-quota-remaining / x-ms-user-quota-resets-after on every answer, 429 beyond it).
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from auditor.input.collect import CollectScope, collect, graph
from auditor.input.collect.auth import StaticTokenCredential
from auditor.input.collect.quota import GraphQuota, parse_duration, reading
from auditor.input.synthetic import guid, snapshot_from_spec
from auditor.model.snapshot import CoverageStatus, to_builtins
from fakes.fakearm import FakeArm

FAST = {"retry_total": 3, "retry_backoff_factor": 0.01, "retry_backoff_max": 0.05, "read_timeout": 10}
QUERY_PATH = "/providers/Microsoft.ResourceGraph/resources?api-version=2021-03-01"


def spec(subscriptions: int, vnets: int = 2) -> dict:
    out: dict = {"subscriptions": {f"s{s:02d}": {} for s in range(subscriptions)}, "vnets": {}}
    for s in range(subscriptions):
        for v in range(vnets):
            vnet = {"subscription": f"s{s:02d}", "address_space": [f"10.{s}.{v}.0/24"]}
            out["vnets"][f"s{s:02d}-v{v}"] = vnet
    return out


def run(fake: FakeArm, source: str = "graph", **transport):
    transport = {"connection_verify": fake.ca_file, **FAST, **transport}
    return collect(CollectScope(all_subscriptions=True), StaticTokenCredential(), source=source,
                   concurrency=16, base_url_override=fake.base_url, transport_kwargs=transport)


def vnets(snapshot) -> list[dict]:
    return sorted((to_builtins(v) for v in snapshot.virtual_networks), key=lambda v: v["id"])


def graph_log(fake: FakeArm):
    return fake.requests_for("ResourceGraph")


# -- batches -----------------------------------------------------------------------------------

@pytest.mark.parametrize("n, count, largest", [(0, 0, 0), (3, 1, 3), (20, 1, 20), (21, 2, 11), (100, 5, 20),
                                               (1000, 8, 125), (5000, 20, 250)])
def test_batches_split_only_as_far_as_parallel_pages_help(n, count, largest):
    ids = [f"sub-{i}" for i in range(n)]
    batches = graph.batches(ids)
    assert len(batches) == count and max(map(len, batches), default=0) == largest
    assert [s for b in batches for s in b] == ids
    assert all(len(b) <= graph.MAX_BATCH for b in batches)


# -- the quota headers ---------------------------------------------------------------------------

def test_quota_headers_are_read_as_azure_documents_them():
    assert parse_duration("00:00:05") == 5 and parse_duration("01:02:03") == 3723
    assert parse_duration("00:00:04.5000000") == 4.5 and parse_duration("1.00:00:00") == 86400
    assert parse_duration("5s") is None and parse_duration(None) is None
    assert reading({"x-ms-user-quota-remaining": "10", "x-ms-user-quota-resets-after": "00:00:03"}) == (10, 3)
    assert reading({"x-ms-user-quota-remaining": "2"}) == (2, 5.0)  # the documented window when unsaid
    assert reading({"x-ms-user-quota-remaining": "many"}) is None and reading({}) is None


def headers(remaining: int, resets_after: str = "00:00:05") -> dict:
    return {"x-ms-user-quota-remaining": str(remaining), "x-ms-user-quota-resets-after": resets_after}


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_documented_quota_first_then_what_the_answers_show():
    clock = Clock()
    quota = GraphQuota(max_wait=0, clock=clock)  # acquire() says at once whether a query may go
    assert [quota.acquire() for _ in range(16)] == [True] * 15 + [False]  # 15 per window, before any answer
    for _ in range(15):
        quota.release(None)  # no answers (failed)
    quota.release(headers(3))  # the quota is at least 4, and 3 are left
    assert [quota.acquire() for _ in range(4)] == [True, True, True, False]  # the answers may count these
    for _ in range(4):
        quota.release(headers(0))
    assert not quota.acquire()
    quota.release(None)
    clock.now = 5.0  # a new window: what the answers showed the quota to be
    assert [quota.acquire() for _ in range(5)] == [True] * 4 + [False]


def test_an_answer_from_earlier_in_the_window_does_not_raise_the_count():
    quota = GraphQuota(max_wait=0, clock=Clock())
    quota.acquire()
    quota.release(headers(5))
    assert quota.acquire() and quota.acquire()
    quota.release(headers(1))
    quota.release(headers(4))  # sent earlier, answered later
    assert [quota.acquire(), quota.acquire()] == [True, False]


def test_waiting_for_the_reset_is_bounded():
    quota = GraphQuota(max_wait=0.3)
    quota.acquire()
    quota.release(headers(0, "01:00:00"))  # an hour: the query goes after max_wait anyway
    started = time.monotonic()
    assert not quota.acquire()
    assert 0.25 <= time.monotonic() - started < 2


def test_waits_until_the_window_resets():
    quota = GraphQuota()
    quota.acquire()
    quota.release(headers(0, "00:00:00.4000000"))
    started = time.monotonic()
    assert quota.acquire()
    assert 0.35 <= time.monotonic() - started < 2


def test_a_service_without_quota_headers_is_not_paced():
    quota = GraphQuota(max_wait=0.5)
    quota.acquire()
    quota.release({"content-type": "application/json"})
    started = time.monotonic()
    assert all(quota.acquire() for _ in range(20))
    assert time.monotonic() - started < 0.1


def test_a_failed_query_frees_its_place():
    quota = GraphQuota(max_wait=5)
    quota.acquire()
    quota.release(headers(1))
    quota.acquire()
    done = threading.Event()
    threading.Thread(target=lambda: (quota.acquire(), done.set()), daemon=True).start()
    assert not done.wait(0.1)
    quota.release(None)  # no answer (timeout): the next query may go
    assert done.wait(2)


# -- the fake enforces the quota ---------------------------------------------------------------------

def test_fake_enforces_the_quota_with_429_and_retry_after():
    """Not vacuous: a burst beyond the quota is refused, so a collection without 429s stayed within it."""
    with FakeArm(spec(2), graph_quota=3, graph_window=2.0) as fake:
        body = {"subscriptions": [guid("subscription", "s00")], "query": graph.QUERY}
        post = lambda _: requests.post(fake.base_url + QUERY_PATH, json=body, verify=fake.ca_file, timeout=5)
        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(post, range(6)))
    assert sorted(a.status_code for a in answers) == [200] * 3 + [429] * 3
    for answer in answers:
        assert int(answer.headers["x-ms-user-quota-remaining"]) in (0, 1, 2)
        assert parse_duration(answer.headers["x-ms-user-quota-resets-after"]) in (1, 2)
    assert all(a.headers["Retry-After"] in ("1", "2") for a in answers if a.status_code == 429)


# -- the collector against it --------------------------------------------------------------------------

def test_batches_run_in_parallel_within_the_quota():
    estate = spec(60)  # three batches of 20 subscriptions
    with FakeArm(estate, latency=0.3, graph_quota=15) as fake:
        snapshot = run(fake)
        log = graph_log(fake)
        assert fake.graph_peak > 1
        arm = run(fake, source="arm")
    assert len(log) == 3 and all(r.status == 200 for r in log)
    assert vnets(snapshot) == vnets(arm) == vnets(snapshot_from_spec(estate))
    assert all(s.status == CoverageStatus.complete for s in snapshot.subscriptions)


def test_collection_stays_within_the_quota():
    """30 pages against 6 queries per 1-second window: paced, never refused."""
    estate = spec(30, vnets=4)  # 2 batches of 15 subscriptions, 60 rows each, 4 rows a page
    with FakeArm(estate, latency=0.02, graph_quota=6, graph_window=1.0) as fake:
        started = time.monotonic()
        snapshot = run(fake, graph_page_size=4)
        elapsed = time.monotonic() - started
        log = graph_log(fake)
        assert fake.graph_peak > 1
    assert len(log) == 30 and all(r.status == 200 for r in log)
    assert elapsed >= 4  # 30 queries need 5 windows
    assert vnets(snapshot) == vnets(snapshot_from_spec(estate))
    assert all(s.status == CoverageStatus.complete for s in snapshot.subscriptions)


def test_quota_used_up_elsewhere_is_waited_out():
    """Another tool of the same user spent the quota: the first query gets 429 + Retry-After, then all goes."""
    estate = spec(3)
    with FakeArm(estate, graph_quota=2, graph_window=3.0) as fake:  # long enough to outlast the start
        body = {"subscriptions": [guid("subscription", "s00")], "query": graph.QUERY}
        for _ in range(2):
            requests.post(fake.base_url + QUERY_PATH, json=body, verify=fake.ca_file, timeout=5)
        snapshot = run(fake)
        ours = fake.requests_for("ResourceGraph", subscription=guid("subscription", "s02"))
        statuses = [r.status for r in ours]
    assert statuses == [429, 200]
    assert vnets(snapshot) == vnets(snapshot_from_spec(estate))


def test_generated_cassettes_follow_the_batches(tmp_path):
    """The cassette generator asks for the batches collect() sends (45 subscriptions: three)."""
    from auditor.input.collect.cassettes import VCR_CONCURRENCY, replaying
    from auditor.input.collect.generate import generate, scope_of

    estate = {**spec(45), "scan": {"all_subscriptions": True}}
    path = generate(estate)["graph"].write(tmp_path / "graph.yaml")
    with replaying(path) as played:
        snapshot = collect(scope_of(estate), StaticTokenCredential(), source="graph",
                           concurrency=VCR_CONCURRENCY)
    posts = [n for n, (request, _) in enumerate(played.data) if request.method == "POST"]
    batches = {tuple(json.loads(played.data[n][0].body)["subscriptions"]) for n in posts}
    assert len(batches) == 3 and all(played.play_counts[n] for n in posts)
    assert vnets(snapshot) == vnets(snapshot_from_spec(estate))
