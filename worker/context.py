"""Resources a worker process opens once and reuses across jobs."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

from redis import Redis

from paperlens import redis_client
from paperlens.settings import Settings, get_settings
from paperlens.store.db import Database
from worker.sources.http import SourceSession


@dataclass
class WorkerContext:
    settings: Settings
    db: Database
    redis: Redis

    @cached_property
    def http(self) -> SourceSession:
        """The one session to the external sources, opened on first use."""
        return SourceSession(self.settings, self.redis)


@lru_cache(maxsize=1)
def get_context() -> WorkerContext:
    """Jobs run in the worker process (no fork), so this is built once per worker."""
    settings = get_settings()
    return WorkerContext(
        settings=settings,
        db=Database(settings.sqlalchemy_url),
        redis=redis_client.connect(settings),
    )


def reset_context() -> None:
    """Forget the cached resources; tests call this after pointing settings elsewhere."""
    if get_context.cache_info().currsize:
        get_context().db.dispose()
    get_context.cache_clear()
