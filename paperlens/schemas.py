"""The pydantic models that cross process boundaries: catalogue records and API documents.

Field names here are the public contract with the extension and other clients;
change them only with a schema version bump.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)

LinkKind = Literal["repository", "project_page", "model", "dataset", "space"]
EnrichmentStatus = Literal["ready", "stale", "degraded"]


class PaperRecord(BaseModel):
    """One paper as an ingest source describes it; ``ids`` are canonical ids, preferred first."""

    ids: list[str] = Field(min_length=1)
    title: str = Field(min_length=1)
    abstract: str = ""
    authors: list[str] = Field(default_factory=list)
    published: dt.date | None = None
    updated: dt.date | None = None
    categories: list[str] = Field(default_factory=list)
    venue: str | None = None
    comments: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


_LINK_FACT_DEFAULTS: dict[str, Any] = {
    "found_in": [],
    "exists": None,
    "archived": None,
    "stars": None,
    "license": None,
    "last_push": None,
}


def _without_defaults(data: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in defaults or v != defaults[k]}


class CodeLink(BaseModel):
    url: str
    kind: LinkKind
    host: str
    official: bool
    source: str = Field(description="Where the link was found, e.g. 'abstract' or 'comments'.")
    found_in: list[str] = Field(
        default_factory=list, description="Every source that gave this link, 'source' first."
    )
    exists: bool | None = Field(default=None, description="False when the repository is gone.")
    archived: bool | None = None
    stars: int | None = None
    license: str | None = None
    last_push: dt.datetime | None = None

    @model_serializer(mode="wrap")
    def _omit_unknown_facts(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Facts no source gave are left out, so a link without them keeps its v1 shape."""
        return _without_defaults(handler(self), _LINK_FACT_DEFAULTS)


class RelatedPaper(BaseModel):
    paper_id: str
    title: str
    score: float
    reason: str
    in_corpus: bool = Field(default=True, description="False: PaperLens does not hold it yet.")
    source: str = Field(default="corpus", description="Who suggested it.")

    @model_serializer(mode="wrap")
    def _omit_corpus_marks(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """A neighbour from the corpus keeps its v1 shape; only outside ones are marked."""
        return _without_defaults(handler(self), {"in_corpus": True, "source": "corpus"})


SourceState = Literal["ok", "empty", "failed", "skipped"]

# Why a source failed, as public documents say it: a fixed vocabulary, so that no URL,
# query string (where API keys travel) or exception text ever reaches a reader.
SourceErrorCode = Literal[
    "rate_limited",  # 429, or our own spacing would have waited too long
    "http_500",
    "http_502",
    "http_503",
    "http_504",
    "unauthorized",  # 401 or 403: the instance's key was refused
    "http_error",  # any other unexpected status
    "timeout",
    "unreachable",  # connection refused, reset or not resolvable
    "bad_response",  # a body not in the source's documented format
    "not_allowed",  # an address outside the source's configured base URL
    "unavailable",  # no more precise reason is known (documents written by older versions)
]
SOURCE_ERROR_CODES: frozenset[str] = frozenset(get_args(SourceErrorCode))


def _known_error(value: Any) -> Any:
    """Free text from documents written before the vocabulary existed reads as ``unavailable``."""
    if isinstance(value, str) and value not in SOURCE_ERROR_CODES:
        return "unavailable"
    return value


class SourceStatus(BaseModel):
    """What one external source contributed to an enrichment, and when."""

    status: SourceState
    fetched_at: dt.datetime | None = None
    error: Annotated[SourceErrorCode | None, BeforeValidator(_known_error)] = None


class SourcedLink(BaseModel):
    url: str
    source: str


class SourcedCount(BaseModel):
    count: int
    source: str


class SourcedText(BaseModel):
    text: str
    source: str


class HubRepo(BaseModel):
    """A Hugging Face model, dataset or Space that cites the paper."""

    url: str
    name: str
    likes: int = 0
    downloads: int = 0
    source: str = "huggingface"


EntryType = Literal["inproceedings", "article"]


class PublishedVersion(BaseModel):
    """Where a preprint was published: the first trustworthy source's word, named in ``source``.

    ``entry_type`` is the BibTeX entry type of the published paper (a conference paper or a
    journal article); exports use it in place of the preprint's.
    """

    venue: str
    year: int | None = None
    doi: str | None = None
    pages: str | None = None
    entry_type: EntryType
    source: str


class EnrichedPaper(BaseModel):
    """The document ``GET /api/v1/papers/<id>`` returns, precomputed by a worker."""

    model_config = ConfigDict(extra="forbid")

    paper_id: str
    ids: list[str]
    title: str
    authors: list[str]
    published: dt.date | None
    abstract: str
    categories: list[str] = Field(default_factory=list)
    venue: str | None = None
    code: list[CodeLink]
    related: list[RelatedPaper]
    status: EnrichmentStatus
    computed_at: dt.datetime
    schema_version: int
    # Added with schema version 2 (external sources); each item says where it came from.
    project_page: SourcedLink | None = None
    models: list[HubRepo] = Field(default_factory=list)
    datasets: list[HubRepo] = Field(default_factory=list)
    spaces: list[HubRepo] = Field(default_factory=list)
    citation_count: SourcedCount | None = None
    tldr: SourcedText | None = None
    open_access: SourcedLink | None = None
    related_external: list[RelatedPaper] = Field(
        default_factory=list,
        description="Related papers suggested by external sources, marked in_corpus or not.",
    )
    sources: dict[str, SourceStatus] = Field(default_factory=dict)
    # Added with schema version 3: the published version of a preprint.
    published_version: PublishedVersion | None = None


class Pending(BaseModel):
    status: Literal["pending"] = "pending"
    paper_id: str
    retry_after: int


class FetchFailure(BaseModel):
    """Why a paper the catalogue lacks could not be fetched yet, and when it will be tried again.

    Written by the worker that tried, read by the API, and expired by Redis at ``retry_at``:
    a source that was down is asked again on the next request after that.
    """

    source: str
    error: SourceErrorCode
    retry_at: dt.datetime


class ResolveResult(BaseModel):
    paper_id: str
    version: int | None
    known: bool


class Badges(BaseModel):
    """What a listing page marks beside a paper, precomputed with its enrichment."""

    code: bool = Field(description="The paper links to code (a project page alone does not count).")
    official_code: bool = Field(description="One of those links is the authors' own.")
    code_url: str | None = Field(
        default=None,
        description="Where the badge's link goes: the first code link (official first, "
        "repositories before models, datasets and spaces); absent in badges stored before it.",
    )


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[str] = Field(
        min_length=1, description="Paper ids or page URLs, in any form the resolver accepts."
    )
    view: Literal["full", "badges"] = Field(
        default="full",
        description="'full' answers each ready paper's whole document; 'badges' only its listing "
        "marks, a small fraction of the bytes, for pages that list many papers.",
    )


class BatchItem(BaseModel):
    input: str
    paper_id: str | None
    status: Literal["ready", "stale", "degraded", "pending", "unknown", "invalid"]
    paper: EnrichedPaper | None = Field(default=None, description="With view 'full'.")
    badges: Badges | None = Field(default=None, description="With view 'badges'.")


class BatchResponse(BaseModel):
    items: list[BatchItem]


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorDetail


class PartHealth(BaseModel):
    """One process ``paperlens run`` supervises, as ``/readyz`` reports it."""

    phase: Literal["starting", "running", "waiting to restart", "stopping", "stopped"]
    restarts: int
    crash_looping: bool
    last_exit: str | None = Field(default=None, examples=["killed by SIGKILL", "exit code 1"])
    log_tail: list[str] | None = Field(
        default=None,
        description="Its last log lines: only for requests from this machine or with the "
        "metrics token.",
    )


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = Field(default_factory=dict)
    ranker: str | None = Field(
        default=None, description="The ranker behind related papers, and any fallback."
    )
    index: dict[str, Any] | None = Field(
        default=None,
        description="The published related-papers index: ranker, papers, built_at, file, "
        "rebuild_pending (or error).",
    )
    queues: dict[str, Any] | None = Field(
        default=None, description="Per queue: jobs queued, running, deferred and failed (or error)."
    )
    last_ingest: dict[str, Any] | None = Field(
        default=None, description="What last brought papers in: what, at, created, updated."
    )
    parts: dict[str, PartHealth] | None = Field(
        default=None,
        description="Each process of `paperlens run` (absent under another process manager).",
    )
    crash_looping: list[str] | None = Field(
        default=None, description="Parts that keep exiting and are retried only slowly."
    )


# Reading lists, feedback and suggestions (the /api/v1/me endpoints).

ReadingStatus = Literal["to_read", "reading", "done"]
FeedbackSignal = Literal["dismiss", "more_like_this"]
LibrarySort = Literal["saved", "published", "title"]
ExportFormat = Literal["bibtex", "csljson", "ris", "csv"]
SortOrder = Literal["asc", "desc"]
ImportOutcome = Literal["saved", "merged", "skipped"]
ImportMatch = Literal["id", "title"]

TAGS_PER_ENTRY_MAX = 20
TAG_MAX_LENGTH = 64
NOTE_MAX_LENGTH = 10_000
SEARCH_MAX_LENGTH = 200
PAGE_SIZE_MAX = 200
EXPORT_SELECTION_MAX = 5000

_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _clean_tag(value: str) -> str:
    """Tags are compared as typed, with runs of whitespace made one space."""
    tag = _SPACES.sub(" ", value).strip()
    if not tag:
        raise ValueError("a tag cannot be empty")
    if len(tag) > TAG_MAX_LENGTH:
        raise ValueError(f"a tag has at most {TAG_MAX_LENGTH} characters")
    if _CONTROL.search(tag):
        raise ValueError("a tag cannot contain control characters")
    if "," in tag:
        raise ValueError("a tag cannot contain a comma (reference managers use it between tags)")
    return tag


def _without_nul(value: str) -> str:
    """PostgreSQL's text cannot hold NUL, and no reader means one: refuse it up front."""
    if "\x00" in value:
        raise ValueError("text cannot contain NUL characters")
    return value


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


TagName = Annotated[str, AfterValidator(_clean_tag)]
Text = Annotated[str, AfterValidator(_without_nul)]
TagList = Annotated[list[TagName], AfterValidator(_unique), Field(max_length=TAGS_PER_ENTRY_MAX)]


class LibraryEntryWrite(BaseModel):
    """The body of PUT and PATCH on a library entry; fields left out are left unchanged."""

    model_config = ConfigDict(extra="forbid")

    status: ReadingStatus = "to_read"
    tags: TagList = Field(default_factory=list)
    note: Text = Field(default="", max_length=NOTE_MAX_LENGTH)


class LibraryItem(BaseModel):
    paper_id: str = Field(description="The paper's canonical id (the catalogue's, once known).")
    saved_as: str = Field(description="The id the paper was saved under.")
    known: bool = Field(description="Whether the catalogue holds the paper's metadata yet.")
    title: str | None
    authors: list[str]
    published: dt.date | None
    venue: str | None = Field(
        default=None, description="Where the paper was published, once the catalogue knows it."
    )
    status: ReadingStatus
    tags: list[str]
    note: str
    saved_at: dt.datetime
    updated_at: dt.datetime


class LibraryPage(BaseModel):
    items: list[LibraryItem]
    next_cursor: str | None = Field(
        description="Pass as ?cursor= for the next page; null at the end."
    )


class TagCount(BaseModel):
    tag: str
    count: int


class TagCounts(BaseModel):
    items: list[TagCount]


class ImportItem(BaseModel):
    input: str = Field(description="The line, or the BibTeX citation key, this item came from.")
    outcome: ImportOutcome
    paper_id: str | None = Field(
        description="The paper's id on the list (for a merged item, the entry it joined)."
    )
    reason: str | None = None
    imported_id: str | None = Field(
        default=None, description="For a merged item, the id the file gave for it."
    )
    matched_by: ImportMatch | None = Field(
        default=None,
        description="For a merged item, what it shares with the entry: an id, or (when no id "
        "is shared) the same title, compared without case, accents or punctuation, and year.",
    )


class ImportReport(BaseModel):
    saved: int
    merged: int
    skipped: int
    items: list[ImportItem]


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paper_id: str = Field(min_length=1, max_length=2048)
    signal: FeedbackSignal


class FeedbackResult(BaseModel):
    paper_id: str
    signal: FeedbackSignal


class Suggestion(BaseModel):
    paper_id: str
    title: str
    score: float
    reason: str
    because: list[str] = Field(description="The one to three saved papers it is closest to.")


class SuggestionSet(BaseModel):
    """One reader's suggestions for one scope (all saved papers, or one tag), as stored."""

    revision: int
    computed_at: dt.datetime
    items: list[Suggestion]


class SuggestionList(BaseModel):
    items: list[Suggestion]
    tag: str | None
    computed_at: dt.datetime | None
    stale: bool = Field(description="True while a newer computation is queued or running.")


class FeedItem(BaseModel):
    """A new paper in a reader's research feed, ranked and explained as a suggestion is."""

    paper_id: str
    title: str
    authors: list[str]
    published: dt.date | None
    reason: str
    score: float
    because: list[str] = Field(description="The one to three saved papers it is closest to.")
    added_at: dt.datetime = Field(description="When the feed took the paper in.")


class FeedRefresh(BaseModel):
    """What the feed's latest computation did, so that a refresh that took nothing in can
    say so instead of leaving the reader to wonder whether it ran."""

    papers_ranked: int = Field(description="How many papers it ranked for the reader.")
    papers_taken: int = Field(
        description="How many of them stood out enough from the reader's list to be in the feed."
    )


class StoredFeed(BaseModel):
    """One reader's feed as stored: newest first, then best first."""

    computed_at: dt.datetime
    items: list[FeedItem]
    # None in feeds stored before the refresh recorded it.
    last_refresh: FeedRefresh | None = None


class FeedPage(BaseModel):
    items: list[FeedItem]
    computed_at: dt.datetime | None = Field(
        description="When the feed was last computed; null before its first computation."
    )
    last_refresh: FeedRefresh | None = Field(
        description="What that computation ranked and took in; null before it."
    )
    next_cursor: str | None = Field(
        description="Pass as ?cursor= for the next page; null at the end."
    )


class FeedParams(BaseModel):
    """The query string of ``GET /api/v1/me/feed``."""

    since: dt.datetime | None = Field(
        default=None, description="Only papers the feed took in after this time."
    )
    limit: int = Field(default=50, ge=1, le=PAGE_SIZE_MAX)
    cursor: str | None = Field(default=None, max_length=1000)


class FeedTokenCreated(BaseModel):
    token: str = Field(description="The feed token, shown this once; it replaces any older one.")
    url: str = Field(description="The Atom feed's address, to give a feed reader.")


class TagFeedsWrite(BaseModel):
    """The body of ``PUT /api/v1/me/tags/<tag>``."""

    model_config = ConfigDict(extra="forbid")

    feeds: bool = Field(
        strict=True, description="Whether the papers with this tag feed the research feed."
    )


class TagFeeds(BaseModel):
    tag: TagName
    feeds: bool


class SuggestionsPending(BaseModel):
    status: Literal["pending"] = "pending"
    retry_after: int


# The order a sort takes unless one is asked for: newest first, titles from A to Z.
DEFAULT_ORDER: dict[str, SortOrder] = {"saved": "desc", "published": "desc", "title": "asc"}


class LibraryListParams(BaseModel):
    """The query string of ``GET /api/v1/me/library``, as the store's list query takes it."""

    tag: TagName | None = None
    status: ReadingStatus | None = None
    q: Text | None = Field(default=None, max_length=SEARCH_MAX_LENGTH)
    year: int | None = Field(default=None, ge=1, le=9999)
    venue: Text | None = Field(default=None, max_length=SEARCH_MAX_LENGTH)
    sort: LibrarySort = "saved"
    order: SortOrder | None = None
    limit: int = Field(default=50, ge=1, le=PAGE_SIZE_MAX)
    cursor: str | None = Field(default=None, max_length=1000)

    @property
    def direction(self) -> SortOrder:
        return self.order or DEFAULT_ORDER[self.sort]


class ExportParams(BaseModel):
    format: ExportFormat = "bibtex"
    tag: TagName | None = None


class ExportSelection(BaseModel):
    """The body of ``POST /api/v1/me/library/export``: the entries to export, by paper id."""

    model_config = ConfigDict(extra="forbid")

    ids: list[str] = Field(min_length=1, max_length=EXPORT_SELECTION_MAX)


class ImportParams(BaseModel):
    format: Literal["bibtex", "ids"]
    tag: TagName | None = None


class ResolveParams(BaseModel):
    """The query string of ``GET /api/v1/resolve``: the page address and the ``citation_*``
    tags the extension read from the page."""

    url: str = ""
    citation_doi: str = ""
    citation_arxiv_id: str = ""
    citation_title: str = ""

    def page_meta(self) -> dict[str, str]:
        """The tags the page carried (an empty one counts as absent)."""
        tags = self.model_dump(include={"citation_doi", "citation_arxiv_id", "citation_title"})
        return {name: value for name, value in tags.items() if value}


class SuggestionParams(BaseModel):
    tag: TagName | None = None
    k: int = Field(default=10, ge=1, le=100)
