"""The one way both processes obtain a Redis connection."""

from __future__ import annotations

from redis import Redis

from paperlens.settings import Settings

# Short timeouts: a request must fail fast (and degrade) rather than hang on Redis.
SOCKET_TIMEOUT_SECONDS = 2.0


def connect(settings: Settings, *, decode_responses: bool = False) -> Redis:
    """A client for the instance's Redis; RQ needs raw bytes, hence no decoding by default."""
    return Redis.from_url(
        settings.effective_redis_url,
        decode_responses=decode_responses,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
        health_check_interval=30,
    )
