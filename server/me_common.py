"""Helpers shared by the reader's endpoints: parsing ids and queries, and follow-up work."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from flask import request
from pydantic import BaseModel
from redis.exceptions import RedisError

from paperlens import jobs
from paperlens.identifiers import parse_paper_id
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
        for paper_id in fetch:
            if jobs.fetchable(svc.settings, paper_id):  # only ids an enabled source serves
                jobs.request_fetch(svc.redis, svc.settings, paper_id)
        jobs.request_suggestions(svc.redis, svc.settings, reader_id)
    except RedisError as error:
        log.warning("follow-up work not queued (redis unavailable): %s", error)
