"""The hybrid ranker's related papers at scale: a few hundred candidates per paper, scored
exactly as scoring every paper would score them.

Candidates come from two stages, united: the HNSW graph over the dense embeddings (the
papers nearest in meaning) and the lexical stage, the papers that score best by TF-IDF
cosine, read from the inverted lists (the TF-IDF matrix by columns) of the query's terms,
which also catch the papers that share a rare term the embeddings blur. Every candidate is
then scored exactly.

The hybrid's score is corpus-relative: each part is z-scored over the whole corpus before
the two are mixed (``HybridRanker.scored``). The dense part's mean and spread come from the
embeddings' mean and second-moment matrix, kept from the build: a query's mean similarity
is its inner product with the mean embedding, and its mean squared similarity is
``q @ second_moment @ q``. The lexical part's mean is the query's inner product with the
sum of every paper's row (``LexicalMoments.sums``); its mean square needs the query's
cosine to every paper. Up to ``AnnParams.statistics_sample`` papers the lexical stage reads
every term's list, which gives each paper's exact cosine, hence both the spread and the
best cosines: a candidate scores what it scores in exact search, up to float rounding, and
only the choice of candidates is approximate. Above that size, where a query's terms name
nearly every paper (five million entries at a million papers, most of them common words'),
reading them all was most of a list's time. There the lexical stage reads the query's terms
from the rarest up until ``AnnParams.lexical_postings`` entries are read, whose cosines give
the best candidates (the common words add little to any cosine) and the squared cosines'
sum over those terms exactly; what the unread terms add to that sum comes from an even
sample of ``AnnParams.statistics_sample`` papers. It does so only where that reads fewer
entries than every term's list: not far above the sample's size the sample is most of the
papers, and every term is read as below it.
``bench/hybrid_ann.py`` measures what both approximations cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

from worker.pipeline.half_sparse import HalfSparse
from worker.pipeline.neighbours import AnnParams, Neighbours
from worker.pipeline.rankers.base import IndexedPaper, zscore
from worker.pipeline.rankers.dense import DenseRanker
from worker.pipeline.rankers.hybrid import HybridRanker
from worker.pipeline.rankers.tfidf import TfidfRanker

# Embeddings summed this many at a time when the moments are computed, to bound memory.
_MOMENT_BLOCK = 50_000
# Query-by-paper cosines computed this many cells at a time, a few tens of MiB: a query has
# at most as many as the entries its lexical stage reads, or the papers of the sample.
_COSINE_BLOCK_CELLS = 4_000_000
# ``_top`` bounds the largest values from every this-many-th one.
_TOP_STRIDE = 10
# Columns summed this many at a time when the lexical sums are computed, to bound memory.
_SUM_COLUMNS = 50_000


@dataclass
class LexicalMoments:
    """What the lexical z-score needs of the corpus besides a query's own row.

    ``sums`` holds each term's column sum, so that a query's mean cosine over every paper
    is one inner product. ``sample`` holds the columns of an even sample of the papers'
    rows, ``sampled`` papers in all, whose cosines to a query estimate what the terms the
    lexical stage leaves unread add to its mean squared cosine; None when the sample would
    be every paper, and every term is read.
    """

    sums: np.ndarray
    sample: HalfSparse | None
    sampled: int

    @classmethod
    def of(cls, columns: HalfSparse, rows: sparse.csr_matrix, sample: int) -> LexicalMoments:
        """The moments of the lexical matrix, kept by ``columns`` and given by ``rows``."""
        sums = np.zeros(columns.shape[1], dtype=np.float64)
        for first in range(0, columns.shape[1], _SUM_COLUMNS):
            last = min(first + _SUM_COLUMNS, columns.shape[1])
            block = columns.major(np.arange(first, last))
            sums[first:last] = np.asarray(block.sum(axis=0, dtype=np.float64)).ravel()
        papers = rows.shape[0]
        if papers <= sample:
            return cls(sums, None, papers)
        picked = rows[:: -(-papers // sample)]
        return cls(sums, HalfSparse.of(picked.tocsc()), picked.shape[0])


class HybridSearch:
    """The dense graph, the lexical matrix by columns and the dense moments of one hybrid."""

    def __init__(
        self,
        graph: Neighbours,
        columns: HalfSparse,
        lexical_moments: LexicalMoments,
        dense_mean: np.ndarray,
        dense_second_moment: np.ndarray,
    ) -> None:
        self.graph = graph
        self.columns = columns
        self.lexical_moments = lexical_moments
        self.dense_mean = dense_mean
        self.dense_second_moment = dense_second_moment

    @classmethod
    def build(
        cls,
        ranker: HybridRanker,
        params: AnnParams,
        columns: HalfSparse,
        rows: sparse.csr_matrix,
    ) -> HybridSearch:
        """``columns`` is the ranker's lexical matrix by columns (the index keeps one copy),
        ``rows`` the same by rows. The dense ranker keeps its embeddings in the graph from
        then on (``keep_in``)."""
        _, dense = parts(ranker)
        graph = Neighbours.of_vectors(dense.embeddings, params)
        dense.keep_in(graph)
        # The moments of the vectors as kept, which every score reads from now on.
        total, second = _sums(dense.vectors(np.arange(0)))
        for start in range(0, len(dense), _MOMENT_BLOCK):
            block_total, block_second = _sums(
                dense.vectors(np.arange(start, min(start + _MOMENT_BLOCK, len(dense))))
            )
            total += block_total
            second += block_second
        count = max(1, len(dense))
        lexical_moments = LexicalMoments.of(columns, rows, params.statistics_sample)
        return cls(graph, columns, lexical_moments, total / count, second / count)

    def extend(self, added: np.ndarray, columns: HalfSparse, rows: sparse.csr_matrix) -> None:
        """Take in the papers whose embeddings ``added`` follow those indexed, into the
        moments, which stay those of every indexed paper; the graph has them already, as
        the store the dense ranker added them to (``DenseRanker.keep_in``). ``columns`` and
        ``rows`` are the lexical matrix by columns and by rows with the new papers."""
        before = self.columns.shape[0]
        total, second = _sums(added)
        count = before + len(added)
        self.dense_mean = (self.dense_mean * before + total) / count
        self.dense_second_moment = (self.dense_second_moment * before + second) / count
        self.columns = columns
        self.lexical_moments = LexicalMoments.of(columns, rows, self.params.statistics_sample)

    @property
    def params(self) -> AnnParams:
        return self.graph.params

    def candidates(
        self,
        ranker: HybridRanker,
        papers: Sequence[IndexedPaper],
        rows: Sequence[int | None],
    ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """For each paper: its candidate rows (never its own), their fused scores and their
        raw mixes, as ``HybridRanker.scored`` gives them, best first."""
        lexical, dense = parts(ranker)
        lexical_queries = lexical.vectors(papers, rows)
        dense_queries = _dense_queries(dense, papers, rows)
        proposed = self.graph.search(dense_queries, self.params.candidates + 1)
        # Up to the sample's size the spread needs every paper's cosine, so every term's list
        # is read once for both; above it, the rarest terms' for the candidates and every
        # term's over the sample for the spread, where that reads fewer entries (at 100,000
        # papers, a second, pruned product cost more than it saved: "Hybrid related lists at
        # scale", 2026-12-06 09:50).
        sample = self.lexical_moments.sample
        papers_read = self.columns.shape[0]
        if sample is not None:
            papers_read = max(min(papers_read, self.params.lexical_postings), sample.shape[0])
        block = block_of_queries(papers_read)
        found = []
        for first in range(0, len(rows), block):
            queries = lexical_queries[first : first + block]
            read = self.terms_read(queries)
            cosines = self._cosines(read, self.columns)
            squares = _row_square_sums(cosines)
            if read is not queries:
                assert sample is not None
                squares += self._unread_squares(read, queries - read, sample)
            means = np.asarray(queries @ self.lexical_moments.sums).ravel()
            for position in range(cosines.shape[0]):
                start, end = cosines.indptr[position], cosines.indptr[position + 1]
                at = first + position
                found.append(
                    self._scored(
                        ranker,
                        rows[at],
                        (cosines.indices[start:end], cosines.data[start:end]),
                        proposed[at],
                        (queries[position], dense_queries[at]),
                        _standardiser(
                            float(means[position]) / self.columns.shape[0],
                            float(squares[position]) / self.columns.shape[0],
                        ),
                    )
                )
        return found

    def terms_read(self, queries: sparse.csr_matrix) -> sparse.csr_matrix:
        """The terms of ``queries`` whose inverted lists the lexical stage reads: all of them
        (``queries`` itself) up to the sample's size, and above it wherever reading them all
        costs fewer entries than the rarest terms within the budget plus every term over the
        sample."""
        sample = self.lexical_moments.sample
        if sample is None:
            return queries
        rarest = self._rarest_terms(queries)
        lengths = np.diff(self.columns.indptr)
        every = float(lengths[queries.indices].sum())
        pruned = float(lengths[rarest.indices].sum())
        share = self.lexical_moments.sampled / self.columns.shape[0]
        return rarest if pruned + share * every < every else queries

    def _unread_squares(
        self, read: sparse.csr_matrix, unread: sparse.csr_matrix, sample: HalfSparse
    ) -> np.ndarray:
        """Each query's estimate of what its ``unread`` terms add to its squared cosines
        summed over every paper, from the sample: the squares of the whole cosines there
        less those of the ``read`` terms' (most of the spread is in the few papers that
        share a rare term, which the terms read catch whole)."""
        over_read = self._cosines(read, sample)
        whole = over_read + self._cosines(unread, sample)
        scale = self.columns.shape[0] / self.lexical_moments.sampled
        added: np.ndarray = scale * (_row_square_sums(whole) - _row_square_sums(over_read))
        return added

    def _rarest_terms(self, queries: sparse.csr_matrix) -> sparse.csr_matrix:
        """``queries`` with only the terms the lexical stage reads: each query's terms from
        the one with the shortest inverted list up, until the next would take the entries
        read past ``lexical_postings`` (the rarest term is always read)."""
        indptr = self.columns.indptr
        lengths = indptr[queries.indices + 1] - indptr[queries.indices]
        owner = np.repeat(np.arange(queries.shape[0]), np.diff(queries.indptr))
        order = np.lexsort((lengths, owner))  # by query, then rarest first
        read = np.cumsum(lengths[order])
        before_query = np.concatenate([[0], read])[queries.indptr[:-1]]
        within = read - before_query[owner[order]]
        first = np.zeros(len(order), dtype=bool)
        first[queries.indptr[:-1][np.diff(queries.indptr) > 0]] = True
        keep = np.empty(len(order), dtype=bool)
        keep[order] = (within <= self.params.lexical_postings) | first
        if keep.all():
            return queries
        kept_per_query = np.bincount(owner[keep], minlength=queries.shape[0])
        kept_indptr = np.concatenate([[0], np.cumsum(kept_per_query)])
        return sparse.csr_matrix(
            (queries.data[keep], queries.indices[keep], kept_indptr), shape=queries.shape
        )

    @staticmethod
    def _cosines(queries: sparse.csr_matrix, columns: HalfSparse) -> sparse.csr_matrix:
        """Rows by query, columns by the rows ``columns`` holds: the cosines of the papers
        sharing a term with a query, from the inverted lists of the queries' terms. Each
        query's papers come in no particular order (sorting them took a quarter of a list's
        time at a million papers): nothing that reads them needs them sorted."""
        terms = np.unique(queries.indices)
        cosines: sparse.csr_matrix = (queries[:, terms] @ columns.major(terms).T).tocsr()
        return cosines

    def _scored(
        self,
        ranker: HybridRanker,
        row: int | None,
        hits: tuple[np.ndarray, np.ndarray],
        proposed: np.ndarray,
        query: tuple[sparse.csr_matrix, np.ndarray],
        lexical_z: _ZScore,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One paper's candidates (the graph's ``proposed`` and the lexical stage's best of
        ``hits``, the rows sharing a term read and their cosines over those terms, in any
        order) with their exact scores; ``query`` is the paper's lexical row and embedding,
        ``lexical_z`` the z-score of its lexical cosines over the corpus."""
        hit_rows, hit_cosines = hits
        lexical_query, dense_query = query
        wanted = 0
        if self.params.lexical_candidates:
            # One more than asked for when the paper is indexed: its own row is the best of all.
            wanted = self.params.lexical_candidates + (row is not None)
        best = hit_rows[_top(hit_cosines, wanted)]
        union = np.union1d(proposed[proposed >= 0], best)
        if row is not None:
            union = union[union != row]
        wide = np.asarray(dense_query, dtype=np.float64)
        dense_z = _standardiser(
            float(self.dense_mean @ wide), float(wide @ self.dense_second_moment @ wide)
        )
        lexical, dense = parts(ranker)
        # The candidates' cosines again from their rows: a few hundred rows cost less than
        # finding them among the hits, which are unsorted. The query as a dense vector: a
        # sparse one would be converted to the rows' layout first, on every call.
        lexical_scores = np.asarray(
            lexical.rows(union) @ lexical_query.toarray().ravel(), dtype=np.float64
        )
        dense_scores = np.asarray(dense.vectors(union) @ dense_query, dtype=np.float64)
        weight = ranker.dense_weight
        fused = (1 - weight) * lexical_z(lexical_scores) + weight * dense_z(dense_scores)
        raw = (1 - weight) * lexical_scores + weight * dense_scores
        order = np.argsort(-fused, kind="stable")
        return union[order], fused[order], raw[order]

    def save_graph(self, path: Path) -> None:
        self.graph.save_graph(path)

    def load_graph(self, path: Path, writable: bool = False) -> None:
        self.graph.load_graph(path, writable)

    def __len__(self) -> int:
        return len(self.graph)


def block_of_queries(per_query: int) -> int:
    """How many queries' cosines are computed at once when each may have ``per_query`` of
    them (the papers it is compared with): about ``_COSINE_BLOCK_CELLS`` in all."""
    return max(1, _COSINE_BLOCK_CELLS // max(1, per_query))


def parts(ranker: HybridRanker) -> tuple[TfidfRanker, DenseRanker]:
    """The served hybrid's two rankers; the scale path knows how to search these two only."""
    if not isinstance(ranker.lexical, TfidfRanker) or not isinstance(ranker.dense, DenseRanker):
        raise ValueError("the hybrid's approximate search needs TF-IDF and dense parts")
    if ranker.scale is not zscore:
        raise ValueError("the hybrid's approximate search needs z-score fusion")
    return ranker.lexical, ranker.dense


def _sums(embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sum of ``embeddings`` and of their outer products, a block at a time."""
    total = np.zeros(embeddings.shape[1], dtype=np.float64)
    second = np.zeros((embeddings.shape[1],) * 2, dtype=np.float64)
    for start in range(0, len(embeddings), _MOMENT_BLOCK):
        block = np.asarray(embeddings[start : start + _MOMENT_BLOCK], dtype=np.float64)
        total += block.sum(axis=0)
        second += block.T @ block
    return total, second


def _dense_queries(
    dense: DenseRanker, papers: Sequence[IndexedPaper], rows: Sequence[int | None]
) -> np.ndarray:
    """Each paper's embedding: stored if indexed, encoded if not (all of those in one call)."""
    missing = [paper for paper, row in zip(papers, rows, strict=True) if row is None]
    encoded = iter(dense.embed(missing) if missing else [])
    return np.vstack(
        [dense.vectors(row) if row is not None else next(encoded) for row in rows]
    ).astype(np.float32)


def _row_square_sums(matrix: sparse.csr_matrix) -> np.ndarray:
    """The sum of each row's squared values, in float64."""
    owner = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    values = np.asarray(matrix.data, dtype=np.float64)
    return np.bincount(owner, weights=values * values, minlength=matrix.shape[0])


def _standardiser(mean: float, mean_square: float) -> _ZScore:
    return _ZScore(mean, float(np.sqrt(max(mean_square - mean * mean, 0.0))))


class _ZScore:
    """``base.zscore`` with the corpus's mean and spread given rather than computed."""

    def __init__(self, mean: float, spread: float) -> None:
        self.mean = mean
        self.spread = spread

    def __call__(self, values: np.ndarray) -> np.ndarray:
        if self.spread == 0.0:
            return np.zeros_like(values)
        return (values - self.mean) / self.spread


def _top(values: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` largest values (all of them when there are fewer).

    Partitioning every value costs most of a millisecond per 100,000 (a paper's hits at a
    million papers are nearly all of them); so the values are first cut to those at least
    the ``k``-th largest of every ``_TOP_STRIDE``-th one. That bound is never above the
    ``k``-th largest of all, so the cut keeps the ``k`` largest, and about ``_TOP_STRIDE``
    times ``k`` values besides.
    """
    if k <= 0:
        return np.arange(0)
    if len(values) <= k:
        return np.arange(len(values))
    sample = values[::_TOP_STRIDE]
    if len(sample) > k:
        bound = np.partition(sample, len(sample) - k)[len(sample) - k]
        above = np.flatnonzero(values >= bound)
        return above[np.argpartition(-values[above], k - 1)[:k]]
    return np.argpartition(-values, k - 1)[:k]
