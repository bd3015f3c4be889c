"""Enqueuing work for the workers by job name: the API's only way to ask for computation.

Every queue, worker and scheduler of PaperLens reads and writes jobs with ``SERIALIZER``:
JSON, so that a job planted in Redis is data, never code (RQ's default, pickle, would run
whatever object a job's payload describes the moment a worker reads it). Job arguments
and results are therefore plain JSON values: ids, numbers and lists of them.
"""

from __future__ import annotations

from redis import Redis
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError
from rq.job import Dependency, Job
from rq.serializers import JSONSerializer

from paperlens import keys
from paperlens.logs import request_id_var
from paperlens.rq_worker import PaperLensWorker
from paperlens.settings import Settings

# A job whose worker died (or that raised) is tried again after these pauses: at once the
# first time (a killed worker is no reason to wait), then backing off.
RETRY_INTERVALS_SECONDS = [0, 30, 120]
# Finished jobs keep no result by default, so that a later request under the same job id
# (a refresh of the same paper) can be queued again.
NO_RESULT_TTL_SECONDS = 0
# How every job is stored in Redis; see the module's docstring.
SERIALIZER = JSONSerializer

# What a job's arguments may be: plain JSON values (see the module's docstring).
JobArgument = str | int | list[str] | None


def retry_policy() -> Retry:
    return Retry(max=len(RETRY_INTERVALS_SECONDS), interval=RETRY_INTERVALS_SECONDS)


def queue(redis: Redis, name: str) -> Queue:
    """The queue ``name``, storing its jobs as JSON (every job's timeout is set by ``enqueue``)."""
    return Queue(name, connection=redis, serializer=SERIALIZER)


def enqueue(
    redis: Redis,
    settings: Settings,
    queue_name: str,
    job_name: str,
    *args: JobArgument,
    job_id: str | None = None,
    after: str | None = None,
    description: str | None = None,
    timeout_seconds: int | None = None,
    result_ttl_seconds: int = NO_RESULT_TTL_SECONDS,
    failure_ttl_seconds: int | None = None,
    **kwargs: JobArgument,
) -> Job | None:
    """The one way a job is queued: ``job_name(*args, **kwargs)`` on ``queue_name``, retried by
    ``retry_policy``, with the request id in its meta so that it reaches the job's logs.

    Returns None, queueing nothing, when a job with ``job_id`` is already queued or running:
    RQ's unique enqueue checks and saves the job atomically, so a burst of identical
    requests queues one job. ``after`` names a job this one waits for, and then runs
    whether that job succeeded or failed. RQ's unique enqueue does not take dependencies,
    so there the id is checked first; two callers at the same instant write the same job
    twice, which runs once. Unset, the timeout is ``job_timeout_seconds`` and a failed job
    is kept ``job_failure_ttl_seconds``.
    """
    if after is not None and job_id is not None and Job.exists(job_id, connection=redis):
        return None
    failure_ttl = failure_ttl_seconds or settings.job_failure_ttl_seconds
    try:
        return queue(redis, queue_name).enqueue(
            job_name,
            *args,
            job_id=job_id,
            unique=job_id is not None and after is None,
            depends_on=Dependency(jobs=[after], allow_failure=True) if after else None,
            job_timeout=timeout_seconds or settings.job_timeout_seconds,
            result_ttl=result_ttl_seconds,
            failure_ttl=failure_ttl,
            retry=retry_policy(),
            description=description,
            meta={"request_id": request_id_var.get()},
            **kwargs,
        )
    except DuplicateJobError:
        return None


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


def request_enrichment(
    redis: Redis, settings: Settings, paper_id: str, queue_name: str, after: str | None = None
) -> bool:
    """Ask for one paper's enrichment; True when queued now, False when already in flight.

    With ``after``, the id of a pending index build, the enrichment waits for that build to
    end, whether it succeeds or fails: a failed build leaves the old index, which still
    serves the paper by projection. One such waiting enrichment per paper, beside any other.
    """
    job_id = keys.enrich_job_id(paper_id)
    what = f"enrich {paper_id}"
    if after is not None:
        job_id = keys.deferred_enrich_job_id(paper_id)
        what += " once the index is rebuilt"
    job = enqueue(
        redis,
        settings,
        queue_name,
        keys.JOB_ENRICH_PAPER,
        paper_id,
        job_id=job_id,
        after=after,
        description=what,
    )
    return job is not None


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
    job_id = keys.fetch_job_id(paper_id)
    job = enqueue(
        redis,
        settings,
        keys.QUEUE_INTERACTIVE,
        keys.JOB_FETCH_PAPER,
        paper_id,
        job_id=job_id,
        description=f"fetch {paper_id}",
    )
    return job is not None


def fetch_in_flight(redis: Redis, paper_id: str) -> bool:
    """Whether a fetch of ``paper_id`` is queued or running (a new request joins it)."""
    return bool(redis.exists(Job.key_for(keys.fetch_job_id(paper_id))))


def request_suggestions(redis: Redis, settings: Settings, user_id: int) -> bool:
    """Ask for a reader's suggestions to be recomputed; coalesced to one job per reader.

    A change arriving while the job runs is not lost: the job compares the reader's
    library revision before and after computing and goes round again when it moved,
    and a reader whose stored suggestions are older than the list gets a new job.
    """
    job_id = keys.suggestions_job_id(user_id)
    what = f"suggestions for reader {user_id}"
    job = enqueue(
        redis,
        settings,
        keys.QUEUE_DEFAULT,
        keys.JOB_COMPUTE_SUGGESTIONS,
        user_id,
        job_id=job_id,
        description=what,
    )
    return job is not None


def request_feed_refresh(redis: Redis, settings: Settings) -> bool:
    """Ask for the readers' feeds to take in the papers new since the last refresh.

    Coalesced to one job: a refresh queued while another waits would find the same papers.
    """
    job = enqueue(
        redis,
        settings,
        keys.QUEUE_DEFAULT,
        keys.JOB_REFRESH_FEEDS,
        job_id=keys.FEED_REFRESH_JOB_ID,
        description="refresh the research feeds",
    )
    return job is not None


def request_reader_feed_refresh(redis: Redis, settings: Settings, user_id: int) -> bool:
    """Ask for one reader's feed to be ranked again after their feedback changed its model;
    coalesced per reader, as suggestions are."""
    job = enqueue(
        redis,
        settings,
        keys.QUEUE_DEFAULT,
        keys.JOB_REFRESH_READER_FEED,
        user_id,
        job_id=keys.reader_feed_job_id(user_id),
        description=f"refresh the research feed of reader {user_id}",
    )
    return job is not None
