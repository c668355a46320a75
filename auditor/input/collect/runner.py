"""What `vnet-audit scan` and `collect` do around `collect()`: demo, record/replay, progress."""

from __future__ import annotations

import sys
import tempfile
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, Iterator

import yaml

from auditor import terminal
from auditor.input.collect.auth import StaticTokenCredential
from auditor.input.collect.deadlines import Limits
from auditor.input.collect.orchestrator import CollectScope, collect
from auditor.input.collect.throttling import DEFAULT_CONCURRENCY
from auditor.errors import InputError
from auditor.model.snapshot import Snapshot

DEMO_SPEC = Path(__file__).resolve().parents[2] / "demo" / "estate.yaml"
REPO_CASSETTES = Path(__file__).resolve().parents[3] / "cassettes"


def demo_spec() -> dict:
    return yaml.safe_load(DEMO_SPEC.read_text(encoding="utf-8"))


def demo_cassette(source: str, stack: ExitStack) -> Path:
    """The bundled demo cassette (cassettes/demo-<source>.yaml); regenerated from the estate when not shipped."""
    bundled = REPO_CASSETTES / f"demo-{source}.yaml"
    if bundled.is_file():
        return bundled
    from auditor.input.collect.generate import write_cassettes

    out = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vnet-audit-demo-")))
    write_cassettes(demo_spec(), out, "demo")
    return out / f"demo-{source}.yaml"


@contextmanager
def progress_reporter(enabled: bool) -> Iterator[Any]:
    """A rich progress bar on stderr (subscriptions done/total, resources read) on a terminal, or None."""
    if not enabled or not terminal.progress(sys.stderr):
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(TextColumn("collecting"), BarColumn(), MofNCompleteColumn(), TextColumn("subscriptions, {task.fields[resources]} resources"),
                  TimeElapsedColumn(), console=Console(stderr=True, no_color=not terminal.colour(sys.stderr)),
                  transient=True) as bar:
        task = bar.add_task("collect", total=None, resources=0)

        def update(event: str, **counts: Any) -> None:
            if event == "subscriptions":
                bar.update(task, total=counts["total"])
            elif event == "subscription_done":
                bar.advance(task)
            elif event == "call":
                bar.update(task, resources=counts.get("resources", 0))

        yield update


def run_collection(scope: CollectScope, *, source: str = "arm", cloud: str = "AzureCloud", concurrency: int = DEFAULT_CONCURRENCY,
                   demo: bool = False, record: Path | None = None, replay: Path | None = None, quiet: bool = False,
                   transport_kwargs: dict | None = None, limits: Limits | None = None) -> Snapshot:
    if sum(bool(x) for x in (demo, record, replay)) > 1:
        raise InputError("--demo, --record and --replay exclude each other")
    credential = None
    with ExitStack() as stack:
        if demo:
            from auditor.input.collect.generate import scope_of

            if not scope.is_empty():
                raise InputError("--demo replays its own scope; drop --subscription/--tenant/--all-subscriptions/--management-group")
            scope = scope_of(demo_spec())
            replay = demo_cassette(source, stack)
        if replay is not None:
            from auditor.input.collect.cassettes import replaying

            stack.enter_context(replaying(replay))
            credential = StaticTokenCredential()
            transport_kwargs = {"retry_backoff_factor": 0.01, **(transport_kwargs or {})}
        elif record is not None:
            from auditor.input.collect.cassettes import recording

            stack.enter_context(recording(record))
        if replay is not None or record is not None:
            from auditor.input.collect.cassettes import VCR_CONCURRENCY

            concurrency = VCR_CONCURRENCY
        progress = stack.enter_context(progress_reporter(not quiet))
        snapshot = collect(scope, credential, source=source, cloud=cloud, concurrency=concurrency,
                           transport_kwargs=transport_kwargs, progress=progress, limits=limits)
    if demo:
        snapshot.metadata.source = "demo"
        snapshot.metadata.inputs = [f"demo-{source}.yaml"]
    return snapshot
