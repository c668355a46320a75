"""The HTTP session every SDK client of a collection shares."""

from __future__ import annotations

import ssl
import threading
import urllib.parse
from typing import Any

from auditor.input.collect import deadlines


def http_session(concurrency: int) -> Any:
    """A requests session with a connection pool as large as the collection's concurrency."""
    import requests

    class Session(requests.Session):
        """requests re-reads the proxy and CA-bundle environment on every request (~0.25 ms each);
        the answer depends only on the URL's scheme and host and the request's settings: keep it."""

        def __init__(self) -> None:
            super().__init__()
            self.environment: dict = {}

        def merge_environment_settings(self, url, proxies, stream, verify, cert):
            parts = urllib.parse.urlsplit(url)
            key = (parts.scheme, parts.netloc, tuple(sorted((proxies or {}).items())), stream, verify, cert)
            if key not in self.environment:
                self.environment[key] = super().merge_environment_settings(url, proxies, stream, verify, cert)
            return dict(self.environment[key])

        def send(self, request, **kwargs):
            try:
                return super().send(request, **kwargs)  # the body is read in here
            finally:
                if (clock := deadlines.current()) is not None:
                    clock.detach()

    session = Session()
    adapter = _adapter_class()(pool_connections=8, pool_maxsize=concurrency)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def _watched(connection_class: type) -> type:
    class Watched(connection_class):
        """Tells the running call's clock which socket it reads from, so a deadline can shut it."""

        def request(self, *args: Any, **kwargs: Any) -> None:
            super().request(*args, **kwargs)
            if (clock := deadlines.current()) is not None:
                clock.attach(self.sock)

    return Watched


_contexts: dict[str, Any] = {}
_contexts_lock = threading.Lock()


def _verifying_context(ca_certs: str) -> Any:
    """One TLS context per CA bundle, its certificates loaded once (the first connections open together)."""
    from urllib3.util.ssl_ import create_urllib3_context

    with _contexts_lock:
        if ca_certs not in _contexts:
            context = create_urllib3_context()  # certificate and host name required
            context.load_verify_locations(ca_certs)
            _contexts[ca_certs] = context
        return _contexts[ca_certs]


def _one_context(connection_class: type) -> type:
    class OneContext(connection_class):
        """urllib3 loads the CA bundle into a new context for every connection (certifi's takes about
        17 ms of CPU) and the collection opens one per request in flight: they share one instead."""

        def connect(self) -> None:
            from urllib3.util.ssl_ import resolve_cert_reqs

            if (self.ca_certs and self.ssl_context is None and not (self.ca_cert_dir or self.ca_cert_data)
                    and resolve_cert_reqs(self.cert_reqs) == ssl.CERT_REQUIRED):
                self.ssl_context, self.ca_certs = _verifying_context(self.ca_certs), None
            super().connect()

    return OneContext


def _adapter_class() -> type:
    """An HTTPAdapter whose connections report their socket to the running call's clock."""
    import requests
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class HTTPPool(HTTPConnectionPool):
        ConnectionCls = _watched(HTTPConnectionPool.ConnectionCls)

    class HTTPSPool(HTTPSConnectionPool):
        ConnectionCls = _watched(_one_context(HTTPSConnectionPool.ConnectionCls))

    class Adapter(requests.adapters.HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": HTTPPool, "https": HTTPSPool}

    return Adapter
