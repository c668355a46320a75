"""Read offline inputs (snapshots and exports, auto-detected, freely mixed) into one snapshot.

Shapes accepted, per file:
  1. a vnet-audit snapshot (`schema_version` + `virtual_networks`);
  2. Resource Graph results: `{"data": [...]}` as `az graph query -o json` prints it, or a bare row array;
  3. ARM list responses: `{"value": [...], "nextLink": ...}`;
  4. arrays of ARM resources in REST shape or `az` CLI shape (a single resource object also works);
  5. Az PowerShell's `ConvertTo-Json` and PSRule for Azure's `Export-AzRuleData` (`auditor.input.powershell`);
  subscription and tenant listings (GetSubscriptions, `az account list`) register names and tenants.
A file that is one page of a longer result (a nextLink or skip token) marks its subscriptions partial.

Files are decoded from bytes into typed structs in one pass (`auditor.input.shapes`); only a
file that fails to decode is read again, slowly, to say exactly where and why.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import msgspec

from auditor import __version__
from auditor.errors import InputError, InvalidValue
from auditor.gc_pause import gc_paused
from auditor.input import powershell
from auditor.input.builder import SnapshotBuilder, check_item
from auditor.input.normalize import CHILDREN, TOP_LEVEL, account_entry, resource_type
from auditor.input.shapes import ENVELOPE, HEAD, ITEMS, RESOURCE, Envelope, describe_error
from auditor.input.validate import check_snapshot
from auditor.model.ids import subscription_of
from auditor.model.snapshot import (
    SCHEMA_VERSION,
    CollectionError,
    CoverageStatus,
    RESOURCE_LISTS,
    ScanMetadata,
    Snapshot,
    decode_newer_minor,
    minor_of,
)

_MAJOR = int(SCHEMA_VERSION.split(".")[0])


_FIRST = re.compile(rb"\s*(\S?)")
# the head of a snapshot file: its version (a string), then its metadata
_SNAPSHOT_HEAD = re.compile(rb'\s*\{\s*"schema_version"\s*:\s*("[0-9.]*")\s*,\s*"metadata"\s*:\s*\{')
_SOME = msgspec.Raw(b"{}")


def _first_byte(data: bytes) -> bytes:
    """The first byte that is not whitespace (b"" if none), without copying the file as strip() would."""
    return _FIRST.match(data).group(1)


def _read_bytes(path: Path) -> bytes:
    """The file as UTF-8 JSON bytes (PowerShell's `>` writes UTF-16 with a BOM; a UTF-8 BOM is dropped)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read file ({exc.strerror or exc})") from None
    if not _first_byte(raw):
        raise InputError(f"{path}: file is empty")
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return raw.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: not UTF-16 text (byte {exc.start})") from None
    return raw[3:] if raw[:3] == b"\xef\xbb\xbf" else raw


def _why_not_json(path: Path, data: bytes, error: Exception) -> InputError:
    """The precise reason a file is not JSON, from the standard library's slower parser."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return InputError(f"{path}: not UTF-8 text (byte {exc.start}); export JSON with UTF-8 encoding")
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return InputError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")
    except RecursionError:
        return InputError(f"{path}: JSON nested too deeply")
    return InputError(f"{path}: invalid JSON: {error}")


def _python(data: bytes) -> Any:
    """JSON already known to parse, as Python data; a number beyond a float (1e400), which msgspec
    refuses, reads as infinity as the standard library reads it."""
    try:
        return msgspec.json.decode(data)
    except msgspec.ValidationError:
        return json.loads(bytes(data))


def _describe(data: bytes) -> str:
    doc = _python(data)
    if isinstance(doc, dict):
        keys = ", ".join(sorted(map(str, doc))[:6])
        return f"an object with keys {keys}" if keys else "an empty object"
    return f"a JSON {type(doc).__name__}".replace("str", "string").replace("NoneType", "null")


def _unrecognised(path: Path, data: bytes) -> InputError:
    return InputError(
        f"{path}: not a recognised shape (expected a vnet-audit snapshot, a Resource Graph result, "
        f"an ARM list response, an array of ARM resources or Az PowerShell output; got {_describe(data)})"
    )


class InputFile:
    """One input file, decoded just enough to say what it holds."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.data = _read_bytes(self.path)
        self.envelope: Envelope | None = None
        self.items: list[msgspec.Raw] | None = None
        start = _first_byte(self.data)
        if (head := _SNAPSHOT_HEAD.match(self.data)) is not None:  # as vnet-audit writes one: no pass over it all
            self.envelope = Envelope(schema_version=msgspec.json.decode(head.group(1)), metadata=_SOME)
            return
        try:
            if start == b"[":
                self.items = ITEMS.decode(self.data)
            elif start == b"{":
                self.envelope = ENVELOPE.decode(self.data)
            else:
                msgspec.json.decode(self.data)  # valid JSON of another kind, or a decode error
                raise _unrecognised(self.path, self.data)
        except msgspec.DecodeError as exc:
            raise _why_not_json(self.path, self.data, exc) from None

    @property
    def is_snapshot(self) -> bool:
        env = self.envelope
        return env is not None and env.schema_version is not None and bool(env.virtual_networks or env.metadata)

    def snapshot(self) -> Snapshot:
        version = self.envelope.schema_version
        major = str(version).split(".")[0]
        if not isinstance(version, str) or not major.isdigit():
            raise InputError(f"{self.path}: schema_version {version!r} is not a version like {SCHEMA_VERSION!r}")
        if int(major) != _MAJOR:
            hint = "upgrade vnet-audit" if int(major) > _MAJOR else "re-create it with this vnet-audit"
            raise InputError(f"{self.path}: snapshot schema_version {version} is not supported "
                             f"(this vnet-audit reads {_MAJOR}.x); {hint}")
        try:
            if minor_of(version) > minor_of(SCHEMA_VERSION):
                snapshot = decode_newer_minor(self.data)
            else:
                snapshot = msgspec.json.decode(self.data, type=Snapshot)
        except msgspec.ValidationError as exc:
            where = describe_error(exc, _python(self.data))
            raise InputError(f"{self.path}: invalid vnet-audit snapshot at {where}") from None
        except msgspec.DecodeError as exc:  # recognised by its head, not JSON further on
            raise _why_not_json(self.path, self.data, exc) from None
        try:
            check_snapshot(snapshot)  # a snapshot edited by hand is input too
        except InvalidValue as exc:
            raise InputError(f"{self.path}: {exc}") from None
        return snapshot

    def resources(self) -> list[msgspec.Raw]:
        """The resource items this export holds, whatever its envelope."""
        if self.items is not None:
            return self.items
        env, path = self.envelope, self.path
        for name in ("data", "value"):
            rows = getattr(env, name)
            if not rows:
                continue
            start = bytes(rows)[:1]
            if start == b"[":
                return ITEMS.decode(rows)
            if start == b"{" and isinstance(_python(bytes(rows)).get("rows"), list):
                raise InputError(f"{path}: Resource Graph table format is not supported; "
                                 "query with resultFormat objectArray (az graph query -o json)")
            kind = _describe(bytes(rows)).removeprefix("a JSON ").removeprefix("an ")
            raise InputError(f"{path}: '{name}' must be a list of resources, got {kind.split(' ')[0]}")
        if env.findings and env.schema_version is not None:
            raise InputError(f"{path}: this is a vnet-audit findings file, not a snapshot or an export")
        if env.id is not None and (env.type is not None or env.properties
                                   or env.subscriptionId is not None or env.tenantId is not None):
            return [msgspec.Raw(self.data)]
        if powershell.is_powershell(_python(self.data)):  # one PowerShell object, not an array of them
            return [msgspec.Raw(self.data)]
        raise _unrecognised(path, self.data)

    @property
    def truncation(self) -> str | None:
        """Why this file is only one page of a longer result, if it is."""
        env = self.envelope
        if env is None:
            return None
        if env.nextLink:
            return "it has a nextLink"
        if env.skip_token or env.dollar_skip_token or env.skipToken:
            return "it has a skip token"
        if str(env.resultTruncated).lower() == "true":
            return "resultTruncated is true"
        return None

    @property
    def total(self) -> int | None:
        env = self.envelope
        if env is None:
            return None
        return env.totalRecords if env.totalRecords is not None else env.total_records


def _add(builder: SnapshotBuilder, item: msgspec.Raw, path: Path, position: int, subscriptions: set) -> None:
    """Decode one item into the builder; a bad item is one line naming the file, item, id and field."""
    try:
        raw = RESOURCE.decode(item)
    except msgspec.ValidationError as exc:
        _bad_item(builder, item, path, position, exc)
        return
    if not raw.id or not raw.id.strip():
        rest = powershell.to_rest(_python(item))  # the one place PowerShell's shape costs anything
        if rest is None:
            _bad_item(builder, item, path, position, None)
        else:
            _add(builder, msgspec.Raw(msgspec.json.encode(rest)), path, position, subscriptions)
        return
    try:
        builder.add(raw, origin=str(path))
    except InvalidValue as exc:
        raise InputError(f"{path}: item {position} ({exc.resource_id}): {exc.field}: {exc.problem}") from None
    except InputError as exc:
        raise InputError(f"{path}: item {position}: {exc}") from None
    if "/providers/" in raw.id.lower():  # a resource, not a subscription or tenant listing entry
        subscriptions.add(subscription_of(raw.id))
    for child in raw.resources or ():  # PSRule for Azure's sub-resources
        _add(builder, child, path, position, subscriptions)


def _bad_item(builder: SnapshotBuilder, item: msgspec.Raw, path: Path, position: int, error: Exception | None) -> None:
    """Say why an item is not a resource, or skip it when it is one of a type vnet-audit does not read."""
    obj = _python(item)
    try:
        check_item(obj)
    except InputError as exc:
        raise InputError(f"{path}: item {position}: {exc}") from None
    rtype = resource_type(HEAD.decode(item))
    if rtype not in TOP_LEVEL and rtype not in CHILDREN and not account_entry(obj):
        builder.skip(rtype)  # another resource type may hold anything
        return
    raise InputError(f"{path}: item {position} ({obj['id']}): {describe_error(error, obj)}")


def load_snapshot(paths: list[Path], run_by: str | None = None) -> Snapshot:
    """Merge every input file into one snapshot; raise InputError naming the file on bad input."""
    if not paths:
        raise InputError("no input files given")
    with gc_paused():
        return _load(paths, run_by)


def _load(paths: list[Path], run_by: str | None) -> Snapshot:
    files = [InputFile(Path(p)) for p in paths]
    if len(files) == 1 and files[0].is_snapshot:
        return files[0].snapshot()
    builder = SnapshotBuilder(record_types=True)
    pages: list[tuple[Path, str, Any, set[str]]] = []
    rows_by_total: dict[Any, int] = {}  # Resource Graph pages say their query's total
    for file in files:
        if file.is_snapshot:
            _merge_snapshot(builder, file.snapshot(), file.path)
            continue
        items = file.resources()
        subscriptions: set = set()
        try:
            for position, item in enumerate(items):
                _add(builder, item, file.path, position, subscriptions)
        except msgspec.ValidationError:
            raise
        except msgspec.DecodeError as exc:  # e.g. a string that is not UTF-8
            raise _why_not_json(file.path, file.data, exc) from None
        rows_by_total[file.total] = rows_by_total.get(file.total, 0) + len(items)
        reason = file.truncation
        if reason:
            pages.append((file.path, reason, file.total, subscriptions - {None}))
        file.data = b""  # the items are models now: let the bytes go
    _mark_truncated(builder, pages, rows_by_total)
    metadata = ScanMetadata(tool_version=__version__, source="import", run_by=run_by, inputs=[str(p) for p in paths])
    return builder.build(metadata)


def _mark_truncated(builder: SnapshotBuilder, pages: list[tuple[Path, str, Any, set[str]]], rows_by_total: dict[Any, int]) -> None:
    """Subscriptions in a file holding one page of many are partial, unless all pages were given
    (Resource Graph pages say their total; rows across files with that total cover it)."""
    for path, reason, total, subs in pages:
        if isinstance(total, int) and rows_by_total[total] >= total:
            continue
        error = CollectionError(scope=str(path), code="Truncated",
                                message=f"one page of a paged result ({reason}); give every page to import the rest")
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
        if sub.resource_types is None:
            builder.covers_all.add(sub.subscription_id.lower())
        for rtype in sub.resource_types or ():
            builder.note_type(sub.subscription_id, rtype)
    for attr in RESOURCE_LISTS:
        for model in getattr(snap, attr):
            try:
                builder.add_model(attr, model, origin=str(path))
            except InputError as exc:
                raise InputError(f"{path}: {exc}") from None
    for kind, count in snap.metadata.skipped_resource_types.items():
        builder.skip(kind, count)
    if snap.metadata.cloud != ScanMetadata().cloud and not builder.cloud:
        builder.cloud = snap.metadata.cloud
