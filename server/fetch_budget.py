"""How much fetching of papers the catalogue lacks the API may ask of the workers.

Anyone can ask for a fetch with one GET of an unknown id, and a reader's import names up
to ``PAPERLENS_IMPORT_MAX_ITEMS`` papers at once; each fetch costs the instance requests
to external sources under its own keys and rate limits. So the work is bounded twice:

- per client (the address for anonymous requests, the reader on their own endpoints),
  ``PAPERLENS_FETCHES_PER_CLIENT`` in a moving window kept in Redis; past it, 429;
- in total: once ``PAPERLENS_FETCH_QUEUE_MAX_JOBS`` jobs wait in the queue fetches use,
  no fetch is queued until it drains; an anonymous request then gets 503.

A paper whose fetch is already queued costs nothing: the request joins the queued job.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask, current_app
from limits import parse_many
from limits.errors import StorageError
from limits.strategies import MovingWindowRateLimiter
from prometheus_client import Counter
from redis import Redis

from paperlens import job_queue, keys
from paperlens.settings import Settings
from server import ratelimit

log = logging.getLogger(__name__)

EXTENSION = "paperlens-fetch-budget"
SCOPE = "fetch-client"

REFUSED_FETCHES = Counter(
    "paperlens_fetches_refused",
    "Fetches of unknown papers not queued, by reason (client_limit, queue_full, unavailable).",
    ["reason"],
)


@dataclass(frozen=True)
class Refusal:
    """Why a fetch was not queued, as the client is told."""

    status: int
    code: str
    message: str
    retry_after_seconds: int
    reason: str


class FetchBudget:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.limiter = MovingWindowRateLimiter(ratelimit.open_storage(settings))
        self.per_client = parse_many(settings.fetches_per_client)

    def admit(self, redis: Redis, client: str) -> Refusal | None:
        """Whether ``client`` may queue one more fetch now; the fetch is counted when it may.

        The queue is measured before the client's window is charged, so a full queue does
        not use up anybody's budget.
        """
        depth = job_queue.queue(redis, keys.QUEUE_INTERACTIVE).count
        if depth >= self.settings.fetch_queue_max_jobs:
            return self._refuse(
                503,
                "fetch_queue_full",
                "Too many papers are being fetched right now; try again later.",
                self.settings.fetch_queue_full_retry_after_seconds,
                "queue_full",
            )
        for item in self.per_client:
            try:
                if self.limiter.hit(item, SCOPE, client):
                    continue
                reset = self.limiter.get_window_stats(item, SCOPE, client).reset_time
            except StorageError as error:
                log.warning("fetch budget store unavailable, fetch not queued: %s", error)
                return self._refuse(
                    503,
                    "cache_unavailable",
                    "Redis is unavailable; try again shortly.",
                    self.settings.retry_after_seconds,
                    "unavailable",
                )
            return self._refuse(
                429,
                "too_many_fetches",
                "Too many papers unknown to PaperLens asked for by this client; try again later.",
                ratelimit.seconds_until(reset, item),
                "client_limit",
            )
        return None

    @staticmethod
    def _refuse(status: int, code: str, message: str, retry_after: int, reason: str) -> Refusal:
        REFUSED_FETCHES.labels(reason).inc()
        return Refusal(status, code, message, retry_after, reason)


def register(app: Flask, settings: Settings) -> None:
    app.extensions[EXTENSION] = FetchBudget(settings)


def budget() -> FetchBudget:
    found: FetchBudget = current_app.extensions[EXTENSION]
    return found
