"""Liveness and readiness: is the process up, and can it reach what it needs?"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, jsonify
from redis.exceptions import RedisError
from sqlalchemy import text

from paperlens import keys, status
from server.services import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    svc = services()
    checks = {"redis": _check(lambda: svc.redis.ping()), "database": _check(_ping_sql)}
    ready = all(state == "ok" for state in checks.values())
    body = {
        "status": "ok" if ready else "unavailable",
        "checks": checks,
        "ranker": _ranker(),
        # The published index, the queues and the last ingest, as `paperlens status` shows.
        **status.collect(svc.redis),
    }
    response = jsonify(body)
    response.status_code = 200 if ready else 503
    return response


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
