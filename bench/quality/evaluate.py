"""Scoring one related-papers index on CSFCube: judged pools and the whole corpus."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.quality.csfcube import CsfCube, QueryFacet
from bench.quality.metrics import capped_recall_at_k, ndcg_at_k
from worker.pipeline.rankers.base import IndexedPaper
from worker.pipeline.related import RelatedIndex

POOL_K = 20
LIST_K = 10


@dataclass(frozen=True)
class Quality:
    """The issue's four figures, in percent."""

    pool_dev: float
    pool_test: float
    corpus_ndcg: float
    cited_recall: float


def pool_ndcg(cube: CsfCube, index: RelatedIndex, split: str) -> float:
    """Mean NDCG@20 of each judged query's pool, ordered by the index's ranker."""
    return 100 * float(np.mean([_pool_ndcg(cube, index, query) for query in cube.splits[split]]))


def corpus_metrics(cube: CsfCube, index: RelatedIndex, served: bool = True) -> tuple[float, float]:
    """NDCG@10 and cited-paper recall@10 of the related list the product serves.

    The lists come from ``RelatedIndex.related_many``, the call precompute makes for every
    paper. ``served=False`` takes the ranker's plain top 10 instead, as the issue's baselines
    did.
    """
    ndcgs: list[float] = []
    recalls: list[float] = []
    for query_id, listed in zip(cube.query_ids, listed_ids(cube, index, served), strict=True):
        ndcgs.append(ndcg_at_k(listed, cube.best_grades(query_id), LIST_K))
        recalls.append(capped_recall_at_k(listed, cube.cited.get(query_id, set()), LIST_K))
    return 100 * float(np.mean(ndcgs)), 100 * float(np.mean(recalls))


def listed_ids(cube: CsfCube, index: RelatedIndex, served: bool = True) -> list[list[str]]:
    """Each query paper's related list (ids, best first), in ``cube.query_ids`` order."""
    papers = {paper.paper_id: paper for paper in cube.papers}
    queries = [papers[query_id] for query_id in cube.query_ids]
    if served:
        return [[r.paper_id for r in found] for found in index.related_many(queries, LIST_K)]
    lists: list[list[str]] = []
    for query in queries:
        scores, _ = index.scored(query)
        lists.append([index.paper_ids[i] for i in np.argsort(-scores, kind="stable")[:LIST_K]])
    return lists


def quality(cube: CsfCube, index: RelatedIndex) -> Quality:
    ndcg, recall = corpus_metrics(cube, index)
    return Quality(
        pool_ndcg(cube, index, "fold1_dev"), pool_ndcg(cube, index, "fold1_test"), ndcg, recall
    )


def _pool_ndcg(cube: CsfCube, index: RelatedIndex, query: QueryFacet) -> float:
    scores, _ = index.scored(_paper(cube, query.paper_id))
    pool = cube.pools[query.paper_id]
    rows = [index.row_of(candidate) for candidate in pool]
    pool_scores = np.array([scores[row] if row is not None else -np.inf for row in rows])
    ranked = [pool[i] for i in np.argsort(-pool_scores, kind="stable")]
    return ndcg_at_k(ranked, cube.grades[query], POOL_K)


def _paper(cube: CsfCube, paper_id: str) -> IndexedPaper:
    return next(paper for paper in cube.papers if paper.paper_id == paper_id)
