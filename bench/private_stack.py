"""A PaperLens of a benchmark's own, for the product's real commands and workers: a scratch
folder with a migrated SQLite store and a Redis that nothing else uses, and the environment
that points the product at them. Everything goes when the benchmark is done with it (a
million-paper run leaves gigabytes)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from paperlens.embedded_redis import EmbeddedRedis
from paperlens.migrations import upgrade


@dataclass(frozen=True)
class PrivateStack:
    work: Path
    env: dict[str, str]
    redis_url: str
    database_url: str


@contextmanager
def private_stack(prefix: str, **settings: str) -> Iterator[PrivateStack]:
    """The stack, its environment with ``settings`` (``PAPERLENS_*`` names) added."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    redis_server = EmbeddedRedis(work / "redis", socket=work / "redis" / "r.sock", persist=False)
    redis_server.start()
    database_url = f"sqlite:///{work / 'store.sqlite3'}"
    env = {
        **os.environ,
        "PAPERLENS_DATA_DIR": str(work / "var"),
        "PAPERLENS_REDIS_URL": redis_server.url,
        "PAPERLENS_DATABASE_URL": database_url,
        "PAPERLENS_LOG_LEVEL": "WARNING",
        **settings,
    }
    try:
        upgrade(database_url)
        yield PrivateStack(work, env, redis_server.url, database_url)
    finally:
        redis_server.stop()
        shutil.rmtree(work, ignore_errors=True)
