"""The reader's research feed: new papers ranked from their list by a worker after each
ingest (see ``worker.pipeline.feeds``), served a page at a time; the token of its Atom
version (``server.atom``); and which tags feed it."""

from __future__ import annotations

from flask import Blueprint, Response, url_for

from paperlens import feeds
from paperlens.schemas import FeedPage, FeedParams, FeedTokenCreated, TagFeeds, TagFeedsWrite
from paperlens.store import feed_settings, library
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
    """A page of what the worker stored, less what the reader settled since; with Redis
    down, the error handler answers 503 + Retry-After."""
    params = inputs.query(FeedParams)
    reader_id = current_reader().id
    with services().db.session() as session:
        settled = library.settled_ids(session, reader_id)
    stored = feeds.read(services().redis, reader_id)
    if stored is None:
        return json_answer(
            FeedPage(items=[], computed_at=None, last_refresh=None, next_cursor=None)
        )
    try:
        items, next_cursor = feeds.page(stored, settled, params.since, params.cursor, params.limit)
    except InvalidCursor as error:
        raise ApiError(422, "invalid_cursor", str(error)) from None
    return json_answer(
        FeedPage(
            items=items,
            computed_at=stored.computed_at,
            last_refresh=stored.last_refresh,
            next_cursor=next_cursor,
        )
    )


@bp.post("/feed-token")
def create_feed_token() -> Response:
    """A new Atom feed token (replacing any older one), shown once."""
    reader = current_reader()
    with services().db.session() as session:
        token = feed_settings.replace_feed_token(session, reader.id)
    url = url_for("atom.atom_feed", token=token, _external=True)
    return json_answer(FeedTokenCreated(token=token, url=url), status=201)


@bp.delete("/feed-token")
def revoke_feed_token() -> Response:
    """From now on the Atom feed's address answers 404."""
    with services().db.session() as session:
        revoked = feed_settings.revoke_feed_token(session, current_reader().id)
    if not revoked:
        raise ApiError(404, "no_feed_token", "You have no feed token.")
    return Response(status=204)


@bp.put("/tags/<path:tag>")
def set_tag_feeds(tag: str) -> Response:
    """Whether the reader's papers with this tag feed the research feed (from the next refresh)."""
    name = TagFeeds.model_validate({"tag": tag, "feeds": True}).tag
    body = inputs.json_body(TagFeedsWrite)
    with services().db.session() as session:
        feed_settings.set_tag_feeds(session, current_reader().id, name, body.feeds)
    return json_answer(TagFeeds(tag=name, feeds=body.feeds))
