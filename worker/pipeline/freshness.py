"""Keeping the catalogue and its enrichments fresh: new arXiv submissions every day,
and enrichments recomputed once they are older than the configured age."""

from __future__ import annotations

import datetime as dt
import logging
import time

from redis import Redis

from paperlens import enrichments, fetch_state, job_queue, keys, precompute
from paperlens.settings import Settings
from paperlens.store.db import Database
from paperlens.store.papers import canonical_ids, upsert_papers
from worker.sources import arxiv_api
from worker.sources.http import SourceError, SourceSession

log = logging.getLogger(__name__)

# Listings are asked for a little more than a day back, so a late run misses nothing.
NEW_SUBMISSION_DAYS = 2
# Papers marked stale per scheduler tick; the rest wait for the next tick.
REFRESH_BATCH = 500


def ingest_recent(
    http: SourceSession,
    db: Database,
    redis: Redis,
    settings: Settings,
    today: dt.date | None = None,
) -> int:
    """Upsert the recent submissions of each configured category. New papers are enriched
    once the index update that ``record_ingest`` asks for has taken them in (their lists
    then hold each other); papers known before, whose record may have changed, at once."""
    today = today or dt.datetime.now(dt.UTC).date()
    since = today - dt.timedelta(days=NEW_SUBMISSION_DAYS)
    total = 0
    for category in settings.arxiv_daily_categories:
        try:
            records = arxiv_api.new_submissions(http, category, since)
        except SourceError as error:
            log.warning("new submissions of %s not fetched: %s", category, error)
            continue
        with db.session() as session:
            known = canonical_ids(
                session, [paper_id for record in records for paper_id in record.ids]
            )
            stats = upsert_papers(session, records)
        precompute.record_ingest(
            redis, settings, f"arXiv new submissions in {category}", stats.created, stats.updated
        )
        for record in records:
            stored = [known[paper_id] for paper_id in record.ids if paper_id in known]
            if stored:
                job_queue.request_enrichment(redis, settings, stored[0], keys.QUEUE_BULK)
        total += len(records)
    return total


def refresh_due(redis: Redis, settings: Settings, limit: int = REFRESH_BATCH) -> int:
    """Serve each due document marked ``stale`` while a ``bulk`` job recomputes it."""
    now = time.time()
    due = enrichments.due_for_refresh(redis, now, limit)
    for paper_id in due:
        enrichments.mark_stale(redis, paper_id)
        job_queue.request_enrichment(redis, settings, paper_id, keys.QUEUE_BULK)
        # Not picked again by the next tick while the refresh waits in the queue.
        enrichments.schedule_refresh(redis, paper_id, now + settings.job_timeout_seconds)
    return len(due)


def release_deferred_fetches(redis: Redis, db: Database, settings: Settings) -> int:
    """Queue deferred fetches, oldest first, as far as the fetch queue has room; how many.

    At most ``deferred_fetches_per_tick`` per call, so one reader's large import is fetched
    over several ticks instead of crowding out the papers readers are waiting for.
    """
    depth = job_queue.queue(redis, keys.QUEUE_INTERACTIVE).count
    take = min(settings.fetch_queue_max_jobs - depth, settings.deferred_fetches_per_tick)
    if take <= 0:
        return 0
    paper_ids = fetch_state.oldest_deferred(redis, take)
    if not paper_ids:
        return 0
    with db.session() as session:
        known = canonical_ids(session, paper_ids)  # fetched meanwhile, through another request
    queued = 0
    for paper_id in paper_ids:
        if paper_id in known or not job_queue.fetchable(settings, paper_id):
            continue
        queued += job_queue.request_fetch(redis, settings, paper_id)
    fetch_state.drop_deferred(redis, paper_ids)
    return queued
