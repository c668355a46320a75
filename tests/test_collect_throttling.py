"""ARM's read budget: a bucket per subscription (and one for the tenant), as ARM documents its limits."""

from __future__ import annotations

import threading
import time

import pytest

from auditor.input.collect import CollectScope, collect, deadlines, policies
from auditor.input.collect.auth import StaticTokenCredential
from auditor.input.collect.deadlines import CallClock, Limits
from auditor.input.collect.errors import Interrupted
from auditor.input.collect.throttling import BURST, REFILL, TENANT, ReadBudget, bucket_of
from auditor.input.synthetic import guid
from fakes.fakearm import FakeArm


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("url, bucket", [
    ("https://management.azure.com/subscriptions/ABC-1/providers/Microsoft.Network/virtualNetworks?x=1", "abc-1"),
    ("https://management.azure.com/subscriptions/abc-1?api-version=2022-12-01", "abc-1"),
    ("https://management.azure.com/subscriptions?api-version=2022-12-01", TENANT),
    ("https://management.azure.com/tenants?api-version=2022-12-01", TENANT),
])
def test_a_request_counts_against_its_subscription_or_the_tenant(url, bucket):
    assert bucket_of(url) == bucket


def test_a_burst_goes_at_once_then_requests_wait_their_turn_at_the_refill_rate():
    clock = Clock()
    budget = ReadBudget(burst=3, refill=2.0, clock=clock)
    assert [budget.reserve("s1") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert [budget.reserve("s1") for _ in range(3)] == [0.5, 1.0, 1.5]  # each a token later than the last
    assert budget.reserve("s2") == 0.0  # another subscription has a bucket of its own
    clock.now += 2.5  # 5 tokens refilled: the 3 owed, then 2
    assert [budget.reserve("s1") for _ in range(3)] == [0.0, 0.0, 0.5]


def test_an_idle_bucket_refills_only_to_the_burst():
    clock = Clock()
    budget = ReadBudget(burst=2, refill=1.0, clock=clock)
    budget.reserve("s1")
    clock.now += 3600
    assert [budget.reserve("s1") for _ in range(3)] == [0.0, 0.0, 1.0]


def test_the_documented_limits():
    assert (BURST, REFILL) == (250, 25.0)


def test_a_collection_waits_for_a_subscriptions_bucket(monkeypatch):
    """Every ARM request goes through the budget; one beyond the bucket waits (bounded) before it is sent."""
    spec = {"subscriptions": {"a": {}, "b": {}},
            "vnets": {"va": {"subscription": "a", "address_space": ["10.0.0.0/24"]},
                      "vb": {"subscription": "b", "address_space": ["10.1.0.0/24"]}}}
    reserved: list[str] = []
    slept: list[float] = []
    burst = 3  # fewer than one subscription's list calls: the rest wait

    def reserve(self, bucket):
        reserved.append(bucket)
        return max(reserved.count(bucket) - burst, 0) * 0.001

    monkeypatch.setattr(ReadBudget, "reserve", reserve)
    monkeypatch.setattr(policies, "pause", slept.append)
    with FakeArm(spec) as fake:
        snapshot = collect(CollectScope(all_subscriptions=True), StaticTokenCredential(), source="arm",
                           base_url_override=fake.base_url, transport_kwargs={"connection_verify": fake.ca_file})
        sent = len(fake.requests)
    assert {v.name for v in snapshot.virtual_networks} == {"va", "vb"}
    assert len(reserved) == sent  # every request, discovery included
    assert set(reserved) == {TENANT, guid("subscription", "a"), guid("subscription", "b")}
    per_subscription = reserved.count(guid("subscription", "a"))
    assert sorted(slept) == sorted([0.001 * n for n in range(1, per_subscription - burst + 1)] * 2)


def test_a_wait_ends_when_the_scan_gives_up_on_the_call():
    """Ctrl-C or the deadline must not wait for a thread held by the budget."""
    clock = CallClock(Limits(), None)
    with deadlines.running(clock):
        timer = threading.Timer(0.05, clock.end, [Interrupted("interrupted")])
        timer.start()
        started = time.monotonic()
        with pytest.raises(Interrupted):
            deadlines.pause(60)
    assert time.monotonic() - started < 30
