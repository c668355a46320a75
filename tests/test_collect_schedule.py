"""The collection's scheduling: threads shared fairly across subscriptions; reads start as discovery finds
subscriptions (for a source that reads per subscription)."""

from __future__ import annotations

import pytest

from auditor.input.collect import CollectScope, collect
from auditor.input.collect.auth import StaticTokenCredential
from auditor.input.collect.calls import Call
from auditor.input.collect.waiting import FAIR_SHARE, Waiting
from auditor.input.synthetic import guid
from fakes.fakearm import FakeArm

def _calls(sub: str, n: int) -> list[Call]:
    return [Call(f"{sub}-{k}", [sub], lambda sink: None) for k in range(n)]


def test_calls_start_in_order_while_every_subscription_is_under_its_share():
    waiting = Waiting()
    for call in _calls("a", 3) + _calls("b", 3):
        waiting.add(call)
    assert [waiting.take().scope for _ in range(6)] == ["a-0", "a-1", "a-2", "b-0", "b-1", "b-2"]


def test_a_subscription_with_many_calls_leaves_threads_to_the_others():
    waiting = Waiting()
    for call in _calls("big", 3 * FAIR_SHARE) + _calls("small", 2):
        waiting.add(call)
    taken = [waiting.take() for _ in range(FAIR_SHARE + 2)]
    assert [c.scope for c in taken[FAIR_SHARE:]] == ["small-0", "small-1"]
    # with no one else waiting, the big one gets every thread there is
    assert waiting.take().scope == f"big-{FAIR_SHARE}"
    waiting.finished(taken[0])
    assert waiting.running[("big",)] == FAIR_SHARE and len(waiting) == 2 * FAIR_SHARE - 1


# -- discovery -----------------------------------------------------------------------------

SPEC = {"subscriptions": {f"s{n}": {} for n in range(4)},
        "vnets": {f"v{n}": {"subscription": f"s{n}", "address_space": [f"10.{n}.0.0/24"]} for n in range(4)}}


@pytest.mark.parametrize("source, streams", [("arm", True), ("graph", False)])
def test_reads_start_as_discovery_finds_subscriptions(source, streams):
    """ARM reads each subscription on its own: the first page's start before the listing's last page;
    Resource Graph batches them, so it waits for the whole list."""
    import azure.mgmt.network  # noqa: F401  (imported now: loading it takes longer than a page)

    with FakeArm(SPEC, page_size=1, latency=0.1) as fake:  # one subscription a page
        snapshot = collect(CollectScope(all_subscriptions=True), StaticTokenCredential(), source=source,
                           base_url_override=fake.base_url, transport_kwargs={"connection_verify": fake.ca_file})
        log = list(fake.requests)
    assert {v.name for v in snapshot.virtual_networks} == {f"v{n}" for n in range(4)}
    last_page = max(r.start for r in log if r.path.lower() == "/subscriptions")
    first_read = min(r.start for r in log if r.path.lower() != "/subscriptions" and r.path.lower() != "/tenants")
    assert (first_read < last_page) is streams
    assert {r.subscription for r in log if "virtualnetworks" in r.path.lower()} <= {guid("subscription", f"s{n}")
                                                                                   for n in range(4)}
