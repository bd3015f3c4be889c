"""The related lists of papers indexed before an update that gain one of its new papers, with
the new papers inserted, without searching for those papers again.

Searching again for each of them would cost a whole search each, for a large share of the
catalogue: with a fiftieth of it new, about one paper in six gains a new paper in its ten.
Two things make it cheap instead. Similarity is mutual, so an earlier paper whose list a new
paper enters is nearly always among that new paper's own candidates (``near_earlier``;
``make bench-increment`` measures how often it is not). And an earlier paper's stored list says
how that paper scores: the hybrid orders a paper's list by ``a * lexical + b * dense + c``,
where ``a``, ``b`` and ``c`` depend only on that paper (its z-scores' means and spreads over the
corpus), so the lexical and dense similarities of the papers listed, computed exactly from the
index, give back ``a``, ``b`` and ``c`` by least squares (``merged``), and with them the score
the new paper would have in that list. TF-IDF's score is the lexical cosine itself.

The spreads are those of the corpus the list was made in; the update adds a few per cent of
papers, which moves them by about as much, and the list's order not at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from paperlens.schemas import EnrichedPaper, RelatedPaper
from worker.pipeline.rankers.base import IndexedPaper
from worker.pipeline.rankers.dense import DenseRanker
from worker.pipeline.rankers.hybrid import HybridRanker
from worker.pipeline.rankers.tfidf import TfidfRanker
from worker.pipeline.related import NEAR_DUPLICATE, RelatedIndex, normalise_title

# A new paper's candidates looked at for earlier papers it may enter the lists of: with 60
# new papers added to 3,000, the new papers that searches list in a sample of earlier lists
# were inserted at 77% with 50, 95% with 100 and 99% with 200, which looked at 1,241, 1,537
# and 1,689 earlier lists (bench/RESULTS.md, "Daily increment").
GAIN_CANDIDATES = 100
# The fewest listed papers from which a hybrid list's scoring is recovered (three unknowns).
MIN_FITTED = 4
# The most a listed paper's recovered score may differ from its stored one (stored to 4
# decimals): more, and the list was not made as this index scores (another build's ranker,
# diversity on), so the paper is searched again instead.
FIT_TOLERANCE = 1e-3


def near_earlier(
    index: RelatedIndex,
    rows: Sequence[int],
    candidates: Sequence[tuple[list[int], np.ndarray]],
) -> dict[int, list[int]]:
    """For each paper indexed before the last update, the new papers (``rows``) whose
    ``candidates`` (``RelatedIndex.candidates``, ``GAIN_CANDIDATES`` deep) hold it."""
    added_from = index.added_rows_from
    near: dict[int, list[int]] = defaultdict(list)
    if added_from is None:
        return near
    for row, (found, _) in zip(rows, candidates, strict=True):
        for candidate in found[:GAIN_CANDIDATES]:
            if candidate < added_from:
                near[candidate].append(row)
    return near


def with_new_papers(
    index: RelatedIndex, document: EnrichedPaper, row: int, new_rows: Sequence[int], k: int
) -> EnrichedPaper | None:
    """``document`` (of the paper at ``row``) with the new papers that belong in its list, each
    with its reason; searched again when its list does not say how it scores; None when the
    list stays as it is."""
    found = merged(index, row, document.related, new_rows, k)
    paper = IndexedPaper(document.paper_id, document.title, document.abstract)
    if found is None:
        related = index.related_many([paper], k)[0]
        unchanged = [r.paper_id for r in related] == [r.paper_id for r in document.related]
        return None if unchanged else document.model_copy(update={"related": related})
    if not found.inserted:
        return None
    inserted = sorted(found.inserted)
    reasons = dict(zip(inserted, index.reasons(paper, inserted), strict=True))
    kept = {related.paper_id: related for related in document.related}
    related = [
        RelatedPaper(
            paper_id=index.paper_ids[entry],
            title=index.titles[entry],
            score=score,
            reason=reasons[entry],
        )
        if entry in reasons
        else kept[index.paper_ids[entry]]
        for entry, score in found.entries
    ]
    return document.model_copy(update={"related": related})


@dataclass(frozen=True)
class Merged:
    """An earlier paper's list with the new papers that belong in it: (row, score) best first,
    and which of the rows are new to it (their reasons are still to be written)."""

    entries: list[tuple[int, float]]
    inserted: set[int]


def merged(
    index: RelatedIndex, row: int, listed: Sequence[RelatedPaper], new_rows: Sequence[int], k: int
) -> Merged | None:
    """Paper ``row``'s stored list ``listed`` with those of ``new_rows`` that now belong in its
    best ``k``; None when the list does not say how the paper scores (too short for the
    hybrid's three unknowns, or not made as this index scores): search for it again."""
    rows = [index.row_of(related.paper_id) for related in listed]
    if any(found is None for found in rows) or index.diversity:
        return None
    listed_rows = [int(found) for found in rows if found is not None]
    fresh = sorted({new for new in new_rows if new != row and new not in listed_rows})
    scorer = _scorer(index, row, listed_rows, [related.score for related in listed])
    if scorer is None:
        return None
    scores, similarities = scorer(fresh)
    entries = [(found, related.score) for found, related in zip(listed_rows, listed, strict=True)]
    weakest = listed[-1].score if len(listed) >= k else -np.inf
    floor = index.similarity_floor
    inserted: set[int] = set()
    for new, score, similarity in zip(fresh, scores, similarities, strict=True):
        if score <= weakest or (floor is not None and similarity < floor):
            continue
        if _duplicate(index, row, new, [found for found, _ in entries]):
            continue
        entries.append((new, round(float(score), 4)))
        inserted.add(new)
    if not inserted:
        return Merged(entries, set())
    entries.sort(key=lambda entry: -entry[1])
    kept = entries[:k]
    return Merged(kept, {found for found, _ in kept} & inserted)


# Scores of other rows in one paper's list, and the similarities its floor applies to.
Scorer = Callable[[Sequence[int]], tuple[np.ndarray, np.ndarray]]


def _scorer(
    index: RelatedIndex, row: int, listed: Sequence[int], stored: Sequence[float]
) -> Scorer | None:
    """How paper ``row`` scores other rows (its list's order and the similarity the floor
    applies to), recovered from its stored list; None if it cannot be."""
    ranker = index.ranker
    if isinstance(ranker, TfidfRanker):

        def cosine(others: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
            found = _lexical(ranker, row, others)
            return found, found

        return cosine
    if not isinstance(ranker, HybridRanker):
        return None
    lexical, dense = ranker.lexical, ranker.dense
    if not isinstance(lexical, TfidfRanker) or not isinstance(dense, DenseRanker):
        return None
    if len(listed) < MIN_FITTED:
        return None
    weight = ranker.dense_weight

    def parts(others: Sequence[int]) -> np.ndarray:
        return np.column_stack(
            [_lexical(lexical, row, others), _dense(dense, row, others), np.ones(len(others))]
        )

    known = parts(listed)
    coefficients, *_ = np.linalg.lstsq(known, np.asarray(stored, dtype=np.float64), rcond=None)
    if np.abs(known @ coefficients - np.asarray(stored)).max() > FIT_TOLERANCE:
        return None

    def score(others: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        found = parts(others)
        return found @ coefficients, (1 - weight) * found[:, 0] + weight * found[:, 1]

    return score


def _lexical(ranker: TfidfRanker, row: int, others: Sequence[int]) -> np.ndarray:
    if not others:
        return np.zeros(0)
    return np.asarray((ranker.matrix[list(others)] @ ranker.matrix[row].T).toarray()).ravel()


def _dense(ranker: DenseRanker, row: int, others: Sequence[int]) -> np.ndarray:
    if not others:
        return np.zeros(0)
    return np.asarray(ranker.embeddings[list(others)] @ ranker.embeddings[row], dtype=np.float64)


def _duplicate(index: RelatedIndex, row: int, new: int, listed: Sequence[int]) -> bool:
    """Whether ``new`` is a copy of the paper or of a paper its list holds: the same title,
    or near-identical text in the explainer's space (as ``RelatedIndex`` drops them)."""
    title = normalise_title(index.titles[new])
    if title in {normalise_title(index.titles[other]) for other in [row, *listed]}:
        return True
    matrix = index.explainer.tfidf.matrix
    others = [row, *listed]
    cosines = np.asarray((matrix[others] @ matrix[new].T).toarray()).ravel()
    return bool((cosines >= NEAR_DUPLICATE).any())
