"""Read offline inputs (snapshots and exports, auto-detected, freely mixed) into one snapshot.

Shapes accepted, per file:
  1. a vnet-audit snapshot (`schema_version` + `virtual_networks`);
  2. Resource Graph results: `{"data": [...]}` as `az graph query -o json` prints it, or a bare row array;
  3. ARM list responses: `{"value": [...], "nextLink": ...}`;
  4. arrays of ARM resources in REST shape or `az` CLI shape (a single resource object also works).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from auditor import __version__
from auditor.normalize import InputError, SnapshotBuilder
from auditor.snapshot import ScanMetadata, Snapshot


def _read_json(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read file ({exc.strerror or exc})") from None
    if not raw.strip():
        raise InputError(f"{path}: file is empty")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
            text = raw.decode("utf-16")  # PowerShell's `>` redirection writes UTF-16
        else:
            raise InputError(f"{path}: not UTF-8 text (byte {exc.start}); export JSON with UTF-8 encoding") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None


def is_snapshot(doc: Any) -> bool:
    return isinstance(doc, dict) and "schema_version" in doc and "virtual_networks" in doc


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
        if "id" in doc and ("type" in doc or "properties" in doc):
            return [doc]
    raise InputError(
        f"{path}: not a recognised shape (expected a vnet-audit snapshot, a Resource Graph result, "
        "an ARM list response or an array of ARM resources)"
    )


def load_snapshot(paths: list[Path], run_by: str | None = None) -> Snapshot:
    """Merge every input file into one snapshot; raise InputError naming the file on bad input."""
    if not paths:
        raise InputError("no input files given")
    snapshots: list[Snapshot] = []
    builder = SnapshotBuilder()
    exports = []
    for path in paths:
        path = Path(path)
        doc = _read_json(path)
        if is_snapshot(doc):
            try:
                snapshots.append(Snapshot.model_validate(doc))
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                raise InputError(f"{path}: invalid vnet-audit snapshot at {where}: {first['msg']}") from None
            continue
        exports.append(str(path))
        for position, resource in enumerate(resources_in(doc, path)):
            try:
                builder.add(resource, origin=str(path))
            except InputError as exc:
                raise InputError(f"{path}: item {position}: {exc}") from None
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                raise InputError(f"{path}: item {position}: {where}: {first['msg']}") from None
    if len(snapshots) == 1 and not exports:
        return snapshots[0]
    for snap in snapshots:
        _merge_snapshot(builder, snap)
    try:
        result = builder.build(
            ScanMetadata(tool_version=__version__, source="import", run_by=run_by, inputs=[str(p) for p in paths])
        )
    except InputError as exc:
        raise InputError(f"{', '.join(exports) or paths[0]}: {exc}") from None
    return result


def _merge_snapshot(builder: SnapshotBuilder, snap: Snapshot) -> None:
    """Feed a snapshot's contents back through the builder so duplicates are checked alike."""
    for sub in snap.subscriptions:
        builder.note_subscription(
            sub.subscription_id, sub.tenant_id, display_name=sub.display_name, state=sub.state,
            status=sub.status, errors=sub.errors,
        )
    for tenant in snap.tenants:
        builder.tenants.setdefault(tenant.tenant_id.lower(), tenant)
    for attr in ("virtual_networks", "network_security_groups", "route_tables",
                 "virtual_network_gateways", "local_network_gateways", "connections"):
        for model in getattr(snap, attr):
            builder.add_model(attr, model, origin="snapshot")
    for kind, count in snap.metadata.skipped_resource_types.items():
        builder.skipped[kind] = builder.skipped.get(kind, 0) + count
