"""Every tunable of PaperLens, read once from ``PAPERLENS_*`` environment variables.

Both the API and the workers build their view of the world from one ``Settings``
object, so that a deployment is described by its environment alone and two
instances with different data folders never share state by accident.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from limits import parse_many
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from paperlens.credentials import password_problem

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The Chrome extension's id is fixed by the public key in extension/manifest.json,
# so the backend can grant it CORS out of the box.
EXTENSION_ORIGIN = "chrome-extension://gbobfdahncdhllbbgipobmhgpcckgkph"

# The external sources PaperLens can contact; ``PAPERLENS_SOURCES=all`` names every one.
# scheme://host[:port], nothing more: CORS origins are compared exactly, never as patterns.
PLAIN_ORIGIN = re.compile(r"[a-z][a-z0-9+.-]*://[A-Za-z0-9.-]+(:[0-9]{1,5})?")

# Settings a production instance must be given explicitly (no development fallback).
PRODUCTION_REQUIRED = ("database_url", "redis_url", "metrics_token")
# Network URLs that must carry a real password in production (not none, not an example's).
PRODUCTION_PASSWORDS = ("database_url", "redis_url")

# What PAPERLENS_RELATED_RANKER may name: "auto" or one of the rankers the workers serve
# (``worker.pipeline.rankers.choose`` builds them by these names).
RelatedRanker = Literal["auto", "tfidf", "bm25", "dense", "hybrid"]

SOURCE_NAMES = (
    "arxiv",
    "huggingface",
    "semantic_scholar",
    "openalex",
    "crossref",
    "dblp",
    "github",
)
# What an instance contacts when PAPERLENS_SOURCES is not set: every source that answers
# without an account. OpenAlex joins when PAPERLENS_OPENALEX_API_KEY is set.
KEYLESS_SOURCES = ("arxiv", "huggingface", "semantic_scholar", "crossref", "dblp", "github")


class Settings(BaseSettings):
    """Configuration of one PaperLens instance (see docs/configuration.md)."""

    model_config = SettingsConfigDict(env_prefix="PAPERLENS_", extra="ignore")

    env: Literal["development", "production"] = "development"
    data_dir: Path = Path("var")
    database_url: str | None = None
    redis_url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    web_workers: int = Field(default=2, ge=1)
    web_threads: int = Field(default=4, ge=1)
    rq_workers: int = Field(default=1, ge=0)
    # How ``paperlens run`` restarts a part that exits unexpectedly: after a pause that doubles
    # from the first to the longest value with each exit in a row; a part that exits
    # ``crash_loop_exits`` times within the window is reported as crash-looping and retried
    # only every ``crash_loop_retry_seconds``.
    restart_backoff_initial_seconds: float = Field(default=0.5, gt=0)
    restart_backoff_max_seconds: float = Field(default=10.0, gt=0)
    crash_loop_exits: int = Field(default=5, ge=2)
    crash_loop_window_seconds: float = Field(default=60.0, gt=0)
    crash_loop_retry_seconds: float = Field(default=60.0, gt=0)
    # Longest pause between two attempts of a worker or the scheduler waiting for Redis.
    redis_wait_max_seconds: float = Field(default=5.0, gt=0)
    # How often a worker runs RQ's maintenance: abandoned jobs of dead workers requeued,
    # registries cleaned (RQ's own default is ten minutes).
    rq_maintenance_interval_seconds: int = Field(default=60, ge=1)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=lambda: [EXTENSION_ORIGIN])
    demo_corpus: Path = PROJECT_ROOT / "data" / "demo" / "papers.jsonl"
    related_k: int = Field(default=10, ge=1, le=100)
    batch_max_items: int = Field(default=200, ge=1)
    retry_after_seconds: int = Field(default=2, ge=1)
    job_timeout_seconds: int = Field(default=600, ge=1)
    job_failure_ttl_seconds: int = Field(default=300, ge=1)
    log_level: str = "INFO"
    log_format: Literal["auto", "json", "text"] = "auto"
    shared_index_dir: Path | None = None
    library_max_entries: int = Field(default=10_000, ge=1)
    import_max_items: int = Field(default=2_000, ge=1)
    # Bytes of one import file; no more than the API reads of any request body (1 MiB).
    import_max_bytes: int = Field(default=1_048_576, ge=1, le=1_048_576)
    suggestions_per_set: int = Field(default=50, ge=1, le=500)
    suggestions_max_tags: int = Field(default=50, ge=0)
    # External sources (see docs/sources.md). Unset: the keyless ones, plus
    # OpenAlex with its key; ``none`` for an offline instance; ``all`` for every source.
    sources: Annotated[list[str], NoDecode] = Field(default_factory=list)
    source_contact_email: str = ""
    source_timeout_seconds: float = Field(default=10.0, gt=0)
    source_max_attempts: int = Field(default=4, ge=1)
    source_max_wait_seconds: float = Field(default=60.0, gt=0)
    source_cache_ttl_seconds: int = Field(default=86_400, ge=0)
    source_retry_failed_seconds: int = Field(default=3_600, ge=1)
    # After a source could not be reached at all, calls to it fail at once for this long.
    source_unreachable_pause_seconds: int = Field(default=60, ge=1)
    arxiv_api_url: str = "https://export.arxiv.org"
    huggingface_url: str = "https://huggingface.co"
    semantic_scholar_url: str = "https://api.semanticscholar.org"
    openalex_url: str = "https://api.openalex.org"
    crossref_url: str = "https://api.crossref.org"
    dblp_url: str = "https://dblp.org"
    github_api_url: str = "https://api.github.com"
    huggingface_token: str | None = None
    semantic_scholar_api_key: str | None = None
    openalex_api_key: str | None = None
    github_token: str | None = None
    arxiv_min_interval_seconds: float = Field(default=3.0, ge=0)
    huggingface_min_interval_seconds: float = Field(default=0.2, ge=0)
    semantic_scholar_min_interval_seconds: float = Field(default=1.0, ge=0)
    openalex_min_interval_seconds: float = Field(default=0.1, ge=0)
    crossref_min_interval_seconds: float = Field(default=0.1, ge=0)
    dblp_min_interval_seconds: float = Field(default=1.0, ge=0)
    github_min_interval_seconds: float = Field(default=0.75, ge=0)
    # Freshness: what the scheduler runs, and when an enrichment counts as stale.
    arxiv_daily_categories: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["cs.CL", "cs.LG", "cs.CV", "cs.AI", "cs.IR"]
    )
    daily_ingest_cron: str = "30 1 * * *"
    refresh_cron: str = "*/10 * * * *"
    enrichment_max_age_seconds: int = Field(default=7 * 86_400, ge=60)
    # Related papers: the ranker ("auto" = the benchmark's choice for what is installed) and
    # the MMR diversity weight (0 = off).
    related_ranker: RelatedRanker = "auto"
    related_diversity: float = Field(default=0.0, ge=0.0, lt=1.0)
    # Threads that encode papers with the dense model at once (None: one per usable core).
    encode_threads: int | None = Field(default=None, ge=1)
    # From this many papers, related candidates come from approximate nearest-neighbour
    # search and the served ranker's exact scores order them (docs/performance.md,
    # "Precompute at scale"): for the hybrid, an HNSW graph over its dense embeddings plus
    # the best TF-IDF cosines from the inverted lists of the paper's terms; for TF-IDF, an
    # HNSW graph over an SVD of TF-IDF (which reading-list suggestions search too). The
    # SVD's dimensions, graph candidates per paper, TF-IDF candidates per paper (hybrid
    # only), and search breadth (FAISS efSearch). The hybrid takes the spread of a paper's
    # TF-IDF cosines from at most this many papers, and above that size its TF-IDF stage
    # reads at most this many inverted-list entries per paper, rarest terms first
    # (worker.pipeline.hybrid_search).
    related_ann_from: int = Field(default=100_000, ge=2)
    related_ann_dims: int = Field(default=256, ge=2)
    related_ann_candidates: int = Field(default=200, ge=1)
    related_ann_lexical_candidates: int = Field(default=200, ge=0)
    related_ann_ef_search: int = Field(default=256, ge=1)
    related_ann_statistics_sample: int = Field(default=100_000, ge=1_000)
    related_ann_lexical_postings: int = Field(default=500_000, ge=1)
    # Papers that join the catalogue are added to the published index (``index_update_cron``
    # and after each ingest) in the spaces it was fitted in; once the papers added since the
    # last fit pass this share of those fitted, the update fits a new index instead.
    index_refit_growth: float = Field(default=0.2, gt=0.0)
    index_update_cron: str = "45 * * * *"
    # Failed authentications allowed per client address and per token prefix (limits syntax).
    auth_failures_per_client: str = "30/minute"
    auth_failures_per_token: str = "10/minute"
    # Reverse proxies in front of the API whose X-Forwarded-For entries are believed (0: none,
    # the header is ignored and the client address is the connection's peer).
    trusted_proxy_hops: int = Field(default=0, ge=0, le=10)
    # Fetches of papers the catalogue lacks: allowed per client (limits syntax), and the most
    # jobs that may wait in the queue fetches use before unknown papers answer 503.
    fetches_per_client: str = "60/minute"
    fetch_queue_max_jobs: int = Field(default=1_000, ge=1)
    fetch_queue_full_retry_after_seconds: int = Field(default=30, ge=1)
    # Deferred fetches (of saved papers) the scheduler queues per tick, at most.
    deferred_fetches_per_tick: int = Field(default=200, ge=1)
    # Bearer token that /metrics asks for; without one it answers loopback clients only.
    metrics_token: str | None = None

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """Accept a comma-separated list, the natural shape of an environment variable."""
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("sources", "arxiv_daily_categories", mode="before")
    @classmethod
    def _split_names(cls, value: object) -> object:
        if isinstance(value, str):
            return [name.strip() for name in value.split(",") if name.strip()]
        return value

    @field_validator("sources")
    @classmethod
    def _known_sources(cls, value: list[str]) -> list[str]:
        if value == ["all"]:
            return list(SOURCE_NAMES)
        if value == ["none"]:
            return []
        unknown = sorted(set(value) - set(SOURCE_NAMES))
        if unknown:
            raise ValueError(f"unknown sources {unknown}; known: {', '.join(SOURCE_NAMES)}")
        return value

    @field_validator("cors_origins")
    @classmethod
    def _no_wildcard(cls, value: list[str]) -> list[str]:
        for origin in value:
            if "*" in origin:
                raise ValueError("a wildcard CORS origin would let any web page read the API")
            # An origin is compared whole with the browser's Origin header: a pattern, a path
            # or a stray character could never match, so it is a mistake worth stopping for.
            if not PLAIN_ORIGIN.fullmatch(origin):
                raise ValueError(f"{origin!r} is not an origin such as https://example.org")
        return value

    @field_validator("auth_failures_per_client", "auth_failures_per_token", "fetches_per_client")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate limit such as '10/minute'") from None
        return value

    @model_validator(mode="after")
    def _default_sources(self) -> Settings:
        """Unset, the sources are on: the reader's paper is whichever one the page shows, and
        most are in no local catalogue. OpenAlex asks for a key, so it joins only with one."""
        if "sources" not in self.model_fields_set:
            with_key = ("openalex",) if self.openalex_api_key else ()
            self.sources = [name for name in SOURCE_NAMES if name in KEYLESS_SOURCES + with_key]
        return self

    @model_validator(mode="after")
    def _production_has_no_defaults(self) -> Settings:
        """A deployment must name its stores and secrets; a development default there would
        silently keep reading lists in a stray SQLite file or leave /metrics unprotected."""
        if self.env != "production":
            return self
        problems = []
        missing = [
            f"PAPERLENS_{name.upper()}"
            for name in PRODUCTION_REQUIRED
            if not (getattr(self, name) or "").strip()
        ]
        if missing:
            problems.append("without " + ", ".join(missing))
        for name in PRODUCTION_PASSWORDS:
            url = (getattr(self, name) or "").strip()
            problem = password_problem(url) if url else None
            if problem:
                problems.append(f"while PAPERLENS_{name.upper()} {problem}")
        if problems:
            raise ValueError(
                "production mode (PAPERLENS_ENV=production) refuses to start " + "; ".join(problems)
            )
        return self

    @property
    def data_path(self) -> Path:
        """The data folder as an absolute path, so child processes agree on it."""
        return self.data_dir.resolve()

    @property
    def encoder_threads(self) -> int:
        """Threads for the dense encoder: the setting, or every core this process may use."""
        return self.encode_threads or len(os.sched_getaffinity(0))

    def source_credentials(self) -> list[str]:
        """What the instance sends sources to identify itself: never to be logged or served."""
        values = (
            self.huggingface_token,
            self.semantic_scholar_api_key,
            self.openalex_api_key,
            self.github_token,
            self.source_contact_email,
        )
        return [value for value in values if value]

    @property
    def sqlalchemy_url(self) -> str:
        """The SQL store: the configured server, or a SQLite file in the data folder."""
        if self.database_url:
            return _with_driver(self.database_url)
        return f"sqlite:///{self.data_path / 'paperlens.sqlite3'}"

    @property
    def embedded_redis_socket(self) -> Path:
        return self.data_path / "redis" / "redis.sock"

    @property
    def uses_embedded_redis(self) -> bool:
        return not self.redis_url

    @property
    def effective_redis_url(self) -> str:
        """The configured Redis, or the embedded one that ``paperlens run`` starts."""
        if self.redis_url:
            return self.redis_url
        return f"unix://{self.embedded_redis_socket}"

    @property
    def parts_state_file(self) -> Path:
        """Where ``paperlens run`` publishes the state of each part it supervises."""
        return self.data_path / "run" / "parts.json"

    @property
    def index_dir(self) -> Path:
        """Where workers publish and load the related-papers index: shared storage when
        workers run on several machines, so the index is built once, not once per worker."""
        if self.shared_index_dir is not None:
            return self.shared_index_dir.resolve()
        return self.data_path / "index"

    @property
    def ingest_checkpoint_dir(self) -> Path:
        return self.data_path / "ingest"


def _with_driver(url: str) -> str:
    """``postgresql://`` URLs name the psycopg 3 driver that PaperLens installs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def explain(error: ValidationError) -> str:
    """What is wrong with the configuration, without echoing values (they may hold secrets)."""
    parts = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"])
        message = problem["msg"].removeprefix("Value error, ")
        parts.append(f"PAPERLENS_{where.upper()}: {message}" if where else message)
    return "invalid configuration: " + "; ".join(parts)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests clear the cache after changing the environment."""
    return Settings()
