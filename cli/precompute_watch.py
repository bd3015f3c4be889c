"""``paperlens precompute`` waiting for its run: the index build's phases as they happen,
then a progress bar of papers enriched (rate, time left), then a summary.

The work is done by the workers; this only reads what the run records in Redis
(``paperlens.precompute``), so stopping the wait (Ctrl-C) stops nothing.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import TextIO

from redis import Redis
from rq import Queue, Worker
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry, StartedJobRegistry

from paperlens import keys
from paperlens.job_queue import SERIALIZER
from paperlens.precompute import read_progress
from worker.ingest.progress import Progress

POLL_SECONDS = 0.5
# Consecutive polls that find nothing of the bulk queue left to run before a run whose
# papers are not all counted is taken as over (its missing chunks failed).
IDLE_POLLS = 4
# How long to wait before saying that no worker is there to do the work.
NO_WORKER_GRACE_SECONDS = 3.0


class RunFailed(Exception):
    """The precompute job itself failed: the index was not rebuilt."""


@dataclass(frozen=True)
class Outcome:
    enriched: int
    to_enrich: int
    seconds: float
    enriching_seconds: float

    @property
    def complete(self) -> bool:
        return self.enriched >= self.to_enrich


def watch(
    redis: Redis, job: Job, stream: TextIO | None = None, poll: float = POLL_SECONDS
) -> Outcome:
    """Follow precompute ``job`` until every paper it queued is enriched (or has failed)."""
    out = stream or sys.stderr
    started = time.monotonic()
    shown_phases = 0
    bar: Progress | None = None
    enriching_from: float | None = None
    idle = 0
    warned = False
    try:
        while True:
            progress = read_progress(redis, job.id)
            for phase in progress.phases[shown_phases:]:
                print(f"Index: {phase} ({time.monotonic() - started:.1f} s)", file=out, flush=True)
            shown_phases = len(progress.phases)
            status = job.get_status(refresh=True)
            if status == JobStatus.FAILED:
                raise RunFailed("the index build failed: the worker's log says why")
            if progress.to_enrich is not None:
                if bar is None:
                    enriching_from = time.monotonic()
                    bar = Progress(
                        "Enriching", progress.to_enrich, unit=" papers", stream=out, postfix=False
                    )
                bar.advance(progress.enriched, progress.enriched)
                if progress.enriched >= progress.to_enrich:
                    break
                idle = idle + 1 if _bulk_idle(redis) else 0
                if idle >= IDLE_POLLS:
                    break
            if not warned and time.monotonic() - started > NO_WORKER_GRACE_SECONDS:
                if Worker.count(connection=redis) == 0:
                    print(
                        "No worker is running: start one (`paperlens worker`, or `make run`); "
                        "waiting ...",
                        file=out,
                        flush=True,
                    )
                warned = True
            time.sleep(poll)
    finally:
        if bar is not None:
            bar.close()
    final = read_progress(redis, job.id)
    ended = time.monotonic()
    return Outcome(
        final.enriched, final.to_enrich or 0, ended - started, ended - (enriching_from or ended)
    )


def _bulk_idle(redis: Redis) -> bool:
    """Nothing on ``bulk`` waits, runs or waits for a retry."""
    queue = Queue(keys.QUEUE_BULK, connection=redis, serializer=SERIALIZER)
    return (
        queue.count == 0
        and StartedJobRegistry(queue=queue).count == 0
        and ScheduledJobRegistry(queue=queue).count == 0  # type: ignore[no-untyped-call]
    )
