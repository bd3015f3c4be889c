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
index, give back ``a``, ``b`` and ``c`` by least squares, and with them the score the new paper
would have in that list. TF-IDF's score is the lexical cosine itself.

The spreads are those of the corpus the list was made in; the update adds a few per cent of
papers, which moves them by about as much, and the list's order not at all.

Most earlier lists a new paper is near do not take it in (three in four, in
``make bench-increment``), and reading, parsing and fitting each of them cost more than the
merges that change something. So each document is stored beside its list's ``Cutoff``: the
coefficients its fit gives, its weakest score and its length. ``may_gain`` scores the new
papers against those without reading any list, and only lists that one of them may enter are
read and merged; a list without a cutoff of the index's fit is read as before.

Lists are taken in batches (``with_new_papers``): the similarities of every (earlier, listed or
new) pair come from a few vectorised products, and the reasons of every inserted paper from one
``RelatedIndex.reasons_many`` call, since per-list calls cost more in overhead than in work.
"""

from __future__ import annotations

import struct
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans

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
# How far below a list's weakest score, and its floor, a new paper's score from the stored
# cutoff may be and the list still be read: the similarities are computed again in other
# batches, which may round differently; lists are stored to 4 decimals.
CUTOFF_MARGIN = 1e-4
# Pairs whose similarities are computed in one product: bounds the dense rows copied at once
# (this many times the vector's size, twice).
PAIR_BLOCK = 8_192
# The k-means that groups an update's papers by topic (``in_topic_order``) needs no converged
# or fine clusters, so its time is bounded: at most this many rounds and clusters, fitted on at
# most this many papers (evenly spaced) and applied to the rest a block at a time. A day of
# arXiv (20,000 papers) takes seconds; an update of 200,000 (a fifth of a million) about as long.
TOPIC_ITERATIONS = 50
TOPIC_GROUPS = 100
TOPIC_SAMPLE = 20_000


def in_topic_order(index: RelatedIndex, rows: Sequence[int], chunk: int) -> list[int]:
    """``rows`` (papers an update added) with similar papers next to each other, so that
    chunks of ``chunk`` consecutive rows each hold a few topics.

    An earlier paper's list is read, merged and written once for every chunk holding a
    paper it may gain; papers on one topic gain the same earlier lists, so grouping them
    means fewer of those rounds (docs/performance.md). Groups are k-means clusters of the
    dense vectors, one per chunk up to ``TOPIC_GROUPS``; arrival order within a group, and
    throughout where the index has no dense vectors.
    """
    groups = min(len(rows) // chunk, TOPIC_GROUPS)
    step = max(1, len(rows) // TOPIC_SAMPLE)
    sample = index.dense_vectors(rows[::step]) if groups > 1 else None
    if sample is None:
        return list(rows)
    clusters = KMeans(n_clusters=groups, n_init=1, max_iter=TOPIC_ITERATIONS, random_state=0)
    clusters.fit(sample)
    labels = np.concatenate(
        [
            clusters.predict(index.dense_vectors(rows[start : start + TOPIC_SAMPLE]))
            for start in range(0, len(rows), TOPIC_SAMPLE)
        ]
    )
    return [rows[i] for i in np.argsort(labels, kind="stable")]


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


@dataclass(frozen=True)
class Earlier:
    """An earlier paper's stored document, its row, and the new papers it may gain."""

    row: int
    document: EnrichedPaper
    new_rows: Sequence[int]


@dataclass(frozen=True)
class Cutoff:
    """What decides whether a new paper may enter a stored list, without reading it: the
    list's coefficients over ``_Parts``' columns (as ``_scored`` fits them), its weakest
    score and how many papers it holds; ``fit`` names the index fit they hold for."""

    fit: bytes
    length: int
    weakest: float
    coefficients: np.ndarray

    def encode(self) -> bytes:
        """Stored bytes: the fit's name, then the length and the floats (double precision,
        so that the coefficients are the ones ``_scored`` fits)."""
        floats = [self.weakest, *map(float, self.coefficients)]
        return self.fit + struct.pack(f"<I{len(floats)}d", self.length, *floats)

    @classmethod
    def decode(cls, raw: bytes | None, fit: bytes) -> Cutoff | None:
        """The cutoff ``raw`` holds if it was fitted on the index fit named ``fit``."""
        if not raw or not fit or not raw.startswith(fit):
            return None
        body = raw[len(fit) :]
        floats = (len(body) - 4) // 8
        if floats < 2 or len(body) != 4 + 8 * floats:
            return None
        length, weakest, *coefficients = struct.unpack(f"<I{floats}d", body)
        return cls(fit, length, weakest, np.asarray(coefficients, dtype=np.float64))

    def lowest_to_enter(self, k: int) -> float:
        """The score a paper must beat to enter the list of ``k``."""
        return self.weakest if self.length >= k else -np.inf


def cutoffs(
    index: RelatedIndex, rows: Sequence[int | None], documents: Sequence[EnrichedPaper]
) -> list[bytes]:
    """Each document's ``Cutoff``, encoded (``rows`` are the documents' papers'); empty where
    its list does not say how the paper scores, where the index's fit has no name, or where
    the paper or a listed one is not indexed."""
    found = [b""] * len(documents)
    if not index.fit or index.diversity:
        return found
    known = [
        (i, int(row), listed)
        for i, (row, document) in enumerate(zip(rows, documents, strict=True))
        if row is not None and (listed := _listed_rows(index, document)) is not None
    ]
    parts = _Parts.of(index, [row for _, row, _ in known], [listed for _, _, listed in known])
    if parts is None:
        return found
    for position, (i, _, listed) in enumerate(known):
        stored = [related.score for related in documents[i].related]
        coefficients = _coefficients(parts.of_pair(position)[0], stored)
        if coefficients is not None:
            weakest = stored[-1] if stored else -np.inf
            found[i] = Cutoff(index.fit, len(listed), weakest, coefficients).encode()
    return found


def may_gain(
    index: RelatedIndex,
    near: Mapping[int, Sequence[int]],
    stored: Sequence[bytes | None],
    k: int,
) -> list[int]:
    """The earlier papers of ``near`` (rows, each with the new rows near it) whose lists one
    of those new papers may enter, judged by their ``stored`` cutoffs (``near``'s order):
    scored above the weakest and past the floor, each less ``CUTOFF_MARGIN``. Papers without
    a cutoff of the index's fit are all kept, to be read and merged as before."""
    rows = list(near)
    if index.diversity:
        return rows
    decoded = [Cutoff.decode(raw, index.fit) for raw in stored]
    judged = [(row, cutoff) for row, cutoff in zip(rows, decoded, strict=True) if cutoff]
    fresh = [sorted(set(near[row]) - {row}) for row, _ in judged]
    parts = _Parts.of(index, [row for row, _ in judged], fresh)
    if parts is None:
        return rows
    floor = index.similarity_floor
    ruled_out = set()
    for position, (row, cutoff) in enumerate(judged):
        columns, floored = parts.of_pair(position)
        if columns.shape[1] != len(cutoff.coefficients):
            continue
        scores = columns @ cutoff.coefficients
        entering = scores > cutoff.lowest_to_enter(k) - CUTOFF_MARGIN
        if floor is not None:
            entering &= floored >= floor - CUTOFF_MARGIN
        if not entering.any():
            ruled_out.add(row)
    return [row for row in rows if row not in ruled_out]


def with_new_papers(
    index: RelatedIndex,
    earlier: Sequence[Earlier],
    k: int,
    new_papers: Mapping[int, IndexedPaper],
) -> list[EnrichedPaper | None]:
    """Each document with the new papers that belong in its list, each with its reason;
    searched again when its list does not say how it scores; None where the list stays as
    it is. ``new_papers`` are the papers of the earlier ones' ``new_rows``, by row."""
    found = merged_many(index, earlier, k)
    results: list[EnrichedPaper | None] = [None] * len(earlier)
    again = [i for i, merge in enumerate(found) if merge is None]
    for i, searched in zip(
        again, _searched_again(index, [earlier[i].document for i in again], k), strict=True
    ):
        results[i] = searched
    gaining = {i: merge for i, merge in enumerate(found) if merge is not None and merge.inserted}
    for i, changed in zip(
        gaining,
        _with_inserted(index, [earlier[i] for i in gaining], list(gaining.values()), new_papers),
        strict=True,
    ):
        results[i] = changed
    return results


def _searched_again(
    index: RelatedIndex, documents: Sequence[EnrichedPaper], k: int
) -> list[EnrichedPaper | None]:
    """The documents with their lists searched for anew; None where the list is unchanged."""
    if not documents:
        return []
    found = index.related_many([_paper(document) for document in documents], k)
    return [
        None
        if [r.paper_id for r in related] == [r.paper_id for r in document.related]
        else document.model_copy(update={"related": related})
        for document, related in zip(documents, found, strict=True)
    ]


def _with_inserted(
    index: RelatedIndex,
    earlier: Sequence[Earlier],
    merges: Sequence[Merged],
    new_papers: Mapping[int, IndexedPaper],
) -> list[EnrichedPaper]:
    """The documents with their merged lists, the reasons of all inserted papers written in
    one call.

    An inserted paper's reason is written from its own side: the phrases as it spells them
    and, when they share none, its sentence closest to the earlier paper. Its sentences are
    those its own list's reasons had encoded moments before in the same job
    (``dense.remembered``); the earlier paper's would be encoded once more for every chunk
    of the update it gains a paper in, which was most of an update's work.
    """
    inserted = sorted({row for merge in merges for row in merge.inserted})
    position = {row: i for i, row in enumerate(inserted)}
    pairs = [
        (position[new], paper.row)
        for paper, merge in zip(earlier, merges, strict=True)
        for new in sorted(merge.inserted)
    ]
    written = index.reasons_many([new_papers[row] for row in inserted], pairs)
    reasons = dict(zip(pairs, written, strict=True))
    changed = []
    for paper, merge in zip(earlier, merges, strict=True):
        kept = {related.paper_id: related for related in paper.document.related}
        related = [
            RelatedPaper(
                paper_id=index.paper_ids[entry],
                title=index.titles[entry],
                score=score,
                reason=reasons[(position[entry], paper.row)],
            )
            if entry in merge.inserted
            else kept[index.paper_ids[entry]]
            for entry, score in merge.entries
        ]
        changed.append(paper.document.model_copy(update={"related": related}))
    return changed


@dataclass(frozen=True)
class Merged:
    """An earlier paper's list with the new papers that belong in it: (row, score) best first,
    and which of the rows are new to it (their reasons are still to be written)."""

    entries: list[tuple[int, float]]
    inserted: set[int]


def merged_many(index: RelatedIndex, earlier: Sequence[Earlier], k: int) -> list[Merged | None]:
    """Each stored list with those of its ``new_rows`` that now belong in its best ``k``;
    None where the list does not say how the paper scores (too short for the hybrid's three
    unknowns, or not made as this index scores): search for it again."""
    listed: list[list[int] | None] = []
    fresh: list[list[int]] = []
    for paper in earlier:
        known = _listed_rows(index, paper.document)
        listed.append(known)
        taken = set(known or [])
        fresh.append(
            sorted({new for new in paper.new_rows if new != paper.row and new not in taken})
        )
    others = [(rows or []) + new for rows, new in zip(listed, fresh, strict=True)]
    parts = _Parts.of(index, [paper.row for paper in earlier], others)
    if parts is None or index.diversity:
        return [None] * len(earlier)
    scored = [
        None if rows is None else _scored(index, paper, rows, new_rows, parts.of_pair(i), k)
        for i, (paper, rows, new_rows) in enumerate(zip(earlier, listed, fresh, strict=True))
    ]
    checks = [
        (new, other)
        for paper, found in zip(earlier, scored, strict=True)
        if found is not None
        for new, _ in found.passing
        for other in [paper.row, *found.rows()]
        if other != new
    ]
    copies = _near_duplicates(index, checks)
    return [
        None if found is None else _merged(index, paper.row, found, copies, k)
        for paper, found in zip(earlier, scored, strict=True)
    ]


@dataclass(frozen=True)
class _Scored:
    """A stored list, (row, score) best first, and the new rows that score into it."""

    entries: list[tuple[int, float]]
    passing: list[tuple[int, float]]

    def rows(self) -> list[int]:
        return [row for row, _ in self.entries + self.passing]


def _scored(
    index: RelatedIndex,
    paper: Earlier,
    listed: list[int],
    fresh: list[int],
    parts: tuple[np.ndarray, np.ndarray],
    k: int,
) -> _Scored | None:
    """The new rows of ``fresh`` that score into one stored list (above its last entry and
    the floor); ``parts`` are the similarity columns of its listed rows, then of ``fresh``
    (see ``_Parts``). None when the list does not say how the paper scores."""
    stored = [related.score for related in paper.document.related]
    known, others = parts[0][: len(listed)], parts[0][len(listed) :]
    floored = parts[1][len(listed) :]
    coefficients = _coefficients(known, stored)
    if coefficients is None:
        return None
    scores = others @ coefficients
    weakest = stored[-1] if len(stored) >= k else -np.inf
    floor = index.similarity_floor
    passing = [
        (new, round(float(score), 4))
        for new, score, similarity in zip(fresh, scores, floored, strict=True)
        if score > weakest and (floor is None or similarity >= floor)
    ]
    return _Scored(list(zip(listed, stored, strict=True)), passing)


def _coefficients(known: np.ndarray, stored: Sequence[float]) -> np.ndarray | None:
    """How a list scores over ``_Parts``' columns, from its listed papers' columns
    (``known``) and ``stored`` scores; None when the list does not say. TF-IDF's score is
    its one column, the cosine; the hybrid's three are fitted by least squares."""
    if known.shape[1] == 1:
        return np.ones(1)
    if len(stored) < MIN_FITTED:
        return None
    target = np.asarray(stored, dtype=np.float64)
    coefficients, *_ = np.linalg.lstsq(known, target, rcond=None)
    if np.abs(known @ coefficients - target).max() > FIT_TOLERANCE:
        return None
    fitted: np.ndarray = coefficients
    return fitted


def _listed_rows(index: RelatedIndex, document: EnrichedPaper) -> list[int] | None:
    """The rows of the papers the document lists; None if one is not indexed."""
    rows = [index.row_of(related.paper_id) for related in document.related]
    return None if any(row is None for row in rows) else [int(r) for r in rows if r is not None]


def _merged(
    index: RelatedIndex, row: int, found: _Scored, copies: set[tuple[int, int]], k: int
) -> Merged:
    """The list with its passing new rows inserted, but for copies (``_near_duplicates``,
    or the same title) of the paper or of a paper already in the list."""
    entries = list(found.entries)
    if not found.passing:  # most lists looked at: nothing to compare
        return Merged(entries, set())
    others = [row, *(other for other, _ in entries)]
    titles = {normalise_title(index.titles[other]) for other in others}
    inserted: set[int] = set()
    for new, score in found.passing:
        title = normalise_title(index.titles[new])
        if title in titles or any((new, other) in copies for other in others):
            continue
        entries.append((new, score))
        others.append(new)
        titles.add(title)
        inserted.add(new)
    if not inserted:
        return Merged(entries, set())
    entries.sort(key=lambda entry: -entry[1])
    kept = entries[:k]
    return Merged(kept, {row for row, _ in kept} & inserted)


def _near_duplicates(index: RelatedIndex, pairs: Sequence[tuple[int, int]]) -> set[tuple[int, int]]:
    """The pairs of rows whose texts are near-identical in the explainer's space (as
    ``RelatedIndex`` drops copies), from one vectorised product for all of them."""
    if not pairs:
        return set()
    left = np.asarray([first for first, _ in pairs], dtype=np.int64)
    right = np.asarray([second for _, second in pairs], dtype=np.int64)
    cosines = _sparse_pairs(index.explainer.tfidf, left, right)
    return {pair for pair, cosine in zip(pairs, cosines, strict=True) if cosine >= NEAR_DUPLICATE}


@dataclass(frozen=True)
class _Parts:
    """The similarities that make up each list's scores, for every (paper, other row) pair
    of a batch: one column for TF-IDF (its cosine), three for the hybrid (lexical, dense, 1);
    and the similarity its floor applies to. ``bounds`` delimit each paper's pairs."""

    columns: np.ndarray
    floored: np.ndarray
    bounds: np.ndarray

    @classmethod
    def of(
        cls, index: RelatedIndex, rows: Sequence[int], others: Sequence[Sequence[int]]
    ) -> _Parts | None:
        """The pairs of each of ``rows`` with each of its ``others``; None for a ranker
        whose scores are not made of these parts."""
        bounds = np.cumsum([0, *[len(found) for found in others]])
        left = np.repeat(np.asarray(rows, dtype=np.int64), np.diff(bounds)).astype(np.int64)
        right = np.asarray([row for found in others for row in found], dtype=np.int64)
        ranker = index.ranker
        if isinstance(ranker, TfidfRanker):
            cosine = _sparse_pairs(ranker, left, right)
            return cls(cosine[:, None], cosine, bounds)
        if not isinstance(ranker, HybridRanker):
            return None
        lexical, dense = ranker.lexical, ranker.dense
        if not isinstance(lexical, TfidfRanker) or not isinstance(dense, DenseRanker):
            return None
        lexical_part = _sparse_pairs(lexical, left, right)
        dense_part = _dense_pairs(dense, left, right)
        columns = np.column_stack([lexical_part, dense_part, np.ones(len(left))])
        weight = ranker.dense_weight
        return cls(columns, (1 - weight) * lexical_part + weight * dense_part, bounds)

    def of_pair(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """List ``i``'s columns and floored similarities."""
        start, end = self.bounds[i], self.bounds[i + 1]
        return self.columns[start:end], self.floored[start:end]


def _sparse_pairs(space: TfidfRanker, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The dot product of ``space``'s rows ``left[i]`` and ``right[i]`` for each ``i``."""
    found = np.zeros(len(left))
    for start in range(0, len(left), PAIR_BLOCK):
        block = slice(start, start + PAIR_BLOCK)
        product = space.rows(left[block]).multiply(space.rows(right[block]))
        found[block] = np.asarray(product.sum(axis=1)).ravel()
    return found


def _dense_pairs(dense: DenseRanker, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    found = np.zeros(len(left))
    for start in range(0, len(left), PAIR_BLOCK):
        block = slice(start, start + PAIR_BLOCK)
        products = np.einsum("ij,ij->i", dense.vectors(left[block]), dense.vectors(right[block]))
        found[block] = products
    return found


def _paper(document: EnrichedPaper) -> IndexedPaper:
    return IndexedPaper(document.paper_id, document.title, document.abstract)
