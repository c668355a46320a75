"""Run a collection: discover subscriptions, run every list call with bounded concurrency, build the snapshot."""

from __future__ import annotations

import getpass
import logging
import queue
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

from auditor import __version__
from auditor.errors import InputError
from auditor.gc_pause import gc_paused
from auditor.input.builder import SnapshotBuilder
from auditor.input.collect import arm, deadlines, graph, raw
from auditor.input.collect.auth import Cloud, credential_factory, identity_of
from auditor.input.collect.auth import cloud as cloud_named
from auditor.input.collect.calls import Call, Found, Sink
from auditor.input.collect.deadlines import CallClock, Limits
from auditor.input.collect.errors import (
    CallStopped,
    CollectFailed,
    Interrupted,
    describe,
    is_login_failure,
    login_hint,
)
from auditor.input.collect.policies import client_kwargs
from auditor.input.collect.session import http_session
from auditor.input.collect.sources import SOURCES, choices
from auditor.input.collect.throttling import DEFAULT_CONCURRENCY
from auditor.input.collect.waiting import Waiting
from auditor.model.ids import subscription_of
from auditor.model.snapshot import (
    CollectionError,
    CoverageStatus,
    ScanMetadata,
    Snapshot,
)

log = logging.getLogger(__name__)
TICK = 0.1  # seconds between looks at the calls' deadlines and the stop event
FOUND = object()  # discovery found a subscription
_TRANSIENT = {"Timeout", "Interrupted",  # cut short by the scan, not refused by Azure
              "ConnectionError", "429", "TooManyRequests", "500", "502", "503", "504", "InternalServerError"}
Progress = Callable[..., None]  # progress(event, **counts); events: "subscriptions", "call", "subscription_done"


@dataclass
class CollectScope:
    """What to read. Subscriptions from all four selectors are merged (case-insensitively)."""

    subscriptions: list[str] = field(default_factory=list)
    all_subscriptions: bool = False  # every subscription the identity sees in its home tenant
    tenants: list[str] = field(default_factory=list)  # a credential bound to each; its subscriptions discovered
    management_groups: list[str] = field(default_factory=list)  # subscriptions under them, via Resource Graph

    def is_empty(self) -> bool:
        return not (self.subscriptions or self.all_subscriptions or self.tenants or self.management_groups)


@dataclass
class _Coverage:
    calls: int = 0
    failed: int = 0
    pending: int = 0
    read: int = 0
    errors: list[CollectionError] = field(default_factory=list)


class _Run:
    def __init__(self, scope: CollectScope, credential: Any, source: str, cloud: Cloud, concurrency: int,
                 base_url: str | None, transport_kwargs: dict | None, progress: Progress | None,
                 limits: Limits | None = None):
        self.scope, self.source, self.cloud = scope, source, cloud
        self.credentials = credential_factory(credential, cloud)
        self.concurrency = max(1, int(concurrency))
        self.progress = progress or (lambda event, **counts: None)
        self.limits = limits or Limits()
        duration = self.limits.max_duration
        self.scan_deadline = None if duration is None else time.monotonic() + duration
        kwargs = dict(transport_kwargs or {})
        self.page_size = int(kwargs.pop("graph_page_size", graph.PAGE))
        if "transport" not in kwargs and "session" not in kwargs:
            kwargs.update(session=http_session(self.concurrency), session_owner=False)
        self.clients = arm.ArmClients(cloud, base_url, client_kwargs(kwargs))
        self.found = Found()
        self.tenant_of: dict[str, str | None] = {}  # subscription -> tenant whose credential reads it
        self.coverage: dict[str, _Coverage] = {}
        # discovery wakes the scheduler with each subscription it finds: a source that reads per
        # subscription starts on it at once, not after the last page of the listing
        self.finished: queue.SimpleQueue = queue.SimpleQueue()  # futures as they complete, and FOUND
        self.streams = SOURCES[source].per_subscription
        # resources are normalized by one thread as they arrive, while the calls wait on the network
        self.builder = SnapshotBuilder(latest_wins=True)
        self.incoming: queue.SimpleQueue = queue.SimpleQueue()
        self.rejected: list[tuple[Call, Any, Exception]] = []  # (call, resource, why), by the normalizer
        self.read_from: set[str] = set()  # subscriptions at least one resource was read from
        self.resources = 0
        self.lock = threading.Lock()

    # -- discovery ------------------------------------------------------------------
    def discovery_calls(self) -> list[Call]:
        calls: list[Call] = []

        def listing(tenant: str | None, rest: list[str | None]) -> Call:
            def run(sink: Sink) -> list[Call]:
                for sub in self.subscriptions_list("build_subscriptions_list_request", tenant):
                    self.note(sub, tenant)
                # tenants one after another: replayed cassettes tell them apart only by order
                return [listing(rest[0], rest[1:])] if rest else []
            return Call("subscriptions" + (f":{tenant}" if tenant else ""), [], run, fatal=True)

        tenants: list[str | None] = ([None] if self.scope.all_subscriptions else []) + list(self.scope.tenants)
        if tenants:
            calls.append(listing(tenants[0], tenants[1:]))

        def tenant_names(sink: Sink) -> None:
            for t in self.subscriptions_list("build_tenants_list_request", None):
                self.found.tenants[t["tenantId"].lower()] = t

        calls.append(Call("tenants", [], tenant_names))
        for group in self.scope.management_groups:
            def under_group(sink: Sink, group: str = group) -> None:
                client = self.clients.shared("graph", self.credentials(None))
                for row in graph.query_pages(client, graph.SUBSCRIPTIONS_QUERY, management_groups=[group]):
                    self.note({"subscriptionId": row["subscriptionId"], "tenantId": row.get("tenantId"),
                               "displayName": row.get("name"), "state": (row.get("properties") or {}).get("state")}, None)
            calls.append(Call(f"managementGroup:{group}", [], under_group, fatal=True))
        return calls

    def subscriptions_list(self, builder: str, tenant: str | None) -> Any:
        """GET /subscriptions or /tenants through the subscription client's pipeline, as REST JSON."""
        from azure.mgmt.resource.subscriptions.operations import _operations

        client = self.clients.shared("subscriptions", self.credentials(tenant))
        api_version = client._config.api_version
        request = getattr(_operations, builder)(api_version=api_version)
        return raw.pages(client, request, endpoint=self.clients.endpoint, api_version=api_version)

    def note(self, sub: dict, tenant: str | None) -> None:
        with self.lock:
            key = sub["subscriptionId"].lower()
            found = key not in self.found.subscriptions
            known = self.found.subscriptions.setdefault(key, {})
            known.update({k: v for k, v in sub.items() if v is not None})
            self.tenant_of.setdefault(key, tenant)
        if found and self.streams:
            self.finished.put(FOUND)

    def explicit_calls(self) -> list[Call]:
        """Explicit subscriptions: their metadata (GET), in parallel with their lists."""
        tenant = self.scope.tenants[0] if len(self.scope.tenants) == 1 else None
        calls = []
        for sid in self.scope.subscriptions:
            key = sid.lower()
            self.tenant_of.setdefault(key, tenant)

            def get(sink: Sink, sid: str = sid) -> None:
                from azure.mgmt.resource.subscriptions.operations._operations import (
                    build_subscriptions_get_request,
                )

                tenant = self.tenant_of[sid.lower()]
                client = self.clients.shared("subscriptions", self.credentials(tenant))
                self.note(raw.get(client, build_subscriptions_get_request(sid, api_version=client._config.api_version)), tenant)
            calls.append(Call("subscription", [key], get))
        return calls

    # -- reading --------------------------------------------------------------------
    def read_calls(self, subscription_ids: list[str]) -> list[Call]:
        """The source's calls, for the subscriptions of each credential (tenant)."""
        reader = SOURCES[self.source].load()
        by_tenant: dict[str | None, list[str]] = {}
        for sid in subscription_ids:
            by_tenant.setdefault(self.tenant_of.get(sid), []).append(sid)
        return [call for tenant, sids in by_tenant.items()
                for call in reader.read_calls(self.clients, self.credentials(tenant), sids, self.page_size)]

    # -- the loop -------------------------------------------------------------------
    def run(self) -> Snapshot:
        explicit = [s.lower() for s in dict.fromkeys(s.lower() for s in self.scope.subscriptions)]
        self.scope.subscriptions = explicit
        for sid in explicit:
            self.coverage[sid] = _Coverage()
        discovery = self.discovery_calls()
        # reads first: the pool takes calls in order, and a Graph batch is a long chain of pages
        first = discovery + self.read_calls(explicit) + self.explicit_calls()
        self.progress("subscriptions", total=len(explicit))
        log.info("%d subscriptions given, %d discovery calls", len(explicit), len(discovery))
        normalizer = threading.Thread(target=self.normalize_incoming, name="collect-normalize", daemon=True)
        normalizer.start()
        try:
            self.schedule(first, launch_after_discovery=any(c.fatal for c in discovery))
        finally:
            self.incoming.put(None)
            normalizer.join()
        return self.build()

    def schedule(self, first: list[Call], launch_after_discovery: bool) -> None:
        """Run the calls and their follow-ups on the pool; read discovered subscriptions as discovery finds
        them (a source that reads per subscription) or once it is done (one that batches them).

        A call still running at its deadline (or when the scan is stopped) is recorded as timed out
        (or interrupted) and no longer waited for; its thread is told through its clock. Calls wait
        for a thread in `waiting` (see auditor.input.collect.waiting): the pool holds running calls only.
        """
        finished = self.finished
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="collect")
        pending: dict[Future, tuple[Call, CallClock]] = {}
        waiting = Waiting()
        discovering = 0

        def submit(call: Call) -> None:
            nonlocal discovering
            discovering += call.fatal
            for sid in call.subscription_ids:
                cov = self.coverage.setdefault(sid, _Coverage())
                cov.calls += 1
                cov.pending += 1
            waiting.add(call)

        def start_waiting() -> None:
            while waiting and len(pending) < self.concurrency:
                call = waiting.take()
                log.info("reading %s%s", call.scope, _which(call.subscription_ids))
                clock = CallClock(self.limits, self.scan_deadline, self.clients.kwargs.get("read_timeout"))
                future = pool.submit(self.execute, call, clock)
                pending[future] = call, clock
                future.add_done_callback(finished.put)

        def done(call: Call, error: BaseException | None) -> None:
            nonlocal discovering
            discovering -= call.fatal
            for sid in call.subscription_ids:
                cov = self.coverage[sid]
                cov.pending -= 1
                if error is not None:
                    cov.failed += 1
                    code, message = describe(error)
                    cov.errors.append(CollectionError(scope=call.scope, code=code, message=message))
                if cov.pending == 0:
                    log.info("subscription %s read: %d calls, %d failed", sid, cov.calls, cov.failed)
                    self.progress("subscription_done", subscription_id=sid)

        def read_found() -> None:
            """Read the subscriptions discovery has found so far."""
            with self.lock:  # discovery may be noting more
                found = sorted(self.found.subscriptions)
            new = [s for s in found if s not in self.coverage]
            for sid in new:
                self.coverage[sid] = _Coverage()
            self.progress("subscriptions", total=len(self.coverage))
            for nxt in self.read_calls(new):
                submit(nxt)

        def give_up(call: Call, reason: CallStopped) -> None:
            if call.fatal and not self.limits.stop.is_set():
                raise CollectFailed(f"{call.scope}: {reason}")
            done(call, reason)

        def sweep() -> None:
            """Every tick, however busy: deadlines and Ctrl-C."""
            now = time.monotonic()
            for overdue, (call, clock) in list(pending.items()):
                if (reason := clock.overdue(now)) is not None:
                    clock.end(reason)
                    overdue.cancel()
                    del pending[overdue]
                    waiting.finished(call)
                    give_up(call, reason)
            # calls not started yet end with the scan only (their own deadline starts with them)
            if waiting and (reason := CallClock(self.limits, self.scan_deadline).overdue(now)) is not None:
                for call in waiting.clear():
                    give_up(call, reason)

        try:
            for call in first:
                submit(call)
            start_waiting()
            next_sweep = time.monotonic() + TICK
            while pending or waiting:
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + TICK
                    sweep()
                    start_waiting()
                    continue
                try:
                    future = finished.get(timeout=max(next_sweep - time.monotonic(), 0.001))
                except queue.Empty:
                    continue
                if future is FOUND:
                    if launch_after_discovery and not self.limits.stop.is_set():
                        read_found()
                        start_waiting()
                    continue
                if future not in pending:  # a call given up on
                    continue
                call, clock = pending.pop(future)
                waiting.finished(call)
                follow, error = future.result()
                if error is not None and (is_login_failure(error) or call.fatal):
                    raise CollectFailed(login_hint(error) if is_login_failure(error) else f"{call.scope}: {describe(error)[1]}")
                done(call, error)
                for nxt in follow:
                    submit(nxt)
                self.progress("call", scope=call.scope, resources=self.resources)
                if discovering == 0 and launch_after_discovery and not self.limits.stop.is_set():
                    # discovery done: read what it found
                    launch_after_discovery = False
                    read_found()
                start_waiting()
        finally:
            for _, clock in pending.values():
                clock.end(clock.ended or Interrupted("the scan stopped first"))
            pool.shutdown(wait=False, cancel_futures=True)  # a call given up on is not waited for

    def execute(self, call: Call, clock: CallClock) -> tuple[list[Call], BaseException | None]:
        sub = call.subscription_ids[0] if len(call.subscription_ids) == 1 else None
        tenant = self.tenant_of.get(sub) if sub else None

        def sink(resource: dict) -> None:
            if clock.ended is not None:  # given up on: what it reads now is not the scan's
                raise clock.ended
            self.incoming.put((resource, tenant, call))

        try:
            with deadlines.running(clock):
                clock.check()
                return list(call.run(sink) or []), None
        except Exception as exc:  # recorded as coverage; the collection goes on
            if describe(exc)[0] == "Timeout":  # azure-core's timeout at the call's deadline: say which
                return [], clock.ended or clock.overdue(time.monotonic() + TICK) or exc
            return [], exc

    # -- snapshot -------------------------------------------------------------------
    def normalize_incoming(self) -> None:
        while (item := self.incoming.get()) is not None:
            resource, tenant, call = item
            self.resources += 1
            try:
                self.builder.add(resource, origin=self.source, tenant_id=tenant)
                self.read_from.add((subscription_of(resource["id"]) or "").lower())
            except Exception as exc:  # one resource refused: its subscription's coverage says so
                self.rejected.append((call, resource, exc))

    def note_rejected(self) -> None:
        """Resources the input validation refused, as coverage errors of their subscription and call."""
        for call, resource, exc in self.rejected:
            rid = resource.get("id") if isinstance(resource, dict) else None
            sid = (subscription_of(rid) or "").lower() if isinstance(rid, str) else ""
            message = describe(exc)[1]
            if isinstance(rid, str) and rid not in message:
                message = f"{rid}: {message}"
            for key in [sid] if sid in call.subscription_ids else call.subscription_ids:
                self.coverage[key].errors.append(CollectionError(scope=call.scope, code="InvalidResource",
                                                                 message=message))

    def build(self) -> Snapshot:
        self.note_rejected()
        builder = self.builder
        for key, cov in sorted(self.coverage.items()):
            meta = self.found.subscriptions.get(key, {})
            status = CoverageStatus.complete
            if cov.errors:  # failed: nothing could be read, or the subscription itself is unreadable
                unreadable = cov.failed >= cov.calls or any(e.scope == "subscription" and e.code not in _TRANSIENT for e in cov.errors)
                status = CoverageStatus.failed if unreadable and key not in self.read_from else CoverageStatus.partial
            builder.note_subscription(
                meta.get("subscriptionId", key), meta.get("tenantId"), display_name=meta.get("displayName"),
                state=meta.get("state"), status=status, errors=sorted(cov.errors, key=lambda e: e.scope),
            )
        for tid, tenant in self.found.tenants.items():
            if tid in builder.tenants:
                builder.tenants[tid].display_name = tenant.get("displayName")
                builder.tenants[tid].default_domain = tenant.get("defaultDomain")
        home = self.scope.tenants[0] if self.scope.tenants and not self.scope.all_subscriptions else None
        run_by = identity_of(self.credentials(home), self.cloud.credential_scopes) or _user()
        metadata = ScanMetadata(tool_version=__version__, source=self.source, cloud=self.cloud.name, run_by=run_by,
                                inputs=sorted(self.coverage))
        return builder.build(metadata)


def _user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:
        return None


def _which(subscription_ids) -> str:
    """For the -v log: whose resources a call reads."""
    ids = list(subscription_ids)
    if len(ids) < 2:
        return f" in subscription {ids[0]}" if ids else ""
    return f" in {len(ids)} subscriptions"


def collect(scope: CollectScope, credential: Any = None, *, source: str = "arm", cloud: str = "AzureCloud",
            concurrency: int = DEFAULT_CONCURRENCY, base_url_override: str | None = None, transport_kwargs: dict | None = None,
            progress: Progress | None = None, limits: Limits | None = None) -> Snapshot:
    """Read the scope's network resources into a snapshot. See the package docstring."""
    if source not in SOURCES:
        raise InputError(f"unknown source {source!r}; choose {choices()}")
    if scope.is_empty():
        raise InputError("nothing to scan: give --subscription, --all-subscriptions, --tenant or --management-group")
    run = _Run(CollectScope(list(scope.subscriptions), scope.all_subscriptions, list(scope.tenants), list(scope.management_groups)),
               credential, source, cloud_named(cloud), concurrency, base_url_override, transport_kwargs,
               progress, limits)
    with gc_paused():
        return run.run()
