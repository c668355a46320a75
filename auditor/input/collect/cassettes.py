"""Record and replay a collection's HTTP interactions with vcrpy.

* `recording(path)`: writes every request/response with secrets scrubbed (`scrub`), and replaces
  `path` only when the block is done, in one step.
* `replaying(path)`: serves them back (no network); use `StaticTokenCredential`, which needs no login.

Requests match on method, host-independent path (case-insensitive, as ARM is), the query
without `api-version` (so an SDK upgrade does not invalidate cassettes), and, for Resource
Graph queries, the query text, subscriptions and $skipToken in the body. Identical requests
replay in recorded order (a 429 then a 200).

Collect with `concurrency=1` inside these blocks: vcrpy briefly un-patches the HTTP
connection classes process-wide whenever it creates a connection, so a parallel thread
can slip past the cassette to the real network.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qsl, urlsplit

import vcr
from vcr.persisters.filesystem import CassetteNotFoundError, FilesystemPersister
from vcr.serialize import serialize

from auditor.errors import InputError
from auditor.input.collect.scrub import scrub_request, scrub_response
from auditor.outputs import write_atomic

#: the concurrency to collect with while vcrpy is active (see above)
VCR_CONCURRENCY = 1


# -- matching -----------------------------------------------------------------------------
def _path(r: Any) -> str:
    return urlsplit(r.uri).path.rstrip("/").lower()


def _query(r: Any) -> list[tuple[str, str]]:
    return sorted((k.lower(), v) for k, v in parse_qsl(urlsplit(r.uri).query, keep_blank_values=True) if k.lower() != "api-version")


def match_path(r1: Any, r2: Any) -> None:
    assert _path(r1) == _path(r2), f"path {_path(r1)} != {_path(r2)}"


def match_query(r1: Any, r2: Any) -> None:
    assert _query(r1) == _query(r2), f"query {_query(r1)} != {_query(r2)}"


def _graph_key(r: Any) -> Any:
    if r.method.upper() != "POST":
        return None
    body = r.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        doc = json.loads(body or "{}")
    except ValueError:
        return body
    options = doc.get("options") or {}
    return (sorted(s.lower() for s in doc.get("subscriptions") or []), sorted(doc.get("managementGroups") or []),
            " ".join(str(doc.get("query", "")).split()), options.get("$skipToken"))


def match_graph_body(r1: Any, r2: Any) -> None:
    assert _graph_key(r1) == _graph_key(r2), "Resource Graph query body differs"


MATCH_ON = ("method", "arm_path", "arm_query", "graph_body")


# -- record / replay ----------------------------------------------------------------------
class AtomicPersister(FilesystemPersister):
    """Cassettes written like every other output: whole or not at all (`write_atomic`)."""

    @staticmethod
    def save_cassette(cassette_path: Any, cassette_dict: dict, serializer: Any) -> None:
        write_atomic(Path(cassette_path), serialize(cassette_dict, serializer).encode("utf-8"))


class FreshPersister(AtomicPersister):
    """Record from nothing: an earlier cassette at the path stays in place until the new one replaces it."""

    @classmethod
    def load_cassette(cls, cassette_path: Any, serializer: Any) -> Any:
        raise CassetteNotFoundError()


def make_vcr(persister: type[FilesystemPersister] = AtomicPersister, **overrides: Any) -> vcr.VCR:
    v = vcr.VCR(
        serializer="yaml",
        match_on=MATCH_ON,
        before_record_request=scrub_request,
        before_record_response=scrub_response,
        decode_compressed_response=True,
        **overrides,
    )
    v.register_matcher("arm_path", match_path)
    v.register_matcher("arm_query", match_query)
    v.register_matcher("graph_body", match_graph_body)
    v.register_persister(persister)
    return v


@contextmanager
def recording(path: Path | str) -> Iterator[Any]:
    """Record every HTTP interaction inside the block to `path` (overwritten), scrubbed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with make_vcr(FreshPersister, record_mode="all").use_cassette(str(path)) as cassette:
        yield cassette
    if not len(cassette):  # nothing recorded, so nothing saved: drop the old cassette as before
        path.unlink(missing_ok=True)


@contextmanager
def replaying(path: Path | str, allow_repeats: bool = False) -> Iterator[Any]:
    """Serve the block's HTTP requests from `path`; a request it does not hold fails like a network error."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such cassette")
    with make_vcr(record_mode="none").use_cassette(str(path), allow_playback_repeats=allow_repeats) as cassette:
        yield cassette
