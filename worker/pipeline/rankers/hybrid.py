"""Fusion of a lexical and a dense ranker: each one's scores on a common scale, then mixed."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from worker.pipeline.rankers.base import IndexedPaper, Ranker, zscore


class HybridRanker:
    """z-scored lexical and dense similarities, weighted by ``dense_weight`` (tuned on dev)."""

    def __init__(self, lexical: Ranker, dense: Ranker, dense_weight: float = 0.5) -> None:
        self.name = f"hybrid({lexical.name}+{dense.name})"
        self.lexical = lexical
        self.dense = dense
        self.dense_weight = dense_weight

    def fit(self, papers: Sequence[IndexedPaper]) -> None:
        self.lexical.fit(papers)
        self.dense.fit(papers)

    def scores(self, paper: IndexedPaper, row: int | None) -> np.ndarray:
        lexical = zscore(self.lexical.scores(paper, row))
        dense = zscore(self.dense.scores(paper, row))
        return np.asarray((1 - self.dense_weight) * lexical + self.dense_weight * dense)
