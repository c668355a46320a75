"""The `vnet-audit` command line."""

from __future__ import annotations

import getpass
import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from auditor import __version__, logs, terminal
from auditor.engine import (
    Evaluation,
    RuleLoadError,
    coverage_of,
    discover_rules,
    evaluate,
    incomplete_reason,
    select_rules,
)
from auditor.engine.limits import limited_line
from auditor.engine.rule import Severity
from auditor.engine.waivers import HORIZON_DAYS
from auditor.errors import InputError
from auditor.exit_status import (
    EXIT_FINDINGS,
    EXIT_INCOMPLETE,
    EXIT_OK,
    EXIT_USAGE,
    ExitPolicy,
    decide,
)
from auditor.input.collect import sources
from auditor.input.collect.interrupt import EXIT_INTERRUPTED, stop_on_sigint
from auditor.input.collect.throttling import DEFAULT_CONCURRENCY
from auditor.input.importer import load_snapshot
from auditor.model.snapshot import Snapshot
from reports import format_choices

app = typer.Typer(
    name="vnet-audit",
    help="Audit Azure VNet peering, routing, NSGs and gateways across subscriptions and tenants.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"vnet-audit {__version__}")
        raise typer.Exit()


QuietOpt = Annotated[bool, typer.Option(
    "--quiet", "-q", help="Errors only: no summary, progress or warnings (incomplete coverage is still named).")]


@app.callback()
def _top(
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                          help="Print the tool version and exit.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Say what is being read, per subscription.")]
    = False,
    debug: Annotated[bool, typer.Option("--debug", help="Also log the Azure credential chain and HTTP calls "
                                        "(secrets redacted).")] = False,
    log_format: Annotated[str, typer.Option("--log-format", help="Log lines as text, or json (one per line).")]
    = "text",
    quiet: QuietOpt = False,
) -> None:
    # the app's help is Typer(help=...); these options apply to every command
    if log_format not in logs.FORMATS:
        fail(f"--log-format must be {' or '.join(logs.FORMATS)}, not {log_format!r}")
    terminal.reset()
    terminal.set_quiet(quiet)
    logs.configure(verbose=verbose, debug=debug, log_format=log_format)


def say(line: str) -> None:
    """A note or warning on stderr; -q leaves it out."""
    if not terminal.state.quiet:
        typer.echo(line, err=True)


def output_or_out(output: Path, old_out: Path | None) -> Path:
    """-o/--output, or the deprecated --out when that was given. Its one-line warning comes with the
    summary, so that a usage error stays the one line on stderr."""
    if old_out is None:
        return output
    terminal.state.deferred.append("vnet-audit: warning: --out is deprecated; use -o/--output (same meaning)")
    return old_out


def quiet_now(flag: bool) -> bool:
    """The command's own -q, added to the top-level one; the log levels follow."""
    if flag and not terminal.state.quiet:
        terminal.set_quiet(True)
        logs.quieten()
    return terminal.state.quiet


def fail(message: str, code: int = EXIT_USAGE) -> None:
    typer.echo(f"vnet-audit: error: {message}", err=True)
    raise typer.Exit(code)


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for value in values or [] for v in value.split(",") if v.strip()]


def _formats(value: str, csv_bom: bool = False) -> list[str]:
    """The --format list, checked before anything is read or collected."""
    from reports import WRITERS

    formats = ["csv-excel" if f == "csv" and csv_bom else f for f in _split([value])]
    if unknown := [f for f in formats if f not in WRITERS]:
        fail(f"unknown --format {', '.join(unknown)}; choose from {format_choices()}")
    return formats


# -- shared options ------------------------------------------------------------------
# -o/--output is where a command's outputs go: a file for one, a directory for several
OldOutOpt = Annotated[Optional[Path], typer.Option("--out", hidden=True, help="Deprecated: -o/--output.")]
Inputs = Annotated[list[Path], typer.Argument(help="Snapshots or exports (Resource Graph, ARM list, az CLI JSON), mixed freely.", show_default=False)]
RulesOpt = Annotated[Optional[list[str]], typer.Option("--rules", help="Only these rules: ids or id globs (PEER*), or exact slugs; comma-separated or repeated.")]
SkipOpt = Annotated[Optional[list[str]], typer.Option("--skip-rules", help="Skip these rules: ids, id globs or exact slugs.")]
FailOnOpt = Annotated[Optional[Severity], typer.Option("--fail-on", help="Exit 1 when an unwaived finding is at or above this severity.", case_sensitive=False)]
IncompleteOpt = Annotated[bool, typer.Option("--fail-on-incomplete", help="Exit 3 when any subscription could not be read completely.")]
IntentsOpt = Annotated[Optional[Path], typer.Option(
    "--intents", help="YAML of flows that must be allowed (require) or denied (forbid), checked over every path in scope.")]
WaiversOpt = Annotated[Optional[Path], typer.Option("--waivers", help="Waiver file (YAML or JSON): rule, resource or fingerprint, justification, expires, owner.")]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help=f"Output formats, comma-separated: {format_choices()}.")]
BaselineOpt = Annotated[Optional[Path], typer.Option("--baseline", help="A previous findings.json: mark findings new or unchanged, list the resolved ones.")]
FailOnNewOpt = Annotated[Optional[Severity], typer.Option("--fail-on-new", help="Exit 1 when a new unwaived finding (not in --baseline) is at or above this severity.", case_sensitive=False)]
HistoryOpt = Annotated[Optional[Path], typer.Option(
    "--history", help="SQLite scan history: record this run and show the trend in the reports (scan: OUTPUT/history.sqlite).")]
NoHistoryOpt = Annotated[bool, typer.Option("--no-history", help="Record nothing in a scan history.")]
HistoryKeepOpt = Annotated[int, typer.Option("--history-keep", min=1, help="Keep only the last N runs in the history.")]
HistoryAgeOpt = Annotated[Optional[int], typer.Option("--history-max-age-days", min=1, help="Drop runs older than this from the history.")]
HorizonOpt = Annotated[int, typer.Option("--waiver-horizon-days", min=0, help="Warn about waivers that expire more than this many days ahead.")]


def load_intents(path: Path | None):
    """The --intents file, read before anything is collected or evaluated."""
    if path is None:
        return None
    from auditor.engine.intents import load_intents as load

    return load(path)


def run_rules(snapshot: Snapshot, rules: list[str] | None, skip: list[str] | None, waivers: Path | None,
              horizon_days: int = HORIZON_DAYS, intents=None) -> Evaluation:
    try:
        selected = select_rules(discover_rules(), _split(rules), _split(skip))
    except (ValueError, RuleLoadError) as exc:
        fail(str(exc))
    from auditor.engine.waivers import load_waivers

    waiver_file = load_waivers(waivers) if waivers is not None else None  # a bad file fails before the rules run
    result = evaluate(snapshot, selected, intents)
    if waiver_file is not None:
        waive(result, waiver_file, horizon_days)
    for error in result.errors:
        typer.echo(f"vnet-audit: rule {error.rule_id} failed: {error.error}", err=True)
    return result


def waive(result: Evaluation, waiver_file, horizon_days: int = HORIZON_DAYS) -> None:
    """Apply loaded waivers and say which expired, matched nothing, match everything or expire far ahead."""
    from auditor.engine.waivers import apply_waivers, warnings

    apply_waivers(result, waiver_file, horizon_days=horizon_days)
    for line in warnings(result):
        say(f"vnet-audit: warning: {line}")


def load_baseline(path: Path | None, fail_on_new: Severity | None) -> Evaluation | None:
    """The --baseline findings file (or the latest run of a history file), read before anything is
    collected or evaluated."""
    if path is None:
        if fail_on_new is not None:
            fail("--fail-on-new needs --baseline (a previous findings.json or a history file)")
        return None
    from auditor.history.store import is_history_file, last_scan

    if is_history_file(path):
        return last_scan(path)
    from auditor.engine.findings_file import load_findings

    return load_findings(path, "baseline findings file")


def keep_history(result: Evaluation, snapshot: Snapshot, path: Path | None, keep: int, max_age_days: int | None) -> None:
    """Record the run in the history file and give the reports its trend."""
    if path is None:
        return
    from auditor.history.store import Retention, record
    from auditor.history.trend import for_reports

    record(path, result, snapshot, Retention(keep, max_age_days))
    result.history = for_reports(path)


def record_threshold(result: Evaluation, fail_on: Severity | None) -> None:
    """The reports judge pass or fail by the run's --fail-on, when one was given."""
    if fail_on is not None:
        result.scan["fail_on"] = fail_on.value


def compare_baseline(result: Evaluation, previous: Evaluation | None, path: Path | None) -> None:
    if previous is not None:
        from auditor.engine.baseline import compare

        compare(result, previous, str(path))


def finish(result: Evaluation, policy: ExitPolicy) -> None:
    """Say in a few lines what was found and why the command exits as it does, then exit."""
    from reports.console import summary_lines

    code, reason = decide(result, policy)
    for line in [*terminal.state.deferred, *summary_lines(result, code, reason)]:
        say(line)
    raise typer.Exit(code)


def warn_incomplete(coverage: dict) -> None:
    """One line per incomplete subscription: which calls failed, grouped by error code (details are in the reports),
    and one per subscription whose input lacks types some rules read."""
    for sub in coverage.get("incomplete", []):
        reasons = incomplete_reason(sub)
        name = f"{sub['display_name']} ({sub['subscription_id']})" if sub.get("display_name") else sub["subscription_id"]
        # even with -q: an incomplete read is never silent
        typer.echo(f"vnet-audit: warning: subscription {name} is {sub['status']}: {reasons}", err=True)
    for sub in coverage.get("limited", []):
        typer.echo(f"vnet-audit: warning: subscription {limited_line(sub)}", err=True)


# -- commands --------------------------------------------------------------------------
@app.command("import")
def import_(
    inputs: Inputs,
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the snapshot.")] = Path("snapshot.json"),
    quiet: QuietOpt = False,
) -> None:
    """Merge offline exports (az CLI, Resource Graph, ARM REST) into one vnet-audit snapshot."""
    quiet_now(quiet)
    snapshot = load_snapshot(inputs, run_by=getpass.getuser())
    snapshot.write(output)
    skipped = sum(snapshot.metadata.skipped_resource_types.values())
    say(
        f"wrote {output}: {len(snapshot.virtual_networks)} VNets, "
        f"{sum(len(v.peerings) for v in snapshot.virtual_networks)} peerings, "
        f"{len(snapshot.network_security_groups)} NSGs, {len(snapshot.route_tables)} route tables, "
        f"{len(snapshot.subscriptions)} subscriptions" + (f"; skipped {skipped} resources of other types" if skipped else ""),
    )


@app.command("evaluate")
def evaluate_cmd(
    inputs: Inputs,
    format: FormatOpt = "json",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Output file (one format) or directory (several); stdout when omitted.")] = None,
    rules: RulesOpt = None,
    skip_rules: SkipOpt = None,
    fail_on: FailOnOpt = None,
    fail_on_incomplete: IncompleteOpt = False,
    waivers: WaiversOpt = None,
    waiver_horizon_days: HorizonOpt = HORIZON_DAYS,
    baseline: BaselineOpt = None,
    fail_on_new: FailOnNewOpt = None,
    history: HistoryOpt = None,
    history_keep: HistoryKeepOpt = 400,
    history_max_age_days: HistoryAgeOpt = None,
    intents: IntentsOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Run the rules over snapshots or exports and write findings."""
    quiet_now(quiet)
    formats = _formats(format)
    previous = load_baseline(baseline, fail_on_new)
    declared = load_intents(intents)
    snapshot = load_snapshot(inputs, run_by=getpass.getuser())
    result = run_rules(snapshot, rules, skip_rules, waivers, waiver_horizon_days, declared)
    compare_baseline(result, previous, baseline)
    keep_history(result, snapshot, history, history_keep, history_max_age_days)
    record_threshold(result, fail_on)
    from reports import write_outputs

    write_outputs(result, snapshot, formats, output)
    warn_incomplete(result.coverage)
    finish(result, ExitPolicy(fail_on, fail_on_new, fail_on_incomplete))


def _read_findings(path: Path) -> Evaluation | None:
    """A findings.json written by `evaluate --format json` -> its Evaluation, or InputError naming the
    file and the first bad field; any other input -> None (the snapshot loader reads it or says why not)."""
    if path.suffix.lower() != ".json" or not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None  # the snapshot loader reports unreadable files
    if not (isinstance(doc, dict) and "findings" in doc):
        return None  # a findings file is the one input with findings at its top
    from auditor.engine.findings_file import read_findings

    return read_findings(doc, str(path))


@app.command("report")
def report_cmd(
    inputs: Annotated[list[Path], typer.Argument(help="A findings.json, and/or snapshots or exports.", show_default=False)],
    format: FormatOpt = "html,csv",
    out: Annotated[Path, typer.Option("--output", "-o", help="Output directory (or a file for one format).")]
    = Path("vnet-audit-report"),
    old_out: OldOutOpt = None,
    csv_bom: Annotated[bool, typer.Option("--csv-bom", help="Write the CSV with a UTF-8 byte order mark, for Excel.")] = False,
    rules: RulesOpt = None,
    skip_rules: SkipOpt = None,
    fail_on: FailOnOpt = None,
    fail_on_incomplete: IncompleteOpt = False,
    waivers: WaiversOpt = None,
    waiver_horizon_days: HorizonOpt = HORIZON_DAYS,
    baseline: BaselineOpt = None,
    fail_on_new: FailOnNewOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Write reports for reviewers and pipelines (default: HTML and CSV).

    Given a findings.json (from `evaluate --format json`), re-render its findings as they are; add the snapshot or exports it came from to include the topology picture and the per-VNet view, which need the network data (without it the HTML says so).

    Given only snapshots or exports, evaluate them first with all rules (or --rules/--skip-rules) and --waivers.
    """
    from reports import write_outputs

    quiet_now(quiet)
    out = output_or_out(out, old_out)
    formats = _formats(format, csv_bom)
    previous = load_baseline(baseline, fail_on_new)
    found = [(p, _read_findings(p)) for p in inputs]
    evaluations = [(p, e) for p, e in found if e is not None]
    rest = [p for p, e in found if e is None]
    if len(evaluations) > 1:
        fail(f"give one findings file, got {len(evaluations)}: {', '.join(str(p) for p, _ in evaluations)}")
    snapshot = load_snapshot(rest, run_by=getpass.getuser()) if rest else None
    if evaluations:
        if rules or skip_rules:
            fail("--rules/--skip-rules apply when evaluating snapshots, not to a findings file")
        result = evaluations[0][1]
        if waivers is not None:
            from auditor.engine.waivers import load_waivers

            waive(result, load_waivers(waivers), waiver_horizon_days)
    else:
        result = run_rules(snapshot, rules, skip_rules, waivers, waiver_horizon_days)
    compare_baseline(result, previous, baseline)
    record_threshold(result, fail_on)
    for path in write_outputs(result, snapshot, formats, out):
        say(f"wrote {path}")
    warn_incomplete(result.coverage)
    finish(result, ExitPolicy(fail_on, fail_on_new, fail_on_incomplete))


# -- live collection (auditor.input.collect) --------------------------------------------------
SubscriptionOpt = Annotated[Optional[list[str]], typer.Option("--subscription", "-s", help="Subscription id to read (repeatable, or comma-separated).")]
AllSubsOpt = Annotated[bool, typer.Option("--all-subscriptions", help="Every subscription the identity can see.")]
TenantOpt = Annotated[Optional[list[str]], typer.Option("--tenant", help="Tenant id: read its subscriptions with a credential bound to it (repeatable).")]
MgmtGroupOpt = Annotated[Optional[list[str]], typer.Option("--management-group", help="Management group name: its subscriptions, found with Resource Graph (repeatable).")]
SourceOpt = Annotated[str, typer.Option("--source", help=sources.help_text())]
CloudOpt = Annotated[str, typer.Option("--cloud", help="AzureCloud, AzureUSGovernment or AzureChinaCloud.")]
ConcurrencyOpt = Annotated[int, typer.Option("--concurrency", min=1, max=256, help="Requests in flight, across subscriptions and list calls.")]
RecordOpt = Annotated[Optional[Path], typer.Option("--record", help="Record the HTTP interactions to this cassette (secrets scrubbed).")]
ReplayOpt = Annotated[Optional[Path], typer.Option("--replay", help="Replay a cassette instead of calling Azure (no login).")]
DemoOpt = Annotated[bool, typer.Option("--demo", help="Replay the bundled demo estate (no Azure account needed).")]
ReadTimeoutOpt = Annotated[float, typer.Option(
    "--read-timeout", min=1, help="Seconds one socket read may wait for data before the request is retried.")]
CallTimeoutOpt = Annotated[float, typer.Option(
    "--call-timeout", min=0.1,
    help="Seconds one list call may take, every page, retry and wait included; then it is recorded as timed out.")]
MaxDurationOpt = Annotated[Optional[float], typer.Option(
    "--max-duration", min=0.1, help="Seconds the whole collection may take; calls still running are recorded "
    "as timed out and what was read is written. Default: no limit.")]
RetriesOpt = Annotated[int, typer.Option("--retries", min=0, max=20, help="Retries per call on 429, 5xx and connection errors (azure-core policy).")]


def _collect(subscription, all_subscriptions, tenant, management_group, source, cloud, concurrency, record, replay, demo, quiet,
             read_timeout, retries, limits) -> Snapshot:
    from auditor.input.collect import CollectScope
    from auditor.input.collect.runner import run_collection

    if source not in sources.SOURCES:  # checked here too: --demo would otherwise look for a cassette first
        fail(f"--source must be {sources.choices()}, not {source!r}")
    scope = CollectScope(subscriptions=_split(subscription), all_subscriptions=all_subscriptions,
                         tenants=_split(tenant), management_groups=_split(management_group))
    if scope.is_empty() and not demo:
        fail("nothing to scan: give --subscription, --all-subscriptions, --tenant, --management-group, or --demo")
    snapshot = run_collection(scope, source=source, cloud=cloud, concurrency=concurrency, demo=demo, record=record,
                              replay=replay, quiet=quiet, transport_kwargs={"read_timeout": read_timeout, "retry_total": retries},
                              limits=limits)
    say(
        f"collected {len(snapshot.virtual_networks)} VNets, {len(snapshot.network_security_groups)} NSGs, "
        f"{len(snapshot.route_tables)} route tables, {len(snapshot.virtual_network_gateways)} gateways from "
        f"{len(snapshot.subscriptions) - len(snapshot.incomplete_subscriptions)}/{len(snapshot.subscriptions)} subscriptions"
        + (f" ({len(snapshot.incomplete_subscriptions)} incomplete)" if snapshot.incomplete_subscriptions else ""),
    )
    return snapshot


def interrupted(snapshot: Snapshot, written: Path) -> None:
    """After Ctrl-C: what was read is written; one line says so, and the exit code is 130."""
    done = len(snapshot.subscriptions) - len(snapshot.incomplete_subscriptions)
    total = len(snapshot.subscriptions)
    typer.echo(f"vnet-audit: interrupted: wrote {written} with {done}/{total} subscriptions complete; "
               "the others are marked incomplete", err=True)
    raise typer.Exit(EXIT_INTERRUPTED)


def _limits(call_timeout: float, max_duration: float | None):
    from auditor.input.collect.deadlines import Limits

    return Limits(call_timeout=call_timeout, max_duration=max_duration)


ConfigOpt = Annotated[Optional[Path], typer.Option(
    "--config", help="YAML file of scan options (scope, formats, out, baseline, fail_on ...); "
    "flags given override it.")]


def _with_config(ctx: typer.Context, params: dict) -> dict:
    """The scan's parameters: the --config file's values, except where a flag was given."""
    from auditor.config import load_config, scan_params

    from_file = scan_params(load_config(params["config"]))
    # by name: typer vendors click, and its ParameterSource enum is not public
    given = {name for name in params
             if getattr(ctx.get_parameter_source(name), "name", "") == "COMMANDLINE"}
    return {**params, **{k: v for k, v in from_file.items() if k not in given}}


@app.command("scan")
def scan_cmd(
    ctx: typer.Context,
    config: ConfigOpt = None,
    subscription: SubscriptionOpt = None,
    all_subscriptions: AllSubsOpt = False,
    tenant: TenantOpt = None,
    management_group: MgmtGroupOpt = None,
    source: SourceOpt = "arm",
    cloud: CloudOpt = "AzureCloud",
    concurrency: ConcurrencyOpt = DEFAULT_CONCURRENCY,
    out: Annotated[Path, typer.Option("--output", "-o", help="Directory for the reports and snapshot.json.")]
    = Path("vnet-audit-report"),
    old_out: OldOutOpt = None,
    format: FormatOpt = "html,csv,json",
    rules: RulesOpt = None,
    skip_rules: SkipOpt = None,
    fail_on: FailOnOpt = None,
    fail_on_incomplete: IncompleteOpt = False,
    waivers: WaiversOpt = None,
    waiver_horizon_days: HorizonOpt = HORIZON_DAYS,
    baseline: BaselineOpt = None,
    fail_on_new: FailOnNewOpt = None,
    history: HistoryOpt = None,
    no_history: NoHistoryOpt = False,
    history_keep: HistoryKeepOpt = 400,
    history_max_age_days: HistoryAgeOpt = None,
    intents: IntentsOpt = None,
    record: RecordOpt = None,
    replay: ReplayOpt = None,
    demo: DemoOpt = False,
    quiet: QuietOpt = False,
    read_timeout: ReadTimeoutOpt = 60,
    retries: RetriesOpt = 4,
    call_timeout: CallTimeoutOpt = 300,
    max_duration: MaxDurationOpt = None,
) -> None:
    """Read the estate from Azure (read-only), run the rules and write reports plus snapshot.json to -o."""
    quiet = quiet_now(quiet)
    params = {k: v for k, v in locals().items() if k != "ctx"}
    params = _with_config(ctx, params) if config is not None else params
    params["out"] = output_or_out(params["out"], params.pop("old_out"))
    _scan(**{k: v for k, v in params.items() if k != "config"})


def _scan(subscription, all_subscriptions, tenant, management_group, source, cloud, concurrency, out,
          format, rules, skip_rules, fail_on, fail_on_incomplete, waivers, waiver_horizon_days, baseline,
          fail_on_new, history, no_history, history_keep, history_max_age_days, intents, record, replay, demo,
          quiet, read_timeout, retries, call_timeout, max_duration) -> None:
    formats = _formats(format)
    history = None if no_history else history or out / "history.sqlite"
    previous = load_baseline(baseline, fail_on_new)
    declared = load_intents(intents)
    limits = _limits(call_timeout, max_duration)
    with stop_on_sigint(limits.stop):
        snapshot = _collect(subscription, all_subscriptions, tenant, management_group, source, cloud, concurrency,
                            record, replay, demo, quiet, read_timeout, retries, limits)
        result = run_rules(snapshot, rules, skip_rules, waivers, waiver_horizon_days, declared)
        compare_baseline(result, previous, baseline)
        from reports import write_outputs

        out.mkdir(parents=True, exist_ok=True)
        snapshot.write(out / "snapshot.json")
        keep_history(result, snapshot, history, history_keep, history_max_age_days)
        record_threshold(result, fail_on)
        written = write_outputs(result, snapshot, formats, out)
    if limits.stop.is_set():
        interrupted(snapshot, out)
    for path in [out / "snapshot.json", *written]:
        say(f"wrote {path}")
    warn_incomplete(result.coverage)
    finish(result, ExitPolicy(fail_on, fail_on_new, fail_on_incomplete))


@app.command("collect")
def collect_cmd(
    subscription: SubscriptionOpt = None,
    all_subscriptions: AllSubsOpt = False,
    tenant: TenantOpt = None,
    management_group: MgmtGroupOpt = None,
    source: SourceOpt = "arm",
    cloud: CloudOpt = "AzureCloud",
    concurrency: ConcurrencyOpt = DEFAULT_CONCURRENCY,
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the snapshot.")] = Path("snapshot.json"),
    fail_on_incomplete: IncompleteOpt = False,
    record: RecordOpt = None,
    replay: ReplayOpt = None,
    demo: DemoOpt = False,
    quiet: QuietOpt = False,
    read_timeout: ReadTimeoutOpt = 60,
    retries: RetriesOpt = 4,
    call_timeout: CallTimeoutOpt = 300,
    max_duration: MaxDurationOpt = None,
) -> None:
    """Read the estate from Azure (read-only) into a snapshot file, without evaluating it."""
    quiet = quiet_now(quiet)
    limits = _limits(call_timeout, max_duration)
    with stop_on_sigint(limits.stop):
        snapshot = _collect(subscription, all_subscriptions, tenant, management_group, source, cloud, concurrency,
                            record, replay, demo, quiet, read_timeout, retries, limits)
        snapshot.write(output)
    if limits.stop.is_set():
        interrupted(snapshot, output)
    warn_incomplete(coverage_of(snapshot))
    say(f"wrote {output}")
    raise typer.Exit(EXIT_INCOMPLETE if fail_on_incomplete and snapshot.incomplete_subscriptions else EXIT_OK)


@app.command("diff")
def diff_cmd(
    old: Annotated[Path, typer.Argument(help="The earlier snapshot or export.", show_default=False)],
    new: Annotated[Path, typer.Argument(help="The later snapshot or export.", show_default=False)],
    format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
    quiet: QuietOpt = False,
) -> None:
    """What changed between two snapshots: VNets, address spaces, peerings, NSG rules, routes, gateways and
    subscriptions. Exit 0 when nothing changed, 1 when something did (like diff(1)), 2 on error."""
    quiet_now(quiet)
    from auditor.model.diff import diff
    from reports.diff_report import as_json, as_text

    if format not in ("text", "json"):
        fail(f"--format must be text or json, not {format!r}")
    user = getpass.getuser()
    changes = diff(load_snapshot([old], run_by=user), load_snapshot([new], run_by=user))
    typer.echo((as_json if format == "json" else as_text)(changes), nl=False)
    raise typer.Exit(EXIT_FINDINGS if changes else EXIT_OK)


@app.command("reach")
def reach_cmd(
    inputs: Inputs,
    source: Annotated[str, typer.Option("--from", help="An IP, a NIC, a subnet (vnet/subnet or id), a VNet, or Internet.",
                                        show_default=False)],
    destination: Annotated[str, typer.Option("--to", help="The same kinds as --from.", show_default=False)],
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Destination port.")] = 443,
    protocol: Annotated[str, typer.Option("--protocol", help="tcp, udp, icmp or any.")] = "tcp",
    format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
) -> None:
    """Trace one flow hop by hop from the snapshot alone: routes, peerings, appliances, gateways and the
    filters (admin rules, NSGs) that decide it. Exit 0 allowed, 1 denied, 2 error, 3 unknown."""
    from auditor.analysis.endpoints import resolve
    from auditor.analysis.reach import trace
    from reports.reach_report import as_json, as_text

    if protocol.lower() not in ("tcp", "udp", "icmp", "any", "*"):
        fail(f"--protocol must be tcp, udp, icmp or any, not {protocol!r}")
    if format not in ("text", "json"):
        fail(f"--format must be text or json, not {format!r}")
    snapshot = load_snapshot(inputs, run_by=getpass.getuser())
    result = trace(snapshot, resolve(snapshot, source), resolve(snapshot, destination), protocol, port)
    typer.echo(as_json(result) if format == "json" else as_text(result))
    raise typer.Exit({"allowed": 0, "denied": 1, "unknown": 3}[result.verdict])


@app.command("history")
def history_cmd(
    path: Annotated[Path, typer.Argument(help="A history file written by scan or evaluate --history.", show_default=False)],
    format: Annotated[str, typer.Option("--format", "-f", help="text, json or csv.")] = "text",
    last: Annotated[int, typer.Option("--last", min=1, help="Runs to show.")] = 30,
) -> None:
    """Show the trend of findings over past runs, and how long each open finding has been open."""
    from auditor.history.trend import open_findings, runs_table

    if format not in ("text", "json", "csv"):
        fail(f"--format must be text, json or csv, not {format!r}")
    runs, opened = runs_table(path, last), open_findings(path)
    if format == "json":
        typer.echo(json.dumps({"runs": json.loads(runs.to_json(orient="records")),
                               "open_findings": json.loads(opened.to_json(orient="records"))}, indent=2))
    elif format == "csv":
        typer.echo(runs.to_csv(index=False), nl=False)
    else:
        from auditor.history.trend import text_tables

        typer.echo(text_tables(runs, opened))


@app.command("rules")
def rules_(
    rule_id: Annotated[Optional[str], typer.Argument(help="Show one rule's documentation.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable catalogue.")] = False,
    quiet: QuietOpt = False,
) -> None:
    """List the installed rules, or document one."""
    quiet_now(quiet)
    from auditor.engine.ruledocs import render_catalogue, render_rule

    catalogue = discover_rules()
    if rule_id is None:
        typer.echo(render_catalogue(catalogue, as_json))
        return
    try:
        matched = select_rules(catalogue, [rule_id])
    except ValueError:
        fail(f"no rule {rule_id!r}; `vnet-audit rules` lists them")
    if len(matched) > 1:  # a glob such as PEER*: list the matching rules
        typer.echo(render_catalogue(matched, as_json))
        return
    typer.echo(render_rule(matched[0], as_json))


@app.command()
def schema(
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Write to a file instead of stdout.")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Print the snapshot's JSON Schema."""
    quiet_now(quiet)
    text = json.dumps(Snapshot.json_schema(), indent=2) + "\n"
    if output:
        from auditor.outputs import write_atomic

        write_atomic(output, text.encode("utf-8"))
    else:
        typer.echo(text, nl=False)


@app.command()
def version(quiet: QuietOpt = False) -> None:
    """Print the tool version."""
    quiet_now(quiet)
    typer.echo(f"vnet-audit {__version__}")


def main() -> None:
    # azure-core/azure-identity log every failed credential attempt as warnings; without a
    # handler Python prints them all. Errors reach the user as one line from us instead;
    # --debug (logs.configure) shows them.
    logging.getLogger("azure").addHandler(logging.NullHandler())
    from auditor.completion import with_shell

    try:
        app(args=with_shell(sys.argv[1:]))
    except KeyboardInterrupt:  # outside a scan's collection: nothing read to keep
        typer.echo("vnet-audit: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except InputError as exc:
        typer.echo(f"vnet-audit: error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except OSError as exc:  # an output path that cannot be written (-o missing/dir/ro)
        if exc.filename is None:
            raise
        typer.echo(f"vnet-audit: error: {exc.filename}: cannot write ({exc.strerror})", err=True)
        sys.exit(EXIT_USAGE)
    except MemoryError:
        typer.echo("vnet-audit: error: not enough memory for this input; split the export by subscription "
                   "and give the files together, or run on a machine with more memory", err=True)
        sys.exit(EXIT_USAGE)


def run() -> None:
    """The `vnet-audit` command: `main`, then leave without tearing down the process's objects.

    A large estate is millions of objects; freeing them one by one at interpreter exit takes about
    a second per million, after every output is already written. Streams are flushed and logging
    shut down first; anything but a normal exit (a traceback) takes the ordinary path."""
    try:
        main()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    logging.shutdown()
    os._exit(code or 0)
