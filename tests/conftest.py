"""Real services for the suite: a Redis server started for the session, a fresh SQL store
per test (SQLite always, PostgreSQL too when PAPERLENS_TEST_POSTGRES_URL is set), and
real RQ workers run in burst mode."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue
from sqlalchemy import create_engine, text

from paperlens import keys
from paperlens.embedded_redis import EmbeddedRedis, free_port
from paperlens.jobs import SERIALIZER
from paperlens.migrations import upgrade
from paperlens.settings import Settings, get_settings
from paperlens.store.db import Database
from server import create_app
from tests.source_server import SourceFleet
from tests.support import DEMO_CORPUS, TEST_ORIGIN, run_workers
from worker.context import reset_context

POSTGRES_URL = os.environ.get("PAPERLENS_TEST_POSTGRES_URL")

# An instance contacts the public sources unless told otherwise; tests never touch the internet,
# so every test (and every process it starts) runs offline unless it points the sources at a
# local server itself (tests/source_server.py, or the ``fetching_enabled`` fixture).
os.environ["PAPERLENS_SOURCES"] = "none"


@pytest.fixture(scope="session")
def redis_server() -> Iterator[EmbeddedRedis]:
    """One private Redis for the whole run, on a unix socket in a short temporary path."""
    directory = Path(tempfile.mkdtemp(prefix="plredis-"))
    server = EmbeddedRedis(directory, socket=directory / "r.sock", persist=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis(redis_server: EmbeddedRedis) -> Redis:
    client = Redis.from_url(redis_server.url)
    client.flushdb()
    return client


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    """A Redis on a TCP port of its own, so a test can stop it and start it again."""
    server = EmbeddedRedis(tmp_path / "redis", port=free_port(), persist=False)
    server.start()
    yield server
    server.stop()


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty store of each kind the run covers."""
    if request.param == "postgres":
        if not POSTGRES_URL:
            pytest.skip("set PAPERLENS_TEST_POSTGRES_URL to run against PostgreSQL")
        url = Settings(database_url=POSTGRES_URL).sqlalchemy_url
        _reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_path / 'paperlens.sqlite3'}"
    upgrade(url)
    return url


@pytest.fixture
def fetching_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sources that can fetch arXiv ids and DOIs are on, at an address where nothing listens.

    Request it before any fixture that builds settings; tests using it check what is queued
    and never run a fetch against the internet.
    """
    monkeypatch.setenv("PAPERLENS_SOURCES", "arxiv,crossref")
    for name in ("ARXIV_API_URL", "CROSSREF_URL"):
        monkeypatch.setenv(f"PAPERLENS_{name}", "http://127.0.0.1:9")


@pytest.fixture
def settings(
    tmp_path: Path,
    database_url: str,
    redis: Redis,
    redis_server: EmbeddedRedis,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Settings]:
    """Settings for this test, exported to the environment so workers see the same ones."""
    values = {
        "PAPERLENS_DATA_DIR": str(tmp_path / "var"),
        "PAPERLENS_DATABASE_URL": database_url,
        "PAPERLENS_REDIS_URL": redis_server.url,
        "PAPERLENS_CORS_ORIGINS": TEST_ORIGIN,
        # TF-IDF, not the default hybrid, so that timings do not depend on loading a model;
        # tests/test_rankers.py and tests/test_onnx_encoder.py run the dense path themselves.
        "PAPERLENS_RELATED_RANKER": "tfidf",
        # Tests send many bad tokens on purpose; tests/test_ratelimit.py sets its own limits.
        "PAPERLENS_AUTH_FAILURES_PER_CLIENT": "100000/minute",
        "PAPERLENS_AUTH_FAILURES_PER_TOKEN": "100000/minute",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    reset_context()
    yield get_settings()
    reset_context()
    get_settings.cache_clear()


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings.sqlalchemy_url)
    yield database
    database.dispose()


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    application = create_app(settings)
    application.config["TESTING"] = True
    yield application
    application.extensions["paperlens"].db.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def demo(db: Database) -> Database:
    """The store with the demo corpus loaded, as `make run` leaves it."""
    from worker.ingest.jsonl import ingest_jsonl

    report = ingest_jsonl(db, DEMO_CORPUS)
    assert report.created == 59 and not report.bad_records
    return db


@pytest.fixture
def precomputed(demo: Database, redis: Redis, settings: Settings) -> Database:
    """Demo corpus loaded and every paper enriched by a worker."""
    Queue(keys.QUEUE_BULK, connection=redis, serializer=SERIALIZER).enqueue(keys.JOB_PRECOMPUTE_ALL)
    run_workers(redis)
    return demo


@pytest.fixture
def source_fleet(monkeypatch: pytest.MonkeyPatch) -> Iterator[SourceFleet]:
    """Every source enabled, each at a recording fixture server of its own; request it
    before any fixture that builds settings."""
    fleet = SourceFleet()
    fleet.start()
    for name, value in fleet.environment().items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    reset_context()
    yield fleet
    fleet.stop()
    get_settings.cache_clear()
