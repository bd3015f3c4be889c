"""The pydantic models that cross process boundaries: catalogue records and API documents.

Field names here are the public contract with the extension and other clients;
change them only with a schema version bump.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

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


class CodeLink(BaseModel):
    url: str
    kind: LinkKind
    host: str
    official: bool
    source: str = Field(description="Where the link was found, e.g. 'abstract' or 'comments'.")


class RelatedPaper(BaseModel):
    paper_id: str
    title: str
    score: float
    reason: str


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
