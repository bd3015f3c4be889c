"""The reader's research feed: new papers ranked from their list by a worker after each
ingest (see ``worker.pipeline.feeds``), served a page at a time."""

from __future__ import annotations

from flask import Blueprint, Response

from paperlens import feeds
from paperlens.schemas import FeedPage, FeedParams
from paperlens.store import library
from paperlens.store.library import InvalidCursor
from server import inputs
from server.answers import json_answer
from server.auth import current_reader, protect
from server.errors import ApiError
from server.services import services

bp = Blueprint("feed", __name__, url_prefix="/api/v1/me")
protect(bp)


@bp.get("/feed")
def get_feed() -> Response:
    """Served from Redis; a Redis failure reaches the error handler as 503 + Retry-After."""
    params = inputs.query(FeedParams)
    reader = current_reader()
    svc = services()
    stored = feeds.read(svc.redis, reader.id)
    if stored is None:
        return json_answer(FeedPage(items=[], computed_at=None, next_cursor=None))
    with svc.db.session() as session:
        settled = library.settled_ids(session, reader.id)
    try:
        items, next_cursor = feeds.page(stored, settled, params.since, params.cursor, params.limit)
    except InvalidCursor as error:
        raise ApiError(422, "invalid_cursor", str(error)) from None
    return json_answer(
        FeedPage(items=items, computed_at=stored.computed_at, next_cursor=next_cursor)
    )
