"""Limits on failed authentications, per client address and per token prefix.

Only answers of 401 count, so a reader with a valid token is never slowed down by
their own traffic. The counters live in the instance's Redis; when Redis is down the
limiter lets requests through (fails open), because a reader's list must stay
reachable while the cache is away, and the SQL store still checks every token.
"""

from __future__ import annotations

import math
import time

from flask import Blueprint, Flask, Response, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from paperlens import keys, tokens
from paperlens.settings import Settings
from server.errors import error_response

# How long a failing counter store may hold a request up before the limiter gives up on it.
STORAGE_TIMEOUT_SECONDS = 1


def register(app: Flask, settings: Settings, protected: list[Blueprint]) -> Limiter:
    """Limit failed authentications on the ``protected`` blueprints."""
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=storage_uri(settings.effective_redis_url),
        storage_options={
            "socket_timeout": STORAGE_TIMEOUT_SECONDS,
            "socket_connect_timeout": STORAGE_TIMEOUT_SECONDS,
            "key_prefix": keys.RATE_LIMIT_PREFIX,
        },
        strategy="moving-window",
        swallow_errors=True,  # fail open: see the module docstring
        headers_enabled=False,
    )
    per_client = limiter.shared_limit(
        settings.auth_failures_per_client,
        scope="auth-client",
        key_func=get_remote_address,
        deduct_when=_failed,
        error_message="Too many failed authentications from this address.",
    )
    per_token = limiter.shared_limit(
        settings.auth_failures_per_token,
        scope="auth-token",
        key_func=_token_prefix,
        deduct_when=_failed,
        error_message="Too many failed authentications with this token.",
    )
    for blueprint in protected:
        per_client(blueprint)
        per_token(blueprint)
    limited = {blueprint.name for blueprint in protected}

    @limiter.request_filter
    def _public() -> bool:
        """Public endpoints carry no limits: spare them the limiter's per-request bookkeeping."""
        return request.blueprint not in limited

    @app.errorhandler(RateLimitExceeded)
    def _limited(error: RateLimitExceeded) -> Response:
        return error_response(
            429,
            "too_many_requests",
            f"{error.description} Try again later.",
            retry_after=_seconds_until_reset(limiter, error),
        )

    return limiter


def storage_uri(redis_url: str) -> str:
    """The limits library names unix sockets ``redis+unix://``; redis-py says ``unix://``."""
    if redis_url.startswith("unix://"):
        return "redis+" + redis_url
    return redis_url


def _failed(response: Response) -> bool:
    return response.status_code == 401


def _token_prefix() -> str:
    """The token's public prefix; a missing or malformed token counts against the address."""
    _scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    prefix = tokens.prefix_of(token.strip())
    return f"prefix:{prefix}" if prefix else f"address:{get_remote_address()}"


def _seconds_until_reset(limiter: Limiter, error: RateLimitExceeded) -> int:
    """Seconds until the oldest counted failure leaves the window (never more than the window)."""
    window = int(error.limit.limit.get_expiry())
    current = limiter.current_limit
    if current is not None:
        try:
            reset = current.window[0]
        except Exception:  # the counter store went away between the check and now
            return window
        return min(window, max(1, math.ceil(reset - time.time())))
    return window
