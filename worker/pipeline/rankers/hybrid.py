"""Fusion of a lexical and a dense ranker: each one's scores on a common scale, then mixed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from worker.pipeline.rankers.base import IndexedPaper, Ranker, zscore

# Reciprocal-rank fusion's damping constant, the usual 60 (the benchmark also tried 10 and 30).
RRF_K = 60


class HybridRanker:
    """Lexical and dense similarities, weighted by ``dense_weight`` (tuned on dev).

    ``fusion`` is ``"z"`` (z-scored scores, served: it keeps how far ahead a paper is) or
    ``"rrf"`` (reciprocal ranks, measured for comparison).
    """

    def __init__(
        self,
        lexical: Ranker,
        dense: Ranker,
        dense_weight: float = 0.5,
        fusion: Literal["z", "rrf"] = "z",
    ) -> None:
        self.name = f"hybrid({lexical.name}+{dense.name})" + ("-rrf" if fusion == "rrf" else "")
        self.lexical = lexical
        self.dense = dense
        self.dense_weight = dense_weight
        self.scale = zscore if fusion == "z" else reciprocal_ranks

    def fit(self, papers: Sequence[IndexedPaper]) -> None:
        self.lexical.fit(papers)
        self.dense.fit(papers)

    def scores(self, paper: IndexedPaper, row: int | None) -> np.ndarray:
        lexical = self.scale(self.lexical.scores(paper, row))
        dense = self.scale(self.dense.scores(paper, row))
        return np.asarray((1 - self.dense_weight) * lexical + self.dense_weight * dense)


def reciprocal_ranks(values: np.ndarray) -> np.ndarray:
    """1 / (k + rank), rank 0 for the highest value."""
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[np.argsort(-values, kind="stable")] = np.arange(len(values))
    return 1.0 / (RRF_K + ranks)
