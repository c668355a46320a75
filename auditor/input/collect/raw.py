"""The typed operations' own requests, sent through the client's pipeline, with the JSON kept as JSON.

The typed list methods deserialize every page into models that we would only turn back into
JSON for the normalizer (which reads REST-shaped dicts); that round trip was most of the
collector's CPU. Here the same request builders the typed methods call (same URL, query,
api-version, Accept header) go through the same client pipeline (auth, retry, read-only guard,
user agent), pages are followed by azure-core's ItemPaged, and errors are mapped as the typed
methods map them (HttpResponseError with ARM's error format, ClientAuthenticationError on 401, ...).
"""

from __future__ import annotations

import urllib.parse
from typing import Any, Iterator

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ResourceNotModifiedError,
    map_error,
)
from azure.core.paging import ItemPaged
from azure.core.rest import HttpRequest
from azure.core.utils import case_insensitive_dict
from azure.mgmt.core.exceptions import ARMErrorFormat

from auditor.input.collect import deadlines
from auditor.input.collect.paging import PageGuard, page_of

#: what the typed operations raise for these statuses (anything else but 200: HttpResponseError)
ERROR_MAP = {401: ClientAuthenticationError, 404: ResourceNotFoundError, 409: ResourceExistsError,
             304: ResourceNotModifiedError}


def send(client: Any, request: HttpRequest) -> Any:
    """One request through the client's pipeline (the client fills in its endpoint); raises as the SDK does.

    Returns the PipelineResponse: its context holds the body the pipeline's ContentDecodePolicy
    already parsed (see `body`), so no page is parsed twice.
    """
    sender = getattr(client, "send_request", None) or client._send_request  # Resource Graph keeps it private
    clock = deadlines.current()  # the call's deadline bounds the request, retries included
    options = clock.request_options() if clock is not None else {}
    pipeline_response = sender(request, _return_pipeline_response=True, **options)
    response = pipeline_response.http_response
    if response.status_code != 200:
        map_error(status_code=response.status_code, response=response, error_map=ERROR_MAP)
        raise HttpResponseError(response=response, error_format=ARMErrorFormat)
    return pipeline_response


def body(pipeline_response: Any) -> Any:
    """The JSON body, as ContentDecodePolicy decoded it (or decoded now if it did not)."""
    decoded = pipeline_response.context.get("deserialized_data")
    return decoded if decoded is not None else pipeline_response.http_response.json()


def _next_request(next_link: str, api_version: str | None) -> HttpRequest:
    """The typed methods' next-page request: the link as given (typespec clients), or, for
    autorest clients (`api_version` given), the link's query with the client's api-version."""
    if api_version is None:
        return HttpRequest("GET", next_link)
    parsed = urllib.parse.urlparse(next_link)
    params = case_insensitive_dict(
        {key: [urllib.parse.quote(v) for v in value] for key, value in urllib.parse.parse_qs(parsed.query).items()}
    )
    params["api-version"] = api_version
    return HttpRequest("GET", urllib.parse.urljoin(next_link, parsed.path), params=params)


def pages(client: Any, first: HttpRequest, *, endpoint: str | None,
          api_version: str | None = None) -> Iterator[dict]:
    """Every item of an ARM list ({value, nextLink}), page by page, as REST JSON.

    `endpoint` is the client's base URL: nextLinks elsewhere are refused (see auditor.input.collect.paging).
    """
    guard = PageGuard(endpoint)

    def get_next(next_link: str | None = None) -> Any:
        if next_link is None:
            guard.count()
            return send(client, first)
        return send(client, _next_request(guard.next_link(next_link), api_version))

    def extract_data(pipeline_response: Any) -> tuple[str | None, Iterator[dict]]:
        link, items = page_of(body(pipeline_response), "value", "nextLink")
        return link, iter(items)

    return ItemPaged(get_next, extract_data)


def get(client: Any, request: HttpRequest) -> dict:
    """A single resource as REST JSON."""
    return body(send(client, request))
