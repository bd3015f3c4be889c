"""Helpers shared by the reader's endpoints: removing a row, and the follow-up work of a change."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from flask import Response
from redis.exceptions import RedisError
from sqlalchemy.orm import Session

from paperlens import jobs
from server import fetch_budget, inputs
from server.auth import current_reader
from server.errors import ApiError
from server.services import services

log = logging.getLogger(__name__)


def remove(
    text: str,
    delete: Callable[[Session, int, str], bool],
    missing: Callable[[str], ApiError],
) -> Response:
    """Delete the reader's row about the paper ``text`` names: 204, or the error ``missing``
    makes of the paper id when there was none. The follow-up work is queued after the commit."""
    wanted = inputs.paper_id(text)
    reader = current_reader()
    with services().db.session() as session:
        if not delete(session, reader.id, wanted):
            raise missing(wanted)
    after_change(reader.id)
    return Response(status=204)


def after_change(reader_id: int, fetch: Iterable[str] = ()) -> None:
    """Queue the follow-up work of a committed change; the change stands if Redis is down.

    The reader's suggestions are recomputed, and papers the catalogue lacks are fetched.
    A lost request heals itself: stale suggestions are requested again when read.
    """
    svc = services()
    try:
        _fetch_within_budget(reader_id, fetch)
        jobs.request_suggestions(svc.redis, svc.settings, reader_id)
    except RedisError as error:
        log.warning("follow-up work not queued (redis unavailable): %s", error)


def _fetch_within_budget(reader_id: int, paper_ids: Iterable[str]) -> None:
    """Queue the fetches the reader's budget allows; defer the rest, never drop them.

    The entries are saved already; a deferred fetch is queued later by the scheduler.
    """
    svc = services()
    wanted = [
        paper_id
        for paper_id in paper_ids
        # Only ids an enabled source serves, and not those already on their way.
        if jobs.fetchable(svc.settings, paper_id) and not jobs.fetch_in_flight(svc.redis, paper_id)
    ]
    for position, paper_id in enumerate(wanted):
        refusal = fetch_budget.budget().admit(svc.redis, f"reader:{reader_id}")
        if refusal is not None:
            later = wanted[position:]
            fetch_budget.REFUSED_FETCHES.labels(refusal.reason).inc(len(later) - 1)
            jobs.defer_fetches(svc.redis, later)
            log.info("%d fetches deferred (%s)", len(later), refusal.reason)
            return
        jobs.request_fetch(svc.redis, svc.settings, paper_id)
