"""Related papers by TF-IDF cosine over title and abstract, with the terms that explain each.

The index is built once per corpus snapshot, saved to a file that every worker can
load, and queried per paper; a paper that arrived after the build is still served
by projecting its text into the same vector space.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from paperlens.schemas import RelatedPaper

# Links and bare numbers carry no topical signal and would pollute shared terms.
_NOISE = re.compile(r"https?://\S+|www\.\S+|\b\d+(?:\.\d+)?\b")
REASON_TERMS = 3


@dataclass(frozen=True)
class IndexedPaper:
    paper_id: str
    title: str
    abstract: str

    @property
    def text(self) -> str:
        return _NOISE.sub(" ", f"{self.title}. {self.title}. {self.abstract}")


class RelatedIndex:
    """A fitted vectoriser plus the L2-normalised document matrix of one corpus snapshot."""

    def __init__(
        self,
        vectorizer: TfidfVectorizer,
        matrix: sparse.csr_matrix,
        paper_ids: list[str],
        titles: list[str],
    ) -> None:
        self.vectorizer = vectorizer
        self.matrix = matrix
        self.paper_ids = paper_ids
        self.titles = titles
        self._row = {paper_id: row for row, paper_id in enumerate(paper_ids)}
        self._terms = vectorizer.get_feature_names_out()

    @classmethod
    def build(cls, papers: Iterable[IndexedPaper]) -> RelatedIndex:
        docs = list(papers)
        vectorizer = TfidfVectorizer(
            sublinear_tf=True, stop_words="english", strip_accents="unicode", dtype=np.float32
        )
        matrix = vectorizer.fit_transform([doc.text for doc in docs]).tocsr()
        return cls(vectorizer, matrix, [doc.paper_id for doc in docs], [doc.title for doc in docs])

    def save(self, path: Path) -> None:
        """Write to a temporary name and rename, so a reader never loads half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(path.suffix + ".partial")
        joblib.dump((self.vectorizer, self.matrix, self.paper_ids, self.titles), partial)
        partial.replace(path)

    @classmethod
    def load(cls, path: Path) -> RelatedIndex:
        vectorizer, matrix, paper_ids, titles = joblib.load(path)
        return cls(vectorizer, matrix, paper_ids, titles)

    def __len__(self) -> int:
        return len(self.paper_ids)

    def related(self, paper: IndexedPaper, k: int) -> list[RelatedPaper]:
        """The ``k`` most similar other papers, each with the terms the two share most."""
        query = self._vector(paper)
        scores = (self.matrix @ query.T).toarray().ravel()
        own_row = self._row.get(paper.paper_id)
        if own_row is not None:
            scores[own_row] = -1.0
        same_title = _normalise_title(paper.title)
        top = _top_indices(scores, k + 5)
        results: list[RelatedPaper] = []
        for row in top:
            if scores[row] <= 0 or len(results) == k:
                break
            if _normalise_title(self.titles[row]) == same_title:
                continue  # another version or copy of the same paper is not a related paper
            results.append(
                RelatedPaper(
                    paper_id=self.paper_ids[row],
                    title=self.titles[row],
                    score=round(float(scores[row]), 4),
                    reason=self._reason(query, row),
                )
            )
        return results

    def _vector(self, paper: IndexedPaper) -> sparse.csr_matrix:
        row = self._row.get(paper.paper_id)
        if row is not None:
            return self.matrix[row]
        return self.vectorizer.transform([paper.text]).tocsr()

    def _reason(self, query: sparse.csr_matrix, row: int) -> str:
        """Name the shared terms that contribute most to the cosine, as a reader would."""
        overlap = query.multiply(self.matrix[row]).tocsr()
        order = np.argsort(-overlap.data)[:REASON_TERMS]
        terms = [str(self._terms[overlap.indices[i]]) for i in order]
        return shared_terms_phrase(terms)


def shared_terms_phrase(terms: Sequence[str]) -> str:
    if not terms:
        return "Similar wording in title and abstract"
    quoted = [f"“{term}”" for term in terms]
    listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
    return f"Both discuss {listed}"


def _top_indices(scores: np.ndarray, k: int) -> list[int]:
    k = min(k, len(scores))
    if k <= 0:
        return []
    candidates = np.argpartition(-scores, k - 1)[:k]
    return [int(i) for i in candidates[np.argsort(-scores[candidates], kind="stable")]]


def _normalise_title(title: str) -> str:
    return re.sub(r"\W+", " ", title).strip().lower()
