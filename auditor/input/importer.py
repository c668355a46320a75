"""Read offline inputs (snapshots and exports, auto-detected, freely mixed) into one snapshot.

Shapes accepted, per file:
  1. a vnet-audit snapshot (`schema_version` + `virtual_networks`);
  2. Resource Graph results: `{"data": [...]}` as `az graph query -o json` prints it, or a bare row array;
  3. ARM list responses: `{"value": [...], "nextLink": ...}`;
  4. arrays of ARM resources in REST shape or `az` CLI shape (a single resource object also works);
  subscription and tenant listings (GetSubscriptions, `az account list`) register names and tenants.
A file that is one page of a longer result (a nextLink or skip token) marks its subscriptions partial.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from auditor import __version__
from auditor.input.normalize import InputError, SnapshotBuilder, account_entry
from auditor.model.ids import subscription_of
from auditor.model.snapshot import (
    SCHEMA_VERSION,
    CollectionError,
    CoverageStatus,
    ScanMetadata,
    Snapshot,
)

_MAJOR = int(SCHEMA_VERSION.split(".")[0])


def _read_json(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read file ({exc.strerror or exc})") from None
    if not raw.strip():
        raise InputError(f"{path}: file is empty")
    try:
        if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
            text = raw.decode("utf-16")  # PowerShell's `>` redirection writes UTF-16 with a BOM
        else:
            text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start}); export JSON with UTF-8 encoding") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise InputError(f"{path}: JSON nested too deeply") from None


def is_snapshot(doc: Any) -> bool:
    return isinstance(doc, dict) and "schema_version" in doc and ("virtual_networks" in doc or "metadata" in doc)


def resources_in(doc: Any, path: Path) -> list[Any]:
    """The resource objects an export holds, whatever its envelope."""
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        for envelope in ("data", "value"):
            if envelope in doc:
                rows = doc[envelope]
                if isinstance(rows, dict) and isinstance(rows.get("rows"), list):  # Resource Graph table format
                    raise InputError(f"{path}: Resource Graph table format is not supported; query with resultFormat objectArray (az graph query -o json)")
                if not isinstance(rows, list):
                    raise InputError(f"{path}: '{envelope}' must be a list of resources, got {type(rows).__name__}")
                return rows
        if "findings" in doc and "schema_version" in doc:
            raise InputError(f"{path}: this is a vnet-audit findings file, not a snapshot or an export")
        if "id" in doc and {"type", "properties", "subscriptionId", "tenantId"} & doc.keys():
            return [doc]
    raise InputError(
        f"{path}: not a recognised shape (expected a vnet-audit snapshot, a Resource Graph result, "
        f"an ARM list response or an array of ARM resources; got {_describe(doc)})"
    )


def _describe(doc: Any) -> str:
    if isinstance(doc, dict):
        keys = ", ".join(sorted(map(str, doc))[:6])
        return f"an object with keys {keys}" if keys else "an empty object"
    return f"a JSON {type(doc).__name__}".replace("str", "string").replace("NoneType", "null")


def truncation(doc: Any) -> str | None:
    """Why this file is only one page of a longer result, if it is."""
    if not isinstance(doc, dict):
        return None
    if doc.get("nextLink"):
        return "it has a nextLink"
    if doc.get("skip_token") or doc.get("$skipToken") or doc.get("skipToken"):
        return "it has a skip token"
    if str(doc.get("resultTruncated", "")).lower() == "true":
        return "resultTruncated is true"
    return None


def read_snapshot(doc: dict, path: Path) -> Snapshot:
    version = doc.get("schema_version")
    major = str(version).split(".")[0]
    if not isinstance(version, str) or not major.isdigit():
        raise InputError(f"{path}: schema_version {version!r} is not a version like {SCHEMA_VERSION!r}")
    if int(major) != _MAJOR:
        hint = "upgrade vnet-audit" if int(major) > _MAJOR else "re-create it with this vnet-audit"
        raise InputError(f"{path}: snapshot schema_version {version} is not supported (this vnet-audit reads {_MAJOR}.x); {hint}")
    try:
        return Snapshot.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"{path}: invalid vnet-audit snapshot at {where}: {first['msg']}") from None


def load_snapshot(paths: list[Path], run_by: str | None = None) -> Snapshot:
    """Merge every input file into one snapshot; raise InputError naming the file on bad input."""
    if not paths:
        raise InputError("no input files given")
    docs = [(Path(p), _read_json(Path(p))) for p in paths]
    if len(docs) == 1 and is_snapshot(docs[0][1]):
        return read_snapshot(docs[0][1], docs[0][0])
    builder = SnapshotBuilder()
    pages: list[tuple[Path, str, Any, set[str]]] = []
    rows_by_total: dict[Any, int] = {}  # Resource Graph pages say their query's total
    for path, doc in docs:
        if is_snapshot(doc):
            _merge_snapshot(builder, read_snapshot(doc, path), path)
            continue
        resources = resources_in(doc, path)
        for position, resource in enumerate(resources):
            _add(builder, resource, path, position)
        total = doc.get("total_records", doc.get("totalRecords")) if isinstance(doc, dict) else None
        rows_by_total[total] = rows_by_total.get(total, 0) + len(resources)
        reason = truncation(doc)
        if reason:
            subs = {subscription_of(r.get("id")) for r in resources if isinstance(r, dict) and not account_entry(r)}
            pages.append((path, reason, total, subs - {None}))
    _mark_truncated(builder, pages, rows_by_total)
    metadata = ScanMetadata(tool_version=__version__, source="import", run_by=run_by, inputs=[str(p) for p in paths])
    return builder.build(metadata)


def _add(builder: SnapshotBuilder, resource: Any, path: Path, position: int) -> None:
    rid = resource.get("id") if isinstance(resource, dict) else None
    where = f"{path}: item {position}" + (f" ({rid})" if isinstance(rid, str) and rid else "")
    try:
        builder.add(resource, origin=str(path))
    except InputError as exc:
        raise InputError(f"{path}: item {position}: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise InputError(f"{where}: {field}: {first['msg']}") from None
    except (AttributeError, TypeError, KeyError) as exc:  # a setting of the wrong JSON type
        raise InputError(f"{where}: malformed resource ({type(exc).__name__}: {exc})") from None


def _mark_truncated(builder: SnapshotBuilder, pages: list[tuple[Path, str, Any, set[str]]], rows_by_total: dict[Any, int]) -> None:
    """Subscriptions in a file holding one page of many are partial, unless all pages were given
    (Resource Graph pages say their total; rows across files with that total cover it)."""
    for path, reason, total, subs in pages:
        if isinstance(total, int) and rows_by_total[total] >= total:
            continue
        error = CollectionError(scope=str(path), code="Truncated", message=f"one page of a paged result ({reason}); give every page to import the rest")
        for sub in sorted(subs):
            builder.note_subscription(sub, status=CoverageStatus.partial, errors=[error])


def _merge_snapshot(builder: SnapshotBuilder, snap: Snapshot, path: Path) -> None:
    """Feed a snapshot's contents back through the builder so duplicates are checked alike."""
    for tenant in snap.tenants:
        builder.note_tenant(tenant.tenant_id, display_name=tenant.display_name, default_domain=tenant.default_domain)
    for sub in snap.subscriptions:
        builder.note_subscription(
            sub.subscription_id, sub.tenant_id, display_name=sub.display_name, state=sub.state,
            status=sub.status, errors=sub.errors,
        )
    for attr in ("virtual_networks", "network_security_groups", "route_tables",
                 "virtual_network_gateways", "local_network_gateways", "connections"):
        for model in getattr(snap, attr):
            try:
                builder.add_model(attr, model, origin=str(path))
            except InputError as exc:
                raise InputError(f"{path}: {exc}") from None
    for kind, count in snap.metadata.skipped_resource_types.items():
        builder.skipped[kind] = builder.skipped.get(kind, 0) + count
    if snap.metadata.cloud != ScanMetadata().cloud and not builder.cloud:
        builder.cloud = snap.metadata.cloud
