"""The one way both processes obtain a Redis connection."""

from __future__ import annotations

import logging

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from tenacity import Retrying, retry_if_exception_type, wait_exponential

from paperlens.settings import Settings

log = logging.getLogger(__name__)

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
