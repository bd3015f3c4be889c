"""Breaking things on purpose: Redis, the SQL store and workers fail, and PaperLens holds."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue
from rq.registry import StartedJobRegistry

from cli.runner import worker_command
from paperlens import enrichments, job_metrics, job_queue, keys
from paperlens.embedded_redis import EmbeddedRedis, free_port
from paperlens.job_queue import SERIALIZER
from paperlens.migrations import upgrade
from paperlens.redis_client import SOCKET_TIMEOUT_SECONDS
from paperlens.settings import Settings
from paperlens.store.db import Database
from server import create_app
from tests.readers import ReaderClient, make_reader
from tests.support import DEMO_CORPUS, ROOT, eventually, run_workers
from worker.ingest.jsonl import ingest_jsonl

MRL = "arxiv:2205.13147"


def markers(redis: Redis) -> list[str]:
    values = redis.lrange("marker", 0, -1)
    assert isinstance(values, list)
    return [value.decode() if isinstance(value, bytes) else str(value) for value in values]


def wait_for(condition: Callable[..., object], timeout: float = 20.0) -> None:
    eventually(condition, timeout, "condition not reached in time", interval=0.05, ignoring=())


def test_redis_down_degrades_to_the_catalogue_and_recovers(
    settings: Settings, demo: Database, own_redis: EmbeddedRedis
) -> None:
    app = create_app(settings.model_copy(update={"redis_url": own_redis.url}))
    client = app.test_client()
    assert client.get(f"/api/v1/papers/{MRL}").status_code == 202

    own_redis.stop()
    paper = client.get(f"/api/v1/papers/{MRL}")
    assert paper.status_code == 200
    assert paper.get_json()["status"] == "degraded"
    assert paper.get_json()["title"] == "Matryoshka Representation Learning"
    batch = client.post("/api/v1/papers/batch", json={"ids": [MRL, "arxiv:1501.00001", "x"]})
    assert [i["status"] for i in batch.get_json()["items"]] == ["degraded", "unknown", "invalid"]
    marks = client.post("/api/v1/papers/batch", json={"ids": [MRL, "x"], "view": "badges"})
    assert [(i["status"], i["badges"]) for i in marks.get_json()["items"]] == [
        ("degraded", None),
        ("invalid", None),
    ]
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"]["redis"].startswith("error")

    own_redis.start()
    assert client.get("/readyz").status_code == 200
    assert client.get(f"/api/v1/papers/{MRL}").status_code == 202


@pytest.fixture(params=["tcp", "unix"])
def stoppable_redis(request: pytest.FixtureRequest) -> Iterator[EmbeddedRedis]:
    """A Redis of this test's own, on TCP (deployments) or a Unix socket (``make run``)."""
    directory = Path(tempfile.mkdtemp(prefix="plhang-"))  # a short path: sockets allow ~100
    if request.param == "tcp":
        server = EmbeddedRedis(directory, port=free_port(), persist=False)
    else:
        server = EmbeddedRedis(directory, socket=directory / "r.sock", persist=False)
    server.start()
    yield server
    server.stop()


def test_a_redis_that_stops_answering_costs_a_reader_the_timeout_not_a_hang(
    settings: Settings, demo: Database, stoppable_redis: EmbeddedRedis
) -> None:
    """A Redis that hangs (stopped, or cut off by the network) is worse than one that is
    down: nothing refuses the connection. The reader still gets the catalogue's answer once
    the socket timeout has passed, and the next request after Redis answers again is served
    from Redis."""
    app = create_app(settings.model_copy(update={"redis_url": stoppable_redis.url}))
    client = app.test_client()
    assert client.get(f"/api/v1/papers/{MRL}").status_code == 202
    assert stoppable_redis.process is not None
    pid = stoppable_redis.process.pid

    pool = ThreadPoolExecutor(max_workers=1)
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        asked = pool.submit(client.get, f"/api/v1/papers/{MRL}")
        paper = asked.result(timeout=SOCKET_TIMEOUT_SECONDS + 8)
        waited = time.monotonic() - started
    finally:
        os.kill(pid, signal.SIGCONT)  # first: a request that hangs ends once Redis answers
        pool.shutdown()

    assert paper.status_code == 200
    assert paper.get_json()["status"] == "degraded"
    assert paper.get_json()["title"] == "Matryoshka Representation Learning"
    assert SOCKET_TIMEOUT_SECONDS - 0.1 <= waited < SOCKET_TIMEOUT_SECONDS + 3
    assert client.get(f"/api/v1/papers/{MRL}").status_code == 202  # queued, from Redis again


def test_sql_store_down_answers_503_and_recovers_without_restart(
    settings: Settings, tmp_path: Path, redis: Redis
) -> None:
    missing = tmp_path / "not-yet" / "store.sqlite3"
    app = create_app(settings.model_copy(update={"database_url": f"sqlite:///{missing}"}))
    client = app.test_client()
    for response in (
        client.get(f"/api/v1/papers/{MRL}"),
        client.get("/api/v1/resolve?url=https://arxiv.org/abs/2205.13147"),
    ):
        assert response.status_code == 503
        assert response.headers["Retry-After"]
        assert response.get_json()["error"]["code"] == "store_unavailable"

    missing.parent.mkdir()
    upgrade(f"sqlite:///{missing}")
    ingest_jsonl(Database(f"sqlite:///{missing}"), DEMO_CORPUS)
    assert client.get(f"/api/v1/papers/{MRL}").status_code == 202


def start_worker() -> subprocess.Popen[bytes]:
    """A real worker process in a process group of its own (its scheduler is a child)."""
    return subprocess.Popen(
        worker_command(),
        cwd=ROOT,
        env=dict(os.environ),
        start_new_session=True,
    )


def kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def test_killed_worker_job_is_retried_and_finishes_once(
    settings: Settings, demo: Database, redis: Redis
) -> None:
    queue = Queue(keys.QUEUE_INTERACTIVE, connection=redis, serializer=SERIALIZER)
    job = queue.enqueue(
        "tests.slow_jobs.slow_enrich", MRL, 60, "marker", retry=job_queue.retry_policy()
    )
    worker = start_worker()
    try:
        wait_for(lambda: redis.llen("marker") == 1)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    finally:
        kill_group(worker)
    assert enrichments.read_raw(redis, MRL) is None  # nothing half-written is visible

    # RQ's maintenance finds the job abandoned once its execution lease runs out;
    # ask it now with a timestamp past the lease instead of waiting.
    StartedJobRegistry(queue=queue).cleanup(timestamp=time.time() + 3600)
    run_workers(redis)

    assert markers(redis) == ["started", "started", "finished"]
    assert job.get_status(refresh=True) == "finished"
    paper = enrichments.read(redis, MRL)
    assert paper is not None and paper.related


def test_a_new_worker_takes_over_the_job_of_a_killed_worker_at_once(
    settings: Settings, demo: Database, redis: Redis
) -> None:
    """No waiting for the lease (an hour for a precompute): the killed worker's process is
    gone, so the next worker hands its job to RQ's abandoned-job handling when it starts."""
    queue = job_queue.queue(redis, keys.QUEUE_INTERACTIVE)
    job = queue.enqueue(
        "tests.slow_jobs.slow_enrich", MRL, 60, "marker", retry=job_queue.retry_policy()
    )
    worker = start_worker()
    try:
        wait_for(lambda: redis.llen("marker") == 1)
    finally:
        kill_group(worker)

    run_workers(redis)  # a new worker, at the time of the kill

    assert markers(redis) == ["started", "started", "finished"]
    job.refresh()  # type: ignore[no-untyped-call]
    assert job.get_status() == "finished"
    assert job.retries_left == len(job_queue.RETRY_INTERVALS_SECONDS) - 1  # run again once
    assert enrichments.read(redis, MRL) is not None


def test_a_precompute_taken_up_again_queues_no_chunk_twice(
    settings: Settings, demo: Database, redis: Redis
) -> None:
    """A precompute whose worker died after queueing its chunks runs again under the same job
    id (RQ's retry); the chunks it had queued are not queued, nor their papers enriched, twice."""
    bulk = job_queue.queue(redis, keys.QUEUE_BULK)
    bulk.enqueue(keys.JOB_PRECOMPUTE_ALL, job_id="precompute-1", retry=job_queue.retry_policy())
    run_workers(redis)
    bulk.enqueue(keys.JOB_PRECOMPUTE_ALL, job_id="precompute-1", retry=job_queue.retry_policy())
    run_workers(redis)

    figures = {figure.job: figure for figure in job_metrics.read_all(redis)}
    assert figures["precompute_all"].count == 2
    assert figures["enrich_papers"].count == 1  # the demo's 59 papers: one chunk, enriched once
    assert enrichments.read(redis, MRL) is not None


def test_worker_and_scheduler_wait_for_redis_instead_of_exiting(
    settings: Settings, demo: Database, own_redis: EmbeddedRedis
) -> None:
    """Redis down at their start and again later: both keep running and carry on once it is
    back (the worker then runs what is queued)."""
    own_redis.stop()
    env = dict(os.environ, PAPERLENS_REDIS_URL=own_redis.url)
    env["PAPERLENS_REDIS_WAIT_MAX_SECONDS"] = "0.5"
    parts = [
        subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
        for command in (worker_command(), [*worker_command()[:-1], "scheduler"])
    ]
    try:
        time.sleep(6)
        assert [part.poll() for part in parts] == [None, None]
        for attempt in range(2):
            own_redis.start()
            redis = Redis.from_url(own_redis.url)
            job_queue.request_enrichment(redis, settings, MRL, keys.QUEUE_INTERACTIVE)
            wait_for(lambda r=redis: enrichments.read_raw(r, MRL) is not None, 60)
            assert [part.poll() for part in parts] == [None, None], attempt
            redis.delete(keys.enrichment(MRL))
            own_redis.stop()
            time.sleep(4)
            assert [part.poll() for part in parts] == [None, None], attempt
    finally:
        for part in parts:
            kill_group(part)


def test_sigterm_lets_the_worker_finish_its_job_then_exit(
    settings: Settings, demo: Database, redis: Redis
) -> None:
    Queue(keys.QUEUE_INTERACTIVE, connection=redis, serializer=SERIALIZER).enqueue(
        "tests.slow_jobs.slow_enrich", MRL, 2, "marker"
    )
    worker = start_worker()
    try:
        wait_for(lambda: redis.llen("marker") == 1)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    finally:
        kill_group(worker)
    assert markers(redis) == ["started", "finished"]
    assert enrichments.read(redis, MRL) is not None


def test_every_answer_carries_security_headers(client: FlaskClient) -> None:
    for response in (
        client.get("/healthz"),
        client.get("/api/v1/papers/not-an-id"),
        client.get("/api/v1/openapi.json"),
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    private = client.get("/healthz", headers={"Authorization": "Bearer x"})
    assert private.headers["Cache-Control"] == "no-store, private"


@contextlib.contextmanager
def store_locked(url: str) -> Iterator[None]:
    """Another connection holds the write lock, as a stuck transaction or a migration would."""
    blocker: sqlite3.Connection | psycopg.Connection[Any]
    if url.startswith("sqlite:///"):
        blocker = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=0)
        blocker.execute("BEGIN EXCLUSIVE")
    else:
        blocker = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
        blocker.execute("LOCK TABLE library_entries IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        blocker.rollback()
        blocker.close()


def test_locked_store_answers_503_and_recovers(
    settings: Settings, demo: Database, client: FlaskClient
) -> None:
    """A write that cannot get its lock gives up after the lock timeout instead of hanging."""
    reader = ReaderClient(client, make_reader(demo, "alice"))
    entry = f"/api/v1/me/library/{MRL}"
    assert reader.put(entry, json={"note": "before"}).status_code == 201
    # The pool outlives the lock, so that a request still waiting when the guard gives up
    # is let through and the test fails instead of hanging.
    with ThreadPoolExecutor(max_workers=1) as pool, store_locked(settings.sqlalchemy_url):
        # A guard, not a speed test: without a lock timeout PostgreSQL would wait forever.
        locked = pool.submit(reader.patch, entry, json={"note": "while locked"}).result(60)
        assert locked.status_code == 503
        assert locked.headers["Retry-After"]
        assert locked.get_json()["error"]["code"] == "store_unavailable"
    assert reader.get(entry).get_json()["note"] == "before"
    assert reader.patch(entry, json={"note": "after"}).status_code == 200
    assert reader.get(entry).get_json()["note"] == "after"
