"""How similar a paper must be to another to be listed as related, per ranker.

Measured by ``bench/quality/floor.py`` on CSFCube's fold1_dev only (see
``bench/RESULTS.md``, "Similarity floor"): over the judged candidates of the dev queries,
an isotonic fit gives the probability that a candidate of a given similarity is relevant
(graded 2 or 3); the floor is the lowest similarity at which that reaches 5%, half the
rate of the judged pools themselves (10%). Below it, fewer than one candidate in twenty
was relevant, so a small catalogue lists nothing rather than its least unrelated papers.

Figures of the run of 2026-12-04 (2,043 judged pairs, 210 relevant): TF-IDF 0.084, the
hybrid 0.540. On CSFCube's whole 4,205-paper corpus they cost the served lists nothing
measurable (TF-IDF NDCG@10 54.1 before and after; the hybrid 62.3 to 62.2, no list
shorter than 8). A 10% rule would give 0.114 and 0.650, and cost the hybrid 1.3 points.
With the title's vector read from the text's own run instead (measured, not served) the
hybrid's floor came to 0.532, and MRL's one related paper in the demo catalogue fell under it.

The hybrid's floor applies to its raw mix (0.2 TF-IDF cosine + 0.8 the dense similarity,
whose title part adds half the titles' cosine), not to its corpus-relative fused score.
BM25 and the dense ranker alone are not served by default and have no floor.
"""

from __future__ import annotations

FLOORS: dict[str, float] = {
    "tfidf": 0.084,
    "hybrid": 0.540,
}


def floor_for(ranker: str) -> float | None:
    """The floor of a ranker named as in ``rankers.choose``; None when it has none."""
    return FLOORS.get(ranker)
