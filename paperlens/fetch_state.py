"""What Redis remembers about fetches of papers the catalogue lacks: papers no source
holds, fetches waiting for a source that could not be reached, and fetches deferred until
the fetch queue has room. Workers write these; the API and the scheduler read them.
"""

from __future__ import annotations

import time
from collections.abc import Collection

from redis import Redis

from paperlens import keys
from paperlens.schemas import FetchFailure

# How long "no source knows this id" is remembered, so a reader gets a 404, not 202s forever.
MISSING_PAPER_TTL_SECONDS = 6 * 3_600


def mark_missing(redis: Redis, paper_id: str) -> None:
    """Every source that could hold ``paper_id`` answered that it does not."""
    redis.set(keys.missing_paper(paper_id), 1, ex=MISSING_PAPER_TTL_SECONDS)


def is_missing(redis: Redis, paper_id: str) -> bool:
    return bool(redis.exists(keys.missing_paper(paper_id)))


def write_failure(redis: Redis, paper_id: str, failure: FetchFailure, ttl_seconds: int) -> None:
    """Keep why fetching ``paper_id`` failed until its source is tried again."""
    redis.set(keys.fetch_failure(paper_id), failure.model_dump_json(), ex=ttl_seconds)


def read_failure(redis: Redis, paper_id: str) -> FetchFailure | None:
    raw = redis.get(keys.fetch_failure(paper_id))
    return FetchFailure.model_validate_json(raw) if isinstance(raw, bytes) else None


def clear_failure(redis: Redis, paper_id: str) -> None:
    redis.delete(keys.fetch_failure(paper_id))


def defer(redis: Redis, paper_ids: Collection[str]) -> None:
    """Keep fetches that could not be queued now; the scheduler queues them later, as the
    fetch queue has room (``worker.pipeline.freshness.release_deferred_fetches``)."""
    if paper_ids:
        now = time.time()
        redis.zadd(keys.FETCH_DEFERRED, {paper_id: now for paper_id in paper_ids}, nx=True)


def oldest_deferred(redis: Redis, limit: int) -> list[str]:
    """Up to ``limit`` deferred fetches, the longest waiting first."""
    members = redis.zrange(keys.FETCH_DEFERRED, 0, limit - 1)
    return [member.decode() if isinstance(member, bytes) else str(member) for member in members]


def drop_deferred(redis: Redis, paper_ids: Collection[str]) -> None:
    if paper_ids:
        redis.zrem(keys.FETCH_DEFERRED, *paper_ids)


def deferred_count(redis: Redis) -> int:
    return int(redis.zcard(keys.FETCH_DEFERRED))
