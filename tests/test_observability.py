"""What an operator sees: metrics to scrape and JSON logs that follow a request into its job."""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue

from paperlens import keys, logs
from paperlens.job_queue import SERIALIZER
from paperlens.store.db import Database
from tests.support import run_workers

MRL = "arxiv:2205.13147"


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """The processes' own log configuration, writing into a buffer the test can read."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    buffer = io.StringIO()
    logs.configure("INFO", "json", buffer)
    yield buffer
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def test_metrics_report_latency_cache_queues_and_jobs(
    client: FlaskClient, demo: Database, redis: Redis
) -> None:
    assert client.get(f"/api/v1/papers/{MRL}").status_code == 202
    before_worker = client.get("/metrics").get_data(as_text=True)
    assert 'paperlens_queue_depth{queue="interactive"} 1.0' in before_worker
    assert 'paperlens_enrichment_lookups_total{result="miss"}' in before_worker

    run_workers(redis)
    assert client.get(f"/api/v1/papers/{MRL}").status_code == 200
    text = client.get("/metrics").get_data(as_text=True)
    assert 'paperlens_queue_depth{queue="interactive"} 0.0' in text
    assert 'paperlens_enrichment_lookups_total{result="hit"}' in text
    assert 'paperlens_job_duration_seconds_count{job="enrich_paper"} 1.0' in text
    assert 'paperlens_job_failures_total{job="enrich_paper"} 0.0' in text
    assert (
        'paperlens_http_request_duration_seconds_bucket{endpoint="/api/v1/papers/<path:paper_id>",'
        in text
    )


def test_request_id_is_returned_and_travels_into_the_job(
    client: FlaskClient, demo: Database, redis: Redis
) -> None:
    answer = client.get(f"/api/v1/papers/{MRL}", headers={"X-Request-ID": "trace-123"})
    assert answer.headers["X-Request-ID"] == "trace-123"
    job = Queue(keys.QUEUE_INTERACTIVE, connection=redis, serializer=SERIALIZER).jobs[0]
    assert job.meta["request_id"] == "trace-123"

    made = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert made.headers["X-Request-ID"] != "bad id with spaces"
    assert len(made.headers["X-Request-ID"]) == 32


def test_logs_are_json_lines_without_secrets(
    client: FlaskClient, demo: Database, json_logs: io.StringIO
) -> None:
    client.get(
        f"/api/v1/papers/{MRL}",
        headers={"X-Request-ID": "trace-456", "Authorization": "Bearer sekret-token-value"},
    )
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines() if line]
    request_lines = [line for line in lines if line.get("message") == "request"]
    assert request_lines, lines
    assert request_lines[-1]["request_id"] == "trace-456"
    assert request_lines[-1]["status"] == 202
    assert request_lines[-1]["endpoint"] == "/api/v1/papers/<path:paper_id>"
    assert "sekret-token-value" not in json.dumps(lines)


def test_auto_log_format_is_text_on_a_terminal_and_json_elsewhere() -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    main, follower = os.openpty()
    terminal = os.fdopen(follower, "w")
    pipe = io.StringIO()
    try:
        logs.configure("INFO", "auto", pipe)
        logging.getLogger("paperlens.test").info("to a collector")
        logs.configure("INFO", "auto", terminal)
        logging.getLogger("paperlens.test").info("to a person")
        terminal.flush()
        shown = os.read(main, 4096).decode()
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        terminal.close()
        os.close(main)
    assert json.loads(pipe.getvalue())["message"] == "to a collector"
    assert "INFO    paperlens.test: to a person" in shown and "{" not in shown
