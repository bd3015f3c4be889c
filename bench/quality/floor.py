"""The similarity floor of each served ranker, measured on CSFCube's fold1_dev only.

For every judged candidate of a fold1_dev query (its best grade over the query's dev
facets), the served index's floor similarity to the query is set beside whether the
candidate is relevant (grade 2 or 3). An isotonic fit turns that into the probability
that a candidate of a given similarity is relevant; the floor is the lowest similarity
at which it reaches ``RELEVANT_AT_FLOOR``. Run ``python -m bench.quality.floor`` from the
project root; ``--no-record`` prints without appending to ``bench/RESULTS.md``.
"""

from __future__ import annotations

import itertools
import sys
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from sklearn.isotonic import IsotonicRegression

from bench import machine
from bench.quality import csfcube
from bench.quality.csfcube import CsfCube
from bench.quality.evaluate import LIST_K, corpus_metrics, listed_ids
from worker.pipeline.rankers.choose import embeddings_available
from worker.pipeline.related import RelatedIndex

SPLIT = "fold1_dev"
RELEVANT_GRADE = 2
# Below the floor, fewer than this share of judged candidates are relevant: half the
# judged pools' own rate (about 10%), which are candidates some system already found close.
RELEVANT_AT_FLOOR = 0.05
# Also shown, to see what a stricter rule would cost.
STRICTER = 0.10
BINS = 8


@dataclass(frozen=True)
class Measured:
    ranker: str
    floor: float
    stricter: float
    pairs: int
    relevant: int
    table: str


def judged_pairs(cube: CsfCube, index: RelatedIndex) -> tuple[np.ndarray, np.ndarray]:
    """(similarity, relevant) of every judged fold1_dev candidate to its query paper."""
    best: dict[str, dict[str, int]] = defaultdict(dict)
    for query in cube.splits[SPLIT]:
        for candidate, grade in cube.grades.get(query, {}).items():
            held = best[query.paper_id].get(candidate, 0)
            best[query.paper_id][candidate] = max(held, grade)
    papers = {paper.paper_id: paper for paper in cube.papers}
    similarity: list[float] = []
    relevant: list[bool] = []
    for query_id, grades in sorted(best.items()):
        _, row_similarity = index.scored(papers[query_id])
        for candidate, grade in grades.items():
            row = index.row_of(candidate)
            if row is None or candidate == query_id:
                continue
            similarity.append(float(row_similarity[row]))
            relevant.append(grade >= RELEVANT_GRADE)
    return np.array(similarity), np.array(relevant)


def floor_of(similarity: np.ndarray, relevant: np.ndarray, target: float) -> float:
    """The lowest similarity where the fitted probability of relevance reaches ``target``."""
    fit = IsotonicRegression(out_of_bounds="clip", increasing=True)
    fitted = fit.fit_transform(similarity, relevant.astype(float))
    order = np.argsort(similarity, kind="stable")
    reached = np.flatnonzero(fitted[order] >= target)
    if len(reached) == 0:
        return float(similarity.max())
    return float(similarity[order][reached[0]])


def bins_table(similarity: np.ndarray, relevant: np.ndarray) -> str:
    """Relevance by similarity band (equal counts), so the rule can be checked by eye."""
    edges = np.quantile(similarity, np.linspace(0, 1, BINS + 1))
    lines = ["| similarity | candidates | relevant |", "| --- | ---: | ---: |"]
    for low, high in itertools.pairwise(edges):
        inside = (similarity >= low) & (similarity <= high)
        share = float(relevant[inside].mean()) if inside.any() else float("nan")
        lines.append(f"| {low:.3f} to {high:.3f} | {int(inside.sum())} | {share:.0%} |")
    return "\n".join(lines)


def measure(cube: CsfCube, ranker: str) -> tuple[Measured, RelatedIndex]:
    index = RelatedIndex.build(cube.papers, ranker, floor=None)
    index.floor = None
    similarity, relevant = judged_pairs(cube, index)
    floor = floor_of(similarity, relevant, RELEVANT_AT_FLOOR)
    stricter = floor_of(similarity, relevant, STRICTER)
    table = bins_table(similarity, relevant)
    return Measured(ranker, floor, stricter, len(similarity), int(relevant.sum()), table), index


def effect(cube: CsfCube, index: RelatedIndex, floor: float) -> str:
    """What the floor does to the served list over the whole corpus (every query paper)."""
    before = corpus_metrics(cube, index)
    index.floor = floor
    after = corpus_metrics(cube, index)
    lengths = [len(listed) for listed in listed_ids(cube, index)]
    index.floor = None
    return (
        f"corpus NDCG@{LIST_K} {before[0]:.1f} -> {after[0]:.1f}, cited recall "
        f"{before[1]:.1f}% -> {after[1]:.1f}%, list length min {min(lengths)}, "
        f"median {int(np.median(lengths))} of {LIST_K}"
    )


def main(argv: list[str] | None = None) -> int:
    cube, no_record = csfcube.from_command_line("python -m bench.quality.floor", argv)
    if cube is None:
        return 2
    rankers = ["tfidf", "hybrid"] if embeddings_available() else ["tfidf"]
    parts = [
        f"Rule: the floor is the lowest similarity at which an isotonic fit of P(grade >= "
        f"{RELEVANT_GRADE}) over {SPLIT}'s judged candidates reaches {RELEVANT_AT_FLOOR:.0%}."
    ]
    for ranker in rankers:
        measured, index = measure(cube, ranker)
        part = (
            f"**{ranker}**: floor {measured.floor:.3f} ({measured.pairs} judged pairs, "
            f"{measured.relevant} relevant); {effect(cube, index, measured.floor)}. "
            f"At {STRICTER:.0%} the floor would be {measured.stricter:.3f}; "
            f"{effect(cube, index, measured.stricter)}.\n\n{measured.table}"
        )
        print(part, flush=True)
        parts.append(part)
    report = "\n\n".join(parts)
    machine.record("Similarity floor", report, wanted=not no_record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
