"""RQ job functions: thin wrappers that take ids, load what they need and call the pipeline.

The API enqueues these by dotted name (see ``paperlens.keys``) and never imports them.
Failures propagate so that RQ records and retries them.
"""

from __future__ import annotations

import logging

from paperlens import enrichments, jobs, keys, suggestions
from paperlens.store.library import library_revision, reader_profile
from paperlens.store.papers import find_paper, iter_papers
from worker.context import get_context
from worker.observed import observed
from worker.pipeline.enrich import enrich
from worker.pipeline.index_files import build_and_publish, current_index
from worker.pipeline.suggestions import suggestion_sets

log = logging.getLogger(__name__)

# Precompute enqueues papers in chunks: one job per paper would cost more in queue
# overhead than the enrichment itself on large catalogues.
PRECOMPUTE_CHUNK = 200


@observed
def enrich_paper(paper_id: str) -> bool:
    """Compute and store one paper's enrichment; False when the catalogue lacks the paper."""
    return enrich_papers([paper_id]) == 1


@observed
def enrich_papers(paper_ids: list[str]) -> int:
    """Compute and store the enrichments of several papers; returns how many were written."""
    ctx = get_context()
    index = current_index(ctx.settings, ctx.db, ctx.redis)
    written = 0
    with ctx.db.session() as session:
        for paper_id in paper_ids:
            paper = find_paper(session, paper_id)
            if paper is None:
                log.warning("enrichment asked for unknown paper %s", paper_id)
                continue
            enrichments.write(ctx.redis, enrich(paper, index, ctx.settings.related_k))
            written += 1
    return written


@observed
def precompute_all() -> int:
    """Rebuild the related-papers index, then enqueue every paper's enrichment on ``bulk``."""
    ctx = get_context()
    build_and_publish(ctx.settings, ctx.db, ctx.redis)
    bulk = jobs.queue(ctx.redis, keys.QUEUE_BULK, ctx.settings)
    chunk: list[str] = []
    total = 0
    with ctx.db.session() as session:
        for paper in iter_papers(session):
            chunk.append(paper.paper_id)
            if len(chunk) == PRECOMPUTE_CHUNK:
                bulk.enqueue(enrich_papers, chunk, result_ttl=0, retry=jobs.retry_policy())
                total += len(chunk)
                chunk = []
    if chunk:
        bulk.enqueue(enrich_papers, chunk, result_ttl=0, retry=jobs.retry_policy())
        total += len(chunk)
    return total


# A reader changing their list while suggestions are computed makes the job go round
# again; the bound keeps a reader who never stops editing from holding a worker forever.
SUGGESTION_ROUNDS_MAX = 3


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
