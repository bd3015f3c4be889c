"""TF-IDF cosine: the classic lexical baseline, and the source of explanations."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from worker.pipeline.rankers.base import IndexedPaper


class TfidfRanker:
    """Sublinear TF-IDF over title and abstract with English stop words, ranked by cosine."""

    def __init__(self, ngram_max: int = 1, title_repeats: int = 1) -> None:
        self.name = "tfidf" if (ngram_max, title_repeats) == (1, 1) else "tfidf-variant"
        self.ngram_max = ngram_max
        self.title_repeats = title_repeats
        self.vectorizer = TfidfVectorizer(
            sublinear_tf=True,
            stop_words="english",
            strip_accents="unicode",
            ngram_range=(1, ngram_max),
            dtype=np.float32,
        )
        self.matrix: sparse.csr_matrix = sparse.csr_matrix((0, 0), dtype=np.float32)

    def fit(self, papers: Sequence[IndexedPaper]) -> None:
        self.matrix = self.vectorizer.fit_transform([self._text(p) for p in papers]).tocsr()

    def vector(self, paper: IndexedPaper, row: int | None) -> sparse.csr_matrix:
        """The paper's L2-normalised TF-IDF row: stored if indexed, else projected."""
        if row is not None:
            return self.matrix[row]
        return self.vectorizer.transform([self._text(paper)]).tocsr()

    def scores(self, paper: IndexedPaper, row: int | None) -> np.ndarray:
        query = self.vector(paper, row)
        return np.asarray((self.matrix @ query.T).toarray()).ravel()

    def _text(self, paper: IndexedPaper) -> str:
        return " ".join([paper.title] * (self.title_repeats - 1) + [paper.text])
