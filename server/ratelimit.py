"""Limits on failed authentications, per client address and per token prefix.

Only failures count, and only failures are ever refused: a request with a valid token is
served whatever its address or its token's prefix has seen, so nobody can lock a reader
out by sending bad tokens with the reader's public prefix, or from the reader's address.
Once a budget is spent, failures from that client answer 429 with ``Retry-After``
instead of 401, which tells a misbehaving client (or a stale token in a script) to back
off. A guess at a token is hopeless whatever the limit (the secret carries 256 bits);
the limit keeps the noise of one client from drowning everything else.

The client address is the one the proxies named in ``PAPERLENS_TRUSTED_PROXY_HOPS``
forwarded (see ``trust_proxies``); with no trusted proxy, ``X-Forwarded-For`` is ignored.

The counters live in the instance's Redis; when Redis is down the limiter answers 401
(fails open), because a reader's list must stay reachable while the cache is away.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, current_app, request
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from werkzeug.middleware.proxy_fix import ProxyFix

from paperlens import keys, tokens
from paperlens.settings import Settings
from server.errors import error_response

log = logging.getLogger(__name__)

# How long a failing counter store may hold a request up before the limiter gives up on it.
STORAGE_TIMEOUT_SECONDS = 1
EXTENSION = "paperlens-auth-limiter"
# Length of the IPv6 prefix one client is counted by (see ``client_address``).
IPV6_CLIENT_PREFIX = 64


@dataclass(frozen=True)
class _Budget:
    """Failures allowed to one kind of client, counted under ``scope`` per ``key(token)``."""

    scope: str
    limits: list[RateLimitItem]
    key: Callable[[str | None], str]
    message: str


@dataclass(frozen=True)
class Refusal:
    """A spent budget: what to tell the client, and when to come back."""

    message: str
    retry_after_seconds: int


class FailureLimiter:
    """Counts failed authentications and says when a client has used up its budget."""

    def __init__(self, settings: Settings) -> None:
        self.limiter = MovingWindowRateLimiter(open_storage(settings))
        self.budgets = [
            _Budget(
                "auth-client",
                parse_many(settings.auth_failures_per_client),
                _address_key,
                "Too many failed authentications from this address.",
            ),
            _Budget(
                "auth-token",
                parse_many(settings.auth_failures_per_token),
                _token_key,
                "Too many failed authentications with this token.",
            ),
        ]

    def count_failure(self, token: str | None) -> Refusal | None:
        """Count one failure of the current request, which sent ``token`` (None: no bearer
        token); a refusal once a budget was spent."""
        for budget in self.budgets:
            key = budget.key(token)
            for item in budget.limits:
                try:
                    if self.limiter.hit(item, budget.scope, key):
                        continue
                    reset = self.limiter.get_window_stats(item, budget.scope, key).reset_time
                except StorageError as error:
                    log.warning("rate limit store unavailable, failure not counted: %s", error)
                    return None
                return Refusal(f"{budget.message} Try again later.", seconds_until(reset, item))
        return None


def register(app: Flask, settings: Settings) -> None:
    app.extensions[EXTENSION] = FailureLimiter(settings)


def failure_answer(status_401: Response, token: str | None) -> Response:
    """The answer to a failed authentication with ``token``: ``status_401``, or 429 once a
    budget is spent."""
    limiter: FailureLimiter = current_app.extensions[EXTENSION]
    refusal = limiter.count_failure(token)
    if refusal is None:
        return status_401
    return error_response(
        429, "too_many_requests", refusal.message, retry_after=refusal.retry_after_seconds
    )


def trust_proxies(app: Flask, hops: int) -> None:
    """Take the client address from ``X-Forwarded-For`` as set by ``hops`` trusted proxies.

    Werkzeug's ``ProxyFix`` reads only the last ``hops`` entries, those the operator's own
    proxies appended; whatever a client wrote in the header before them is ignored. With
    no trusted hop the header is not read at all, so a client cannot choose its address.
    """
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def open_storage(settings: Settings) -> Storage:
    """The counters' store: the instance's Redis, with the project's key prefix."""
    storage = storage_from_string(
        storage_uri(settings.effective_redis_url),
        socket_timeout=STORAGE_TIMEOUT_SECONDS,
        socket_connect_timeout=STORAGE_TIMEOUT_SECONDS,
        key_prefix=keys.RATE_LIMIT_PREFIX,
        wrap_exceptions=True,
    )
    if not isinstance(storage, Storage):  # a URI of the asyncio flavour, never built here
        raise TypeError(f"{type(storage).__name__} is not a synchronous limits storage")
    return storage


def storage_uri(redis_url: str) -> str:
    """The limits library names unix sockets ``redis+unix://``; redis-py says ``unix://``."""
    if redis_url.startswith("unix://"):
        return "redis+" + redis_url
    return redis_url


def client_address() -> str:
    """The client as counters know it: its address (as trusted proxies forwarded it).

    An IPv6 client counts by its /64 network: one subscriber usually holds a whole /64 and
    could otherwise take a fresh address, and a fresh budget, for every request.
    """
    address = request.remote_addr or "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"address:{address}"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return f"network:{ipaddress.ip_network((ip, IPV6_CLIENT_PREFIX), strict=False)}"
    return f"address:{ip}"


def _address_key(_token: str | None) -> str:
    return client_address()


def _token_key(token: str | None) -> str:
    """The token's public prefix; a missing or malformed token counts against the address."""
    prefix = tokens.prefix_of(token) if token is not None else None
    return f"prefix:{prefix}" if prefix else client_address()


def seconds_until(reset: float, item: RateLimitItem) -> int:
    """Seconds until the oldest counted event leaves the window (never more than the window)."""
    window = int(item.get_expiry())
    return min(window, max(1, math.ceil(reset - time.time())))
