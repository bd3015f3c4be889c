"""Assembling one paper's enrichment document from the catalogue and the pipeline."""

from __future__ import annotations

from paperlens import enrichments
from paperlens.schemas import EnrichedPaper
from paperlens.store.models import Paper
from worker.pipeline.links import extract_links
from worker.pipeline.related import IndexedPaper, RelatedIndex


def enrich(paper: Paper, index: RelatedIndex, k: int) -> EnrichedPaper:
    """Everything the overlay shows for ``paper``, ready to be served as-is."""
    own_texts = [("abstract", paper.abstract), ("comments", paper.comments or "")]
    return enrichments.document(
        paper,
        "ready",
        code=extract_links(own_texts, official=True),
        related=index.related(IndexedPaper(paper.paper_id, paper.title, paper.abstract), k),
    )
