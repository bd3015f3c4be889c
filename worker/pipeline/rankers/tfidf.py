"""TF-IDF cosine: the classic lexical baseline, and the source of explanations."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from worker.pipeline.half_sparse import HalfSparse
from worker.pipeline.packed import PackedVocabulary
from worker.pipeline.rankers.base import IndexedPaper

# Scores of a chunk against the corpus are computed this many cells at a time, so a
# chunk's dense score block stays a few tens of MiB whatever the corpus size.
_SCORE_BLOCK_CELLS = 8_000_000
# Papers transformed per call when the vocabulary comes from a sample (see ``TfidfRanker``).
_FIT_BLOCK = 50_000


class TfidfRanker:
    """Sublinear TF-IDF over title and abstract with English stop words, ranked by cosine.

    ``max_terms`` bounds the vocabulary (the most frequent terms stay). On corpora larger
    than ``vocabulary_sample`` the vocabulary and its weights (IDF) come from that many
    papers, keeping terms used by at least two of them, and the corpus is then transformed
    a block at a time: counting every distinct two-word phrase of a million abstracts, or
    transforming them in one call, would hold several times the final matrix in memory.
    A random sample of a few hundred thousand papers estimates document frequencies closely.
    """

    def __init__(
        self,
        ngram_max: int = 1,
        title_repeats: int = 1,
        max_terms: int | None = None,
        vocabulary_sample: int | None = None,
    ) -> None:
        self.name = "tfidf" if (ngram_max, title_repeats) == (1, 1) else "tfidf-variant"
        self.ngram_max = ngram_max
        self.title_repeats = title_repeats
        self.max_terms = max_terms
        self.vocabulary_sample = vocabulary_sample
        self.vectorizer = TfidfVectorizer(
            sublinear_tf=True,
            stop_words="english",
            strip_accents="unicode",
            ngram_range=(1, ngram_max),
            max_features=max_terms,
            dtype=np.float32,
        )
        self.matrix: sparse.csr_matrix = sparse.csr_matrix((0, 0), dtype=np.float32)
        # The rows once ``compact`` moved them here; ``matrix`` is then empty.
        self.half: HalfSparse | None = None

    def fit(self, papers: Sequence[IndexedPaper]) -> None:
        sampled = self.vocabulary_sample is not None and len(papers) > self.vocabulary_sample
        # A term must occur twice in a sample, so that its one-off phrases stay out; a whole
        # corpus keeps every term (set each time: one ranker may be fitted more than once).
        self.vectorizer.set_params(min_df=2 if sampled else 1)
        self.half = None
        if not sampled:
            self.matrix = self.vectorizer.fit_transform([self._text(p) for p in papers]).tocsr()
            self._pack_vocabulary()
            return
        assert self.vocabulary_sample is not None
        picked = np.random.default_rng(0).choice(len(papers), self.vocabulary_sample, replace=False)
        self.vectorizer.fit([self._text(papers[i]) for i in np.sort(picked)])
        blocks = [
            self.vectorizer.transform([self._text(p) for p in papers[start : start + _FIT_BLOCK]])
            for start in range(0, len(papers), _FIT_BLOCK)
        ]
        self.matrix = sparse.vstack(blocks, format="csr")
        self._pack_vocabulary()

    def extend(self, papers: Sequence[IndexedPaper]) -> None:
        """Append rows for ``papers`` in the fitted space: the vocabulary and its weights stay
        as fitted, so terms no fitted paper used are not counted until the next fit."""
        blocks = [
            self.vectorizer.transform([self._text(p) for p in papers[start : start + _FIT_BLOCK]])
            for start in range(0, len(papers), _FIT_BLOCK)
        ]
        compacted = self.half is not None
        self.matrix = sparse.vstack([self.whole(), *blocks], format="csr", dtype=np.float32)
        self.half = None
        if compacted:
            self.compact()

    def compact(self) -> None:
        """Keep the rows in their compact form from now on (``half_sparse``): at scale they
        are read a few rows at a time, and more than half their bytes go. Once is enough."""
        if self.half is not None:
            return
        self.half = HalfSparse.of(self.matrix)
        self.matrix = sparse.csr_matrix((0, self.matrix.shape[1]), dtype=np.float32)

    def rows(self, rows: int | slice | Sequence[int] | np.ndarray) -> sparse.csr_matrix:
        """The stored rows ``rows`` (one-row matrices for an int) with float32 values,
        however they are kept: every computation with them runs in float32."""
        if self.half is not None:
            found: sparse.csr_matrix = self.half.major(
                list(rows) if isinstance(rows, Sequence) else rows
            )
            return found
        return self.matrix[rows]

    def whole(self) -> sparse.csr_matrix:
        """Every stored row with float32 values: the matrix itself, or, once compacted, a
        copy as large as it (for building and extending, not for serving)."""
        if self.half is not None:
            found: sparse.csr_matrix = self.half.whole()
            return found
        return self.matrix

    def __len__(self) -> int:
        """How many papers' rows are stored."""
        return self.half.shape[0] if self.half is not None else int(self.matrix.shape[0])

    def _pack_vocabulary(self) -> None:
        """Swap the vectorizer's vocabulary dict for a packed one that a saved index maps
        (``worker.pipeline.packed``), once the corpus is transformed: lookups in it cost
        more than in the dict (half as long again to transform a batch of papers, measured
        in bench/RESULTS.md, "Memory"), which transforming a million papers would feel."""
        self.vectorizer.vocabulary_ = PackedVocabulary(self.vectorizer.vocabulary_)

    def vector(self, paper: IndexedPaper, row: int | None) -> sparse.csr_matrix:
        """The paper's L2-normalised TF-IDF row: stored if indexed, else projected."""
        if row is not None:
            return self.rows(row)
        return self.vectorizer.transform([self._text(paper)]).tocsr()

    def vectors(
        self, papers: Sequence[IndexedPaper], rows: Sequence[int | None]
    ) -> sparse.csr_matrix:
        """``vector`` of several papers at once, one row each, in order. The papers not
        indexed are projected in one call: a call per paper costs the vectorizer's fixed
        overhead each time, which dominated ranking a feed's 2,000 new papers (profiled)."""
        missing = [position for position, row in enumerate(rows) if row is None]
        if not missing:
            return self.rows([row for row in rows if row is not None])
        projected = self.vectorizer.transform([self._text(papers[i]) for i in missing]).tocsr()
        if len(missing) == len(rows):
            return projected
        known = [row for row in rows if row is not None]
        # Stored rows first, projected ones after; ``order`` puts each back in its place.
        stacked = sparse.vstack([self.rows(known), projected], format="csr")
        order = np.empty(len(rows), dtype=np.intp)
        order[[i for i, row in enumerate(rows) if row is not None]] = np.arange(len(known))
        order[missing] = np.arange(len(known), len(rows))
        return stacked[order]

    def scores(self, paper: IndexedPaper, row: int | None) -> np.ndarray:
        query = self.vector(paper, row)
        return np.asarray((self.whole() @ query.T).toarray()).ravel()

    def scores_many(self, papers: Sequence[IndexedPaper], rows: Sequence[int | None]) -> np.ndarray:
        """``scores`` of several papers as one array (a row each), in few sparse products."""
        queries = self.vectors(papers, rows)
        matrix = self.whole()
        block = max(1, _SCORE_BLOCK_CELLS // max(1, matrix.shape[0]))
        parts = [
            np.asarray((matrix @ queries[start : start + block].T).toarray()).T
            for start in range(0, queries.shape[0], block)
        ]
        return np.vstack(parts) if parts else np.zeros((0, matrix.shape[0]), np.float32)

    def _text(self, paper: IndexedPaper) -> str:
        return " ".join([paper.title] * (self.title_repeats - 1) + [paper.text])
