"""Where paging may lead: links only to the client's own endpoint, and an end to every chain of pages.

A nextLink is followed with the client's pipeline, bearer token included: a link to any other
scheme, host or port is refused before a request is made. A link or skip token seen before,
or more than MAX_PAGES pages, means the service would page forever: the call stops.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlsplit

from auditor.input.collect.errors import MalformedResponse, PagingDidNotTerminate, UntrustedNextLink

#: pages one call may read (ARM pages hold up to 1000 items, Resource Graph pages 1000 rows)
MAX_PAGES = 10_000
_PORTS = {"https": 443, "http": 80}


def origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or _PORTS.get(scheme)
    except ValueError:  # a port that is not a number
        port = -1
    return scheme, (parts.hostname or "").lower(), port


class PageGuard:
    """One call's chain of pages: refuses untrusted links, repeats, and endless chains."""

    def __init__(self, endpoint: str | None = None):
        self.endpoint = endpoint
        self.seen: set[str] = set()
        self.pages = 0

    def next_link(self, link: str) -> str:
        """The link to request next (resolved against the endpoint), if it may be followed."""
        if self.endpoint is None:
            raise UntrustedNextLink("no endpoint to check the nextLink against")
        url = urljoin(self.endpoint.rstrip("/") + "/", link)
        if origin(url) != origin(self.endpoint):
            scheme, host, port = origin(url)
            raise UntrustedNextLink(
                f"nextLink leads to {scheme}://{host}:{port}, not the endpoint {self.endpoint}"
            )
        self.token(url)
        return link

    def token(self, token: str) -> None:
        """One more page, named by its link or skip token."""
        if token in self.seen:
            raise PagingDidNotTerminate("paging did not terminate: a page link or skip token repeated")
        self.seen.add(token)
        self.count()

    def count(self) -> None:
        self.pages += 1
        if self.pages > MAX_PAGES:
            raise PagingDidNotTerminate(f"paging did not terminate: more than {MAX_PAGES} pages")


def page_of(page: Any, items: str, link: str) -> tuple[str | None, list[dict]]:
    """(the next link or token, the items) of one page, or MalformedResponse."""
    if not isinstance(page, dict):
        raise MalformedResponse(f"a page is {type(page).__name__}, not a JSON object")
    values, following = page.get(items) or [], page.get(link) or None
    if not isinstance(values, list) or not all(isinstance(v, dict) for v in values):
        raise MalformedResponse(f"a page's {items!r} is not a list of objects")
    if following is not None and not isinstance(following, str):
        raise MalformedResponse(f"a page's {link!r} is {type(following).__name__}, not a string")
    return following, values
