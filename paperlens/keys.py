"""Every Redis key, queue name and job name that the API and the workers share.

Keeping them in one table means the two processes cannot drift apart: the API reads
exactly what the workers write, and a schema change bumps one number. Each key family is
read and written by the one module named above it; nothing else touches those keys (tests
aside, which look at what is stored).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

PREFIX = "pl"


@dataclass(frozen=True)
class KeyFamily:
    """The keys ``pl:<name>:<member>``: one per member (a paper, a reader, a host...)."""

    name: str

    def __call__(self, *members: str | int) -> str:
        return ":".join((PREFIX, self.name, *map(str, members)))

    def many(self, members: Iterable[str]) -> list[bytes]:
        """The keys of many one-part members, as the bytes Redis is sent: a 100-id MGET then
        skips a join and an encode per key."""
        prefix = f"{PREFIX}:{self.name}:".encode()
        return [prefix + member.encode() for member in members]


# Queues and jobs: paperlens/job_queue.py.
QUEUE_INTERACTIVE = "interactive"
QUEUE_DEFAULT = "default"
QUEUE_BULK = "bulk"
# A worker drains queues in this order, so a waiting reader always goes first.
QUEUES_BY_URGENCY = (QUEUE_INTERACTIVE, QUEUE_DEFAULT, QUEUE_BULK)

# Jobs are enqueued by dotted name so that the API never imports the pipeline.
JOB_ENRICH_PAPER = "worker.jobs.enrich_paper"
JOB_ENRICH_PAPERS = "worker.jobs.enrich_papers"
JOB_PRECOMPUTE_ALL = "worker.jobs.precompute_all"
JOB_COMPUTE_SUGGESTIONS = "worker.jobs.compute_suggestions"
JOB_FETCH_PAPER = "worker.jobs.fetch_paper"
JOB_REFRESH_FEEDS = "worker.jobs.refresh_feeds"
# One feed refresh queued or running at a time: a refresh takes every paper new since the last.
FEED_REFRESH_JOB_ID = "feed-refresh"
JOB_REFRESH_READER_FEED = "worker.jobs.refresh_reader_feed"
JOB_UPDATE_INDEX = "worker.jobs.update_index"
# One index update queued or running at a time: an update takes every paper the index lacks.
INDEX_UPDATE_JOB_ID = "index-update"


def _paper_job_id(kind: str, paper_id: str) -> str:
    """One job id per kind and paper, so RQ's unique enqueue keeps one such job in flight.

    RQ allows only letters, digits, dashes and underscores in ids, hence the digest.
    """
    return f"{kind}-" + hashlib.sha256(paper_id.encode()).hexdigest()[:32]


def enrich_job_id(paper_id: str) -> str:
    return _paper_job_id("enrich", paper_id)


def deferred_enrich_job_id(paper_id: str) -> str:
    """One enrichment per paper waiting for a pending index build, beside any other."""
    return _paper_job_id("enrich-after-build", paper_id)


def fetch_job_id(paper_id: str) -> str:
    return _paper_job_id("fetch", paper_id)


def reader_feed_job_id(user_id: int) -> str:
    """One refresh of a reader's own feed queued or running at a time, as for suggestions."""
    return f"feed-refresh-{user_id}"


def suggestions_job_id(user_id: int) -> str:
    """One suggestions job queued or running per reader: RQ refuses a second with this id."""
    return f"suggest-{user_id}"


# Enrichment documents, their badges and refresh times: paperlens/enrichments.py.
# Bump when the enrichment document changes shape; old documents are then ignored.
ENRICHMENT_SCHEMA_VERSION = 4
enrichment = KeyFamily(f"enrichment:v{ENRICHMENT_SCHEMA_VERSION}")
"""The enriched paper document, served as-is by ``GET /api/v1/papers/<id>``."""
badges = KeyFamily(f"badges:v{ENRICHMENT_SCHEMA_VERSION}")
"""The paper's listing-page marks, written with its document so a listing reads only these."""
list_cutoff = KeyFamily(f"cutoff:v{ENRICHMENT_SCHEMA_VERSION}")
"""What a new paper must score to enter the document's related list (``worker.pipeline.gains``),
written with the document; empty where that is unknown."""
ENRICHMENT_DUE = f"{PREFIX}:enrichment:due"
"""Sorted set: paper id scored by the Unix time its enrichment should be refreshed."""

# Suggestions: paperlens/suggestions.py.
# Bump when the stored suggestions change shape or the model that ranks them changes; old
# documents are then ignored and recomputed.
SUGGESTIONS_SCHEMA_VERSION = 3
suggestions = KeyFamily(f"suggestions:v{SUGGESTIONS_SCHEMA_VERSION}")
"""A hash of one reader's suggestion sets: field ``all`` and one ``tag:<name>`` per tag."""
# The hash field holding suggestions over the whole list; tags use "tag:<name>".
SUGGESTIONS_ALL = "all"


def suggestions_field(tag: str | None) -> str:
    return SUGGESTIONS_ALL if tag is None else f"tag:{tag}"


# Research feeds: paperlens/feeds.py.
# Bump when the stored feed changes shape; old feeds are then ignored.
FEED_SCHEMA_VERSION = 1
feed = KeyFamily(f"feed:v{FEED_SCHEMA_VERSION}")
"""One reader's research feed: the JSON of its items, newest first."""
FEED_LAST_PAPER = f"{PREFIX}:feed:last-paper"
"""The store's row number of the newest paper the feeds have taken in."""

# Fetches of papers the catalogue lacks: paperlens/fetch_state.py.
missing_paper = KeyFamily("missing")
"""Set when every source that could hold the paper answered that it does not."""
fetch_failure = KeyFamily("fetch:failed")
"""Set while fetching the paper waits for a source that could not be reached."""
FETCH_DEFERRED = f"{PREFIX}:fetch:deferred"
"""Sorted set: papers saved by readers whose fetch waits for room, scored by when it was asked."""

# External sources: paperlens/source_state.py.
source_cache = KeyFamily("source:cache")
"""A source's successful response body, by source and request digest."""
source_paused = KeyFamily("source:paused")
"""Set while a source is paused after it could not be reached (JSON: code, until)."""
rate_limit = KeyFamily("source:slot")
"""The next free request slot (Unix time in ms) for one host, shared by every worker."""

# The citation graph: paperlens/citation_graph.py.
OPENALEX_IDS = f"{PREFIX}:openalex-ids"
"""Each paper's own OpenAlex id, so that "one cites the other" can be told from references."""
references = KeyFamily("references")
"""The OpenAlex ids of the works the paper cites, as a source reported them."""

# Papers with Code links: paperlens/pwc_links.py.
pwc_links = KeyFamily("pwc:links")
"""Papers with Code links of one paper (a hash by repository), loaded from the archive dump."""

# The related-papers index, precompute runs and the last ingest: paperlens/precompute.py.
INDEX_POINTER = f"{PREFIX}:index:current"
"""The file name of the related-papers index that workers should load."""
INDEX_RANKER = f"{PREFIX}:index:ranker"
"""Which ranker built the current related-papers index, as ``/readyz`` reports it."""
INDEX_INFO = f"{PREFIX}:index:info"
"""Hash describing the published index: its file name, ranker, papers and build time."""
INDEX_ENRICHMENTS_QUEUED = f"{PREFIX}:index:enrichments-queued"
"""The build whose added papers' enrichments an update last queued in full. A build that an
update published and that this does not name lost its worker between publishing and queueing;
the next update queues them."""
INDEX_REBUILD = f"{PREFIX}:index:rebuild"
"""The id of the precompute job whose index build is pending; unset when none is."""
LAST_INGEST = f"{PREFIX}:ingest:last"
"""Hash describing the last ingest into the catalogue: what, when, and how many papers."""
precompute_progress = KeyFamily("precompute")
"""Hash of one precompute run's counts: papers indexed, to enrich, enriched."""


def precompute_phases(run_id: str) -> str:
    """List of the index build's phases of one precompute run, oldest first."""
    return f"{precompute_progress(run_id)}:phases"


# Job figures: paperlens/job_metrics.py.
JOB_METRICS_INDEX = f"{PREFIX}:metrics:jobs"
"""The set of job names that have recorded figures."""
job_metrics = KeyFamily("metrics:job")
"""Counters of one job's runs: count, sum of seconds, failures, histogram buckets."""

# Counters of failed authentications and fetches per client: server/ratelimit.py, through
# the limits library, which prefixes every key with this.
RATE_LIMIT_PREFIX = f"{PREFIX}:ratelimit"
