"""Enqueuing work for the workers by job name: the API's only way to ask for computation.

Every queue, worker and scheduler of PaperLens reads and writes jobs with ``SERIALIZER``:
JSON, so that a job planted in Redis is data, never code (RQ's default, pickle, would run
whatever object a job's payload describes the moment a worker reads it). Job arguments
and results are therefore plain JSON values: ids, numbers and lists of them.
"""

from __future__ import annotations

import time
from collections.abc import Collection

from redis import Redis
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError
from rq.job import Dependency, Job
from rq.serializers import JSONSerializer

from paperlens import keys
from paperlens.logs import request_id_var
from paperlens.rq_worker import PaperLensWorker
from paperlens.settings import Settings

# A job whose worker died (or that raised) is tried again after these pauses, in seconds:
# at once the first time (a killed worker is no reason to wait), then backing off.
RETRY_INTERVALS = [0, 30, 120]
# How every job is stored in Redis; see the module's docstring.
SERIALIZER = JSONSerializer


def retry_policy() -> Retry:
    return Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS)


def queue(redis: Redis, name: str, settings: Settings | None = None) -> Queue:
    """The queue ``name``, storing its jobs as JSON; ``settings`` give the default timeout."""
    timeout = settings.job_timeout_seconds if settings is not None else None
    return Queue(name, connection=redis, default_timeout=timeout, serializer=SERIALIZER)


def build_worker(redis: Redis, settings: Settings) -> PaperLensWorker:
    """The one place an RQ worker is made (CLI, tests, benchmarks): the queues in the order a
    worker drains them, and how often it looks for the jobs of dead workers."""
    queues = [queue(redis, name) for name in keys.QUEUES_BY_URGENCY]
    return PaperLensWorker(
        queues,
        connection=redis,
        serializer=SERIALIZER,
        maintenance_interval=settings.rq_maintenance_interval_seconds,
    )


def request_enrichment(redis: Redis, settings: Settings, paper_id: str, queue_name: str) -> bool:
    """Ask for one paper's enrichment; True when queued now, False when already in flight.

    Finished jobs keep no result (``result_ttl=0``), so a later refresh can be queued again.
    """
    return _enqueue_once(
        redis,
        settings,
        queue_name,
        keys.JOB_ENRICH_PAPER,
        paper_id,
        job_id=keys.enrich_job_id(paper_id),
        description=f"enrich {paper_id}",
    )


def defer_enrichment(
    redis: Redis, settings: Settings, paper_id: str, build_job_id: str, queue_name: str
) -> bool:
    """Enrich ``paper_id`` once the index build of ``build_job_id`` is over; True when
    queued now, False when such a deferred enrichment is already waiting.

    Whether the build succeeds or fails, the enrichment then runs: a failed build leaves
    the old index, which still serves the paper by projection. RQ's unique enqueue does
    not take dependencies, so the id is checked first; two workers deferring one paper
    at the same instant write the same job twice, which runs once.
    """
    job_id = keys.deferred_enrich_job_id(paper_id)
    if Job.exists(job_id, connection=redis):
        return False
    queue(redis, queue_name, settings).enqueue(
        keys.JOB_ENRICH_PAPER,
        paper_id,
        job_id=job_id,
        depends_on=Dependency(jobs=[build_job_id], allow_failure=True),
        result_ttl=0,
        retry=retry_policy(),
        failure_ttl=settings.job_failure_ttl_seconds,
        description=f"enrich {paper_id} once the index is rebuilt",
        meta={"request_id": request_id_var.get()},
    )
    return True


def fetchable(settings: Settings, paper_id: str) -> bool:
    """Whether an enabled source can fetch ``paper_id``: arXiv ids and DOIs, nothing else."""
    scheme = paper_id.partition(":")[0]
    enabled = set(settings.sources)
    if scheme == "arxiv":
        return "arxiv" in enabled
    if scheme == "doi":
        return bool(enabled & {"crossref", "openalex"})
    return False


def request_fetch(redis: Redis, settings: Settings, paper_id: str) -> bool:
    """Ask a worker to fetch a paper the catalogue lacks (a reader is waiting: ``interactive``).

    One job per paper in flight, as for enrichments; the job enriches the paper too.
    """
    return _enqueue_once(
        redis,
        settings,
        keys.QUEUE_INTERACTIVE,
        keys.JOB_FETCH_PAPER,
        paper_id,
        job_id=keys.fetch_job_id(paper_id),
        description=f"fetch {paper_id}",
    )


def fetch_in_flight(redis: Redis, paper_id: str) -> bool:
    """Whether a fetch of ``paper_id`` is queued or running (a new request joins it)."""
    return bool(redis.exists(Job.key_for(keys.fetch_job_id(paper_id))))


def defer_fetches(redis: Redis, paper_ids: Collection[str]) -> None:
    """Keep fetches that could not be queued now; the scheduler queues them later, as the
    fetch queue has room (``worker.pipeline.freshness.release_deferred_fetches``)."""
    if paper_ids:
        now = time.time()
        redis.zadd(keys.FETCH_DEFERRED, {paper_id: now for paper_id in paper_ids}, nx=True)


def request_suggestions(redis: Redis, settings: Settings, user_id: int) -> bool:
    """Ask for a reader's suggestions to be recomputed; coalesced to one job per reader.

    A change arriving while the job runs is not lost: the job compares the reader's
    library revision before and after computing and goes round again when it moved,
    and a reader whose stored suggestions are older than the list gets a new job.
    """
    return _enqueue_once(
        redis,
        settings,
        keys.QUEUE_DEFAULT,
        keys.JOB_COMPUTE_SUGGESTIONS,
        user_id,
        job_id=keys.suggestions_job_id(user_id),
        description=f"suggestions for reader {user_id}",
    )


def _enqueue_once(
    redis: Redis,
    settings: Settings,
    queue_name: str,
    job_name: str,
    argument: str | int,
    *,
    job_id: str,
    description: str,
) -> bool:
    """Queue ``job_name(argument)`` unless a job with ``job_id`` is already queued or running.

    RQ's unique enqueue checks and saves the job atomically, so a burst of identical
    requests queues one job; the request id travels in the job's meta into its logs.
    """
    try:
        queue(redis, queue_name, settings).enqueue(
            job_name,
            argument,
            job_id=job_id,
            unique=True,
            result_ttl=0,
            retry=retry_policy(),
            failure_ttl=settings.job_failure_ttl_seconds,
            description=description,
            meta={"request_id": request_id_var.get()},
        )
    except DuplicateJobError:
        return False
    return True
