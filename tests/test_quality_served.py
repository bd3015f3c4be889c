"""The related list the API serves for a CSFCube paper is the one the benchmark measures.

Runs on a small slice of CSFCube (read from PAPERLENS_CSFCUBE_DIR, never copied into the
project); skipped where the dataset is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue

from bench.quality import csfcube
from paperlens import keys
from paperlens.job_queue import SERIALIZER
from paperlens.settings import Settings
from paperlens.store.db import Database
from tests.support import run_workers
from worker.ingest.jsonl import ingest_jsonl
from worker.pipeline.rankers.choose import choose_ranker
from worker.pipeline.rankers.explain import STUDY_PREFIX
from worker.pipeline.related import IndexedPaper, RelatedIndex

QUERY = "corpusid:10010426"  # "And That's A Fact: ... Argumentation in Online Dialogue"
SLICE = 40


def csfcube_slice() -> list[dict[str, str]]:
    folder = csfcube.default_folder()
    if not (folder / "corpus.jsonl").exists():
        pytest.skip(f"CSFCube not found in {folder} (PAPERLENS_CSFCUBE_DIR)")
    cube = csfcube.load(folder)
    wanted = {QUERY, *cube.pools[QUERY][:SLICE]}
    return [r for r in csfcube.as_jsonl_records(cube) if r["id"] in wanted]


def test_served_related_list_is_the_measured_one(
    client: FlaskClient, db: Database, redis: Redis, settings: Settings, tmp_path: Path
) -> None:
    records = csfcube_slice()
    path = tmp_path / "slice.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    report = ingest_jsonl(db, path)
    assert (report.created, report.bad_records) == (len(records), [])

    Queue(keys.QUEUE_BULK, connection=redis, serializer=SERIALIZER).enqueue(keys.JOB_PRECOMPUTE_ALL)
    run_workers(redis)
    served = client.get(f"/api/v1/papers/{QUERY}").get_json()

    ranker, _ = choose_ranker(settings.related_ranker)
    papers = [IndexedPaper(r["id"], r["title"], r["abstract"]) for r in records]
    query = next(p for p in papers if p.paper_id == QUERY)
    measured = RelatedIndex.build(papers, ranker).related(query, settings.related_k)
    assert [r["paper_id"] for r in served["related"]] == [r.paper_id for r in measured]
    assert [r["reason"] for r in served["related"]] == [r.reason for r in measured]
    assert served["related"][0]["reason"].startswith(("Both discuss “", STUDY_PREFIX))
    assert client.get("/readyz").get_json()["ranker"].startswith(ranker)
