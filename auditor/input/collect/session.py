"""The HTTP session every SDK client of a collection shares."""

from __future__ import annotations

import urllib.parse
from typing import Any


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

    session = Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=8, pool_maxsize=concurrency)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
