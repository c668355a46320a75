"""A loopback fake ARM endpoint for fault and scale tests of the collector.

Serves a `auditor.input.synthetic.build_estate` estate over HTTPS on 127.0.0.1 (a self-signed
certificate made at start; point the SDK at it with `connection_verify=server.ca_file`
and `base_url=server.base_url`):

    GET  /subscriptions, /tenants, /subscriptions/{id}
    GET  /subscriptions/{id}/providers/Microsoft.Network/{virtualNetworks|networkSecurityGroups|routeTables|
             networkInterfaces|applicationSecurityGroups|virtualWans|virtualHubs|networkManagers}
    GET  /subscriptions/{id}/resourcegroups
    GET  /subscriptions/{id}/resources?$filter=resourceType eq '...' [or ...]   (no properties, as in Azure)
    GET  /subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.Network/{kind}   (per-RG list)
    GET  /subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.Network/{kind}/{name}[/{child}]
    GET  .../providers/Microsoft.Network/{kind}/{name}[/{child kind}/{name}...]/{child kind}
         (a list of children, e.g. virtualHubs/{hub}/hubVirtualNetworkConnections,
         networkManagers/{m}/networkGroups/{g}/staticMembers)
    POST /providers/Microsoft.ResourceGraph/resources   (type filters read from the KQL; $top/$skipToken)
    GET  /_fake/log                                   (the request log, for a server in another process)
    GET  /_fake/settings?latency=0&graph_quota=15&graph_window=5   (change them; starts a new quota window)

Lists page with `nextLink` (`page_size`). Resource Graph queries (each page is one) count against
one user quota, `graph_quota` per `graph_window` seconds (Azure's documented default, 15 per 5 s):
every answer carries x-ms-user-quota-remaining and x-ms-user-quota-resets-after (hh:mm:ss, rounded
up), and a query over the quota gets 429 with Retry-After. `graph_peak` is the most queries ever in
flight at once. Faults are added per subscription or path:

    server.add_fault(Fault("status", status=403, subscription=sub_id))
    server.add_fault(Fault("status", status=429, retry_after=0.2, times=1, path="virtualNetworks"))
    server.add_fault(Fault("status", status=500, times=None))          # every request, forever
    server.add_fault(Fault("hang", seconds=5, subscription=sub_id))    # beyond the client read timeout
    server.add_fault(Fault("latency", seconds=0.05))                   # on top of `latency`
    server.add_fault(Fault("trickle", seconds=1.0, path="routeTables"))  # the answer, one byte a second
    server.add_fault(Fault("next_link", link="https://127.0.0.2:1/x"))  # the page's nextLink replaced
    server.add_fault(Fault("repeat", path="ResourceGraph"))            # nextLink/$skipToken: this page again
    server.add_fault(Fault("body", body=b"<html>", subscription=sub_id))  # the page replaced (200)

The server binds loopback only, bounds its connection threads, and shuts itself down
after `lifetime` seconds even if nobody calls stop(). In its own process: `python -m fakes.fakearm`.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import math
import re
import socket
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from auditor.input.collect.generate import graph_row
from auditor.input.synthetic import SyntheticEstate, build_estate
from auditor.model.ids import norm_id, parent_id, resource_group_of

NETWORK_LISTS = ("virtualnetworks", "networksecuritygroups", "routetables", "networkinterfaces",
                 "applicationsecuritygroups", "virtualwans", "virtualhubs", "networkmanagers")
RG_LISTS = ("virtualnetworkgateways", "localnetworkgateways", "connections")
_SUB_KEYS = ("coverage", "error", "error_code", "fault")  # synthetic hints, not Azure fields
GRAPH_QUOTA, GRAPH_WINDOW = 15, 5.0  # Azure Resource Graph's documented default user quota
GRAPH_THROTTLED = {"error": {"code": "RateLimiting", "message": "Too many queries: the user's Resource Graph "
                             "quota is used up. Please retry after '{retry_after}' seconds."}}

ERRORS = {
    400: ("BadRequest", "The request is invalid."),
    403: ("AuthorizationFailed", "The client '00000000-0000-0000-0000-000000000001' with object id "
          "'00000000-0000-0000-0000-000000000001' does not have authorization to perform action "
          "'Microsoft.Network/virtualNetworks/read' over scope '{scope}' or the scope is invalid. "
          "If access was recently granted, please refresh your credentials."),
    404: ("ResourceNotFound", "The Resource '{scope}' was not found."),
    429: ("SubscriptionRequestsThrottled", "Number of read requests for subscription exceeded the limit "
          "of '12000' for time interval '01:00:00'. Please try again after '{retry_after}' seconds."),
    500: ("InternalServerError", "Encountered internal server error. Diagnostic information: timestamp "
          "'20240101T000000Z', subscription id '{subscription}'."),
    503: ("ServiceUnavailable", "The service is temporarily unavailable."),
}


# -- certificate ---------------------------------------------------------------------

def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1/localhost: (cert+CA file, key file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-arm.localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "fakearm-cert.pem", directory / "fakearm-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_file, key_file


# -- faults ----------------------------------------------------------------------------

@dataclass
class Fault:
    """What to do instead of (or before) answering. `times=None` means every matching request."""

    kind: str  # "status" | "hang" | "latency" | "trickle" | "next_link" | "repeat" | "body"
    status: int = 500
    subscription: str | None = None  # matches the subscription in the path, or in a Graph query body
    path: str | None = None  # regex searched (case-insensitive) in the request path
    query: str | None = None  # regex searched in the query string, e.g. r"\$skiptoken" for a later page
    times: int | None = None
    retry_after: float | None = None  # seconds, sent as Retry-After on 429/503
    seconds: float = 0.0  # hang or extra latency; for trickle, between bytes
    link: str | None = None  # next_link: the nextLink to answer with
    body: bytes | None = None  # body: what to answer instead of the page
    code: str | None = None  # Azure error code; default from ERRORS
    hits: int = 0

    def matches(self, path: str, query: str, subscriptions: set[str]) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.subscription and self.subscription.lower() not in subscriptions:
            return False
        if self.query and re.search(self.query, query, re.IGNORECASE) is None:
            return False
        return not self.path or re.search(self.path, path, re.IGNORECASE) is not None


@dataclass
class Logged:
    method: str
    path: str
    query: str
    status: int
    start: float
    end: float
    subscription: str | None = None  # comma-separated for a Resource Graph batch
    fault: str | None = None


# -- the estate as ARM serves it ---------------------------------------------------------

class Estate:
    """Lookups over a SyntheticEstate: by subscription and kind, by resource group, by id."""

    def __init__(self, estate: SyntheticEstate):
        self.tenants = estate.tenants
        # `fault: forbidden` (as in auditor.input.collect.generate): not listed, every call 403, no Graph rows
        self.forbidden = {s["subscriptionId"].lower() for s in estate.subscriptions if s.get("fault") == "forbidden"}
        self.subscriptions = [{k: v for k, v in s.items() if k not in _SUB_KEYS} for s in estate.subscriptions
                              if s["subscriptionId"].lower() not in self.forbidden]
        self.tenant_of = {s["subscriptionId"].lower(): s["tenantId"] for s in estate.subscriptions}
        self.by_kind: dict[tuple[str, str], list[dict]] = {}
        self.by_id: dict[str, dict] = {}
        for sub_id, kinds in estate.resources.items():
            for kind, items in kinds.items():
                self.by_kind.setdefault((sub_id.lower(), kind.lower()), []).extend(items)
                for item in items:
                    self.by_id[norm_id(item["id"])] = item
                    for attr in ("subnets", "virtualNetworkPeerings"):
                        for child in item.get("properties", {}).get(attr, []):
                            self.by_id[norm_id(child["id"])] = child
        self.resource_groups: dict[str, list[str]] = {}
        for (sub_id, _), items in self.by_kind.items():
            groups = self.resource_groups.setdefault(sub_id, [])
            for item in items:
                rg = resource_group_of(item["id"])
                if rg and rg.lower() not in {g.lower() for g in groups}:
                    groups.append(rg)

    def has_subscription(self, sub_id: str) -> bool:
        return sub_id.lower() in self.tenant_of and sub_id.lower() not in self.forbidden

    def resources(self, sub_id: str, kinds: set[str] | None = None) -> list[dict]:
        return [r for (s, kind), items in self.by_kind.items() if s == sub_id.lower()
                and (kinds is None or f"microsoft.network/{kind}" in kinds) for r in items]

    def subscription_row(self, sub_id: str) -> dict:
        sub = next(s for s in self.subscriptions if s["subscriptionId"].lower() == sub_id.lower())
        return {"id": sub["id"], "name": sub["displayName"], "type": "microsoft.resources/subscriptions",
                "tenantId": sub["tenantId"], "subscriptionId": sub["subscriptionId"],
                "properties": {"state": sub["state"], "subscriptionPolicies": sub.get("subscriptionPolicies", {})}}

    def graph_row(self, resource: dict) -> dict:
        sub_id = resource["id"].split("/")[2]
        return graph_row(resource, {"tenantId": self.tenant_of.get(sub_id.lower()), "subscriptionId": sub_id})


def _generic(resource: dict) -> dict:
    """/resources returns no properties: only id, name, type, location, tags."""
    out = {k: resource[k] for k in ("id", "name", "type", "location") if k in resource}
    if resource.get("tags"):
        out["tags"] = resource["tags"]
    return out


_TYPE_RE = re.compile(r"microsoft\.network/[a-z/]+", re.IGNORECASE)


def _scope(method: str, path: str, body: bytes) -> tuple[dict | None, list[str], set[str]]:
    """(the JSON body of a POST, the path's parts, the subscriptions in the path or a Graph query)."""
    request = None
    if method == "POST" and body:
        try:
            request = json.loads(body)
        except ValueError:
            request = None
    parts = [p for p in path.split("/") if p]
    subs = {parts[1].lower()} if len(parts) > 1 and parts[0].lower() == "subscriptions" else set()
    if request and isinstance(request.get("subscriptions"), list):
        subs |= {str(s).lower() for s in request["subscriptions"]}
    return request, parts, subs


# -- the server ----------------------------------------------------------------------------

class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 1024

    def __init__(self, fake: FakeArm):
        self.fake = fake
        self.slots = threading.BoundedSemaphore(fake.max_connections)
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request, client_address):
        self.slots.acquire()  # bounded: at most max_connections connection threads
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def finish_request(self, request, client_address):
        # TLS handshake in the connection's thread, not in the accept loop
        request.settimeout(self.fake.idle_timeout)
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no Nagle + delayed-ACK 40 ms stalls
        try:
            tls = self.fake.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            _Handler(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):  # client went away: not our business
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format, *args):  # quiet
        pass

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def do_PUT(self):
        self._serve("PUT")

    def do_DELETE(self):
        self._serve("DELETE")

    def do_PATCH(self):
        self._serve("PATCH")

    def _serve(self, method: str) -> None:
        fake = self.server.fake
        start = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        status, payload, headers, sub, fault = fake.respond(method, url.path, url.query, body)
        if url.path.startswith("/_fake/"):  # the harness's own calls are not part of any run
            self._send(status, payload, headers)
            return
        if status is None:  # hang: the client should give up first; then drop the connection
            fake.log(Logged(method, url.path, url.query, 0, start, time.monotonic(), sub, fault))
            self.close_connection = True
            return
        # logged first: a client that has its answer finds the request in the log
        fake.log(Logged(method, url.path, url.query, status, start, time.monotonic(), sub, fault))
        self._send(status, payload, headers, trickle=fake.trickle_of(fault))

    def _send(self, status: int, payload: Any, headers: dict, trickle: float = 0.0) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-ms-request-id", f"fake-{id(payload):x}")
        for key, value in headers.items():
            self.send_header(key, value)
        self._headers_buffer.append(b"\r\n")
        try:  # headers and body in one write
            if trickle:
                self._trickle(b"".join(self._headers_buffer), data, trickle)
            else:
                self.wfile.write(b"".join(self._headers_buffer) + data)
            self._headers_buffer = []
        except OSError:
            self.close_connection = True

    def _trickle(self, head: bytes, data: bytes, seconds: float) -> None:
        """The headers at once, then the body a byte at a time: no single read ever waits long."""
        self.wfile.write(head)
        for n in range(len(data)):
            if self.server.fake._stopped.wait(seconds):
                self.close_connection = True
                return
            self.wfile.write(data[n:n + 1])


class FakeArm:
    """The fake endpoint. Use as a context manager, or start()/stop()."""

    def __init__(self, estate: SyntheticEstate | dict, *, page_size: int = 50, latency: float = 0.0,
                 max_connections: int = 512, idle_timeout: float = 10.0, lifetime: float = 600.0,
                 graph_page_size: int = 1000, quota: int = 12000,
                 graph_quota: int | None = GRAPH_QUOTA, graph_window: float = GRAPH_WINDOW):
        self.estate = Estate(estate if isinstance(estate, SyntheticEstate) else build_estate(estate))
        self.page_size = page_size
        self.graph_page_size = graph_page_size
        self.latency = latency
        self.max_connections = max_connections
        self.idle_timeout = idle_timeout
        self.lifetime = lifetime
        self.faults: list[Fault] = []
        self.requests: list[Logged] = []
        self._graph_rows: dict[tuple, list[dict]] = {}
        self._responses: dict[tuple, tuple[int, bytes]] = {}
        self._quota = quota
        self.graph_quota, self.graph_window = graph_quota, graph_window  # None: no quota, no headers
        self._window_end, self._window_used = 0.0, 0
        self.graph_in_flight = self.graph_peak = 0
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._dir = tempfile.TemporaryDirectory(prefix="fakearm-")
        cert, key = make_certificate(Path(self._dir.name))
        self.ca_file = str(cert)
        self.ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ssl_context.load_cert_chain(cert, key)
        self._server: _Server | None = None
        self._threads: list[threading.Thread] = []

    # -- lifecycle ------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        assert self._server is not None, "not started"
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeArm:
        self._server = _Server(self)
        serve = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                 name="fakearm", daemon=True)
        watchdog = threading.Thread(target=self._watchdog, name="fakearm-watchdog", daemon=True)
        self._threads = [serve, watchdog]
        for thread in self._threads:
            thread.start()
        return self

    def _watchdog(self) -> None:
        if not self._stopped.wait(self.lifetime):
            self.stop()

    def stop(self) -> None:
        if self._stopped.is_set() and self._server is None:
            return
        self._stopped.set()  # wakes hanging handlers
        server, self._server = self._server, None
        if server is not None:
            if threading.current_thread() is not self._threads[0]:
                server.shutdown()
            server.server_close()
        # the certificate directory goes with this object (a client may still name the CA file)

    def __enter__(self) -> FakeArm:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- faults and log ---------------------------------------------------------------------
    def add_fault(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def trickle_of(self, fault: str | None) -> float:
        """Seconds between bytes for an answer under a trickle fault (logged as kind trickle:<s>)."""
        return float(fault.split(":", 1)[1]) if fault and fault.startswith("trickle:") else 0.0

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def log(self, entry: Logged) -> None:
        with self._lock:
            self.requests.append(entry)

    def requests_for(self, pattern: str = "", subscription: str | None = None) -> list[Logged]:
        return [r for r in list(self.requests) if re.search(pattern, r.path, re.IGNORECASE)
                and (subscription is None or subscription.lower() in (r.subscription or "").split(","))]

    def client_kwargs(self, **extra: Any) -> dict:
        """Keyword arguments that point an azure-mgmt client at this server."""
        return {"base_url": self.base_url, "connection_verify": self.ca_file, **extra}

    def _take_fault(self, path: str, query: str, subscriptions: set[str]) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(path, query, subscriptions):
                    fault.hits += 1
                    return fault
        return None

    def _headers(self, status: int = 200) -> dict:
        with self._lock:
            self._quota = max(self._quota - 1, 0)
            remaining = 0 if status == 429 else self._quota
        return {"x-ms-ratelimit-remaining-subscription-reads": str(remaining)}

    # -- Resource Graph's user quota ------------------------------------------------------------
    def settings(self, params: dict) -> dict:
        """Change latency and the Graph quota (`none`: no quota); a new quota window starts."""
        with self._lock:
            if "latency" in params:
                self.latency = float(params["latency"])
            if "graph_quota" in params:
                quota = params["graph_quota"]
                self.graph_quota = None if quota.lower() == "none" else int(quota)
            if "graph_window" in params:
                self.graph_window = float(params["graph_window"])
            self._window_end, self._window_used, self.graph_peak = 0.0, 0, 0
            return {"latency": self.latency, "graph_quota": self.graph_quota,
                    "graph_window": self.graph_window}

    def _graph_quota(self) -> tuple[dict, int | None]:
        """Count one query against the user's quota: (quota headers, Retry-After seconds if refused)."""
        if self.graph_quota is None:
            return {}, None
        with self._lock:
            now = time.monotonic()
            if now >= self._window_end:  # a window starts with the first query after the last one ended
                self._window_end, self._window_used = now + self.graph_window, 0
            refused = self._window_used >= self.graph_quota
            self._window_used += not refused
            remaining, left = self.graph_quota - self._window_used, math.ceil(self._window_end - now)
        headers = {"x-ms-user-quota-remaining": str(remaining),
                   "x-ms-user-quota-resets-after": f"{left // 3600:02d}:{left // 60 % 60:02d}:{left % 60:02d}"}
        return headers, (left if refused else None)

    # -- routing ------------------------------------------------------------------------------
    def respond(self, method: str, path: str, query: str, body: bytes):
        """(status or None for a hang, payload, headers, subscription, fault kind)."""
        params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        if path == "/_fake/log":
            since = int(params.get("since") or 0)
            return 200, {"requests": [vars(r) for r in list(self.requests)[since:]]}, {}, None, None
        if path == "/_fake/settings":
            return 200, self.settings(params), {}, None, None
        if not (method == "POST" and path.lower().endswith("microsoft.resourcegraph/resources")):
            return self._answer(method, path, query, body, params)
        with self._lock:
            self.graph_in_flight += 1
            self.graph_peak = max(self.graph_peak, self.graph_in_flight)
        try:
            quota, retry_after = self._graph_quota()
            if retry_after is not None:
                if self.latency:
                    self._stopped.wait(self.latency)
                message = GRAPH_THROTTLED["error"]["message"].format(retry_after=retry_after)
                sub = ",".join(sorted(_scope(method, path, body)[2])) or None
                return (429, {"error": {**GRAPH_THROTTLED["error"], "message": message}},
                        {**quota, "Retry-After": str(retry_after)}, sub, "quota")
            status, payload, headers, sub, fault = self._answer(method, path, query, body, params)
            return status, payload, {**headers, **quota}, sub, fault
        finally:
            with self._lock:
                self.graph_in_flight -= 1

    def _answer(self, method: str, path: str, query: str, body: bytes, params: dict):
        request, parts, subs = _scope(method, path, body)
        sub = ",".join(sorted(subs)) or None  # several for a Resource Graph batch
        if self.latency:
            self._stopped.wait(self.latency)
        fault = self._take_fault(path, query, subs)
        if fault is not None and fault.kind == "latency":
            self._stopped.wait(fault.seconds)
        elif fault is not None and fault.kind == "hang":
            self._stopped.wait(fault.seconds)
            return None, None, {}, sub, "hang"
        elif fault is not None and fault.kind == "status":
            headers = self._headers(fault.status)
            if fault.retry_after is not None:
                headers["Retry-After"] = f"{fault.retry_after:g}"
            return fault.status, self._error(fault.status, path, sub, fault), headers, sub, f"status {fault.status}"
        if method not in ("GET", "POST") or (method == "POST" and not path.lower().endswith("microsoft.resourcegraph/resources")):
            return 405, {"error": {"code": "MethodNotAllowed", "message": f"{method} {path} is not served"}}, {}, sub, None
        if len(parts) > 1 and parts[0].lower() == "subscriptions" and parts[1].lower() in self.estate.forbidden:
            return 403, self._error(403, path, sub, None), self._headers(403), sub, "forbidden"
        key = (method, path, query, body)
        if key not in self._responses:  # the estate never changes: encode each answer once, as the real
            try:  # service's own work is not what a benchmark of the collector should measure
                status, payload = self._route(method, parts, params, request)
            except KeyError:
                status, payload = 404, self._error(404, path, sub, None)
            self._responses[key] = status, json.dumps(payload).encode()
        status, data = self._responses[key]
        if fault is not None and fault.kind in ("next_link", "repeat", "body"):
            data = self._altered(fault, data, path, query, request)
        kind = fault.kind if fault else None
        if kind == "trickle":  # the handler reads the pace from the kind it logs
            kind = f"trickle:{fault.seconds:g}"
        return status, data, self._headers(status), sub, kind

    def _altered(self, fault: Fault, data: bytes, path: str, query: str, request: dict | None) -> bytes:
        """A 200 page as a faulty service would send it: another nextLink, this page again, or other bytes."""
        if fault.kind == "body":
            return fault.body or b""
        page = json.loads(data)
        if request is not None:  # Resource Graph: the skip token in the body
            token = (request.get("options") or {}).get("$skipToken")
            page["$skipToken"] = token or base64.b64encode(json.dumps({"offset": 0}).encode()).decode()
        elif fault.kind == "repeat":
            page["nextLink"] = f"{self.base_url}{quote(path)}" + (f"?{query}" if query else "")
        else:
            page["nextLink"] = fault.link
        return json.dumps(page).encode()

    def _error(self, status: int, path: str, sub: str | None, fault: Fault | None) -> dict:
        code, message = ERRORS.get(status, ("Error", "Error."))
        if fault and fault.code:
            code = fault.code
        retry = fault.retry_after if fault and fault.retry_after is not None else 1
        return {"error": {"code": code, "message": message.format(scope=path, subscription=sub, retry_after=f"{retry:g}")}}

    def _route(self, method: str, parts: list[str], params: dict, request: dict | None) -> tuple[int, Any]:
        low = [p.lower() for p in parts]
        if method == "POST":
            return 200, self._graph(request or {})
        if low == ["subscriptions"]:
            return 200, self._page(self.estate.subscriptions, "/subscriptions", params)
        if low == ["tenants"]:
            return 200, self._page(self.estate.tenants, "/tenants", params)
        if len(low) < 2 or low[0] != "subscriptions" or not self.estate.has_subscription(low[1]):
            raise KeyError(parts)
        sub_id = low[1]
        base = "/" + "/".join(parts)
        if len(low) == 2:
            return 200, next(s for s in self.estate.subscriptions if s["subscriptionId"].lower() == sub_id)
        if low[2:] == ["resourcegroups"]:
            groups = [{"id": f"/subscriptions/{parts[1]}/resourceGroups/{rg}", "name": rg, "type": "Microsoft.Resources/resourceGroups",
                       "location": "westeurope", "properties": {"provisioningState": "Succeeded"}}
                      for rg in self.estate.resource_groups.get(sub_id, [])]
            return 200, self._page(groups, base, params)
        if low[2:] == ["resources"]:
            kinds = {t.lower() for t in _TYPE_RE.findall(params.get("$filter", ""))} or None
            return 200, self._page([_generic(r) for r in self.estate.resources(sub_id, kinds)], base, params)
        if low[2:4] == ["providers", "microsoft.network"] and len(low) == 5 and low[4] in NETWORK_LISTS:
            return 200, self._page(self.estate.resources(sub_id, {f"microsoft.network/{low[4]}"}), base, params)
        if len(low) >= 7 and low[2] == "resourcegroups" and low[4:6] == ["providers", "microsoft.network"]:
            rg = low[3]
            if len(low) == 7:
                items = [r for r in self.estate.resources(sub_id, {f"microsoft.network/{low[6]}"})
                         if (resource_group_of(r["id"]) or "").lower() == rg]
                if not items and rg not in {g.lower() for g in self.estate.resource_groups.get(sub_id, [])}:
                    return 404, {"error": {"code": "ResourceGroupNotFound", "message": f"Resource group '{parts[3]}' could not be found."}}
                return 200, self._page(items, base, params)
            if len(low) == 9 and low[6] == "virtualnetworks" and low[8] in ("subnets", "virtualnetworkpeerings"):
                vnet = self.estate.by_id[norm_id("/".join([""] + parts[:8]))]
                attr = "subnets" if low[8] == "subnets" else "virtualNetworkPeerings"
                return 200, self._page(vnet["properties"].get(attr, []), base, params)
            if len(low) % 2 == 1:  # the list of a resource's children, listed apart in the estate
                parent = norm_id("/".join([""] + parts[:-1]))
                if parent not in self.estate.by_id:
                    raise KeyError(parts)
                kind = f"microsoft.network/{'/'.join(low[6::2])}"
                return 200, self._page([r for r in self.estate.resources(sub_id, {kind})
                                        if norm_id(parent_id(r["id"])) == parent], base, params)
            return 200, self.estate.by_id[norm_id(base)]
        raise KeyError(parts)

    def _page(self, items: list[dict], base: str, params: dict) -> dict:
        offset = int(params.get("$skiptoken") or params.get("$skipToken") or 0)
        page = items[offset: offset + self.page_size]
        out: dict[str, Any] = {"value": page}
        if offset + self.page_size < len(items):
            query = "&".join(f"{quote(k)}={quote(v)}" for k, v in params.items() if k.lower() != "$skiptoken")
            out["nextLink"] = f"{self.base_url}{quote(base)}?{query}&$skiptoken={offset + self.page_size}"
        return out

    def _graph(self, request: dict) -> dict:
        query = request.get("query") or ""
        options = request.get("options") or {}
        # a management group scope stands for every subscription of the estate
        subs = [s for s in request.get("subscriptions") or [s["subscriptionId"] for s in self.estate.subscriptions]
                if self.estate.has_subscription(s)]
        key = (query, tuple(subs))
        rows = self._graph_rows.get(key)  # built once per query: pages of one query must not cost a rebuild each
        if rows is None:
            if query.lstrip().lower().startswith("resourcecontainers"):
                rows = [self.estate.subscription_row(s) for s in subs]
            else:
                kinds = {t.lower() for t in _TYPE_RE.findall(query)} or None
                rows = [self.estate.graph_row(r) for s in subs for r in self.estate.resources(s, kinds)]
            rows.sort(key=lambda r: norm_id(r["id"]))
            self._graph_rows[key] = rows
        token = options.get("$skipToken")
        offset = json.loads(base64.b64decode(token))["offset"] if token else int(options.get("$skip") or 0)
        top = min(int(options.get("$top") or 1000), self.graph_page_size, 1000)
        page = rows[offset: offset + top]
        out: dict[str, Any] = {"totalRecords": len(rows), "count": len(page), "data": page, "facets": [], "resultTruncated": "false"}
        if offset + top < len(rows):
            out["$skipToken"] = base64.b64encode(json.dumps({"offset": offset + top}).encode()).decode()
        return out


def main(argv: list[str] | None = None) -> None:
    """Serve in its own process (the benchmark does, so the server does not share the collector's GIL).

    Prints one JSON line {"base_url", "ca_file"}; serves until stdin closes or `lifetime` ends.
    """
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", help="topology description (JSON or YAML file), see auditor.input.synthetic")
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--max-connections", type=int, default=1024)
    parser.add_argument("--lifetime", type=float, default=900.0)
    parser.add_argument("--graph-quota", default=str(GRAPH_QUOTA), help="queries per window, or none")
    parser.add_argument("--graph-window", type=float, default=GRAPH_WINDOW)
    args = parser.parse_args(argv)
    import yaml

    spec = yaml.safe_load(Path(args.spec).read_text())
    quota = None if args.graph_quota.lower() == "none" else int(args.graph_quota)
    fake = FakeArm(spec, latency=args.latency, page_size=args.page_size, max_connections=args.max_connections,
                   lifetime=args.lifetime, graph_quota=quota, graph_window=args.graph_window).start()
    print(json.dumps({"base_url": fake.base_url, "ca_file": fake.ca_file}), flush=True)
    try:
        while sys.stdin.read(1):
            pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
