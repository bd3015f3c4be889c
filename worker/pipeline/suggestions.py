"""Per-reader suggestions: a linear classifier on the TF-IDF features of the related index.

In the spirit of arxiv-sanity-lite: the reader's saved papers are the positives and the
rest of the corpus the negatives, and the classifier's margin ranks what to read next.
Beyond that: dismissed papers count as stronger negatives, "more like this" papers as
extra positives, saved papers the index does not hold are projected into its space,
and every suggestion names the saved papers it is closest to and the words they share.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.svm import LinearSVC

from paperlens.schemas import Suggestion, SuggestionSet
from paperlens.store.library import ProfilePaper, ReaderProfile
from worker.pipeline.rankers.explain import informative_terms
from worker.pipeline.related import IndexedPaper, RelatedIndex, shared_terms_phrase

# Regularisation of the classifier: small, since a reader saves few papers.
SVM_C = 0.1
DISMISSED_WEIGHT = 3.0
MORE_LIKE_THIS_WEIGHT = 0.5
BECAUSE_MAX = 3


@dataclass
class _Positive:
    paper_id: str
    title: str
    vector: sparse.csr_matrix


def suggestion_sets(
    index: RelatedIndex, profile: ReaderProfile, k: int, max_tags: int
) -> dict[str | None, SuggestionSet]:
    """The reader's sets: one over the whole list (key None) and one per tag."""
    now = dt.datetime.now(dt.UTC)
    scopes: list[str | None] = [None, *_busiest_tags(profile.saved, max_tags)]
    return {
        tag: SuggestionSet(
            revision=profile.revision,
            computed_at=now,
            items=suggest(
                index, profile, [p for p in profile.saved if tag is None or tag in p.tags], k
            ),
        )
        for tag in scopes
    }


def suggest(
    index: RelatedIndex, profile: ReaderProfile, saved: Sequence[ProfilePaper], k: int
) -> list[Suggestion]:
    """The ``k`` papers of the index the reader's model ranks highest, each explained."""
    model = _reader_model(index, profile, saved)
    if model is None:
        return []
    scores = model.scores(index.matrix)
    saved_titles = {_normalise(p.title) for p in saved}
    excluded = profile.saved_ids | profile.dismissed
    results: list[Suggestion] = []
    for row in np.argsort(-scores, kind="stable"):
        paper_id = index.paper_ids[row]
        if paper_id in excluded or _normalise(index.titles[row]) in saved_titles:
            continue
        results.append(model.explained(paper_id, index.titles[row], index.matrix[row], scores[row]))
        if len(results) == k:
            break
    return results


def rank_papers(
    index: RelatedIndex,
    profile: ReaderProfile,
    saved: Sequence[ProfilePaper],
    papers: Sequence[IndexedPaper],
    k: int,
    extra_positives: Sequence[ProfilePaper] = (),
) -> list[Suggestion]:
    """The ``k`` of ``papers`` (new ones the index may not hold yet) the reader's model ranks
    highest, each explained as a suggestion is; each paper's text is projected into the
    index's space, so a paper that arrived after the last build ranks as one that did not.
    ``extra_positives`` are "more like this" papers the index does not hold, learnt from
    as the profile's others are."""
    model = _reader_model(index, profile, saved, extra_positives)
    if model is None or not papers:
        return []
    saved_titles = {_normalise(p.title) for p in saved}
    excluded = profile.saved_ids | profile.dismissed
    kept = [
        p for p in papers if p.paper_id not in excluded and _normalise(p.title) not in saved_titles
    ]
    if not kept:
        return []
    vectors = index.vectorizer.transform([p.text for p in kept]).tocsr()
    scores = model.scores(vectors)
    return [
        model.explained(kept[row].paper_id, kept[row].title, vectors[row], scores[row])
        for row in np.argsort(-scores, kind="stable")[:k]
    ]


@dataclass
class _ReaderModel:
    """The classifier fitted on one reader's list, and what its explanations quote."""

    classifier: LinearSVC
    positives: list[_Positive]
    terms: np.ndarray

    def scores(self, vectors: sparse.csr_matrix) -> np.ndarray:
        found: np.ndarray = self.classifier.decision_function(vectors)
        return found

    def explained(
        self, paper_id: str, title: str, vector: sparse.csr_matrix, score: float
    ) -> Suggestion:
        because = _closest(vector, self.positives)
        return Suggestion(
            paper_id=paper_id,
            title=title,
            score=round(float(score), 4),
            reason=_reason(vector, because, self.terms),
            because=[p.paper_id for p in because],
        )


def _reader_model(
    index: RelatedIndex,
    profile: ReaderProfile,
    saved: Sequence[ProfilePaper],
    extra_positives: Sequence[ProfilePaper] = (),
) -> _ReaderModel | None:
    """The reader's classifier, or None when there is nothing to learn from or against."""
    if not saved or len(index) == 0:
        return None
    rows = {paper_id: row for row, paper_id in enumerate(index.paper_ids)}
    positives = [_positive(index, rows, paper) for paper in saved]
    extra_rows = [rows[p] for p in profile.more_like_this if p in rows]
    projected = [_positive(index, rows, paper).vector for paper in extra_positives]
    negative_rows = [
        row
        for row, paper_id in enumerate(index.paper_ids)
        if paper_id not in profile.saved_ids and paper_id not in profile.more_like_this
    ]
    if not negative_rows:
        return None
    classifier = _fit(
        index, positives, extra_rows, negative_rows, rows, profile.dismissed, projected
    )
    return _ReaderModel(classifier, positives, index.vectorizer.get_feature_names_out())


def _fit(
    index: RelatedIndex,
    positives: list[_Positive],
    extra_rows: list[int],
    negative_rows: list[int],
    rows: dict[str, int],
    dismissed: set[str],
    projected: Sequence[sparse.csr_matrix] = (),
) -> LinearSVC:
    dismissed_rows = {rows[p] for p in dismissed if p in rows}
    features = sparse.vstack(
        [p.vector for p in positives]
        + [index.matrix[extra_rows], *projected, index.matrix[negative_rows]]
    ).tocsr()
    extra = len(extra_rows) + len(projected)
    labels = np.array([1] * (len(positives) + extra) + [0] * len(negative_rows))
    weights = np.array(
        [1.0] * len(positives)
        + [MORE_LIKE_THIS_WEIGHT] * extra
        + [DISMISSED_WEIGHT if row in dismissed_rows else 1.0 for row in negative_rows]
    )
    model = LinearSVC(class_weight="balanced", C=SVM_C, max_iter=10_000, tol=1e-6)
    model.fit(features, labels, sample_weight=weights)
    return model


def _positive(index: RelatedIndex, rows: dict[str, int], paper: ProfilePaper) -> _Positive:
    """A saved paper's vector: its row in the index, or its text projected into the index."""
    row = rows.get(paper.paper_id)
    if row is not None:
        vector = index.matrix[row]
    else:
        text = IndexedPaper(paper.paper_id, paper.title, paper.abstract).text
        vector = index.vectorizer.transform([text]).tocsr()
    return _Positive(paper.paper_id, paper.title, vector)


def _closest(vector: sparse.csr_matrix, positives: list[_Positive]) -> list[_Positive]:
    """The one to three saved papers most similar to a suggestion (cosine; rows are unit length)."""
    similarity = [float((vector @ p.vector.T).toarray()[0, 0]) for p in positives]
    order = sorted(range(len(positives)), key=lambda i: -similarity[i])
    chosen = [positives[i] for i in order[:BECAUSE_MAX] if similarity[i] > 0]
    return chosen or [positives[order[0]]]


def _reason(vector: sparse.csr_matrix, because: list[_Positive], terms: np.ndarray) -> str:
    """'Like “X” and “Y” in your list. All discuss “a b” and “c d”': phrases of several
    words only, as for related papers, since single shared words are mostly generic."""
    profile = because[0].vector
    for other in because[1:]:
        profile = profile + other.vector
    overlap = vector.multiply(profile).tocsr()
    shared = informative_terms(terms, overlap.indices, overlap.data)
    titles = [f"“{_short(p.title)}”" for p in because[:2]]
    like = titles[0] if len(titles) == 1 else " and ".join(titles)
    more = f" (and {len(because) - 2} more)" if len(because) > 2 else ""
    if not shared:
        return f"Like {like}{more} in your list"
    phrase = shared_terms_phrase(shared)
    if len(because) > 1:
        phrase = phrase.replace("Both discuss", "All discuss", 1)
    return f"Like {like}{more} in your list. {phrase}"


def _busiest_tags(saved: Sequence[ProfilePaper], limit: int) -> list[str]:
    counts: dict[str, int] = {}
    for paper in saved:
        for tag in paper.tags:
            counts[tag] = counts.get(tag, 0) + 1
    return sorted(counts, key=lambda tag: (-counts[tag], tag))[:limit]


def _short(title: str, limit: int = 60) -> str:
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


def _normalise(title: str) -> str:
    return " ".join(title.lower().split())
