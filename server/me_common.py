"""Helpers shared by the reader's endpoints: parsing ids and queries, and follow-up work."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from flask import request
from pydantic import BaseModel
from redis.exceptions import RedisError

from paperlens import fetch_state, job_queue
from paperlens.identifiers import parse_paper_id
from server import fetch_budget
from server.errors import ApiError
from server.services import services

log = logging.getLogger(__name__)


def paper_id_from_path(text: str) -> str:
    ref = parse_paper_id(text)
    if ref is None:
        raise ApiError(422, "invalid_id", f"{text[:200]!r} is not a paper id or paper URL.")
    return ref.paper_id


def query_params(model: type[BaseModel]) -> Any:
    """The query string parsed by ``model``; a bad value is a 422 through the error handler."""
    return model.model_validate(request.args.to_dict())


def after_change(reader_id: int, fetch: Iterable[str] = ()) -> None:
    """Queue the follow-up work of a committed change; the change stands if Redis is down.

    The reader's suggestions are recomputed, and papers the catalogue lacks are fetched.
    A lost request heals itself: stale suggestions are requested again when read.
    """
    svc = services()
    try:
        _fetch_within_budget(reader_id, fetch)
        job_queue.request_suggestions(svc.redis, svc.settings, reader_id)
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
        if job_queue.fetchable(svc.settings, paper_id)
        and not job_queue.fetch_in_flight(svc.redis, paper_id)
    ]
    for position, paper_id in enumerate(wanted):
        refusal = fetch_budget.budget().admit(svc.redis, f"reader:{reader_id}")
        if refusal is not None:
            later = wanted[position:]
            fetch_budget.REFUSED_FETCHES.labels(refusal.reason).inc(len(later) - 1)
            fetch_state.defer(svc.redis, later)
            log.info("%d fetches deferred (%s)", len(later), refusal.reason)
            return
        job_queue.request_fetch(svc.redis, svc.settings, paper_id)
