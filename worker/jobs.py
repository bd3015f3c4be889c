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
from worker.pipeline import gains
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
def enrich_papers(paper_ids: list[str], run: str | None = None, neighbours: bool = False) -> int:
    """Compute and store the enrichments of several papers; returns how many were written.

    ``run`` names the precompute run the chunk belongs to, which counts what it wrote; the
    chunk is named by its job id, and a chunk the run already counted is not done again.
    With ``neighbours`` (papers an index update just added), they are also inserted into the
    stored lists of the papers indexed before that they now belong to.
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
        if neighbours:
            depth = max(index.candidate_depth(k), gains.GAIN_CANDIDATES)
            rows = [index.row_of(paper.paper_id) for paper in papers]
            candidates = index.candidates([indexed(paper) for paper in papers], rows, depth)
        documents = [
            with_sources(ctx, session, document, (paper.extra or {}).get(METADATA_SOURCE))
            for paper, document in zip(
                papers, enrich_many(papers, index, k, candidates), strict=True
            )
        ]
    enrichments.write_many(
        ctx.redis,
        documents,
        [next_refresh(ctx, d) for d in documents],
        gains.cutoffs(index, [index.row_of(d.paper_id) for d in documents], documents),
    )
    if candidates is not None:
        _into_earlier_lists(ctx, index, papers, candidates)
    precompute.count_enriched(ctx.redis, run, chunk, len(documents))
    return len(documents)


def _into_earlier_lists(
    ctx: WorkerContext,
    index: RelatedIndex,
    papers: list[Paper],
    candidates: list[tuple[list[int], np.ndarray]],
) -> int:
    """Insert these papers (just added by an index update) into the stored lists of the papers
    indexed before that they now belong to (``worker.pipeline.gains``); how many changed.
    Only the lists their stored cutoffs say one of the papers may enter are read."""
    rows = [index.row_of(paper.paper_id) for paper in papers]
    indexed_rows = [row for row in rows if row is not None]
    near = gains.near_earlier(
        index,
        indexed_rows,
        [found for row, found in zip(rows, candidates, strict=True) if row is not None],
    )
    k = ctx.settings.related_k
    new_papers = {
        row: indexed(paper) for row, paper in zip(rows, papers, strict=True) if row is not None
    }
    earlier = gains.may_gain(index, near, _stored_cutoffs(ctx, index, list(near)), k)
    changed = 0
    for start in range(0, len(earlier), enrichments.READ_CHUNK):
        rows_of = {
            index.paper_ids[row]: row for row in earlier[start : start + enrichments.READ_CHUNK]
        }

        def change(
            documents: Sequence[EnrichedPaper], rows_of: dict[str, int] = rows_of
        ) -> list[enrichments.Revision | None]:
            rows = [rows_of[d.paper_id] for d in documents]
            batch = [
                gains.Earlier(row, d, near[row]) for row, d in zip(rows, documents, strict=True)
            ]
            found = gains.with_new_papers(index, batch, k, new_papers)
            written = [(row, d) for row, d in zip(rows, found, strict=True) if d is not None]
            cutoffs = iter(gains.cutoffs(index, [r for r, _ in written], [d for _, d in written]))
            return [None if d is None else enrichments.Revision(d, next(cutoffs)) for d in found]

        changed += enrichments.update_many(ctx.redis, list(rows_of), change)
    log.info(
        "%d of %d earlier papers' lists read take in %d new papers (%d near them)",
        changed,
        len(earlier),
        len(indexed_rows),
        len(near),
    )
    return changed


def _stored_cutoffs(
    ctx: WorkerContext, index: RelatedIndex, rows: Sequence[int]
) -> list[bytes | None]:
    """The stored list cutoffs of the papers at ``rows``, read a chunk at a time."""
    found: list[bytes | None] = []
    for start in range(0, len(rows), enrichments.READ_CHUNK):
        chunk = rows[start : start + enrichments.READ_CHUNK]
        found += enrichments.read_cutoffs(ctx.redis, [index.paper_ids[row] for row in chunk])
    return found


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
    """The enrichments of papers an update added, each chunk also inserting its papers into
    the earlier lists they now belong to; chunks hold papers of similar topics
    (``gains.in_topic_order``)."""
    index = current_index(ctx.settings, ctx.db, ctx.redis)
    rows = [row for row in map(index.row_of, added) if row is not None]
    grouped = [
        str(index.paper_ids[row]) for row in gains.in_topic_order(index, rows, PRECOMPUTE_CHUNK)
    ]
    unindexed = [paper_id for paper_id in added if index.row_of(paper_id) is None]
    for number, chunk in enumerate(_chunks(grouped + unindexed, PRECOMPUTE_CHUNK)):
        _enqueue_chunk(ctx, chunk, run, f"{run}-chunk-{number}", neighbours=True)
    precompute.set_counts(ctx.redis, run, to_enrich=len(added))


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
    neighbours: bool = False,
) -> None:
    keep = PRECOMPUTE_CHUNK_RESULT_TTL_SECONDS if job_id else job_queue.NO_RESULT_TTL_SECONDS
    queued = job_queue.enqueue(
        ctx.redis,
        ctx.settings,
        keys.QUEUE_BULK,
        keys.JOB_ENRICH_PAPERS,
        chunk,
        run=run,
        neighbours=neighbours,
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
