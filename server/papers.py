"""Paper endpoints: resolve a page URL, fetch one enriched paper, fetch many at once.

Everything here answers from what workers precomputed. A miss enqueues a job (one
in flight per paper) and answers 202; no enrichment is ever computed in a request.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from flask import Blueprint, Response, request
from redis import Redis
from redis.exceptions import RedisError
from werkzeug.http import parse_accept_header

from paperlens import enrichments, fetch_state, job_queue, keys
from paperlens.identifiers import PaperRef, resolve_url
from paperlens.schemas import (
    BatchRequest,
    FetchFailure,
    Pending,
    ResolveParams,
    ResolveResult,
)
from paperlens.store.papers import canonical_ids, find_paper, papers_by_ids
from server import fetch_budget, inputs, ratelimit
from server.answers import StoredAnswer, accepted, json_answer
from server.deflate_stream import DeflateStream
from server.errors import ApiError, error_response
from server.metrics import LOOKUP_HITS, LOOKUP_MISSES
from server.services import services

bp = Blueprint("papers", __name__, url_prefix="/api/v1")

# How an answer names a source to a reader.
SOURCE_LABELS = {
    "arxiv": "arXiv",
    "crossref": "Crossref",
    "openalex": "OpenAlex",
    "semantic_scholar": "Semantic Scholar",
    "huggingface": "Hugging Face",
    "github": "GitHub",
}


@bp.get("/resolve")
def resolve() -> Response:
    params = inputs.query(ResolveParams)
    if not params.url:
        raise ApiError(422, "missing_url", "Give the page address as ?url=...")
    ref = resolve_url(params.url, params.page_meta())
    if ref is None:
        raise ApiError(422, "not_a_paper", "This address does not name a single paper.")
    with services().db.session() as session:
        known = canonical_ids(session, [ref.paper_id])
    paper_id = known.get(ref.paper_id, ref.paper_id)
    result = ResolveResult(paper_id=paper_id, version=ref.version, known=bool(known))
    return json_answer(result)


@bp.get("/papers/<path:paper_id>")
def get_paper(paper_id: str) -> Response:
    wanted = inputs.paper_id(paper_id)
    svc = services()
    try:
        raw = enrichments.read_raw(svc.redis, wanted)
    except RedisError:
        return _degraded(wanted)
    if raw is not None:
        LOOKUP_HITS.inc()
        return _document(raw)
    LOOKUP_MISSES.inc()
    with svc.db.session() as session:
        paper = find_paper(session, wanted)
        canonical = paper.paper_id if paper is not None else None
    if canonical is None:
        return _fetch_or_404(wanted)
    if canonical != wanted:
        raw = enrichments.read_raw(svc.redis, canonical)
        if raw is not None:
            return _document(raw)
    job_queue.request_enrichment(svc.redis, svc.settings, canonical, keys.QUEUE_INTERACTIVE)
    return _pending(canonical)


@bp.post("/papers/batch")
def batch() -> Response:
    svc = services()
    body = inputs.json_body(BatchRequest)
    limit = svc.settings.batch_max_items
    if len(body.ids) > limit:
        raise ApiError(422, "too_many_ids", f"At most {limit} ids per batch.")
    # An id that does not parse is one item marked invalid, not an error of the whole batch.
    refs = [inputs.paper_ref(item) for item in body.ids]
    view = _VIEWS[body.view]
    try:
        items = _batch_items(body.ids, refs, view)
    except RedisError:
        return json_answer({"items": _degraded_items(body.ids, refs, body.view)})
    if view.spliced and _accepts(request.environ.get("HTTP_ACCEPT_ENCODING", ""), "deflate"):
        return _spliced_batch(items, view)
    for item in items:
        stored = item[view.field]
        if stored is not None:
            item[view.field] = orjson.Fragment(view.as_json(stored))
    return json_answer({"items": items})


@dataclass(frozen=True)
class _View:
    """How a batch view reads what it answers from Redis, and under which item field."""

    field: str
    read_many: Callable[[Redis, Sequence[str]], list[bytes | None]]
    as_json: Callable[[bytes], bytes]
    # Whether clients that accept deflate get the stored compressed data spliced together.
    spliced: bool


_VIEWS = {
    "full": _View("paper", enrichments.read_many_raw, enrichments.as_json, spliced=True),
    # Badges are a few dozen bytes each: compressing them would cost more than it saves.
    "badges": _View("badges", enrichments.read_many_badges, lambda stored: stored, spliced=False),
}


def _batch_items(
    given: list[str], refs: list[PaperRef | None], view: _View
) -> list[dict[str, Any]]:
    """Ready answers come from one MGET; only misses cost a catalogue lookup. A ready item
    holds what Redis stored under ``view.field``, for the caller to write out."""
    svc = services()
    wanted = [ref.paper_id for ref in refs if ref is not None]
    found = dict(zip(wanted, view.read_many(svc.redis, wanted), strict=True))
    hits = sum(raw is not None for raw in found.values())
    LOOKUP_HITS.inc(hits)
    LOOKUP_MISSES.inc(len(found) - hits)
    canonical = _canonical_for_misses(found, view)
    items = [
        _batch_item(item, ref, found, canonical, view)
        for item, ref in zip(given, refs, strict=True)
    ]
    for paper_id in {item["paper_id"] for item in items if item["status"] == "pending"}:
        job_queue.request_enrichment(svc.redis, svc.settings, paper_id, keys.QUEUE_DEFAULT)
    return items


def _degraded_items(
    given: list[str], refs: list[PaperRef | None], view: str
) -> list[dict[str, Any]]:
    """Redis is down: answer each item from the catalogue alone (no badges: code is unknown)."""
    field = _VIEWS[view].field
    with services().db.session() as session:
        papers = papers_by_ids(session, [ref.paper_id for ref in refs if ref is not None])
        items: list[dict[str, Any]] = []
        for item, ref in zip(given, refs, strict=True):
            paper = papers.get(ref.paper_id) if ref is not None else None
            if paper is None:
                status = "invalid" if ref is None else "unknown"
                items.append(
                    {"input": item, "paper_id": ref and ref.paper_id, "status": status, field: None}
                )
                continue
            answer = (
                enrichments.document(paper, "degraded").model_dump(mode="json")
                if view == "full"
                else None
            )
            items.append(
                {"input": item, "paper_id": paper.paper_id, "status": "degraded", field: answer}
            )
    return items


def _canonical_for_misses(found: dict[str, bytes | None], view: _View) -> dict[str, str]:
    """For ids Redis did not hold, what the catalogue calls them, and their answers."""
    misses = [paper_id for paper_id, raw in found.items() if raw is None]
    if not misses:
        return {}
    svc = services()
    with svc.db.session() as session:
        canonical = canonical_ids(session, misses)
    aliased = sorted({c for alias, c in canonical.items() if c != alias and c not in found})
    found.update(zip(aliased, view.read_many(svc.redis, aliased), strict=True))
    return canonical


def _batch_item(
    item: str,
    ref: PaperRef | None,
    found: dict[str, bytes | None],
    canonical: dict[str, str],
    view: _View,
) -> dict[str, Any]:
    if ref is None:
        return {"input": item, "paper_id": None, "status": "invalid", view.field: None}
    paper_id = ref.paper_id
    raw = found.get(paper_id)
    if raw is None and paper_id in canonical:
        paper_id = canonical[paper_id]
        raw = found.get(paper_id)
    if raw is not None:
        return {
            "input": item,
            "paper_id": paper_id,
            "status": "ready",
            view.field: raw,
        }
    status = "pending" if paper_id in canonical.values() else "unknown"
    return {"input": item, "paper_id": paper_id, "status": status, view.field: None}


def _spliced_batch(items: list[dict[str, Any]], view: _View) -> Response:
    """The batch answer as one deflate stream in which each document stored compressed is
    its stored deflate data, never inflated (see ``server.deflate_stream``).

    Each item is written as its JSON without the document field, then that field's name, then
    the document; the text up to a document goes into the stream with it, in one call."""
    stream = DeflateStream()
    field = view.field
    name = b',"' + field.encode() + b'":'
    before = b'{"items":['
    for item in items:
        stored = item.pop(field)
        part = enrichments.deflate_part(stored) if stored is not None else None
        if part is None:
            item[field] = None if stored is None else orjson.Fragment(view.as_json(stored))
            stream.text(before + orjson.dumps(item))
            before = b","
            continue
        stream.compressed(part, before + orjson.dumps(item)[:-1] + name)
        before = b"},"
    stream.text(before[:-1] + b"]}" if items else before + b"]}")
    return StoredAnswer(stream.finish(), _DEFLATE_HEADERS)


def _document(stored: bytes) -> Response:
    """A stored document as the client can take it: the gzip bytes as they are, when accepted."""
    accept_encoding = request.environ.get("HTTP_ACCEPT_ENCODING", "")
    if enrichments.is_gzip(stored) and _accepts(accept_encoding, "gzip"):
        return StoredAnswer(stored, _GZIP_HEADERS)
    return StoredAnswer(enrichments.as_json(stored), _PLAIN_HEADERS)


# The fixed headers of stored answers (see ``StoredAnswer``).
_GZIP_HEADERS = (("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding"))
_DEFLATE_HEADERS = (("Content-Encoding", "deflate"), ("Vary", "Accept-Encoding"))
_PLAIN_HEADERS = (("Vary", "Accept-Encoding"),)


@functools.lru_cache(maxsize=256)
def _accepts(accept_encoding: str, coding: str) -> bool:
    """Parsed once per distinct header: a browser sends the same one with every request."""
    return parse_accept_header(accept_encoding).quality(coding) > 0


def _fetch_or_404(paper_id: str) -> Response:
    """A paper the catalogue lacks: 202 while a worker fetches it, if a source can and the
    fetch budget allows (see ``server.fetch_budget``)."""
    svc = services()
    fetchable = job_queue.fetchable(svc.settings, paper_id)
    if not fetchable or fetch_state.is_missing(svc.redis, paper_id):
        raise ApiError(404, "unknown_paper", f"PaperLens does not know {paper_id} yet.")
    failure = fetch_state.read_failure(svc.redis, paper_id)
    if failure is not None:
        return _source_unreachable(paper_id, failure)
    if not job_queue.fetch_in_flight(svc.redis, paper_id):
        refusal = fetch_budget.budget().admit(svc.redis, ratelimit.client_address())
        if refusal is not None:
            return error_response(
                refusal.status,
                refusal.code,
                refusal.message,
                retry_after=refusal.retry_after_seconds,
            )
        job_queue.request_fetch(svc.redis, svc.settings, paper_id)
    return _pending(paper_id)


def _source_unreachable(paper_id: str, failure: FetchFailure) -> Response:
    """503 naming the source that failed and when it will be asked again (not a bare 404,
    which would read as "this paper does not exist")."""
    name = SOURCE_LABELS.get(failure.source, failure.source)
    wait = max(1, math.ceil((failure.retry_at - dt.datetime.now(dt.UTC)).total_seconds()))
    when = failure.retry_at.strftime("%H:%M:%S UTC")
    message = (
        f"PaperLens could not fetch {paper_id}: {name} could not be reached "
        f"({failure.error}). It will try again after {when}."
    )
    body = {
        "error": {
            "code": "source_unreachable",
            "message": message,
            "source": failure.source,
            "reason": failure.error,
            "retry_at": failure.retry_at.isoformat(),
        }
    }
    return json_answer(body, status=503, retry_after=wait)


def _degraded(paper_id: str) -> Response:
    """Redis is down: the catalogue still knows the paper, so serve its metadata alone."""
    with services().db.session() as session:
        paper = find_paper(session, paper_id)
        if paper is None:
            raise ApiError(404, "unknown_paper", f"PaperLens does not know {paper_id} yet.")
        document = enrichments.document(paper, "degraded")
    return json_answer(document)


def _pending(paper_id: str) -> Response:
    return accepted(Pending(paper_id=paper_id, retry_after=services().settings.retry_after_seconds))
