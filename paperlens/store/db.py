"""Engines and sessions for the SQL store: SQLite by default, PostgreSQL when deployed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

# How long a statement waits for a lock another connection holds before giving up: the
# request then answers 503 with Retry-After instead of hanging (SQLite's busy timeout,
# PostgreSQL's lock_timeout).
LOCK_TIMEOUT_MS = 5_000


def make_engine(url: str) -> Engine:
    """An engine for its backend: WAL for SQLite, pooling for the rest, a lock timeout for both."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False}, json_serializer=_json_text
        )
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        json_serializer=_json_text,
        connect_args={"options": f"-c lock_timeout={LOCK_TIMEOUT_MS}"},
    )


def _json_text(value: Any) -> str:
    """JSON with characters as written, so that a text search finds 'Müller' as typed."""
    return json.dumps(value, ensure_ascii=False)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers proceed while a worker writes; foreign keys are off in SQLite by default."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={LOCK_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Database:
    """An engine plus its session factory; one per process, shared by its threads."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block succeeds and rolls back when it raises."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
