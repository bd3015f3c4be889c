"""The one way both processes obtain a Redis connection."""

from __future__ import annotations

import logging
import socket
import struct
from typing import Any
from urllib.parse import urlsplit

from redis import Redis
from redis.connection import AbstractConnection, Connection, UnixDomainSocketConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from tenacity import Retrying, retry_if_exception_type, wait_exponential

from paperlens.settings import Settings

log = logging.getLogger(__name__)

# Short timeouts: a request must fail fast (and degrade) rather than hang on Redis.
SOCKET_TIMEOUT_SECONDS = 2.0


def connect(settings: Settings, *, decode_responses: bool = False) -> Redis:
    """A client for the instance's Redis; RQ needs raw bytes, hence no decoding by default."""
    url = settings.effective_redis_url
    options: dict[str, Any] = {}
    connection_class = _KERNEL_TIMEOUT_CLASSES.get(urlsplit(url).scheme)
    if connection_class is not None:
        options["connection_class"] = connection_class
    return Redis.from_url(
        url,
        decode_responses=decode_responses,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
        health_check_interval=30,
        **options,
    )


class _KernelTimeouts(AbstractConnection):
    """The socket timeout kept by the kernel (``SO_RCVTIMEO``, ``SO_SNDTIMEO``) on a
    blocking socket, instead of by Python.

    A Python socket with a timeout polls before every send and receive: on a cache-hit
    GET that is three more system calls than the answer's own, about a tenth of the
    request's CPU (profiled). The kernel's timeout costs nothing until it fires; then the
    call fails, redis-py drops the connection and raises ``ConnectionError``, which the API
    answers as it answers Redis being down. Python's timeout only ever applies where
    redis-py sets one for a single call (a non-blocking read, a relaxed maintenance timeout).
    """

    def __init__(self, *, socket_timeout: float | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kernel_timeout = socket_timeout
        self.socket_timeout = None

    def _connect(self) -> socket.socket:
        sock: socket.socket = super()._connect()  # type: ignore[safe-super,no-untyped-call]
        if self.kernel_timeout:
            whole = int(self.kernel_timeout)
            interval = struct.pack("@ll", whole, int((self.kernel_timeout - whole) * 1e6))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, interval)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, interval)
        return sock


class _KernelTimeoutConnection(_KernelTimeouts, Connection):
    """TCP (``redis://``)."""


class _KernelTimeoutUnixConnection(_KernelTimeouts, UnixDomainSocketConnection):
    """A Unix socket (``unix://``, the embedded Redis of ``make run``)."""


# TLS (``rediss://``) keeps Python's timeout: a TLS read that times out in the kernel
# surfaces as a TLS error, not as a timeout.
_KERNEL_TIMEOUT_CLASSES: dict[str, type[Connection] | type[UnixDomainSocketConnection]] = {
    "redis": _KernelTimeoutConnection,
    "unix": _KernelTimeoutUnixConnection,
}


def wait_until_up(redis: Redis, settings: Settings, who: str) -> None:
    """Block until Redis answers, pausing longer after each failure (up to the setting).

    Workers and the scheduler call this instead of exiting when Redis is away (restarting,
    or not started yet), so that a Redis outage costs them nothing but the wait.
    """
    attempts = Retrying(
        retry=retry_if_exception_type((RedisConnectionError, RedisTimeoutError, OSError)),
        wait=wait_exponential(multiplier=0.1, max=settings.redis_wait_max_seconds),
        before_sleep=lambda state: log.warning(
            "%s: Redis does not answer (%s); trying again in %.1f s",
            who,
            type(state.outcome.exception()).__name__ if state.outcome else "no answer",
            state.upcoming_sleep,
        ),
        reraise=True,
    )
    attempts(redis.ping)
