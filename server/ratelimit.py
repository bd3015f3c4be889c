"""Limits on failed authentications, per client address and per token prefix.

Only answers of 401 count, so a reader with a valid token is never slowed down by
their own traffic. The counters live in the instance's Redis; when Redis is down the
limiter lets requests through (fails open), because a reader's list must stay
reachable while the cache is away, and the SQL store still checks every token.

The ``limits`` library keeps the moving windows. Its Flask integration was dropped
because it hooks every request of the app: on the public cache-hit GET its hooks cost
about a tenth of the request's CPU (profiled), for endpoints that carry no limit at all.
Here the hooks return at once outside the protected blueprints.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, Flask, Response, request
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from paperlens import keys, tokens
from paperlens.settings import Settings
from server.errors import error_response

log = logging.getLogger(__name__)

# How long a failing counter store may hold a request up before the limiter gives up on it.
STORAGE_TIMEOUT_SECONDS = 1


@dataclass(frozen=True)
class _Budget:
    """Failures allowed to one kind of client, counted under ``scope`` per ``key()``."""

    scope: str
    limits: list[RateLimitItem]
    key: Callable[[], str]
    message: str


def register(app: Flask, settings: Settings, protected: list[Blueprint]) -> None:
    """Limit failed authentications on the ``protected`` blueprints."""
    storage = storage_from_string(
        storage_uri(settings.effective_redis_url),
        socket_timeout=STORAGE_TIMEOUT_SECONDS,
        socket_connect_timeout=STORAGE_TIMEOUT_SECONDS,
        key_prefix=keys.RATE_LIMIT_PREFIX,
        wrap_exceptions=True,
    )
    limiter = MovingWindowRateLimiter(storage)
    budgets = [
        _Budget(
            "auth-client",
            parse_many(settings.auth_failures_per_client),
            _client_address,
            "Too many failed authentications from this address.",
        ),
        _Budget(
            "auth-token",
            parse_many(settings.auth_failures_per_token),
            _token_prefix,
            "Too many failed authentications with this token.",
        ),
    ]
    limited = {blueprint.name for blueprint in protected}

    @app.before_request
    def _refuse_when_spent() -> Response | None:
        """Runs before the token is checked, so a guess past the limit learns nothing."""
        if request.blueprint not in limited:
            return None
        for budget in budgets:
            key = budget.key()
            for item in budget.limits:
                try:
                    allowed = limiter.test(item, budget.scope, key)
                    if not allowed:
                        reset = limiter.get_window_stats(item, budget.scope, key).reset_time
                except StorageError as error:
                    log.warning("rate limit store unavailable, request let through: %s", error)
                    return None
                if not allowed:
                    return error_response(
                        429,
                        "too_many_requests",
                        f"{budget.message} Try again later.",
                        retry_after=_seconds_until(reset, item),
                    )
        return None

    @app.after_request
    def _count_failure(response: Response) -> Response:
        if response.status_code != 401 or request.blueprint not in limited:
            return response
        for budget in budgets:
            key = budget.key()
            for item in budget.limits:
                try:
                    limiter.hit(item, budget.scope, key)
                except StorageError as error:
                    log.warning("rate limit store unavailable, failure not counted: %s", error)
                    return response
        return response


def storage_uri(redis_url: str) -> str:
    """The limits library names unix sockets ``redis+unix://``; redis-py says ``unix://``."""
    if redis_url.startswith("unix://"):
        return "redis+" + redis_url
    return redis_url


def _client_address() -> str:
    return f"address:{request.remote_addr or 'unknown'}"


def _token_prefix() -> str:
    """The token's public prefix; a missing or malformed token counts against the address."""
    _scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    prefix = tokens.prefix_of(token.strip())
    return f"prefix:{prefix}" if prefix else _client_address()


def _seconds_until(reset: float, item: RateLimitItem) -> int:
    """Seconds until the oldest counted failure leaves the window (never more than the window)."""
    window = int(item.get_expiry())
    return min(window, max(1, math.ceil(reset - time.time())))
