"""Assembling one paper's enrichment document from the catalogue and the pipeline."""

from __future__ import annotations

import datetime as dt

from paperlens.keys import ENRICHMENT_SCHEMA_VERSION
from paperlens.schemas import EnrichedPaper
from paperlens.store.models import Paper
from worker.pipeline.links import extract_links
from worker.pipeline.related import IndexedPaper, RelatedIndex


def enrich(paper: Paper, index: RelatedIndex, k: int) -> EnrichedPaper:
    """Everything the overlay shows for ``paper``, ready to be served as-is."""
    own_texts = [("abstract", paper.abstract), ("comments", paper.comments or "")]
    return EnrichedPaper(
        paper_id=paper.paper_id,
        ids=paper.ids,
        title=paper.title,
        authors=list(paper.authors or []),
        published=paper.published,
        abstract=paper.abstract,
        categories=list(paper.categories or []),
        venue=paper.venue,
        code=extract_links(own_texts, official=True),
        related=index.related(IndexedPaper(paper.paper_id, paper.title, paper.abstract), k),
        status="ready",
        computed_at=dt.datetime.now(dt.UTC),
        schema_version=ENRICHMENT_SCHEMA_VERSION,
    )
