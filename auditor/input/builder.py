"""Collect resources from any number of sources into one snapshot.

The same resource seen twice (a peering inline and as a child listing, or in two files, with
ids differing only in case) is kept once; two different contents under one id are an input
error naming both origins, unless `latest_wins`: a live collection can read a resource twice
when it changes while a list is paged, and the later read is the current one.
"""

from __future__ import annotations

from typing import Any

import msgspec

from auditor.errors import InputError
from auditor.input.normalize import CHILDREN, TOP_LEVEL, account_entry, resource_type, subscription_id_of
from auditor.input.shapes import RawResource, props, resource_from
from auditor.model import snapshot as m
from auditor.model.ids import name_of, norm_id, parent_id, subscription_of

_WORSE = {m.CoverageStatus.complete: 0, m.CoverageStatus.partial: 1, m.CoverageStatus.failed: 2}


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and value[:15].lower() == "/subscriptions/"


def _canonical(value: Any) -> Any:
    """Content with ids and resource groups case-folded, and lists of children or ids in any
    order (prefix and DNS server order is kept): what 'the same resource' means."""
    if isinstance(value, dict):
        return {k: v.lower() if k == "resource_group" and isinstance(v, str) else _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        unordered = all(isinstance(v, dict) or _is_id(v) for v in items)
        return sorted(items, key=repr) if unordered else items
    return norm_id(value) if _is_id(value) else value


def same_content(a: Any, b: Any) -> bool:
    return a == b or _canonical(m.to_builtins(a)) == _canonical(m.to_builtins(b))


def _difference(a: Any, b: Any) -> str:
    """The first field two versions of a resource disagree on, for the error message."""
    raw_a, raw_b = m.to_builtins(a), m.to_builtins(b)
    left, right = _canonical(raw_a), _canonical(raw_b)
    for key in left:
        if left[key] != right.get(key):
            if isinstance(left[key], (list, dict)):
                return key
            return f"{key} {raw_a[key]!r} vs {raw_b[key]!r}"
    return "content"


def _conflict(model: Any, origin: str, other: Any, other_origin: str) -> str:
    also = "" if origin == other_origin else f"; also in {other_origin}"
    return f"duplicate id {model.id} with conflicting content ({_difference(model, other)}){also}"


def check_item(raw: Any) -> None:
    """One line saying why an item of Python data is not a resource."""
    if not isinstance(raw, dict):
        raise InputError(f"expected a resource object, got {type(raw).__name__}")
    rid = raw.get("id")
    if not isinstance(rid, str) or not rid.strip():
        if "type" not in raw and "name" not in raw:
            keys = ", ".join(sorted(map(str, raw))[:5]) or "none"
            raise InputError(
                f"not a resource (no id, type or name; keys: {keys}); "
                "export whole resources, e.g. a Resource Graph query that keeps id, type and properties"
            )
        raise InputError(f"resource {raw.get('name')!r} of type {raw.get('type')!r} has no id")


def _depth_first(item: tuple[str, tuple]) -> tuple[int, str]:
    return item[0].count("/"), item[0]


class SnapshotBuilder:
    """See the module docstring."""

    def __init__(self, latest_wins: bool = False, record_types: bool = False) -> None:
        """`record_types`: the input is files, which cover only the resource types they hold (per subscription)."""
        self.latest_wins = latest_wins
        self.types: dict[str, set[str]] | None = {} if record_types else None
        self.covers_all: set[str] = set()  # subscriptions a merged snapshot covered in full
        self._top: dict[str, tuple[str, Any, str]] = {}  # key -> (list attr, model, origin)
        self._children: dict[str, tuple[str, str, Any, str]] = {}  # key -> (parent key, attr, model, origin)
        self.subscriptions: dict[str, m.Subscription] = {}
        self.tenants: dict[str, m.Tenant] = {}
        self.skipped: dict[str, int] = {}
        self.cloud: str | None = None  # from `az account list` (cloudName)

    def add(self, raw: Any, origin: str, tenant_id: str | None = None) -> None:
        """Add one resource: a `RawResource`, or Python data in any of Azure's shapes."""
        if not isinstance(raw, RawResource):
            check_item(raw)
            rtype = resource_type(raw)
            if rtype not in TOP_LEVEL and rtype not in CHILDREN and not account_entry(raw):
                self.skip(rtype)  # not decoded: other resource types may hold anything
                return
            try:
                raw = resource_from(raw)
            except msgspec.ValidationError as exc:
                raise InputError(f"{raw['id']}: {exc}") from None
        rid = raw.id
        if not rid or not rid.strip():
            raise InputError(f"resource {raw.name!r} of type {raw.type!r} has no id")
        rtype = resource_type(raw)
        if rtype in TOP_LEVEL:
            self.note_subscription(subscription_of(rid), raw.tenantId or tenant_id)
            self.note_type(subscription_of(rid), rtype)
            attr, make = TOP_LEVEL[rtype]
            self._keep(self._top, norm_id(rid), (attr, make(raw), origin))
        elif rtype in CHILDREN:
            self.note_subscription(subscription_of(rid), raw.tenantId or tenant_id)
            _, attr, make = CHILDREN[rtype]
            self._keep(self._children, norm_id(rid), (norm_id(parent_id(rid)), attr, make(raw), origin))
        elif kind := account_entry(raw):
            self._add_account(kind, raw)
        else:
            self.note_subscription(subscription_of(rid), raw.tenantId or tenant_id)
            self.skip(rtype)

    def note_type(self, subscription_id: str | None, rtype: str) -> None:
        """The input lists `rtype` in this subscription (recorded only for files)."""
        if self.types is not None and subscription_id:
            self.types.setdefault(subscription_id.lower(), set()).add(rtype)

    def skip(self, rtype: str, count: int = 1) -> None:
        """Count resources of a type vnet-audit does not read."""
        self.skipped[rtype or "unknown"] = self.skipped.get(rtype or "unknown", 0) + count

    def _add_account(self, kind: str, raw: RawResource) -> None:
        if kind == "tenant":
            tid = str(raw.tenantId or name_of(raw.id))
            self.note_tenant(tid, display_name=raw.displayName, default_domain=raw.defaultDomain)
            return
        # GetSubscriptions and Graph name it displayName / name; `az account list` name
        display = raw.displayName or raw.name
        state = raw.state or props(raw).state
        self.note_subscription(str(subscription_id_of(raw)), raw.tenantId, display_name=display, state=state)
        if raw.cloudName and not self.cloud:
            self.cloud = raw.cloudName

    def add_model(self, attr: str, model: Any, origin: str) -> None:
        """Add an already-normalized top-level model (from another snapshot)."""
        self.note_subscription(subscription_of(model.id))
        self.note_type(subscription_of(model.id), resource_type({"id": model.id}))
        self._keep(self._top, norm_id(model.id), (attr, model, origin))

    def _keep(self, store: dict, key: str, entry: tuple) -> None:
        model, origin = entry[-2], entry[-1]
        previous = store.get(key)
        if previous is None:
            store[key] = entry
        elif not same_content(previous[-2], model):
            if not self.latest_wins:
                raise InputError(_conflict(model, origin, previous[-2], previous[-1]))
            store[key] = entry
        elif msgspec.json.encode(model) < msgspec.json.encode(previous[-2]):
            store[key] = (*entry[:-1], previous[-1])  # equal copies: keep one independent of input order

    def note_tenant(self, tenant_id: str, **fields: Any) -> m.Tenant:
        tenant = self.tenants.setdefault(tenant_id.lower(), m.Tenant(tenant_id=tenant_id.lower()))
        for key, value in fields.items():
            if value is not None:
                setattr(tenant, key, value)
        return tenant

    def note_subscription(self, subscription_id: str | None, tenant_id: str | None = None, **fields: Any) -> None:
        """Register a subscription; the worst coverage status wins and errors accumulate."""
        if not subscription_id:
            return
        sub = self.subscriptions.get(subscription_id.lower())
        if sub is None:
            sub = self.subscriptions[subscription_id.lower()] = m.Subscription(subscription_id=subscription_id.lower())
        if tenant_id and not sub.tenant_id:
            sub.tenant_id = str(tenant_id).lower()
        status, errors = fields.pop("status", None), fields.pop("errors", None) or []
        if status is not None and _WORSE[m.CoverageStatus(status)] > _WORSE[sub.status]:
            sub.status = m.CoverageStatus(status)
        sub.errors += [e for e in errors if e not in sub.errors]
        for key, value in fields.items():
            if value is not None:
                setattr(sub, key, value)
        if sub.tenant_id and sub.tenant_id not in self.tenants:
            self.note_tenant(sub.tenant_id)

    def build(self, metadata: m.ScanMetadata | None = None) -> m.Snapshot:
        lists: dict[str, list] = {attr: [] for attr, _ in TOP_LEVEL.values()}
        parents = {}
        for key, (attr, model, origin) in self._top.items():
            lists[attr].append(model)
            parents[key] = (model, origin)
        inline_children: dict[tuple[str, str], dict[str, Any]] = {}
        # parents before their children: a rule collection attaches to its configuration before its rules to it
        for key, (parent_key, attr, model, origin) in sorted(self._children.items(), key=_depth_first):
            if parent_key not in parents:  # e.g. a peering listing without its VNet: nothing to attach it to
                self.skip(f"{resource_type({'id': model.id})} (parent not in input)")
                continue
            parent, parent_origin = parents[parent_key]
            children = getattr(parent, attr)
            if (parent_key, attr) not in inline_children:
                inline_children[parent_key, attr] = {norm_id(c.id): c for c in children}
            inline = inline_children[parent_key, attr].get(key)
            if inline is None:
                children.append(model)
            elif not same_content(inline, model):
                raise InputError(f"{origin}: {_conflict(model, origin, inline, parent_origin)}")
            parents[key] = (inline or model, origin)
        if self.types is not None:
            for sid, sub in self.subscriptions.items():
                sub.resource_types = sorted(self.types.get(sid, ())) if sid not in self.covers_all else None
        metadata = metadata or m.ScanMetadata()
        metadata.skipped_resource_types = dict(sorted(self.skipped.items()))
        if self.cloud:
            metadata.cloud = self.cloud
        return m.Snapshot(
            metadata=metadata,
            tenants=list(self.tenants.values()),
            subscriptions=list(self.subscriptions.values()),
            **lists,
        )

