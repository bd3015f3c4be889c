"""The reader's suggestions (precomputed by a worker) and the feedback that steers them and
the reader's research feed."""

from __future__ import annotations

import logging

from flask import Blueprint, Response
from redis.exceptions import RedisError

from paperlens import job_queue, suggestions
from paperlens.schemas import (
    FeedbackRequest,
    FeedbackResult,
    SuggestionList,
    SuggestionParams,
    SuggestionsPending,
)
from paperlens.store import library
from server import inputs
from server.answers import accepted, json_answer
from server.auth import current_reader, protect
from server.errors import ApiError
from server.me_common import after_change, remove
from server.services import services

log = logging.getLogger(__name__)

bp = Blueprint("suggestions", __name__, url_prefix="/api/v1/me")
protect(bp)


@bp.get("/suggestions")
def get_suggestions() -> Response:
    """Served from Redis; a Redis failure reaches the error handler as 503 + Retry-After."""
    params = inputs.query(SuggestionParams)
    reader = current_reader()
    svc = services()
    found, has_any = suggestions.read(svc.redis, reader.id, params.tag)
    with svc.db.session() as session:
        revision = library.library_revision(session, reader.id)
        tag_known = params.tag is None or any(
            tag == params.tag for tag, _ in library.tag_counts(session, reader.id)
        )
    if found is None:
        if has_any and not tag_known:
            return json_answer(
                SuggestionList(items=[], tag=params.tag, computed_at=None, stale=False)
            )
        job_queue.request_suggestions(svc.redis, svc.settings, reader.id)
        return accepted(SuggestionsPending(retry_after=svc.settings.retry_after_seconds))
    stale = found.revision < revision
    items = found.items
    if stale:
        job_queue.request_suggestions(svc.redis, svc.settings, reader.id)
        with svc.db.session() as session:
            settled = library.settled_ids(session, reader.id)
        # Until the worker catches up, what was saved or dismissed since is left out.
        items = [item for item in items if item.paper_id not in settled]
    body = SuggestionList(
        items=items[: params.k], tag=params.tag, computed_at=found.computed_at, stale=stale
    )
    return json_answer(body)


@bp.post("/feedback")
def feedback() -> Response:
    """A dismissed paper leaves the feed and suggestions at once (they are read less what the
    reader settled); both are then ranked again with the signal in the reader's model."""
    body = inputs.json_body(FeedbackRequest)
    paper_id = inputs.paper_id(body.paper_id)
    reader = current_reader()
    with services().db.session() as session:
        kept_as = library.record_feedback(session, reader.id, paper_id, body.signal)
    after_change(reader.id)
    _refresh_feed(reader.id)
    return json_answer(FeedbackResult(paper_id=kept_as, signal=body.signal))


@bp.delete("/feedback/<path:paper_id>")
def withdraw_feedback(paper_id: str) -> Response:
    answer = remove(paper_id, library.delete_feedback, _no_feedback)
    _refresh_feed(current_reader().id)
    return answer


def _refresh_feed(reader_id: int) -> None:
    """Queue the ranking of the reader's feed again; the signal stands if Redis is down, and
    the next ingest's refresh ranks with it."""
    svc = services()
    try:
        job_queue.request_reader_feed_refresh(svc.redis, svc.settings, reader_id)
    except RedisError as error:
        log.warning("feed refresh not queued (redis unavailable): %s", error)


def _no_feedback(paper_id: str) -> ApiError:
    return ApiError(404, "no_feedback", f"You gave no feedback on {paper_id}.")
