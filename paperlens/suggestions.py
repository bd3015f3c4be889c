"""Suggestion sets in Redis: written whole by the worker, read per scope by the API."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError
from redis import Redis

from paperlens import keys
from paperlens.schemas import SuggestionSet

# Suggestions of readers who stop asking expire; the next request recomputes them.
SUGGESTIONS_TTL_SECONDS = 30 * 24 * 3600


def write(redis: Redis, user_id: int, sets: Mapping[str | None, SuggestionSet]) -> None:
    """Replace all of a reader's sets in one transaction, so a reader never sees a mix."""
    key = keys.suggestions(user_id)
    mapping = {keys.suggestions_field(tag): s.model_dump_json() for tag, s in sets.items()}
    with redis.pipeline(transaction=True) as pipe:
        pipe.delete(key)
        pipe.hset(key, mapping=mapping)  # type: ignore[arg-type]
        pipe.expire(key, SUGGESTIONS_TTL_SECONDS)
        pipe.execute()


def read(redis: Redis, user_id: int, tag: str | None) -> tuple[SuggestionSet | None, bool]:
    """The set for one scope, and whether the reader has any sets at all."""
    key = keys.suggestions(user_id)
    with redis.pipeline(transaction=False) as pipe:
        pipe.hget(key, keys.suggestions_field(tag))
        pipe.exists(key)
        raw, exists = pipe.execute()
    if not isinstance(raw, bytes):
        return None, bool(exists)
    try:
        return SuggestionSet.model_validate_json(raw), True
    except ValidationError:
        return None, bool(exists)


def delete(redis: Redis, user_id: int) -> None:
    redis.delete(keys.suggestions(user_id))
