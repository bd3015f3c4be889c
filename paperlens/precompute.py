"""The state of index builds and precompute runs, kept in Redis where every process sees it.

A precompute run is one ``precompute_all`` job: it builds the related-papers index (in
phases), publishes it, then queues every paper's enrichment in chunks, each of which
counts the papers it wrote. ``paperlens precompute`` reads this to draw its progress;
``paperlens status`` and ``/readyz`` read the published index and the last ingest. While
a run's build is pending, enrichments of papers the old index lacks wait for it.

This module owns those keys: the published index (the file every worker loads, its ranker
and description), the pending-rebuild mark, each run's progress, and the last ingest.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from redis import Redis
from redis.exceptions import RedisError
from rq.defaults import DEFAULT_FAILURE_TTL
from rq.job import Job

from paperlens import job_queue, keys
from paperlens.settings import Settings

log = logging.getLogger(__name__)

# A precompute may run this many job timeouts (the build, then chunks queued behind it).
PRECOMPUTE_TIMEOUT_FACTOR = 6
# A finished run's job is kept this long, so that a waiting command can read its end.
PRECOMPUTE_RESULT_TTL_SECONDS = 600
# A failed run, and a failed chunk of one, stay in RQ's failed registry (``paperlens status``)
# as long as RQ keeps failed jobs by default: a year.
PRECOMPUTE_FAILURE_TTL_SECONDS = DEFAULT_FAILURE_TTL
# Progress of a precompute run is kept this long after it was last updated.
PRECOMPUTE_PROGRESS_TTL_SECONDS = 86_400


# Compare and delete in one step, so a rebuild requested in between is never unmarked.
_DELETE_IF_EQUAL = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


@dataclass(frozen=True)
class RunProgress:
    """Where one precompute run stands."""

    phases: list[str]
    to_enrich: int | None
    enriched: int
    # Attempts at a chunk the run had already counted (see ``chunk_done``).
    repeated: int = 0


def request_precompute(redis: Redis, settings: Settings) -> Job:
    """Queue a rebuild of the index and of every enrichment on ``bulk``; from now until the
    new index is published, the rebuild counts as pending (see ``rebuild_pending``).

    With a retry policy, a run whose worker dies is taken up again by the next worker under
    the same job id; the enrichment chunks it had queued already are not queued twice.
    """
    timeout = settings.job_timeout_seconds * PRECOMPUTE_TIMEOUT_FACTOR
    job = job_queue.enqueue(
        redis,
        settings,
        keys.QUEUE_BULK,
        keys.JOB_PRECOMPUTE_ALL,
        description="rebuild the related-papers index and every enrichment",
        timeout_seconds=timeout,
        result_ttl_seconds=PRECOMPUTE_RESULT_TTL_SECONDS,
        failure_ttl_seconds=PRECOMPUTE_FAILURE_TTL_SECONDS,
    )
    assert job is not None, "a job without an id of its own is never refused as a duplicate"
    # Expires on its own should the build never end (a worker killed for good).
    redis.set(keys.INDEX_REBUILD, job.id, ex=timeout)
    return job


def request_index_update(redis: Redis, settings: Settings) -> bool:
    """Ask for the papers that joined the catalogue to be added to the related-papers index,
    then enriched (``worker.jobs.update_index``); coalesced to one job, which takes in every
    paper the index lacks when it runs. It may fit a new index, hence the long timeout."""
    job = job_queue.enqueue(
        redis,
        settings,
        keys.QUEUE_BULK,
        keys.JOB_UPDATE_INDEX,
        job_id=keys.INDEX_UPDATE_JOB_ID,
        description="add the new papers to the related-papers index",
        # Neither a result nor (past the usual time) a failure is kept under the id: the
        # next update must be able to take it.
        timeout_seconds=settings.job_timeout_seconds * PRECOMPUTE_TIMEOUT_FACTOR,
    )
    return job is not None


def rebuild_pending(redis: Redis) -> str | None:
    """The id of the precompute job whose index is still to be published, if any."""
    value = redis.get(keys.INDEX_REBUILD)
    return value.decode() if isinstance(value, bytes) else None


def end_rebuild(redis: Redis, run_id: str | None) -> None:
    """The run's build is over (published or failed): enrichments need not wait any more.
    Only this run's mark is removed; a rebuild requested meanwhile stays pending."""
    if run_id is not None:
        redis.eval(_DELETE_IF_EQUAL, 1, keys.INDEX_REBUILD, run_id)


def add_phase(redis: Redis, run_id: str | None, phase: str) -> None:
    """Record the next phase of a run's index build (nothing outside a run)."""
    if run_id is None:
        return
    key = keys.precompute_phases(run_id)
    with redis.pipeline() as pipe:
        pipe.rpush(key, phase)
        pipe.expire(key, PRECOMPUTE_PROGRESS_TTL_SECONDS)
        pipe.execute()


def set_counts(redis: Redis, run_id: str | None, **counts: int) -> None:
    """Set a run's figures (``to_enrich``: the papers its chunks will enrich)."""
    if run_id is None:
        return
    key = keys.precompute_progress(run_id)
    with redis.pipeline() as pipe:
        for name, value in counts.items():
            pipe.hset(key, name, value)
        pipe.expire(key, PRECOMPUTE_PROGRESS_TTL_SECONDS)
        pipe.execute()


def chunk_done(redis: Redis, run_id: str | None, chunk: str | None) -> bool:
    """Whether the run already counted ``chunk`` as done; if so, this attempt is counted as a
    repeat. RQ delivers a job at least once: a worker killed after finishing a chunk, before
    RQ marked the job finished, has its job handed to another worker."""
    if run_id is None or chunk is None:
        return False
    key = keys.precompute_progress(run_id)
    if not redis.hexists(key, _chunk_field(chunk)):
        return False
    redis.hincrby(key, "repeated", 1)
    return True


def count_enriched(redis: Redis, run_id: str | None, chunk: str | None, papers: int) -> None:
    """Chunk ``chunk`` of the run wrote ``papers`` enrichments. Marking the chunk done and
    counting its papers are one step, so a chunk's papers are counted once however often
    it runs."""
    if run_id is None:
        return
    key = keys.precompute_progress(run_id)
    field = _chunk_field(chunk) if chunk is not None else ""
    redis.eval(_COUNT_CHUNK, 1, key, field, papers, PRECOMPUTE_PROGRESS_TTL_SECONDS)


def _chunk_field(chunk: str) -> str:
    return f"done:{chunk}"


# KEYS[1] the run's progress hash; ARGV: the chunk's field ("" for no chunk), its papers,
# the hash's time to live.
_COUNT_CHUNK = """
if ARGV[1] == '' or redis.call('hsetnx', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('hincrby', KEYS[1], 'enriched', ARGV[2])
end
redis.call('expire', KEYS[1], ARGV[3])
return 0
"""


def read_progress(redis: Redis, run_id: str) -> RunProgress:
    with redis.pipeline() as pipe:
        pipe.lrange(keys.precompute_phases(run_id), 0, -1)
        pipe.hgetall(keys.precompute_progress(run_id))
        phases, counts = pipe.execute()

    def number(name: str) -> int | None:
        value = counts.get(name.encode())
        return int(value) if value is not None else None

    return RunProgress(
        phases=[phase.decode() for phase in phases],
        to_enrich=number("to_enrich"),
        enriched=number("enriched") or 0,
        repeated=number("repeated") or 0,
    )


def publish_index(redis: Redis, name: str, ranker: str, papers: int) -> None:
    """Make the build saved as ``name`` the index every worker loads, and describe it for
    ``paperlens status`` and ``/readyz``."""
    with redis.pipeline() as pipe:
        pipe.set(keys.INDEX_POINTER, name)
        pipe.set(keys.INDEX_RANKER, ranker)
        info = {"name": name, "ranker": ranker, "papers": papers, "built_at": _now()}
        pipe.hset(keys.INDEX_INFO, mapping=info)  # type: ignore[arg-type]
        pipe.execute()


def index_pointer(redis: Redis) -> str | None:
    """The file name of the published index, as written (the reader checks it is a build)."""
    pointer = redis.get(keys.INDEX_POINTER)
    return pointer.decode(errors="replace") if isinstance(pointer, bytes) else None


def mark_enrichments_queued(redis: Redis, name: str) -> None:
    """Note that every paper the update published as ``name`` added has its enrichment queued."""
    redis.set(keys.INDEX_ENRICHMENTS_QUEUED, name)


def enrichments_queued(redis: Redis) -> str | None:
    """The build ``mark_enrichments_queued`` last named, if any."""
    name = redis.get(keys.INDEX_ENRICHMENTS_QUEUED)
    return name.decode(errors="replace") if isinstance(name, bytes) else None


def index_ranker(redis: Redis) -> str | None:
    """Which ranker built the published index (a fallback says so), if one is published."""
    ranker = redis.get(keys.INDEX_RANKER)
    return ranker.decode() if isinstance(ranker, bytes) else None


def index_info(redis: Redis) -> dict[str, str]:
    """The description ``publish_index`` wrote; empty before any index."""
    return _strings(redis.hgetall(keys.INDEX_INFO))


def record_ingest(
    redis: Redis,
    settings: Settings,
    what: str,
    created: int,
    updated: int,
    join_index: bool = True,
) -> None:
    """Describe the ingest that just changed the catalogue (one that changed nothing is
    not recorded: "last ingest" says when papers last arrived). One that brought new papers
    asks for the readers' research feeds to take them in: with ``join_index``, once the
    related-papers index has taken them in (the update asks for the feeds' refresh);
    without it (one fetched paper, whose update would write the whole index again), at
    once, the paper joining the index at the next scheduled update."""
    if not created and not updated:
        return
    redis.hset(
        keys.LAST_INGEST,
        mapping={"what": what, "created": created, "updated": updated, "at": _now()},
    )
    if created and join_index:
        request_index_update(redis, settings)
    elif created:
        job_queue.request_feed_refresh(redis, settings)


def last_ingest(redis: Redis) -> dict[str, str]:
    """The description ``record_ingest`` wrote; empty before any ingest."""
    return _strings(redis.hgetall(keys.LAST_INGEST))


def record_ingest_of(settings: Settings, what: str, created: int, updated: int) -> None:
    """``record_ingest`` from a command: the catalogue changed whatever Redis says, so an
    unreachable Redis costs only the record, with a warning."""
    from paperlens import redis_client

    try:
        record_ingest(redis_client.connect(settings), settings, what, created, updated)
    except RedisError as error:
        log.warning("last ingest not recorded: Redis unreachable (%s)", type(error).__name__)


def _strings(found: dict[bytes | str, bytes | str]) -> dict[str, str]:
    return {_text(key): _text(value) for key, value in found.items()}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
