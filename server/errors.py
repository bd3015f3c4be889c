"""One JSON error shape for every failure: ``{"error": {"code", "message"}}``."""

from __future__ import annotations

import logging

from flask import Flask, Response
from pydantic import ValidationError
from redis.exceptions import RedisError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from server.answers import json_answer

log = logging.getLogger(__name__)

# Seconds a client should wait before retrying after a dependency failed.
UNAVAILABLE_RETRY_AFTER = 5


class ApiError(Exception):
    """An error a view raises on purpose, with its status and machine-readable code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_response(
    status: int, code: str, message: str, retry_after: int | None = None
) -> Response:
    """The error shape every failure answers with; ``Retry-After`` when a retry will help."""
    return json_answer({"error": {"code": code, "message": message}}, status, retry_after)


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Response:
        return error_response(error.status, error.code, error.message)

    @app.errorhandler(ValidationError)
    def _invalid(error: ValidationError) -> Response:
        return error_response(422, "invalid_request", _describe(error))

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        status = error.code or 500
        code = (error.name or "error").lower().replace(" ", "_")
        return error_response(status, code, error.description or error.name)

    @app.errorhandler(RedisError)
    def _redis_down(error: RedisError) -> Response:
        log.warning("redis unavailable: %s", error)
        return error_response(
            503,
            "cache_unavailable",
            "Redis is unavailable; try again shortly.",
            UNAVAILABLE_RETRY_AFTER,
        )

    @app.errorhandler(OperationalError)
    def _store_down(error: OperationalError) -> Response:
        log.warning("sql store unavailable: %s", error.orig)
        return error_response(
            503,
            "store_unavailable",
            "The database is unavailable; try again shortly.",
            UNAVAILABLE_RETRY_AFTER,
        )

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(500, "internal_error", "An unexpected error occurred.")


def _describe(error: ValidationError) -> str:
    parts = []
    for problem in error.errors()[:5]:
        where = ".".join(str(part) for part in problem["loc"])
        parts.append(f"{where}: {problem['msg']}" if where else problem["msg"])
    return "; ".join(parts)
