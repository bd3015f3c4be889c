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

    def extend(self, papers: Sequence[IndexedPaper]) -> None:
        """Append ``papers`` to both parts, each as its own ``extend`` does."""
        for part in (self.lexical, self.dense):
            extend = getattr(part, "extend", None)
            if extend is None:
                raise TypeError(f"{part.name} cannot take papers without being fitted again")
            extend(papers)

    def scores(self, paper: IndexedPaper, row: int | None) -> np.ndarray:
        return self.scored(paper, row)[0]

    def scored(self, paper: IndexedPaper, row: int | None) -> tuple[np.ndarray, np.ndarray]:
        """The fused scores that order the list, and the same mix of the raw similarities.

        Fused scores are relative to this corpus (a z-score says how far a paper stands out
        among those indexed), so in a small catalogue the best of a few unrelated papers
        still scores high; the raw mix means the same in any corpus, and the similarity
        floor (``rankers.floors``) is set on it.
        """
        lexical = self.lexical.scores(paper, row)
        dense = self.dense.scores(paper, row)
        weight = self.dense_weight
        fused = (1 - weight) * self.scale(lexical) + weight * self.scale(dense)
        raw = (1 - self.dense_weight) * lexical + self.dense_weight * dense
        return np.asarray(fused), np.asarray(raw)


def reciprocal_ranks(values: np.ndarray) -> np.ndarray:
    """1 / (k + rank), rank 0 for the highest value."""
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[np.argsort(-values, kind="stable")] = np.arange(len(values))
    return 1.0 / (RRF_K + ranks)
