"""Safe to run unattended: tokens stay on the endpoint, paging ends, one bad answer stays one coverage error.

Against the loopback fake ARM (fakes/fakearm.py) with the real SDK clients.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from auditor.input.collect import CollectScope, collect
from auditor.input.collect.auth import StaticTokenCredential
from auditor.input.collect.paging import PageGuard
from auditor.input.synthetic import guid
from auditor.model.snapshot import CoverageStatus
from fakes.fakearm import FakeArm, Fault

SUBS = ["prod", "dev", "shared"]
FAST = {"retry_total": 1, "retry_backoff_factor": 0.01, "retry_backoff_max": 0.05, "read_timeout": 5}


def sub_id(name: str) -> str:
    return guid("subscription", name)


def spec() -> dict:
    vnets = {
        f"vnet-{s}-{i}": {"subscription": s, "address_space": [f"10.{n}.{i}.0/24"]}
        for n, s in enumerate(SUBS)
        for i in range(4)
    }
    return {"subscriptions": {s: {"name": s.title()} for s in SUBS}, "vnets": vnets}


@pytest.fixture
def fake():
    with FakeArm(spec(), page_size=3, graph_page_size=5) as server:
        yield server


def run(server: FakeArm, source: str = "arm", concurrency: int = 4, limits=None, **transport):
    return collect(
        CollectScope(subscriptions=[sub_id(s) for s in SUBS]),
        StaticTokenCredential(),
        source=source,
        concurrency=concurrency,
        base_url_override=server.base_url,
        limits=limits,
        transport_kwargs={"connection_verify": server.ca_file, **FAST, **transport},
    )


def coverage(snapshot) -> dict:
    names = {sub_id(s): s for s in SUBS}
    return {names[s.subscription_id]: s for s in snapshot.subscriptions}


def vnets_of(snapshot, sub: str) -> list[str]:
    return sorted(v.name for v in snapshot.virtual_networks if v.subscription_id == sub_id(sub))


class Listener:
    """A plain HTTP server on another loopback port: counts what arrives (nothing should)."""

    def __init__(self):
        hits = self.hits = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append((self.path, self.headers.get("Authorization")))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, scheme: str = "https") -> str:
        return f"{scheme}://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# -- 1. tokens go only to the cloud's own endpoint -------------------------------------------


@pytest.mark.parametrize("where", ["other-port", "other-host", "http"])
def test_next_link_to_another_endpoint_is_refused_and_the_subscription_is_partial(fake, where):
    listener = Listener()
    try:
        port = fake.base_url.rsplit(":", 1)[1]
        link = {
            "other-port": listener.url(),
            "other-host": f"https://localhost:{port}",
            "http": f"http://127.0.0.1:{port}",
        }[where] + f"/subscriptions/{sub_id('dev')}/x?$skiptoken=3"
        fake.add_fault(Fault("next_link", link=link, subscription=sub_id("dev"), path="virtualNetworks$"))
        snapshot = run(fake)
    finally:
        listener.close()
    assert listener.hits == []  # no request, so no token, went there
    assert [r.path for r in fake.requests_for("/x$")] == []
    cov = coverage(snapshot)
    assert cov["dev"].status == CoverageStatus.partial
    assert [(e.scope, e.code) for e in cov["dev"].errors] == [("virtualNetworks", "UntrustedNextLink")]
    assert vnets_of(snapshot, "dev") == ["vnet-dev-0", "vnet-dev-1", "vnet-dev-2"]  # the first page is kept
    assert cov["prod"].status == cov["shared"].status == CoverageStatus.complete


def test_page_guard_compares_scheme_host_and_port():
    guard = PageGuard("https://management.azure.com")
    assert guard.next_link("https://MANAGEMENT.azure.com:443/subscriptions?$skiptoken=1")
    assert guard.next_link("/subscriptions?$skiptoken=2")  # relative: the endpoint's own
    for link in (
        "https://management.azure.com.evil.example/x",
        "https://management.azure.com:8443/x",
        "http://management.azure.com/x",
        "https://user@evil.example/x",
        "//evil.example/x",
    ):
        with pytest.raises(Exception, match="nextLink leads to"):
            guard.next_link(link)


# -- 2. paging always ends ---------------------------------------------------------------------


def test_a_repeating_next_link_stops_the_call(fake):
    fake.add_fault(Fault("repeat", subscription=sub_id("prod"), path="virtualNetworks$"))
    snapshot = run(fake)
    cov = coverage(snapshot)
    assert [(e.scope, e.code) for e in cov["prod"].errors] == [("virtualNetworks", "PagingDidNotTerminate")]
    assert "paging did not terminate" in cov["prod"].errors[0].message
    assert cov["prod"].status == CoverageStatus.partial
    assert len(fake.requests_for("virtualNetworks$", subscription=sub_id("prod"))) == 2
    assert cov["dev"].status == CoverageStatus.complete


def test_a_repeating_skip_token_stops_the_query(fake):
    fake.add_fault(Fault("repeat", path="ResourceGraph"))
    snapshot = run(fake, source="graph")
    assert {(e.scope, e.code) for s in snapshot.subscriptions for e in s.errors} == {
        ("resourceGraph", "PagingDidNotTerminate")
    }
    assert len(fake.requests_for("ResourceGraph")) == 2
    assert all(s.status == CoverageStatus.partial for s in snapshot.subscriptions)


def test_more_pages_than_the_cap_stop_the_call(fake, monkeypatch):
    from auditor.input.collect import paging

    monkeypatch.setattr(paging, "MAX_PAGES", 2)  # 4 VNets at 3 a page is 2 pages: still fine
    fake.page_size = 1  # now 4 pages
    snapshot = run(fake)
    codes = {(e.scope, e.code) for e in coverage(snapshot)["dev"].errors}
    assert ("virtualNetworks", "PagingDidNotTerminate") in codes
    assert len(fake.requests_for("virtualNetworks$", subscription=sub_id("dev"))) == 2


# -- 3. fault isolation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"<html>busy</html>",
        b')]}\'\n{"value": []}',
        b'["not", "a", "page"]',
        b'{"value": {"id": 1}}',
        b'{"value": [], "nextLink": 5}',
        b'{"value": ["x"]}',
    ],
)
def test_a_malformed_page_is_a_coverage_error(fake, body):
    fake.add_fault(Fault("body", body=body, subscription=sub_id("dev"), path="virtualNetworks$"))
    snapshot = run(fake)
    cov = coverage(snapshot)
    assert [(e.scope, e.code) for e in cov["dev"].errors] == [("virtualNetworks", "MalformedResponse")]
    assert cov["dev"].status == CoverageStatus.partial
    assert cov["prod"].status == cov["shared"].status == CoverageStatus.complete
    assert len(vnets_of(snapshot, "prod")) == 4


@pytest.mark.parametrize("source", ["arm", "graph"])
@pytest.mark.parametrize("bad", ["prefix-type", "subnets-type"])
def test_a_resource_the_validation_refuses_is_a_coverage_error(fake, source, bad):
    vnet = fake.estate.by_kind[(sub_id("dev"), "virtualnetworks")][1]
    if bad == "prefix-type":
        vnet["properties"]["addressSpace"]["addressPrefixes"] = [42]
    else:
        vnet["properties"]["subnets"] = "app"
    snapshot = run(fake, source=source)
    cov = coverage(snapshot)
    assert [e.code for e in cov["dev"].errors] == ["InvalidResource"]
    assert cov["dev"].errors[0].scope == ("virtualNetworks" if source == "arm" else "resourceGraph")
    assert "vnet-dev-1" in cov["dev"].errors[0].message
    assert cov["dev"].status == CoverageStatus.partial
    assert vnets_of(snapshot, "dev") == ["vnet-dev-0", "vnet-dev-2", "vnet-dev-3"]
    assert cov["prod"].status == cov["shared"].status == CoverageStatus.complete
    assert len(vnets_of(snapshot, "prod")) == 4


# -- 4. deadlines ---------------------------------------------------------------------------------


def timed(server, concurrency: int = 4, transport: dict | None = None, **limits):
    from auditor.input.collect import Limits

    started = time.monotonic()
    snapshot = run(server, concurrency=concurrency, limits=Limits(**limits), **(transport or {}))
    return snapshot, time.monotonic() - started


def test_a_trickling_answer_is_cut_at_the_call_timeout(fake):
    # one byte every 0.2 s: every socket read returns well within read_timeout (5 s), the page never ends
    fake.add_fault(Fault("trickle", seconds=0.2, subscription=sub_id("dev"), path="networkSecurityGroups$"))
    snapshot, elapsed = timed(fake, call_timeout=1.5)
    cov = coverage(snapshot)
    assert [(e.scope, e.code) for e in cov["dev"].errors] == [("networkSecurityGroups", "Timeout")]
    assert "--call-timeout 1.5 s" in cov["dev"].errors[0].message
    assert cov["dev"].status == CoverageStatus.partial and len(vnets_of(snapshot, "dev")) == 4
    assert cov["prod"].status == cov["shared"].status == CoverageStatus.complete
    assert elapsed < 4


def test_a_hang_is_cut_at_the_call_timeout_not_the_read_timeout(fake):
    fake.add_fault(Fault("hang", seconds=20, subscription=sub_id("dev"), path="routeTables$"))
    snapshot, elapsed = timed(fake, call_timeout=1)
    assert [(e.scope, e.code) for e in coverage(snapshot)["dev"].errors] == [("routeTables", "Timeout")]
    assert elapsed < 4  # read_timeout is 5 s and there is one retry: without the deadline, 10 s


def test_max_duration_writes_what_finished(fake):
    fake.add_fault(Fault("hang", seconds=20, subscription=sub_id("shared")))
    # enough threads that the hung calls do not hold every one (the per-call timeout is off here)
    snapshot, elapsed = timed(fake, concurrency=12, call_timeout=None, max_duration=1.5)
    cov = coverage(snapshot)
    assert elapsed < 4
    assert cov["shared"].status == CoverageStatus.failed
    assert {e.code for e in cov["shared"].errors} == {"Timeout"}
    assert "--max-duration" in cov["shared"].errors[0].message
    assert cov["prod"].status == cov["dev"].status == CoverageStatus.complete
    assert len(vnets_of(snapshot, "prod")) == 4


def test_retry_after_is_honoured_but_capped(fake, monkeypatch):
    from auditor.input.collect import policies

    monkeypatch.setattr(policies, "RETRY_AFTER_MAX", 0.5)
    fake.add_fault(
        Fault(
            "status",
            status=429,
            retry_after=3600,
            times=1,
            subscription=sub_id("dev"),
            path="virtualNetworks$",
        )
    )
    snapshot, elapsed = timed(fake)
    assert all(s.status == CoverageStatus.complete for s in snapshot.subscriptions)
    throttled, retried = fake.requests_for("virtualNetworks$", subscription=sub_id("dev"))[:2]
    assert 0.4 <= retried.start - throttled.end < 2 and elapsed < 3


def test_retry_after_longer_than_the_call_timeout_is_cut_to_it(fake):
    fake.add_fault(
        Fault("status", status=429, retry_after=60, subscription=sub_id("dev"), path="virtualNetworks$")
    )
    snapshot, elapsed = timed(fake, transport={"retry_total": 5}, call_timeout=1)
    assert [(e.scope, e.code) for e in coverage(snapshot)["dev"].errors] == [("virtualNetworks", "Timeout")]
    assert len(fake.requests_for("virtualNetworks$", subscription=sub_id("dev"))) <= 2  # waited ~1 s, not 60
    assert elapsed < 20, "bounded by the call timeout, not the 60 s Retry-After (slack for a loaded machine)"


# -- 5. Ctrl-C ----------------------------------------------------------------------------------------


def cli(server: FakeArm, *args: str):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.Popen(
        [
            sys.executable,
            str(root / "tests" / "fake_endpoint_cli.py"),
            server.base_url,
            server.ca_file,
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )


def wait_for(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


@pytest.mark.parametrize("command", ["scan", "collect"])
def test_ctrl_c_writes_what_was_read_and_exits_130(fake, tmp_path, command):
    import json
    import signal

    fake.add_fault(Fault("hang", seconds=60, subscription=sub_id("shared")))
    subs = [arg for s in SUBS for arg in ("--subscription", sub_id(s))]
    out = (
        ["--out", str(tmp_path), "--format", "json"]
        if command == "scan"
        else ["--output", str(tmp_path / "snapshot.json")]
    )
    process = cli(fake, command, *subs, "--quiet", "--concurrency", "16", *out)
    def answered() -> tuple[int, ...]:
        return tuple(len([r for r in fake.requests_for("", subscription=sub_id(s)) if r.status == 200])
                     for s in ("prod", "dev"))

    try:  # prod and dev read (every call answered: none more for half a second), shared hanging
        wait_for(lambda: min(answered()) >= 5)
        seen = answered()
        for _ in range(60):  # at most 30 s
            time.sleep(0.5)
            if answered() == seen:
                break
            seen = answered()
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=10)
        elapsed = time.monotonic() - sent
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert len(stderr.splitlines()) == 1 and stderr.startswith("vnet-audit: interrupted: wrote"), stderr
    assert "2/3 subscriptions complete" in stderr
    assert elapsed < 3  # about a second, with room for a loaded machine
    snapshot = json.loads((tmp_path / "snapshot.json").read_text())
    status = {
        s["subscription_id"]: (s["status"], {e["code"] for e in s["errors"]})
        for s in snapshot["subscriptions"]
    }
    assert status == {
        sub_id("prod"): ("complete", set()),
        sub_id("dev"): ("complete", set()),
        sub_id("shared"): ("failed", {"Interrupted"}),
    }
    assert len(snapshot["virtual_networks"]) == 8
    if command == "scan":
        assert (tmp_path / "findings.json").is_file()


def test_a_second_ctrl_c_exits_at_once(tmp_path):
    import signal
    import subprocess
    import sys

    script = (
        "import threading, time\n"
        "from auditor.input.collect.interrupt import stop_on_sigint\n"
        "with stop_on_sigint(threading.Event()):\n"
        "    print('ready', flush=True)\n"
        "    time.sleep(60)  # a scan that does not stop\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "ready"
        process.send_signal(signal.SIGINT)
        time.sleep(0.2)
        assert process.poll() is None  # the first only asks the scan to stop
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=3) == 130
    finally:
        process.kill()


def test_a_call_cut_at_its_deadline_leaves_no_thread_behind(fake):
    """The trickling connection is shut at the deadline: the call's thread ends, it does not read on."""
    # a page of 3 VNets, ~1 kB, at a byte every 0.3 s: minutes; each read well within any read timeout
    fake.add_fault(Fault("trickle", seconds=0.3, subscription=sub_id("dev"), path="virtualNetworks$"))
    snapshot, elapsed = timed(fake, call_timeout=1)
    assert [e.code for e in coverage(snapshot)["dev"].errors] == ["Timeout"]
    wait_for(lambda: not [t for t in threading.enumerate() if t.name.startswith("collect_")], seconds=2)


def test_max_duration_holds_while_calls_keep_finishing():
    """Deadlines are looked at every tick even when some call finishes more often than that."""
    from auditor.input.collect import Limits

    subs = {f"s{n:02d}": {} for n in range(40)}
    vnets = {f"v{n}": {"subscription": f"s{n:02d}", "address_space": [f"10.{n}.0.0/24"]} for n in range(40)}
    with FakeArm({"subscriptions": subs, "vnets": vnets}, latency=0.2) as server:
        started = time.monotonic()  # 200 calls of 0.2 s, 8 at a time: 5 s, one finishing every 25 ms
        snapshot = collect(CollectScope(subscriptions=[guid("subscription", s) for s in subs]),
                           StaticTokenCredential(), concurrency=8, base_url_override=server.base_url,
                           transport_kwargs={"connection_verify": server.ca_file, **FAST},
                           limits=Limits(max_duration=1))
        elapsed = time.monotonic() - started
    assert elapsed < 2.5
    assert {e.code for s in snapshot.subscriptions for e in s.errors} == {"Timeout"}
    assert snapshot.virtual_networks  # what finished is kept
