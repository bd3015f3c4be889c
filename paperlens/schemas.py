"""The pydantic models that cross process boundaries: catalogue records and API documents.

Field names here are the public contract with the extension and other clients;
change them only with a schema version bump.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import (
    BaseModel,
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


class SourceStatus(BaseModel):
    """What one external source contributed to an enrichment, and when."""

    status: SourceState
    fetched_at: dt.datetime | None = None
    error: str | None = None


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


class Pending(BaseModel):
    status: Literal["pending"] = "pending"
    paper_id: str
    retry_after: int


class ResolveResult(BaseModel):
    paper_id: str
    version: int | None
    known: bool


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[str] = Field(
        min_length=1, description="Paper ids or page URLs, in any form the resolver accepts."
    )


class BatchItem(BaseModel):
    input: str
    paper_id: str | None
    status: Literal["ready", "stale", "degraded", "pending", "unknown", "invalid"]
    paper: EnrichedPaper | None = None


class BatchResponse(BaseModel):
    items: list[BatchItem]


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorDetail


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = Field(default_factory=dict)
