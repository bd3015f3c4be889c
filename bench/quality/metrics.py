"""Ranking metrics as CSFCube and the issue define them."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def dcg(gains: Sequence[float]) -> float:
    """Discounted cumulative gain with linear gains: rank 1 counts fully, rank r by 1/log2(r+1)."""
    return sum(gain / math.log2(rank + 2) for rank, gain in enumerate(gains))


def ndcg_at_k(ranked: Sequence[str], grades: Mapping[str, int], k: int) -> float:
    """NDCG@k against the best possible order of the judged grades; 0 when nothing is relevant."""
    ideal = dcg(sorted(grades.values(), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([grades.get(paper_id, 0) for paper_id in ranked[:k]]) / ideal


def capped_recall_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """Share of the relevant papers in the top k, out of at most k: a list of k holds no more."""
    if not relevant:
        return 0.0
    found = len(set(ranked[:k]) & relevant)
    return found / min(k, len(relevant))
