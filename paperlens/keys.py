"""Every Redis key, queue name and job name that the API and the workers share.

Keeping them in one module means the two processes cannot drift apart: the API
reads exactly what the workers write, and a schema change bumps one number.
"""

from __future__ import annotations

import hashlib

# Bump when the enrichment document changes shape; old documents are then ignored.
ENRICHMENT_SCHEMA_VERSION = 2

PREFIX = "pl"

QUEUE_INTERACTIVE = "interactive"
QUEUE_DEFAULT = "default"
QUEUE_BULK = "bulk"
# A worker drains queues in this order, so a waiting reader always goes first.
QUEUES_BY_URGENCY = (QUEUE_INTERACTIVE, QUEUE_DEFAULT, QUEUE_BULK)

# Jobs are enqueued by dotted name so that the API never imports the pipeline.
JOB_ENRICH_PAPER = "worker.jobs.enrich_paper"
JOB_ENRICH_PAPERS = "worker.jobs.enrich_papers"
JOB_PRECOMPUTE_ALL = "worker.jobs.precompute_all"


def enrichment(paper_id: str) -> str:
    """The enriched paper document, served as-is by ``GET /api/v1/papers/<id>``."""
    return f"{PREFIX}:enrichment:v{ENRICHMENT_SCHEMA_VERSION}:{paper_id}"


def badges(paper_id: str) -> str:
    """The paper's listing-page marks, written with its document so a listing reads only these."""
    return f"{PREFIX}:badges:v{ENRICHMENT_SCHEMA_VERSION}:{paper_id}"


def references(paper_id: str) -> str:
    """The OpenAlex ids of the works the paper cites, as a source reported them."""
    return f"{PREFIX}:references:{paper_id}"


# Each paper's own OpenAlex id, so that "one cites the other" can be told from references.
OPENALEX_IDS = f"{PREFIX}:openalex-ids"


def enrich_job_id(paper_id: str) -> str:
    """One job id per paper, so RQ's unique enqueue keeps one job in flight per paper.

    RQ allows only letters, digits, dashes and underscores in ids, hence the digest.
    """
    return "enrich-" + hashlib.sha256(paper_id.encode()).hexdigest()[:32]


INDEX_POINTER = f"{PREFIX}:index:current"
"""The file name of the related-papers index that workers should load."""


JOB_METRICS_INDEX = f"{PREFIX}:metrics:jobs"
"""The set of job names that have recorded figures."""


def job_metrics(job: str) -> str:
    """Counters of one job's runs: count, sum of seconds, failures, histogram buckets."""
    return f"{PREFIX}:metrics:job:{job}"


JOB_COMPUTE_SUGGESTIONS = "worker.jobs.compute_suggestions"

# Bump when the stored suggestions change shape; old documents are then ignored.
SUGGESTIONS_SCHEMA_VERSION = 1
# Suggestions of readers who stop asking expire; the next request recomputes them.
SUGGESTIONS_TTL_SECONDS = 30 * 24 * 3600
# The hash field holding suggestions over the whole list; tags use "tag:<name>".
SUGGESTIONS_ALL = "all"


def suggestions(user_id: int) -> str:
    """A hash of one reader's suggestion sets: field ``all`` and one ``tag:<name>`` per tag."""
    return f"{PREFIX}:suggestions:v{SUGGESTIONS_SCHEMA_VERSION}:{user_id}"


def suggestions_field(tag: str | None) -> str:
    return SUGGESTIONS_ALL if tag is None else f"tag:{tag}"


def suggestions_job_id(user_id: int) -> str:
    """One suggestions job queued or running per reader: RQ refuses a second with this id."""
    return f"suggest-{user_id}"


# Sources and freshness.
JOB_FETCH_PAPER = "worker.jobs.fetch_paper"

# How long "no source knows this id" is remembered, so a reader gets a 404, not 202s forever.
MISSING_PAPER_TTL_SECONDS = 6 * 3_600
# How long a source's rate-limit slot is kept once nobody calls that host any more.
RATE_LIMIT_KEY_TTL_SECONDS = 3_600

ENRICHMENT_DUE = f"{PREFIX}:enrichment:due"
"""Sorted set: paper id scored by the Unix time its enrichment should be refreshed."""

PWC_LINKS_PREFIX = f"{PREFIX}:pwc:links"


def fetch_job_id(paper_id: str) -> str:
    """One fetch job per paper in flight, as for enrichments."""
    return "fetch-" + hashlib.sha256(paper_id.encode()).hexdigest()[:32]


FETCH_DEFERRED = f"{PREFIX}:fetch:deferred"
"""Sorted set: papers saved by readers whose fetch waits for room, scored by when it was asked."""


def missing_paper(paper_id: str) -> str:
    """Set when every source that could hold ``paper_id`` answered that it does not."""
    return f"{PREFIX}:missing:{paper_id}"


def source_cache(source: str, request_digest: str) -> str:
    """A source's successful response body, cached for ``source_cache_ttl_seconds``."""
    return f"{PREFIX}:source:cache:{source}:{request_digest}"


def source_paused(source: str) -> str:
    """Set while ``source`` is paused after it could not be reached (JSON: code, until)."""
    return f"{PREFIX}:source:paused:{source}"


def fetch_failure(paper_id: str) -> str:
    """Set while fetching ``paper_id`` waits for a source that could not be reached."""
    return f"{PREFIX}:fetch:failed:{paper_id}"


def rate_limit(host: str) -> str:
    """The next free request slot (Unix time in ms) for one host, shared by every worker."""
    return f"{PREFIX}:source:slot:{host}"


def pwc_links(paper_id: str) -> str:
    """Papers with Code links of one paper (JSON list), loaded from the archive dump."""
    return f"{PWC_LINKS_PREFIX}:{paper_id}"


INDEX_RANKER = f"{PREFIX}:index:ranker"
"""Which ranker built the current related-papers index, as ``/readyz`` reports it."""
# Counters of failed authentications (the limits library prefixes every key with this).
RATE_LIMIT_PREFIX = f"{PREFIX}:ratelimit"

# Index builds and precompute runs: what ``paperlens status``, ``/readyz`` and a waiting
# ``paperlens precompute`` read.
INDEX_INFO = f"{PREFIX}:index:info"
"""Hash describing the published index: its file name, ranker, papers and build time."""
INDEX_REBUILD = f"{PREFIX}:index:rebuild"
"""The id of the precompute job whose index build is pending; unset when none is."""
LAST_INGEST = f"{PREFIX}:ingest:last"
"""Hash describing the last ingest into the catalogue: what, when, and how many papers."""
# Progress of a precompute run is kept this long after it was last updated.
PRECOMPUTE_PROGRESS_TTL_SECONDS = 86_400


def precompute_progress(run_id: str) -> str:
    """Hash of one precompute run's counts: papers indexed, to enrich, enriched."""
    return f"{PREFIX}:precompute:{run_id}"


def precompute_phases(run_id: str) -> str:
    """List of the index build's phases of one precompute run, oldest first."""
    return f"{PREFIX}:precompute:{run_id}:phases"


def deferred_enrich_job_id(paper_id: str) -> str:
    """One enrichment per paper waiting for a pending index build, beside any other."""
    return "enrich-after-build-" + hashlib.sha256(paper_id.encode()).hexdigest()[:32]
