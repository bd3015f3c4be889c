"""Liveness and readiness: is the process up, and can it reach what it needs?"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response
from redis.exceptions import RedisError
from sqlalchemy import text

from paperlens import keys, status
from paperlens.parts_state import PartsState
from paperlens.schemas import PartHealth
from server.answers import json_answer
from server.observability import may_read_operations
from server.services import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return json_answer({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    svc = services()
    checks = {"redis": _check(lambda: svc.redis.ping()), "database": _check(_ping_sql)}
    ready = all(state == "ok" for state in checks.values())
    report = status.collect(svc.redis, svc.settings)
    body: dict[str, object] = {
        "status": "ok" if ready else "unavailable",
        "checks": checks,
        "ranker": _ranker(),
        # The published index, the queues and the last ingest, as `paperlens status` shows.
        **report.work,
    }
    if report.supervised and report.parts is not None:
        body["parts"], body["crash_looping"] = _supervised_parts(report.parts)
    return json_answer(body, status=200 if ready else 503)


def _supervised_parts(state: PartsState) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """What ``paperlens run`` says of its processes, when it runs this API.

    A crash-looping worker or scheduler does not make this API unready: it still answers
    (from Redis, or degraded from SQL), so the status code stays with the checks above.
    Log lines go only to whoever may read ``/metrics``.
    """
    detailed = may_read_operations()
    parts = {
        part.name: PartHealth(
            phase=part.phase,
            restarts=part.restarts,
            crash_looping=part.crash_looping,
            last_exit=part.last_exit,
            log_tail=part.log_tail if detailed else None,
        ).model_dump(exclude_none=True)
        for part in state.parts
    }
    return parts, state.crash_looping


def _ranker() -> str:
    """Which ranker built the related-papers index the workers serve (a fallback says so)."""
    try:
        name = services().redis.get(keys.INDEX_RANKER)
    except RedisError:
        return "unknown: Redis unreachable"
    if not isinstance(name, bytes):
        return "none yet: the related-papers index has not been built"
    return name.decode()


def _ping_sql() -> None:
    with services().db.session() as session:
        session.execute(text("SELECT 1"))


def _check(probe: Callable[[], object]) -> str:
    try:
        probe()
    except Exception as error:  # readiness reports any failure instead of raising it
        return f"error: {type(error).__name__}"
    return "ok"
