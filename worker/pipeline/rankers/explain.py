"""Why two papers are related, in words a reader can check against both abstracts."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
from scipy import sparse

from worker.pipeline.rankers.base import IndexedPaper
from worker.pipeline.rankers.tfidf import TfidfRanker

REASON_TERMS = 3
# The explainer's words and two-word phrases: at most this many, chosen from at most this
# many papers (see ``TfidfRanker``). Neither binds on small corpora such as the demo's.
MAX_TERMS = 1_000_000
VOCABULARY_SAMPLE = 200_000
# Looking a little past the top terms lets a shared phrase replace the words it contains.
_CANDIDATE_TERMS = 12


class Explainer:
    """Shared words and two-word phrases, weighted by how much they add to the TF-IDF cosine."""

    def __init__(self) -> None:
        self.tfidf = TfidfRanker(
            ngram_max=2, max_terms=MAX_TERMS, vocabulary_sample=VOCABULARY_SAMPLE
        )

    def fit(self, papers: Sequence[IndexedPaper]) -> None:
        self.tfidf.fit(papers)
        self._terms = self.tfidf.vectorizer.get_feature_names_out()

    @property
    def terms(self) -> np.ndarray:
        """The space's words and phrases by column, made once per fit (making them takes
        seconds with a large vocabulary)."""
        terms: np.ndarray = self._terms
        return terms

    def vectors(
        self, papers: Sequence[IndexedPaper], rows: Sequence[int | None]
    ) -> sparse.csr_matrix:
        return self.tfidf.vectors(papers, rows)

    def reasons_many(
        self, queries: sparse.csr_matrix, pairs: Sequence[tuple[int, int]]
    ) -> list[str]:
        """Why each (query position, indexed row) pair is related, with one sparse product."""
        if not pairs:
            return []
        left = queries[[query for query, _ in pairs]]
        right = self.tfidf.matrix[[row for _, row in pairs]]
        overlap = left.multiply(right).tocsr()
        bounds = overlap.indptr
        return [
            shared_terms_phrase(
                self._chosen_terms(
                    overlap.data[bounds[i] : bounds[i + 1]],
                    overlap.indices[bounds[i] : bounds[i + 1]],
                )
            )
            for i in range(len(pairs))
        ]

    def _chosen_terms(self, weights: np.ndarray, terms: np.ndarray) -> list[str]:
        """The most informative terms both papers use, phrases first, no word named twice."""
        order = np.argsort(-weights, kind="stable")[:_CANDIDATE_TERMS]
        chosen: list[str] = []
        chosen_stems: list[frozenset[str]] = []
        for term in self._terms[terms[order]].tolist():
            words = _stems(term)
            clashes = [i for i, other in enumerate(chosen_stems) if words & other]
            if not clashes and len(chosen) < REASON_TERMS:
                chosen.append(term)
                chosen_stems.append(words)
            elif len(clashes) == 1 and " " in term and " " not in chosen[clashes[0]]:
                chosen[clashes[0]] = term  # "neural network" says more than "network"
                chosen_stems[clashes[0]] = words
        return chosen


@functools.lru_cache(maxsize=65_536)
def _stems(term: str) -> frozenset[str]:
    """Crude stems, enough that "debate" and "online debates" count as one topic."""
    return frozenset(
        word[:-1] if word.endswith("s") and len(word) > 3 else word for word in term.split()
    )


def shared_terms_phrase(terms: Sequence[str]) -> str:
    if not terms:
        return "Close in topic, though worded differently"
    quoted = [f"“{term}”" for term in terms]
    listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
    return f"Both discuss {listed}"
