"""Enrichment documents in Redis: written whole by workers, served as bytes by the API."""

from __future__ import annotations

from collections.abc import Sequence

from redis import Redis

from paperlens import keys
from paperlens.schemas import EnrichedPaper


def write(redis: Redis, paper: EnrichedPaper) -> None:
    """Store the document under the paper's key in one SET, so readers see all or nothing."""
    redis.set(keys.enrichment(paper.paper_id), paper.model_dump_json())


def read_raw(redis: Redis, paper_id: str) -> bytes | None:
    """The stored JSON exactly as written; the API sends it on without parsing."""
    value = redis.get(keys.enrichment(paper_id))
    return value if isinstance(value, bytes) else None


def read_many_raw(redis: Redis, paper_ids: Sequence[str]) -> list[bytes | None]:
    """Many documents in one round trip (``MGET``)."""
    if not paper_ids:
        return []
    values = redis.mget([keys.enrichment(paper_id) for paper_id in paper_ids])
    return [value if isinstance(value, bytes) else None for value in values]


def read(redis: Redis, paper_id: str) -> EnrichedPaper | None:
    raw = read_raw(redis, paper_id)
    return EnrichedPaper.model_validate_json(raw) if raw is not None else None
