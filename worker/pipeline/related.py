"""Related papers: a ranker chosen by the quality benchmark, with reasons a reader can check.

The index is built once per corpus snapshot, saved to a file that every worker can
load, and queried per paper; a paper that arrived after the build is still served
by projecting its text into the same space. Which ranker scores the papers is
pluggable (see ``worker.pipeline.rankers``); the explanation always names the words
and phrases the two papers share, whatever ranker put them together.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import joblib
import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from paperlens.schemas import RelatedPaper
from worker.pipeline.rankers.base import IndexedPaper, Ranker
from worker.pipeline.rankers.choose import make_ranker
from worker.pipeline.rankers.explain import REASON_TERMS, Explainer, shared_terms_phrase

__all__ = ["REASON_TERMS", "IndexedPaper", "RelatedIndex", "shared_terms_phrase"]

# Two abstracts this alike (lexical cosine) are versions of one paper, not two papers.
NEAR_DUPLICATE = 0.9
# How far past k the list looks for replacements of skipped duplicates and for MMR.
_LOOKAHEAD = 30


class RelatedIndex:
    """A fitted ranker and explainer over one corpus snapshot."""

    def __init__(
        self,
        ranker: Ranker,
        explainer: Explainer,
        paper_ids: list[str],
        titles: list[str],
        diversity: float = 0.0,
    ) -> None:
        self.ranker = ranker
        self.explainer = explainer
        self.paper_ids = paper_ids
        self.titles = titles
        self.diversity = diversity
        self._row = {paper_id: row for row, paper_id in enumerate(paper_ids)}

    @classmethod
    def build(
        cls,
        papers: Iterable[IndexedPaper],
        ranker: str | Ranker = "tfidf",
        diversity: float = 0.0,
    ) -> RelatedIndex:
        """Fit ``ranker`` (an instance, or a name from ``rankers.choose``) and the explainer."""
        docs = list(papers)
        fitted = make_ranker(ranker) if isinstance(ranker, str) else ranker
        fitted.fit(docs)
        explainer = Explainer()
        explainer.fit(docs)
        return cls(
            fitted, explainer, [d.paper_id for d in docs], [d.title for d in docs], diversity
        )

    @property
    def ranker_name(self) -> str:
        return self.ranker.name

    @property
    def vectorizer(self) -> TfidfVectorizer:
        """The lexical space (words and two-word phrases) that reading-list suggestions use."""
        return self.explainer.tfidf.vectorizer

    @property
    def matrix(self) -> sparse.csr_matrix:
        """Every indexed paper's L2-normalised row in ``vectorizer``'s space."""
        return self.explainer.tfidf.matrix

    def save(self, path: Path) -> None:
        """Write to a temporary name and rename, so a reader never loads half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(path.suffix + ".partial")
        joblib.dump(self, partial)
        partial.replace(path)

    @classmethod
    def load(cls, path: Path) -> RelatedIndex:
        index = joblib.load(path)
        if not isinstance(index, cls):
            raise TypeError(f"{path} does not hold a related-papers index")
        return index

    def __len__(self) -> int:
        return len(self.paper_ids)

    def row_of(self, paper_id: str) -> int | None:
        return self._row.get(paper_id)

    def scores(self, paper: IndexedPaper) -> np.ndarray:
        """The ranker's similarity of ``paper`` to every indexed paper (itself excluded)."""
        row = self._row.get(paper.paper_id)
        scores = np.asarray(self.ranker.scores(paper, row), dtype=np.float64)
        if row is not None:
            scores[row] = -np.inf
        return scores

    def related(self, paper: IndexedPaper, k: int) -> list[RelatedPaper]:
        """The ``k`` most related other papers, without duplicates, each with its reason."""
        scores = self.scores(paper)
        query = self.explainer.vector(paper, self._row.get(paper.paper_id))
        candidates = [
            row for row in _top_indices(scores, k + _LOOKAHEAD) if np.isfinite(scores[row])
        ]
        candidates = self._without_duplicates(paper, query, candidates)
        chosen = self._diversify(scores, candidates, k) if self.diversity else candidates[:k]
        return [
            RelatedPaper(
                paper_id=self.paper_ids[row],
                title=self.titles[row],
                score=round(float(scores[row]), 4),
                reason=self.explainer.reason(query, row),
            )
            for row in chosen
        ]

    def _without_duplicates(
        self, paper: IndexedPaper, query: sparse.csr_matrix, rows: list[int]
    ) -> list[int]:
        """Drop copies of the paper and of each other: same title or near-identical text."""
        matrix = self.explainer.tfidf.matrix[rows]
        to_query = np.asarray((matrix @ query.T).toarray()).ravel()
        to_each_other = np.asarray((matrix @ matrix.T).toarray())
        seen_titles = {_normalise_title(paper.title)}
        kept: list[int] = []
        for position, row in enumerate(rows):
            title = _normalise_title(self.titles[row])
            if title in seen_titles or to_query[position] >= NEAR_DUPLICATE:
                continue
            if kept and to_each_other[position, kept].max() >= NEAR_DUPLICATE:
                continue
            seen_titles.add(title)
            kept.append(position)
        return [rows[position] for position in kept]

    def _diversify(self, scores: np.ndarray, rows: list[int], k: int) -> list[int]:
        """Maximal marginal relevance: trade a little score for papers unlike those chosen."""
        relevance = scores[rows]
        spread = float(relevance.max() - relevance.min()) or 1.0
        relevance = (relevance - relevance.min()) / spread
        matrix = self.explainer.tfidf.matrix[rows]
        similarity = np.asarray((matrix @ matrix.T).toarray())
        chosen: list[int] = []
        left = list(range(len(rows)))
        while left and len(chosen) < k:
            redundancy = similarity[np.ix_(left, chosen)].max(axis=1) if chosen else 0.0
            gain = (1 - self.diversity) * relevance[left] - self.diversity * redundancy
            best = left[int(np.argmax(gain))]
            chosen.append(best)
            left.remove(best)
        return [rows[i] for i in chosen]


def _top_indices(scores: np.ndarray, k: int) -> list[int]:
    k = min(k, len(scores))
    if k <= 0:
        return []
    candidates = np.argpartition(-scores, k - 1)[:k]
    return [int(i) for i in candidates[np.argsort(-scores[candidates], kind="stable")]]


def _normalise_title(title: str) -> str:
    return re.sub(r"\W+", " ", title).strip().lower()
