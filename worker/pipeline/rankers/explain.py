"""Why two papers are related, in words a reader can check against both abstracts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse

from worker.pipeline.rankers.base import IndexedPaper
from worker.pipeline.rankers.tfidf import TfidfRanker

REASON_TERMS = 3
# Looking a little past the top terms lets a shared phrase replace the words it contains.
_CANDIDATE_TERMS = 12


class Explainer:
    """Shared words and two-word phrases, weighted by how much they add to the TF-IDF cosine."""

    def __init__(self) -> None:
        self.tfidf = TfidfRanker(ngram_max=2)

    def fit(self, papers: Sequence[IndexedPaper]) -> None:
        self.tfidf.fit(papers)
        self._terms = self.tfidf.vectorizer.get_feature_names_out()

    def vector(self, paper: IndexedPaper, row: int | None) -> sparse.csr_matrix:
        return self.tfidf.vector(paper, row)

    def shared_terms(self, query: sparse.csr_matrix, row: int) -> list[str]:
        """The most informative terms both papers use, phrases first, no word named twice."""
        overlap = query.multiply(self.tfidf.matrix[row]).tocsr()
        order = np.argsort(-overlap.data, kind="stable")[:_CANDIDATE_TERMS]
        ranked = [str(self._terms[overlap.indices[i]]) for i in order]
        chosen: list[str] = []
        for term in ranked:
            words = _stems(term)
            clashes = [i for i, other in enumerate(chosen) if words & _stems(other)]
            if not clashes and len(chosen) < REASON_TERMS:
                chosen.append(term)
            elif len(clashes) == 1 and " " in term and " " not in chosen[clashes[0]]:
                chosen[clashes[0]] = term  # "neural network" says more than "network"
        return chosen

    def reason(self, query: sparse.csr_matrix, row: int) -> str:
        return shared_terms_phrase(self.shared_terms(query, row))


def _stems(term: str) -> set[str]:
    """Crude stems, enough that "debate" and "online debates" count as one topic."""
    return {word[:-1] if word.endswith("s") and len(word) > 3 else word for word in term.split()}


def shared_terms_phrase(terms: Sequence[str]) -> str:
    if not terms:
        return "Close in topic, though worded differently"
    quoted = [f"“{term}”" for term in terms]
    listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
    return f"Both discuss {listed}"
