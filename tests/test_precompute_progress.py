"""Long work shows progress: ``paperlens precompute`` waits and shows the index build's
phases and the enrichment's progress, ``paperlens status`` and ``/readyz`` say what the
instance holds, and a paper the old index lacks waits for the index being rebuilt.
Real RQ workers throughout; the commands run as real processes."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import time
from pathlib import Path

from flask.testing import FlaskClient
from redis import Redis
from rq import Queue, SimpleWorker
from rq.registry import DeferredJobRegistry

from paperlens import enrichments, keys
from paperlens.jobs import SERIALIZER
from paperlens.precompute import rebuild_pending, request_precompute
from paperlens.settings import Settings
from paperlens.store.db import Database
from tests.support import PAPERLENS, ROOT, OnTerminal, eventually, run_workers
from worker.ingest.jsonl import ingest_jsonl
from worker.pipeline.index_files import current_index

NEWCOMER = {
    "id": "arxiv:2601.00001",
    "title": "Routing tokens to experts with learned capacity in sparse mixture-of-experts",
    "abstract": (
        "Sparse mixture-of-experts language models route each token to a few experts. We "
        "learn each expert's capacity jointly with the router, which balances expert load "
        "and improves perplexity at the same compute."
    ),
}


def wait_until_queued(redis: Redis, timeout: float = 30) -> None:
    bulk = Queue(keys.QUEUE_BULK, connection=redis, serializer=SERIALIZER)
    eventually(lambda: bulk.count > 0, timeout, "precompute was never queued")


def test_precompute_waits_and_shows_the_build_phases_then_the_papers_enriched(
    demo: Database, redis: Redis, settings: Settings
) -> None:
    command = subprocess.Popen(
        [*PAPERLENS, "precompute"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    wait_until_queued(redis)
    assert command.poll() is None  # still waiting for a worker
    run_workers(redis)
    output = command.communicate(timeout=60)[0].decode()

    assert command.returncode == 0, output
    phases = [line for line in output.splitlines() if line.startswith("Index: ")]
    assert [phase.split(" (")[0] for phase in phases[:2]] == [
        "Index: reading the catalogue",
        "Index: fitting the tfidf ranker on 59 papers",
    ], output
    assert phases[-1].startswith("Index: published related-"), output
    assert "Enriched 59 of 59 papers in " in output and " s in all." in output, output
    assert all(enrichments.read(redis, record) is not None for record in demo_ids(demo))
    assert rebuild_pending(redis) is None


def test_on_a_terminal_the_enrichment_has_a_progress_bar(
    demo: Database, redis: Redis, settings: Settings
) -> None:
    terminal = OnTerminal([*PAPERLENS, "precompute"], dict(os.environ))
    wait_until_queued(redis)
    run_workers(redis)
    code, shown = terminal.wait()
    assert code == 0, shown
    assert "Enriching" in shown and "59/59" in shown and "papers/s" in shown, shown


def test_no_wait_only_queues_the_work(demo: Database, redis: Redis, settings: Settings) -> None:
    started = time.monotonic()
    done = subprocess.run([*PAPERLENS, "precompute", "--no-wait"], cwd=ROOT, capture_output=True)
    assert done.returncode == 0 and time.monotonic() - started < 30
    assert b"Precompute queued on 'bulk'" in done.stdout
    assert Queue(keys.QUEUE_BULK, connection=redis, serializer=SERIALIZER).count == 1
    assert rebuild_pending(redis) is not None


def test_a_paper_the_old_index_lacks_waits_for_the_index_being_rebuilt(
    precomputed: Database, redis: Redis, settings: Settings, client: FlaskClient, tmp_path: Path
) -> None:
    old_index = current_index(settings, precomputed, redis)
    newcomer = tmp_path / "newcomer.jsonl"
    newcomer.write_text(json.dumps(NEWCOMER) + "\n")
    assert ingest_jsonl(precomputed, newcomer).created == 1
    assert old_index.row_of(NEWCOMER["id"]) is None
    request_precompute(redis, settings)

    assert client.get(f"/api/v1/papers/{NEWCOMER['id']}").status_code == 202
    interactive = Queue(keys.QUEUE_INTERACTIVE, connection=redis, serializer=SERIALIZER)
    # A worker drains the reader's queue first, before the rebuild queued on bulk.
    SimpleWorker([interactive], connection=redis, serializer=SERIALIZER).work(burst=True)
    assert client.get(f"/api/v1/papers/{NEWCOMER['id']}").status_code == 202
    assert DeferredJobRegistry(queue=interactive).count == 1
    assert client.get("/readyz").get_json()["queues"]["interactive"]["deferred"] == 1

    run_workers(redis)
    served = client.get(f"/api/v1/papers/{NEWCOMER['id']}")
    assert served.status_code == 200
    new_index = current_index(settings, precomputed, redis)
    assert new_index.row_of(NEWCOMER["id"]) is not None
    built_at = redis.hget(keys.INDEX_INFO, "built_at")
    assert isinstance(built_at, bytes)
    built = dt.datetime.fromisoformat(built_at.decode())
    computed = dt.datetime.fromisoformat(served.get_json()["computed_at"].replace("Z", "+00:00"))
    assert computed >= built  # computed from the new index, not the old one
    titles = [related["title"].lower() for related in served.get_json()["related"]]
    assert titles and any("expert" in title for title in titles), titles


def test_status_and_readyz_show_the_index_the_queues_and_the_last_ingest(
    db: Database, redis: Redis, settings: Settings, client: FlaskClient, tmp_path: Path
) -> None:
    records = tmp_path / "two.jsonl"
    records.write_text(
        json.dumps(NEWCOMER) + "\n" + json.dumps({**NEWCOMER, "id": "arxiv:2601.00002"}) + "\n"
    )
    ingested = subprocess.run([*PAPERLENS, "ingest", "jsonl", str(records)], cwd=ROOT)
    assert ingested.returncode == 0
    before = subprocess.run([*PAPERLENS, "status"], cwd=ROOT, capture_output=True, text=True)
    assert "index:        none built yet" in before.stdout, before.stdout

    Queue(keys.QUEUE_BULK, connection=redis, serializer=SERIALIZER).enqueue(keys.JOB_PRECOMPUTE_ALL)
    run_workers(redis)
    Queue(keys.QUEUE_DEFAULT, connection=redis, serializer=SERIALIZER).enqueue(
        "worker.jobs.refresh_stale"
    )

    shown = subprocess.run([*PAPERLENS, "status"], cwd=ROOT, capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    assert f"index:        tfidf, 2 papers, built {today}" in shown.stdout, shown.stdout
    assert "queues:       interactive 0 queued, 0 running, 0 deferred, 0 failed" in shown.stdout
    assert "              default     1 queued, 0 running, 0 deferred, 0 failed" in shown.stdout
    assert "              bulk        0 queued" in shown.stdout, shown.stdout
    assert f"last ingest:  {today} " in shown.stdout, shown.stdout
    assert " UTC, JSON lines two.jsonl: 2 new, 0 updated" in shown.stdout, shown.stdout

    ready = client.get("/readyz").get_json()
    assert ready["index"]["ranker"] == "tfidf" and ready["index"]["papers"] == 2
    assert ready["index"]["built_at"].startswith(today)
    assert ready["index"]["rebuild_pending"] is False
    assert ready["queues"]["default"] == {"queued": 1, "running": 0, "deferred": 0, "failed": 0}
    assert ready["last_ingest"]["what"] == "JSON lines two.jsonl"
    assert ready["last_ingest"]["created"] == 2


def demo_ids(db: Database) -> list[str]:
    from paperlens.store.papers import iter_papers

    with db.session() as session:
        return [paper.paper_id for paper in iter_papers(session)]


def test_without_a_terminal_a_line_gives_the_rate_and_the_time_left() -> None:
    import io

    from worker.ingest.progress import Progress

    progress = Progress("Enriching", 1000, unit=" papers", stream=io.StringIO(), postfix=False)
    progress.started -= 20  # as if 250 papers took the first 20 s: 12.5 papers/s
    progress.advance(250, 250)
    assert progress.line() == "Enriching: 250 papers, 12 papers/s (25%), about 60 s left"
