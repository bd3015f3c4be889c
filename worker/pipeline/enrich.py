"""Assembling papers' enrichment documents from the catalogue and the pipeline."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from paperlens import enrichments
from paperlens.schemas import EnrichedPaper, RelatedPaper
from paperlens.store.models import Paper
from worker.pipeline.links import extract_links
from worker.pipeline.related import IndexedPaper, RelatedIndex


def enrich(paper: Paper, index: RelatedIndex, k: int) -> EnrichedPaper:
    """Everything the overlay shows for ``paper``, ready to be served as-is."""
    return _document(paper, index.related(indexed(paper), k))


def enrich_many(
    papers: Sequence[Paper],
    index: RelatedIndex,
    k: int,
    candidates: Sequence[tuple[list[int], np.ndarray]] | None = None,
) -> list[EnrichedPaper]:
    """``enrich`` for a chunk of papers, their related papers computed together (from
    ``candidates`` when the caller has them: see ``RelatedIndex.related_many``)."""
    related = index.related_many([indexed(paper) for paper in papers], k, candidates)
    return [_document(paper, found) for paper, found in zip(papers, related, strict=True)]


def indexed(paper: Paper) -> IndexedPaper:
    return IndexedPaper(paper.paper_id, paper.title, paper.abstract)


def _document(paper: Paper, related: list[RelatedPaper]) -> EnrichedPaper:
    own_texts = [("abstract", paper.abstract), ("comments", paper.comments or "")]
    return enrichments.document(
        paper, "ready", code=extract_links(own_texts, official=True), related=related
    )
