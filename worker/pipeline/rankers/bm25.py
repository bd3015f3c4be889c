"""Okapi BM25 with the whole query paper as the query, on sparse term counts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer

from worker.pipeline.rankers.base import IndexedPaper


class Bm25Ranker:
    """Each query term adds idf x saturated term frequency, normalised by document length."""

    name = "bm25"

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self.counter = CountVectorizer(stop_words="english", strip_accents="unicode")
        self.weights: sparse.csr_matrix = sparse.csr_matrix((0, 0), dtype=np.float32)

    def fit(self, papers: Sequence[IndexedPaper]) -> None:
        counts = self.counter.fit_transform([p.text for p in papers]).tocsr().astype(np.float32)
        n_docs = counts.shape[0]
        doc_freq = np.bincount(counts.indices, minlength=counts.shape[1])
        idf = np.log1p((n_docs - doc_freq + 0.5) / (doc_freq + 0.5)).astype(np.float32)
        lengths = np.asarray(counts.sum(axis=1)).ravel()
        norm = self.k1 * (1 - self.b + self.b * lengths / max(lengths.mean(), 1.0))
        tf = counts.copy()
        row_of_entry = np.repeat(np.arange(n_docs), np.diff(counts.indptr))
        tf.data = tf.data * (self.k1 + 1) / (tf.data + norm[row_of_entry])
        self.weights = (tf @ sparse.diags(idf)).tocsr()

    def scores(self, paper: IndexedPaper, row: int | None) -> np.ndarray:
        query = self.counter.transform([paper.text]).tocsr()
        return np.asarray((self.weights @ query.T).toarray()).ravel()
