"""RQ job functions: thin wrappers that take ids, load what they need and call the pipeline.

The API enqueues these by dotted name (see ``paperlens.keys``) and never imports them.
Failures propagate so that RQ records and retries them.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice

import numpy as np
from rq import get_current_job
from sqlalchemy.orm import Session

from paperlens import (
    enrichments,
    fetch_state,
    job_queue,
    keys,
    precompute,
    source_state,
    suggestions,
)
from paperlens.schemas import EnrichedPaper, FetchFailure, SourceStatus
from paperlens.store.library import library_revision, reader_profile
from paperlens.store.models import Paper
from paperlens.store.papers import (
    count_papers,
    find_paper,
    iter_papers,
    papers_by_ids,
    upsert_papers,
)
from worker.context import WorkerContext, get_context
from worker.observed import observed
from worker.pipeline import gain_records, gains
from worker.pipeline.enrich import enrich_many, indexed
from worker.pipeline.external import gather, merge
from worker.pipeline.feeds import refresh_feeds as refresh_all_feeds
from worker.pipeline.feeds import refresh_reader_feed as rank_reader_feed
from worker.pipeline.fetch import METADATA_SOURCE, fetch_record
from worker.pipeline.freshness import ingest_recent, refresh_due, release_deferred_fetches
from worker.pipeline.index_files import (
    build_and_publish,
    current_index,
    published,
    published_path,
    update_and_publish,
)
from worker.pipeline.rankers.base import IndexedPaper
from worker.pipeline.related import RelatedIndex
from worker.pipeline.suggestions import suggestion_sets
from worker.sources.http import SourceError

log = logging.getLogger(__name__)

# Precompute enqueues papers in chunks: one job per paper would cost more in queue
# overhead than the enrichment itself on large catalogues.
PRECOMPUTE_CHUNK = 200


@observed
def enrich_paper(paper_id: str) -> bool:
    """Compute and store one paper's enrichment; False when the catalogue lacks the paper."""
    return enrich_papers([paper_id]) == 1


@observed
def enrich_papers(paper_ids: list[str], run: str | None = None, gain_partitions: int = 0) -> int:
    """Compute and store the enrichments of several papers; returns how many were written.

    ``run`` names the precompute run the chunk belongs to, which counts what it wrote; the
    chunk is named by its job id, and a chunk the run already counted is not done again.
    With ``gain_partitions`` (papers an index update just added, in run ``run``), the chunk
    also records the earlier papers whose lists they may enter, spread over that many
    partitions, for ``insert_new_papers`` to insert them once the run's chunks are done.
    While an index rebuild is pending, a paper the published index does not hold waits
    for the new index (its enrichment is queued again behind the build) instead of being
    served from an index that lacks it.
    """
    ctx = get_context()
    job = get_current_job()
    chunk = job.id if job is not None and run is not None else None
    if precompute.chunk_done(ctx.redis, run, chunk):
        log.info("chunk %s of run %s was done by an earlier attempt", chunk, run)
        return 0
    pending = precompute.rebuild_pending(ctx.redis)
    with ctx.db.session() as session:
        found = papers_by_ids(session, paper_ids)
        for paper_id in paper_ids:
            if paper_id not in found:
                log.warning("enrichment asked for unknown paper %s", paper_id)
        papers = list({paper.paper_id: paper for paper in found.values()}.values())
        if pending is not None and not published(ctx.settings, ctx.redis):
            _defer(ctx, papers, pending)
            return 0
        index = current_index(ctx.settings, ctx.db, ctx.redis)
        if pending is not None:
            _defer(ctx, [p for p in papers if index.row_of(p.paper_id) is None], pending)
            papers = [paper for paper in papers if index.row_of(paper.paper_id) is not None]
        k = ctx.settings.related_k
        # New papers' candidates, deep enough to serve both their lists and the search for
        # the earlier lists they enter: the search is most of an enrichment's cost.
        candidates = None
        if gain_partitions and chunk is not None:
            depth = max(index.candidate_depth(k), gains.GAIN_CANDIDATES)
            rows = [index.row_of(paper.paper_id) for paper in papers]
            candidates = index.candidates([indexed(paper) for paper in papers], rows, depth)
        documents = [
            with_sources(ctx, session, document, (paper.extra or {}).get(METADATA_SOURCE))
            for paper, document in zip(
                papers, enrich_many(papers, index, k, candidates), strict=True
            )
        ]
    enrichments.write_many(ctx.redis, documents, [next_refresh(ctx, d) for d in documents])
    if candidates is not None and run is not None and chunk is not None:
        _record_gains(ctx, index, papers, candidates, documents, (run, chunk, gain_partitions))
    precompute.count_enriched(ctx.redis, run, chunk, len(documents))
    return len(documents)


def _record_gains(
    ctx: WorkerContext,
    index: RelatedIndex,
    papers: list[Paper],
    candidates: list[tuple[list[int], np.ndarray]],
    documents: list[EnrichedPaper],
    where: tuple[str, str, int],
) -> None:
    """Record for ``insert_new_papers`` which earlier lists these papers (just added by an
    index update) may enter, with the reasons their own ``documents`` give for those earlier
    papers (``worker.pipeline.gain_records``). ``where`` is the run, the chunk and the number
    of partitions."""
    rows = [index.row_of(paper.paper_id) for paper in papers]
    found = [(row, near) for row, near in zip(rows, candidates, strict=True) if row is not None]
    near = gains.near_earlier(index, [row for row, _ in found], [near for _, near in found])
    gaining = {
        str(index.paper_ids[earlier]): [str(index.paper_ids[row]) for row in new]
        for earlier, new in near.items()
    }
    reasons = {
        (related.paper_id, document.paper_id): related.reason
        for document in documents
        for related in document.related
        if related.paper_id in gaining
    }
    run, chunk, partitions = where
    gain_records.record(ctx.redis, run, chunk, partitions, gaining, reasons)
    log.info("%d new papers may enter %d earlier lists", len(found), len(gaining))


@observed
def insert_new_papers(run: str, partition: int) -> int:
    """Insert the papers index update ``run`` added into the stored lists of the papers
    indexed before that they now belong to, for one partition of those lists, each list
    read and written once whatever number of chunks found it (``worker.pipeline.gains``,
    ``gain_records``); how many lists changed. Runs after all the run's chunks, and again
    to the same effect when its worker died: a list holds a new paper once."""
    ctx = get_context()
    found = gain_records.recorded(ctx.redis, run, partition)
    index = current_index(ctx.settings, ctx.db, ctx.redis)
    row_of = {
        paper_id: row
        for paper_id in {*found.near, *(new for news in found.near.values() for new in news)}
        if (row := index.row_of(paper_id)) is not None
    }
    near = {
        row_of[earlier]: sorted(row_of[new] for new in news if new in row_of)
        for earlier, news in found.near.items()
        if earlier in row_of
    }
    reasons = {
        (row_of[new], row_of[earlier]): reason
        for (earlier, new), reason in found.reasons.items()
        if earlier in row_of and new in row_of
    }

    def papers_of(rows: Sequence[int]) -> dict[int, IndexedPaper]:
        ids = [str(index.paper_ids[row]) for row in rows]
        with ctx.db.session() as session:
            stored = papers_by_ids(session, ids)
        return {
            row: indexed(stored[paper_id])
            if paper_id in stored
            else IndexedPaper(paper_id, str(index.titles[row]), "")
            for row, paper_id in zip(rows, ids, strict=True)
        }

    k = ctx.settings.related_k
    changed = 0
    earlier = sorted(near)
    for start in range(0, len(earlier), enrichments.READ_CHUNK):
        rows_of = {
            str(index.paper_ids[row]): row
            for row in earlier[start : start + enrichments.READ_CHUNK]
        }

        def change(
            documents: Sequence[EnrichedPaper], rows_of: dict[str, int] = rows_of
        ) -> list[EnrichedPaper | None]:
            batch = [
                gains.Earlier(rows_of[d.paper_id], d, near[rows_of[d.paper_id]]) for d in documents
            ]
            return gains.with_new_papers(index, batch, k, reasons, papers_of)

        changed += enrichments.update_many(ctx.redis, list(rows_of), change)
    gain_records.forget(ctx.redis, run, partition)
    log.info(
        "%d of %d earlier lists take in new papers (run %s, partition %d)",
        changed,
        len(near),
        run,
        partition,
    )
    return changed


def _defer(ctx: WorkerContext, papers: list[Paper], build_job_id: str) -> None:
    job = get_current_job()
    queue_name = job.origin if job is not None else keys.QUEUE_INTERACTIVE
    for paper in papers:
        log.info("enrichment of %s waits for the index being rebuilt", paper.paper_id)
        job_queue.request_enrichment(
            ctx.redis, ctx.settings, paper.paper_id, queue_name, after=build_job_id
        )


@observed
def precompute_all() -> int:
    """Rebuild the related-papers index, then enqueue every paper's enrichment on ``bulk``.

    Each phase of the build and each chunk's papers are recorded under this job's id, for
    ``paperlens precompute`` to show; once the build is over, enrichments stop waiting.
    """
    ctx = get_context()
    job = get_current_job()
    run = job.id if job is not None else None
    try:
        build_and_publish(
            ctx.settings,
            ctx.db,
            ctx.redis,
            phase=lambda step: precompute.add_phase(ctx.redis, run, step),
        )
    finally:
        precompute.end_rebuild(ctx.redis, run)
    return enqueue_all_enrichments(run)


# A precompute run's chunk jobs are kept (without a meaningful result) this long after they
# finish, so that the run, taken up again after its worker died, queues only the chunks it
# had not queued yet and no paper is enriched twice.
PRECOMPUTE_CHUNK_RESULT_TTL_SECONDS = 86_400


@observed
def request_index_update() -> bool:
    """The schedule's way to ask for an index update: through the one coalesced job, so
    that it never runs beside an update an ingest asked for."""
    ctx = get_context()
    return precompute.request_index_update(ctx.redis, ctx.settings)


@observed
def update_index() -> int:
    """Add the papers that joined the catalogue to the related-papers index, then queue their
    enrichments on ``bulk`` (each chunk refreshing the lists of the papers that gain them);
    after a new fit instead, every paper's, as ``precompute_all`` does. Returns how many
    papers are queued. A pending precompute will take the papers in: nothing to do here.
    Either way the research feeds then take in the new papers, ranked by the index that
    holds them.
    """
    ctx = get_context()
    # Each update is a run of its own (its phases, counts and chunk ids): the job's id is
    # the same for every update.
    run = f"{keys.INDEX_UPDATE_JOB_ID}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%f}"
    if precompute.rebuild_pending(ctx.redis) is not None:
        log.info("index update skipped: a precompute is pending")
        job_queue.request_feed_refresh(ctx.redis, ctx.settings)
        return 0
    update = update_and_publish(
        ctx.settings,
        ctx.db,
        ctx.redis,
        phase=lambda step: precompute.add_phase(ctx.redis, run, step),
    )
    job_queue.request_feed_refresh(ctx.redis, ctx.settings)
    if update.refitted:
        return enqueue_all_enrichments(run)
    if update.published is None or not update.added:
        return _queue_unqueued_additions(ctx, run)
    _queue_additions(ctx, update.added, run)
    precompute.mark_enrichments_queued(ctx.redis, update.published)
    return len(update.added)


def _queue_additions(ctx: WorkerContext, added: list[str], run: str) -> None:
    """The enrichments of papers an update added, in chunks that also record the earlier
    lists those papers may enter, then, after every chunk, the jobs that insert them there
    (``insert_new_papers``, one per partition of the earlier papers). Chunks hold papers of
    similar topics (``gains.in_topic_order``)."""
    index = current_index(ctx.settings, ctx.db, ctx.redis)
    rows = [row for row in map(index.row_of, added) if row is not None]
    grouped = [
        str(index.paper_ids[row]) for row in gains.in_topic_order(index, rows, PRECOMPUTE_CHUNK)
    ]
    unindexed = [paper_id for paper_id in added if index.row_of(paper_id) is None]
    chunks = list(_chunks(grouped + unindexed, PRECOMPUTE_CHUNK))
    partitions = gain_records.partitions_for(len(chunks))
    chunk_ids = [f"{run}-chunk-{number}" for number in range(len(chunks))]
    for chunk, job_id in zip(chunks, chunk_ids, strict=True):
        _enqueue_chunk(ctx, chunk, run, job_id, gain_partitions=partitions)
    precompute.set_counts(ctx.redis, run, to_enrich=len(added))
    for partition in range(partitions):
        job_queue.enqueue(
            ctx.redis,
            ctx.settings,
            keys.QUEUE_BULK,
            keys.JOB_INSERT_NEW_PAPERS,
            run,
            partition,
            job_id=f"{run}-gains-{partition}",
            after=chunk_ids,
            result_ttl_seconds=PRECOMPUTE_CHUNK_RESULT_TTL_SECONDS,
            failure_ttl_seconds=precompute.PRECOMPUTE_FAILURE_TTL_SECONDS,
        )


def _queue_unqueued_additions(ctx: WorkerContext, run: str) -> int:
    """Queue the enrichments of the papers the published build added, if the update that
    published it stopped before queueing them (its worker died in between); how many.

    Without this, those papers would be served only when a reader asked for one, and the
    earlier lists they belong to would never take them in.
    """
    pointer = precompute.index_pointer(ctx.redis)
    if pointer is None or precompute.enrichments_queued(ctx.redis) == pointer:
        return 0
    path = published_path(ctx.settings.index_dir, pointer)
    if path is None or not path.exists():
        return 0
    index = current_index(ctx.settings, ctx.db, ctx.redis)
    start = index.added_rows_from
    added = [] if start is None else [str(paper_id) for paper_id in index.paper_ids[start:]]
    if added:
        log.warning("queueing the %d papers build %s added, left unqueued", len(added), pointer)
        _queue_additions(ctx, added, run)
    precompute.mark_enrichments_queued(ctx.redis, pointer)
    return len(added)


def enqueue_all_enrichments(run: str | None = None) -> int:
    """Every paper of the catalogue, in chunks on ``bulk``: any number of workers share them.

    Inside precompute run ``run``, chunk ``n`` gets the id ``<run>-chunk-<n>`` and is queued
    once (RQ's unique enqueue); papers are taken in the store's stable order, and the run
    records how many papers its chunks will enrich.
    """
    ctx = get_context()
    total = 0
    with ctx.db.session() as session:
        precompute.set_counts(ctx.redis, run, to_enrich=count_papers(session))
        ids = (paper.paper_id for paper in iter_papers(session))
        for number, chunk in enumerate(_chunks(ids, PRECOMPUTE_CHUNK)):
            _enqueue_chunk(ctx, chunk, run, None if run is None else f"{run}-chunk-{number}")
            total += len(chunk)
    precompute.set_counts(ctx.redis, run, to_enrich=total)
    return total


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _enqueue_chunk(
    ctx: WorkerContext,
    chunk: list[str],
    run: str | None,
    job_id: str | None,
    gain_partitions: int = 0,
) -> None:
    keep = PRECOMPUTE_CHUNK_RESULT_TTL_SECONDS if job_id else job_queue.NO_RESULT_TTL_SECONDS
    queued = job_queue.enqueue(
        ctx.redis,
        ctx.settings,
        keys.QUEUE_BULK,
        keys.JOB_ENRICH_PAPERS,
        chunk,
        run=run,
        gain_partitions=gain_partitions,
        job_id=job_id,
        result_ttl_seconds=keep,
        failure_ttl_seconds=precompute.PRECOMPUTE_FAILURE_TTL_SECONDS,
    )
    if queued is None:
        log.info("chunk %s was queued before this attempt of the precompute", job_id)


# A reader changing their list while suggestions are computed makes the job go round
# again; the bound keeps a reader who never stops editing from holding a worker forever.
SUGGESTION_ROUNDS_MAX = 3


@observed
def compute_suggestions(user_id: int) -> int:
    """Recompute one reader's suggestion sets; returns how many sets were written."""
    ctx = get_context()
    index = current_index(ctx.settings, ctx.db, ctx.redis)
    written = 0
    for _ in range(SUGGESTION_ROUNDS_MAX):
        with ctx.db.session() as session:
            profile = reader_profile(session, user_id)
        if profile is None:
            suggestions.delete(ctx.redis, user_id)
            return 0
        sets = suggestion_sets(
            index, profile, ctx.settings.suggestions_per_set, ctx.settings.suggestions_max_tags
        )
        suggestions.write(ctx.redis, user_id, sets)
        written = len(sets)
        with ctx.db.session() as session:
            if library_revision(session, user_id) == profile.revision:
                break
    return written


# Papers arriving while feeds are refreshed are taken in by another round of the same job
# (a refresh asked for meanwhile was not queued: this one was running); the bound keeps an
# endless ingest from holding a worker forever, and its next record queues a new refresh.
FEED_ROUNDS_MAX = 3


@observed
def refresh_feeds() -> int:
    """Put the papers new since the last refresh in every reader's research feed; returns
    how many papers were new."""
    ctx = get_context()
    index = current_index(ctx.settings, ctx.db, ctx.redis)
    total = 0
    for _ in range(FEED_ROUNDS_MAX):
        new = refresh_all_feeds(ctx.db, ctx.redis, index)
        if not new:
            break
        total += new
    return total


@observed
def refresh_reader_feed(user_id: int) -> int:
    """Rank one reader's feed again after their feedback; returns how many items were ranked."""
    ctx = get_context()
    index = current_index(ctx.settings, ctx.db, ctx.redis)
    return rank_reader_feed(ctx.db, ctx.redis, index, user_id)


# Sources and freshness.


@observed
def fetch_paper(paper_id: str) -> bool:
    """Fetch a paper the catalogue lacks, store it and enrich it at once: a reader is waiting.

    When the source says it holds no such paper, that is remembered for a while so the
    API answers 404 instead of queueing the same fetch again; when the source cannot be
    asked, that is remembered until it is tried again (see ``remember_fetch_failure``).
    """
    ctx = get_context()
    try:
        record = fetch_record(ctx.http, ctx.settings, paper_id)
    except SourceError as error:
        remember_fetch_failure(ctx, paper_id, error)
        return False
    fetch_state.clear_failure(ctx.redis, paper_id)
    if record is None:
        fetch_state.mark_missing(ctx.redis, paper_id)
        return False
    with ctx.db.session() as session:
        stats = upsert_papers(session, [record])
        precompute.record_ingest(
            ctx.redis,
            ctx.settings,
            f"fetched {paper_id}",
            stats.created,
            stats.updated,
            join_index=False,
        )
        paper = find_paper(session, paper_id) or find_paper(session, record.ids[0])
        canonical = paper.paper_id if paper is not None else record.ids[0]
    return enrich_paper(canonical)


def remember_fetch_failure(ctx: WorkerContext, paper_id: str, error: SourceError) -> None:
    """Keep why the fetch failed until the source is tried again, so the reader is told which
    source failed and when, rather than waiting on 202s or reading "unknown paper"."""
    source = error.source or "unknown"
    pause = source_state.read_pause(ctx.redis, source) if error.source else None
    retry_at = pause.until if pause else time.time() + ctx.settings.source_unreachable_pause_seconds
    failure = FetchFailure(
        source=source,
        error=error.code,
        retry_at=dt.datetime.fromtimestamp(retry_at, dt.UTC),
    )
    seconds = max(1, math.ceil(retry_at - time.time()))
    fetch_state.write_failure(ctx.redis, paper_id, failure, seconds)
    log.warning(
        "fetching %s failed: %s (%s); next try in %d s", paper_id, source, error.code, seconds
    )


@observed
def ingest_new_submissions() -> int:
    """Yesterday's and today's arXiv submissions in the configured categories, then their
    enrichments on ``bulk``; a category whose listing fails is logged and skipped."""
    ctx = get_context()
    if "arxiv" not in ctx.settings.sources:
        return 0
    return ingest_recent(ctx.http, ctx.db, ctx.redis, ctx.settings)


@observed
def refresh_stale() -> int:
    """Mark enrichments older than the configured age ``stale`` and refresh them on ``bulk``;
    queue the fetches that were deferred for want of room (see ``server.fetch_budget``)."""
    ctx = get_context()
    released = release_deferred_fetches(ctx.redis, ctx.db, ctx.settings)
    if released:
        log.info("%d deferred fetches queued", released)
    return refresh_due(ctx.redis, ctx.settings)


def with_sources(
    ctx: WorkerContext, session: Session, document: EnrichedPaper, metadata_source: str | None
) -> EnrichedPaper:
    """The document completed by the enabled external sources (unchanged when none are)."""
    if not ctx.settings.sources:
        return document
    found = gather(ctx.http, ctx.redis, ctx.settings, document)
    if metadata_source:
        found.statuses[metadata_source] = SourceStatus(status="ok")
    return merge(
        document, found, http=ctx.http, settings=ctx.settings, session=session, redis=ctx.redis
    )


def next_refresh(ctx: WorkerContext, document: EnrichedPaper) -> float:
    """Soon when a source failed (to retry it), else once the document is old."""
    failed = any(status.status == "failed" for status in document.sources.values())
    if failed:
        return time.time() + ctx.settings.source_retry_failed_seconds
    return time.time() + ctx.settings.enrichment_max_age_seconds
