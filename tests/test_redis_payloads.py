"""Whoever can write to Redis must not be able to run code in a worker: jobs are JSON, and the
index pointer can only name an index build inside the configured index folder."""

from __future__ import annotations

import logging
import os
import zlib
from pathlib import Path

import joblib
import pytest
from redis import Redis
from rq import Queue

from paperlens import enrichments, job_queue, keys
from paperlens.settings import Settings
from paperlens.store.db import Database
from tests.support import run_workers
from worker.pipeline.index_files import current_index
from worker.pipeline.related import RelatedIndex

MRL = "arxiv:2205.13147"


class Planted:
    """An object whose unpickling creates ``marker``: proof that a payload ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.mkdir, (str(self.marker),)


def test_pickled_job_planted_in_redis_is_not_executed(
    demo: Database, redis: Redis, settings: Settings, tmp_path: Path
) -> None:
    marker = tmp_path / "payload-ran"
    # What RQ's default serializer would store: a pickle whose loading calls os.mkdir.
    Queue(keys.QUEUE_INTERACTIVE, connection=redis).enqueue(keys.JOB_ENRICH_PAPER, Planted(marker))
    job_queue.request_enrichment(redis, settings, MRL, keys.QUEUE_INTERACTIVE)

    run_workers(redis)

    assert not marker.exists()
    # The worker went on with the genuine job queued behind the planted one.
    assert enrichments.read_raw(redis, MRL) is not None


def test_jobs_are_stored_as_json(redis: Redis, settings: Settings) -> None:
    job_queue.request_enrichment(redis, settings, MRL, keys.QUEUE_INTERACTIVE)
    raw = redis.hget(f"rq:job:{keys.enrich_job_id(MRL)}", "data")
    assert isinstance(raw, bytes)
    assert zlib.decompress(raw).decode().startswith('["worker.jobs.enrich_paper"')


def plant_index(folder: Path, marker: Path) -> Path:
    """A file that joblib would load by running ``Planted``'s payload."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "related-20260101T000000000000.joblib"
    joblib.dump(Planted(marker), path)
    return path


@pytest.mark.parametrize("pointer", ["relative", "absolute", "etc", "link"])
def test_index_pointer_outside_the_index_folder_is_refused(
    pointer: str,
    demo: Database,
    redis: Redis,
    settings: Settings,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    marker = tmp_path / "payload-ran"
    planted = plant_index(tmp_path / "elsewhere", marker)
    index_dir = settings.index_dir
    index_dir.mkdir(parents=True, exist_ok=True)
    names = {
        "relative": os.path.relpath(planted, index_dir),
        "absolute": str(planted),
        "etc": "/etc/passwd",
        "link": "related-20260101T000000000001.joblib",
    }
    if pointer == "link":
        (index_dir / names["link"]).symlink_to(planted)
    redis.set(keys.INDEX_POINTER, names[pointer])

    with caplog.at_level(logging.ERROR):
        index = current_index(settings, demo, redis)

    assert not marker.exists()
    assert isinstance(index, RelatedIndex) and len(index) == 59  # a fresh build instead
    assert "outside" in caplog.text
    published = redis.get(keys.INDEX_POINTER)
    assert isinstance(published, bytes) and (index_dir / published.decode()).is_file()
