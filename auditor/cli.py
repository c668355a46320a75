"""The `vnet-audit` command line."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from auditor import __version__
from auditor.engine import Evaluation, RuleLoadError, discover_rules, evaluate, select_rules
from auditor.importer import load_snapshot
from auditor.normalize import InputError
from auditor.rule import Severity
from auditor.snapshot import Snapshot

app = typer.Typer(
    name="vnet-audit",
    help="Audit Azure VNet peering, routing, NSGs and gateways across subscriptions and tenants.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE, EXIT_RULE_ERROR = 0, 1, 2, 3, 4


class UsageError(Exception):
    """A bad flag combination; one line for the user."""


def fail(message: str, code: int = EXIT_USAGE) -> None:
    typer.echo(f"vnet-audit: error: {message}", err=True)
    raise typer.Exit(code)


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for value in values or [] for v in value.split(",") if v.strip()]


# -- shared options ------------------------------------------------------------------
Inputs = Annotated[list[Path], typer.Argument(help="Snapshots or exports (Resource Graph, ARM list, az CLI JSON), mixed freely.", show_default=False)]
RulesOpt = Annotated[Optional[list[str]], typer.Option("--rules", help="Only these rules: ids, slugs or globs (PEER*), comma-separated or repeated.")]
SkipOpt = Annotated[Optional[list[str]], typer.Option("--skip-rules", help="Skip these rules: ids, slugs or globs.")]
FailOnOpt = Annotated[Optional[Severity], typer.Option("--fail-on", help="Exit 1 when an unwaived finding is at or above this severity.", case_sensitive=False)]
IncompleteOpt = Annotated[bool, typer.Option("--fail-on-incomplete", help="Exit 3 when any subscription could not be read completely.")]
WaiversOpt = Annotated[Optional[Path], typer.Option("--waivers", help="Waiver file (YAML or JSON): rule, resource or fingerprint, justification, expires, owner.")]


def run_rules(snapshot: Snapshot, rules: list[str] | None, skip: list[str] | None, waivers: Path | None) -> Evaluation:
    try:
        selected = select_rules(discover_rules(), _split(rules), _split(skip))
    except (ValueError, RuleLoadError) as exc:
        fail(str(exc))
    result = evaluate(snapshot, selected)
    if waivers is not None:
        from auditor.waivers import apply_waivers, load_waivers

        apply_waivers(result, load_waivers(waivers))
    for error in result.errors:
        typer.echo(f"vnet-audit: rule {error.rule_id} failed: {error.error}", err=True)
    return result


def exit_code(result: Evaluation, fail_on: Severity | None, fail_on_incomplete: bool) -> int:
    """Rule errors beat incomplete coverage, which beats findings: each makes the one after less trustworthy."""
    if result.errors:
        return EXIT_RULE_ERROR
    if fail_on_incomplete and not result.coverage.get("complete", True):
        return EXIT_INCOMPLETE
    worst = result.worst_active_severity()
    if fail_on is not None and worst is not None and worst.rank >= fail_on.rank:
        return EXIT_FINDINGS
    return EXIT_OK


def warn_incomplete(result: Evaluation) -> None:
    for sub in result.coverage.get("incomplete", []):
        reasons = "; ".join(f"{e['scope']}: {e['message']}" for e in sub["errors"]) or sub["status"]
        typer.echo(f"vnet-audit: warning: subscription {sub['subscription_id']} is {sub['status']}: {reasons}", err=True)


# -- commands --------------------------------------------------------------------------
@app.command("import")
def import_(
    inputs: Inputs,
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the snapshot.")] = Path("snapshot.json"),
) -> None:
    """Merge offline exports (az CLI, Resource Graph, ARM REST) into one vnet-audit snapshot."""
    snapshot = load_snapshot(inputs, run_by=getpass.getuser())
    snapshot.write(output)
    skipped = sum(snapshot.metadata.skipped_resource_types.values())
    typer.echo(
        f"wrote {output}: {len(snapshot.virtual_networks)} VNets, "
        f"{sum(len(v.peerings) for v in snapshot.virtual_networks)} peerings, "
        f"{len(snapshot.network_security_groups)} NSGs, {len(snapshot.route_tables)} route tables, "
        f"{len(snapshot.subscriptions)} subscriptions" + (f"; skipped {skipped} resources of other types" if skipped else ""),
        err=True,
    )


@app.command("evaluate")
def evaluate_cmd(
    inputs: Inputs,
    format: Annotated[str, typer.Option("--format", "-f", help="Output formats, comma-separated: json, sarif, csv, md, html, text.")] = "json",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Output file (one format) or directory (several); stdout when omitted.")] = None,
    rules: RulesOpt = None,
    skip_rules: SkipOpt = None,
    fail_on: FailOnOpt = None,
    fail_on_incomplete: IncompleteOpt = False,
    waivers: WaiversOpt = None,
) -> None:
    """Run the rules over snapshots or exports and write findings."""
    snapshot = load_snapshot(inputs, run_by=getpass.getuser())
    result = run_rules(snapshot, rules, skip_rules, waivers)
    from reports import write_outputs

    write_outputs(result, snapshot, _split([format]), output)
    warn_incomplete(result)
    raise typer.Exit(exit_code(result, fail_on, fail_on_incomplete))


@app.command("rules")
def rules_(
    rule_id: Annotated[Optional[str], typer.Argument(help="Show one rule's documentation.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable catalogue.")] = False,
) -> None:
    """List the installed rules, or document one."""
    from auditor.ruledocs import render_catalogue, render_rule

    catalogue = discover_rules()
    if rule_id is None:
        typer.echo(render_catalogue(catalogue, as_json))
        return
    try:
        (rule,) = select_rules(catalogue, [rule_id])
    except ValueError:
        fail(f"no rule {rule_id!r}; `vnet-audit rules` lists them")
    typer.echo(render_rule(rule, as_json))


@app.command()
def schema(
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Write to a file instead of stdout.")] = None,
) -> None:
    """Print the snapshot's JSON Schema."""
    text = json.dumps(Snapshot.json_schema(), indent=2) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        typer.echo(text, nl=False)


@app.command()
def version() -> None:
    """Print the tool version."""
    typer.echo(f"vnet-audit {__version__}")


def main() -> None:
    try:
        app()
    except InputError as exc:
        typer.echo(f"vnet-audit: error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except UsageError as exc:
        typer.echo(f"vnet-audit: error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
