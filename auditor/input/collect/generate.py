"""Turn a topology description (see `auditor.input.synthetic`) into vcrpy cassettes for both sources.

    python -m auditor.input.collect.generate auditor/demo/estate.yaml --out cassettes/ --name demo

writes `demo-arm.yaml` and `demo-graph.yaml`: the exact requests `collect()` makes for the
description's `scan:` scope, answered with bodies shaped like Azure's REST examples
(`{"value": [...], "nextLink": ...}` lists, Resource Graph `{"totalRecords", "count", "data",
"$skipToken"}` pages). A subscription with `fault: forbidden` is invisible to its tenant's
listing and answers 403 AuthorizationFailed to every call.

    scan: {tenants: [contoso, fabrikam], subscriptions: [legacy], all_subscriptions: false}
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml

from auditor.input.collect import arm, graph
from auditor.input.collect.orchestrator import CollectScope
from auditor.input.synthetic import build_estate, guid
from auditor.model.ids import norm_id, parent_id, resource_group_of
from auditor.outputs import write_atomic

BASE = "https://management.azure.com"
API = {"network": "2024-05-01", "resources": "2025-04-01", "subscriptions": "2022-12-01", "graph": "2021-03-01"}
PER_GROUP_KIND = ("virtualNetworkGateways", "localNetworkGateways", "connections")
_REASONS = {200: "OK", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}


@dataclass
class Cassette:
    """vcrpy's cassette format (version 1), built by hand."""

    base: str = BASE
    interactions: list[dict] = field(default_factory=list)

    def url(self, path: str, query: dict | None = None, api: str | None = None) -> str:
        params = {"api-version": api, **(query or {})} if api else dict(query or {})
        return f"{self.base}{path}" + (f"?{urlencode(params)}" if params else "")

    def add(self, method: str, url: str, status: int, body: Any, headers: dict | None = None,
            request_body: Any = None, index: int | None = None) -> None:
        response_headers = {"Content-Type": ["application/json; charset=utf-8"], "x-ms-request-id": ["00000000-0000-0000-0000-000000000000"]}
        if status == 200 and method == "GET":
            response_headers["x-ms-ratelimit-remaining-subscription-reads"] = ["11999"]
        for name, value in (headers or {}).items():
            response_headers[name] = [str(value)]
        interaction = {
            "request": {
                "body": json.dumps(request_body) if request_body is not None else None,
                "headers": {"Accept": ["application/json"], **({"Content-Type": ["application/json"]} if request_body is not None else {})},
                "method": method,
                "uri": url,
            },
            "response": {
                "body": {"string": json.dumps(body)},
                "headers": response_headers,
                "status": {"code": status, "message": _REASONS.get(status, "")},
            },
        }
        self.interactions.insert(len(self.interactions) if index is None else index, interaction)

    def get(self, path: str, body: Any, *, api: str, query: dict | None = None, status: int = 200, headers: dict | None = None, index: int | None = None) -> None:
        self.add("GET", self.url(path, query, api), status, body, headers, index=index)

    def paged(self, path: str, items: list[dict], *, api: str, page_size: int, query: dict | None = None) -> None:
        """A list answered in pages linked by nextLink (an empty list is one empty page)."""
        pages = [items[i:i + page_size] for i in range(0, len(items), page_size)] or [[]]
        for n, page in enumerate(pages):
            q = dict(query or {})
            if n:
                q["$skiptoken"] = f"page{n}"
            body: dict[str, Any] = {"value": page}
            if n + 1 < len(pages):
                body["nextLink"] = self.url(path, {**(query or {}), "$skiptoken": f"page{n + 1}"}, api)
            self.get(path, body, api=api, query=q)

    def write(self, path: Path | str) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump({"interactions": self.interactions, "version": 1}, sort_keys=False, width=1000)
        write_atomic(path, text.encode("utf-8"))
        return path


def forbidden_body(subscription_id: str, action: str = "Microsoft.Network/virtualNetworks/read") -> dict:
    return {"error": {"code": "AuthorizationFailed", "message": (
        f"The client 'auditor@contoso.com' with object id '00000000-0000-0000-0000-000000000001' does not have authorization "
        f"to perform action '{action}' over scope '/subscriptions/{subscription_id}' or the scope is invalid.")}}


def error_body(status: int) -> dict:
    if status == 429:
        return {"error": {"code": "TooManyRequests", "message": "The request is being throttled."}}
    return {"error": {"code": "InternalServerError", "message": "Encountered internal server error."}}


# -- scope ----------------------------------------------------------------------------------
def _names_to_ids(spec: dict) -> tuple[dict[str, str], dict[str, str]]:
    """Description names -> ids, as `auditor.input.synthetic` derives them."""
    tenants = {name: (t or {}).get("id") or guid("tenant", name) for name, t in (spec.get("tenants") or {"default": {}}).items()}
    subs = {name: (s or {}).get("id") or guid("subscription", name) for name, s in (spec.get("subscriptions") or {}).items()}
    return tenants, subs


def scope_of(spec: dict) -> CollectScope:
    """The description's `scan:` scope with ids (default: every tenant, plus its forbidden subscriptions by id)."""
    tenants, subs = _names_to_ids(spec)
    scan = spec.get("scan") or {}
    tenant_names = scan.get("tenants", list(spec.get("tenants") or {}))
    explicit = scan.get("subscriptions")
    if explicit is None:
        explicit = [n for n, s in (spec.get("subscriptions") or {}).items() if (s or {}).get("fault") == "forbidden"]
    return CollectScope(subscriptions=[subs[n] for n in explicit], all_subscriptions=bool(scan.get("all_subscriptions")),
                        tenants=[tenants[n] for n in tenant_names])


def graph_row(resource: dict, sub: dict) -> dict:
    """A REST-shaped resource as Resource Graph returns its row (`sub`: its GetSubscriptions entry)."""
    row = {"id": resource["id"], "name": resource["name"], "type": resource["type"].lower(), "tenantId": sub["tenantId"],
           "kind": resource.get("kind", ""), "location": resource.get("location", ""),
           "resourceGroup": resource_group_of(resource["id"]).lower(),
           "subscriptionId": sub["subscriptionId"], "managedBy": "", "sku": None, "plan": None,
           "properties": resource["properties"], "tags": resource.get("tags") or {}, "identity": None, "zones": None,
           "extendedLocation": None}
    if "etag" in resource:
        row["etag"] = resource["etag"]
    return row


# -- the cassettes ----------------------------------------------------------------------------
class _Generator:
    def __init__(self, spec: dict, page_size: int, base: str):
        self.spec, self.page_size, self.base = spec, page_size, base
        self.estate = build_estate(spec)
        self.scope = scope_of(spec)
        self.subs = {s["subscriptionId"].lower(): s for s in self.estate.subscriptions}
        self.children: dict[tuple[str, str], list[dict]] = {}  # (parent id, list name) -> children
        for kinds in self.estate.resources.values():
            for kind, items in kinds.items():
                for r in items if "/" in kind else ():
                    key = norm_id(parent_id(r["id"])), r["id"].split("/")[-2].lower()
                    self.children.setdefault(key, []).append(r)

    def forbidden(self, sid: str) -> bool:
        return self.subs[sid.lower()].get("fault") == "forbidden"

    @staticmethod
    def public(sub: dict) -> dict:
        return {k: v for k, v in sub.items() if k not in ("coverage", "error", "error_code", "fault")}

    def listings(self) -> list[tuple[str | None, list[str]]]:
        """(tenant, visible subscriptions) per discovery listing, in the order collect() asks."""
        home = self.estate.subscriptions[0]["tenantId"] if self.estate.subscriptions else None
        keys: list[str | None] = ([None] if self.scope.all_subscriptions else []) + list(self.scope.tenants)
        out = []
        for key in keys:
            tenant = key or home
            out.append((key, [s["subscriptionId"] for s in self.estate.subscriptions if s["tenantId"] == tenant and not self.forbidden(s["subscriptionId"])]))
        return out

    def discovery(self, c: Cassette) -> None:
        for _, sids in self.listings():
            c.get("/subscriptions", {"value": [self.public(self.subs[s.lower()]) for s in sids]}, api=API["subscriptions"])
        tenants = [{**t, "tenantCategory": "Home", "defaultDomain": f"{t['displayName'].lower().replace(' ', '')}.onmicrosoft.com",
                    "tenantType": "AAD", "countryCode": "US", "domains": []} for t in self.estate.tenants]
        c.get("/tenants", {"value": tenants}, api=API["subscriptions"])
        for sid in self.subs:  # any subscription may be named explicitly
            if self.forbidden(sid):
                c.get(f"/subscriptions/{sid}", forbidden_body(sid, "Microsoft.Resources/subscriptions/read"), api=API["subscriptions"], status=403)
            else:
                c.get(f"/subscriptions/{sid}", self.public(self.subs[sid.lower()]), api=API["subscriptions"])

    def read_order(self) -> list[list[str]]:
        """The subscription groups collect() reads: explicit ones first, then each listing's new ones
        (sorted, as collect() reads them once discovery is done)."""
        groups, seen = [], set()
        explicit = list(dict.fromkeys(s.lower() for s in self.scope.subscriptions))
        if explicit:
            groups.append(explicit)
            seen.update(explicit)
        by_key: dict[str | None, list[str]] = {}
        for key, sids in self.listings():
            for sid in sids:
                if sid.lower() not in seen:
                    seen.add(sid.lower())
                    by_key.setdefault(key, []).append(sid.lower())
        return groups + [sorted(sids) for sids in by_key.values()]

    def arm(self) -> Cassette:
        c = Cassette(self.base)
        self.discovery(c)
        for group in self.read_order():
            for sid in group:
                self.arm_subscription(c, sid)
        return c

    def arm_subscription(self, c: Cassette, sid: str) -> None:
        api = API["network"]
        resources_path = f"/subscriptions/{sid}/resources"
        if self.forbidden(sid):
            for kind in arm.SUBSCRIPTION_LISTS:
                c.get(f"/subscriptions/{sid}/providers/Microsoft.Network/{kind}", forbidden_body(sid, f"Microsoft.Network/{kind}/read"), api=api, status=403)
            c.get(resources_path, forbidden_body(sid, "Microsoft.Resources/subscriptions/resources/read"), api=API["resources"], query={"$filter": arm.TYPE_FILTER}, status=403)
            return
        kinds = self.estate.resources.get(self.subs[sid]["subscriptionId"], {})
        found = [kind for kind, _ in arm.FOUND_LISTS.values() if kinds.get(kind)]  # the listing shows them
        for kind in [*arm.SUBSCRIPTION_LISTS, *found]:
            c.paged(f"/subscriptions/{sid}/providers/Microsoft.Network/{kind}", kinds.get(kind, []), api=api, page_size=self.page_size)
            for resource in kinds.get(kind, []):
                self.child_lists(c, resource)
        generic = [{"id": r["id"], "name": r["name"], "type": r["type"], "location": r["location"], **({"tags": r["tags"]} if r.get("tags") else {})}
                   for kind in (*PER_GROUP_KIND, *found) for r in kinds.get(kind, [])]
        c.paged(resources_path, generic, api=API["resources"], page_size=self.page_size, query={"$filter": arm.TYPE_FILTER})
        groups: dict[tuple[str, str], list[dict]] = {}
        for kind in PER_GROUP_KIND:
            for r in kinds.get(kind, []):
                rg = resource_group_of(r["id"])
                groups.setdefault((kind, rg), []).append(r)
        for (kind, rg), items in sorted(groups.items()):
            c.paged(f"/subscriptions/{sid}/resourceGroups/{rg}/providers/Microsoft.Network/{kind}", items, api=api, page_size=self.page_size)

    def child_lists(self, c: Cassette, resource: dict, only: frozenset[str] | None = None) -> None:
        """The lists of a resource's children collect() asks for (`only`: just these), and theirs."""
        for scope, _ in arm.child_lists(resource):
            if only is None or scope in only:
                items = self.children.get((norm_id(resource["id"]), scope.lower()), [])
                c.paged(f"{resource['id']}/{scope}", items, api=API["network"], page_size=self.page_size)
                for item in items:
                    self.child_lists(c, item, only)

    def graph(self) -> Cassette:
        c = Cassette(self.base)
        self.discovery(c)
        for batch in (b for group in self.read_order() for b in graph.batches(group)):
            rows, network_rows, hubs, managed = [], [], [], []
            for sid in batch:
                if self.forbidden(sid):
                    continue  # Resource Graph leaves out what the caller cannot read
                sub = self.subs[sid]
                for kind, items in self.estate.resources.get(sub["subscriptionId"], {}).items():
                    rtype = f"microsoft.network/{kind}".lower()
                    if rtype in graph.TYPES:
                        rows += [graph_row(r, sub) for r in items]
                    elif rtype in graph.NETWORK_RESOURCES_TYPES:
                        network_rows += [graph_row(r, sub) for r in items]
                    if kind == "virtualHubs":
                        hubs += items
                    if kind == "networkManagers" and items:
                        managed.append(sid)
            rows.sort(key=lambda r: norm_id(r["id"]))
            self.graph_pages(c, batch, rows)
            if managed:
                network_rows.sort(key=lambda r: norm_id(r["id"]))
                self.graph_pages(c, managed, network_rows, graph.NETWORK_RESOURCES_QUERY)
            for hub in hubs:
                self.child_lists(c, hub, graph.ARM_ONLY)
        return c

    def graph_pages(self, c: Cassette, batch: list[str], rows: list[dict], query: str | None = None) -> None:
        pages = [rows[i:i + self.page_size] for i in range(0, len(rows), self.page_size)] or [[]]
        for n, page in enumerate(pages):
            options: dict[str, Any] = {"$top": graph.PAGE, "resultFormat": "objectArray"}
            if n:
                options["$skipToken"] = f"graphpage{n}"
            body: dict[str, Any] = {"totalRecords": len(rows), "count": len(page), "resultTruncated": "false", "facets": [], "data": page}
            if n + 1 < len(pages):
                body["$skipToken"] = f"graphpage{n + 1}"
            request = {"subscriptions": batch, "query": query or graph.QUERY, "options": options}
            c.add("POST", c.url("/providers/Microsoft.ResourceGraph/resources", api=API["graph"]), 200, body, request_body=request)


def generate(spec: dict, *, page_size: int = 3, base: str = BASE) -> dict[str, Cassette]:
    """Cassettes for both sources: {"arm": Cassette, "graph": Cassette}."""
    g = _Generator(spec, page_size, base)
    return {"arm": g.arm(), "graph": g.graph()}


def write_cassettes(spec: dict, out_dir: Path | str, name: str, page_size: int = 3) -> list[Path]:
    return [c.write(Path(out_dir) / f"{name}-{source}.yaml") for source, c in generate(spec, page_size=page_size).items()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topology", type=Path)
    parser.add_argument("--out", type=Path, default=Path("cassettes"))
    parser.add_argument("--name", default=None)
    parser.add_argument("--page-size", type=int, default=3)
    args = parser.parse_args(argv)
    spec = yaml.safe_load(args.topology.read_text(encoding="utf-8"))
    for path in write_cassettes(spec, args.out, args.name or args.topology.stem, args.page_size):
        print(path)


if __name__ == "__main__":
    main()
