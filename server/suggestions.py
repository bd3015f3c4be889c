"""The reader's suggestions (precomputed by a worker) and the feedback that steers them."""

from __future__ import annotations

from flask import Blueprint, Response

from paperlens import job_queue, suggestions
from paperlens.schemas import (
    FeedbackRequest,
    FeedbackResult,
    SuggestionList,
    SuggestionParams,
    SuggestionsPending,
)
from paperlens.store import library
from server.auth import current_reader, protect
from server.errors import ApiError
from server.json_io import json_body, json_response
from server.me_common import (
    after_change,
    paper_id_from_path,
    query_params,
)
from server.services import services

bp = Blueprint("suggestions", __name__, url_prefix="/api/v1/me")
protect(bp)


@bp.get("/suggestions")
def get_suggestions() -> Response:
    """Served from Redis; a Redis failure reaches the error handler as 503 + Retry-After."""
    params = query_params(SuggestionParams)
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
            return json_response(
                SuggestionList(items=[], tag=params.tag, computed_at=None, stale=False)
            )
        job_queue.request_suggestions(svc.redis, svc.settings, reader.id)
        return _pending()
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
    return json_response(body)


@bp.post("/feedback")
def feedback() -> Response:
    body = FeedbackRequest.model_validate(json_body())
    paper_id = paper_id_from_path(body.paper_id)
    reader = current_reader()
    with services().db.session() as session:
        kept_as = library.record_feedback(session, reader.id, paper_id, body.signal)
    after_change(reader.id)
    return json_response(FeedbackResult(paper_id=kept_as, signal=body.signal))


@bp.delete("/feedback/<path:paper_id>")
def withdraw_feedback(paper_id: str) -> Response:
    wanted = paper_id_from_path(paper_id)
    reader = current_reader()
    with services().db.session() as session:
        if not library.delete_feedback(session, reader.id, wanted):
            raise ApiError(404, "no_feedback", f"You gave no feedback on {wanted}.")
    after_change(reader.id)
    return Response(status=204)


def _pending() -> Response:
    retry_after = services().settings.retry_after_seconds
    response = json_response(SuggestionsPending(retry_after=retry_after), status=202)
    response.headers["Retry-After"] = str(retry_after)
    return response
