"""Per-reader suggestions on CSFCube: half of a query's best candidates saved, the rest sought.

For every judged query with at least four highly relevant candidates (grade 2 or 3),
a seeded shuffle puts half of them in the reader's list; a suggestion model ranks the
whole corpus from that list alone, and the figure is how many of the other half it
ranks in its top 20 (capped recall, in percent). Any model with the signature of
``SuggestionModel`` plugs in: it gets the saved papers' rows and returns one score
per indexed paper.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import numpy as np
from scipy import sparse
from sklearn.svm import LinearSVC

from bench.quality.csfcube import CsfCube, QueryFacet
from bench.quality.metrics import capped_recall_at_k
from paperlens.store.library import ProfilePaper, ReaderProfile
from worker.pipeline import suggestions
from worker.pipeline.rankers.base import IndexedPaper
from worker.pipeline.related import RelatedIndex

SUGGESTIONS_K = 20
HIGHLY_RELEVANT = 2
MIN_HIGHLY_RELEVANT = 4
SEED = 7

SuggestionModel = Callable[[Sequence[int]], np.ndarray]
"""Saved papers' rows in, one score per indexed paper out (higher is a better suggestion)."""


def reader_recall(
    cube: CsfCube,
    paper_ids: Sequence[str],
    model: SuggestionModel,
    split: str | None = None,
    seed: int = SEED,
) -> float:
    """Mean capped recall@20 of the held-out half over every query with enough good papers,
    or over those of one of CSFCube's ``split``s (a query keeps the same halves either way)."""
    row = {paper_id: i for i, paper_id in enumerate(paper_ids)}
    recalls: list[float] = []
    for saved, sought in reading_lists(cube, split, seed):
        saved_rows = [row[paper_id] for paper_id in saved]
        scores = np.asarray(model(saved_rows), dtype=np.float64).copy()
        scores[saved_rows] = -np.inf
        top = np.argsort(-scores, kind="stable")[:SUGGESTIONS_K]
        recalls.append(capped_recall_at_k([paper_ids[i] for i in top], sought, SUGGESTIONS_K))
    return 100 * float(np.mean(recalls))


def reading_lists(
    cube: CsfCube, split: str | None = None, seed: int = SEED
) -> list[tuple[list[str], set[str]]]:
    """Each reader's saved half and sought half, in query order (see ``readers_of``)."""
    return [(saved, sought) for _, saved, sought in readers_of(cube, split, seed)]


def readers_of(
    cube: CsfCube, split: str | None = None, seed: int = SEED
) -> list[tuple[QueryFacet, list[str], set[str]]]:
    """Each reader's query, saved half and sought half, in query order. ``seed`` draws which
    half is saved; every query is shuffled whatever the split, so a query's halves do not
    depend on the split asked for."""
    wanted = None if split is None else set(cube.splits[split])
    shuffle = random.Random(seed)
    found: list[tuple[QueryFacet, list[str], set[str]]] = []
    for query in sorted(cube.grades, key=lambda q: (q.paper_id, q.facet)):
        good = sorted(c for c, g in cube.grades[query].items() if g >= HIGHLY_RELEVANT)
        if len(good) < MIN_HIGHLY_RELEVANT:
            continue
        shuffle.shuffle(good)
        if wanted is not None and query not in wanted:
            continue
        found.append((query, good[: len(good) // 2], set(good[len(good) // 2 :])))
    return found


def centroid_model(vectors: np.ndarray | sparse.csr_matrix) -> SuggestionModel:
    """Cosine to the mean of the saved papers' (L2-normalised) vectors."""

    def suggest(saved_rows: Sequence[int]) -> np.ndarray:
        centroid = np.asarray(vectors[list(saved_rows)].mean(axis=0)).ravel()
        return np.asarray(vectors @ centroid).ravel()

    return suggest


def linear_model(vectors: np.ndarray | sparse.csr_matrix, c: float = 0.1) -> SuggestionModel:
    """A linear SVM with the saved papers as positives and every other paper as a negative."""

    def suggest(saved_rows: Sequence[int]) -> np.ndarray:
        labels = np.zeros(vectors.shape[0], dtype=np.int8)
        labels[list(saved_rows)] = 1
        svm = LinearSVC(C=c, class_weight="balanced", tol=1e-5, max_iter=10_000)
        svm.fit(vectors, labels)
        return np.asarray(svm.decision_function(vectors)).ravel()

    return suggest


def served_model(index: RelatedIndex, papers: Sequence[IndexedPaper]) -> SuggestionModel:
    """The product's own suggestions (``worker.pipeline.suggestions``) for that reading list.

    Its ranked list becomes scores (first highest); papers it does not list score lowest.
    """

    def suggest(saved_rows: Sequence[int]) -> np.ndarray:
        saved = [
            ProfilePaper(papers[row].paper_id, papers[row].title, papers[row].abstract, [])
            for row in saved_rows
        ]
        profile = ReaderProfile.of_saved(saved)
        listed = suggestions.suggest(index, profile, saved, SUGGESTIONS_K)
        rows = {paper_id: row for row, paper_id in enumerate(index.paper_ids)}
        scores = np.full(len(index.paper_ids), -np.inf)
        for rank, item in enumerate(listed):
            scores[rows[item.paper_id]] = len(listed) - rank
        return scores

    return suggest


def nearest_saved_model(
    index: RelatedIndex, papers: Sequence[IndexedPaper], weight: float, k: int
) -> SuggestionModel:
    """The served model's fused score plus ``weight`` times a nearest-saved-paper term: the
    mean of a paper's ``k`` highest cosines to the saved papers in the index's dense space,
    z-scored over the papers not saved as the margins are over the negatives. Measured
    beside the served model (not served: its gain on fold1_dev was within the draws'
    noise, bench/RESULTS.md). Scores every row, leaving out copies of a saved title as the
    served list does."""
    titles = [" ".join(title.lower().split()) for title in index.titles]

    def suggest(saved_rows: Sequence[int]) -> np.ndarray:
        rows = list(saved_rows)
        saved = [
            ProfilePaper(papers[row].paper_id, papers[row].title, papers[row].abstract, [])
            for row in rows
        ]
        profile = ReaderProfile.of_saved(saved)
        model = suggestions.reader_model(index, profile, saved)
        if model is None or model.dense is None:
            raise ValueError("the nearest-saved term needs an index with dense vectors")
        scores = model.scores_of_rows(np.arange(len(index)))
        scores = scores + weight * nearest_saved(
            model.dense_features(np.arange(len(index))), rows, k
        )
        saved_titles = {titles[row] for row in rows}
        scores[[row for row, title in enumerate(titles) if title in saved_titles]] = -np.inf
        return scores

    return suggest


def nearest_saved(vectors: np.ndarray, saved_rows: Sequence[int], k: int) -> np.ndarray:
    """Each row's mean of its ``k`` highest cosines to the saved rows (``vectors`` are unit
    length), z-scored over the rows not saved; ``k`` of 0 takes the mean of all of them."""
    rows = list(saved_rows)
    cosines = np.asarray(vectors @ vectors[rows].T, dtype=np.float64)
    if k:
        cosines = -np.sort(-cosines, axis=1)[:, :k]
    term = cosines.mean(axis=1)
    others = np.ones(len(term), dtype=bool)
    others[rows] = False
    return np.asarray((term - term[others].mean()) / (term[others].std() or 1.0))
