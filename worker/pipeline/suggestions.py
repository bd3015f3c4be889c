"""Per-reader suggestions: linear classifiers on the related index's vectors, fused.

In the spirit of arxiv-sanity-lite: the reader's saved papers are the positives and other
papers the negatives, and the classifier's margin ranks what to read next. Beyond that:
one classifier per vector space of the index (its lexical TF-IDF, and the dense
embeddings when the ranker is the hybrid), their margins fused on a common scale;
dismissed papers count as stronger negatives, "more like this" papers as extra
positives, saved papers the index does not hold are projected into its spaces, and every
suggestion names the saved papers it is closest to and the words they share.

So that a reader costs the same at a million papers as at a thousand, the negatives are
a fixed random sample of the index rather than all of it, and on an index with a
nearest-neighbour graph only candidates are scored: the graph's neighbours of each saved
paper and of the classifier's own direction (see ``candidate_rows``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.svm import LinearSVC

from paperlens.schemas import Suggestion, SuggestionSet
from paperlens.store.library import ProfilePaper, ReaderProfile
from worker.pipeline.half_sparse import HalfSparse
from worker.pipeline.hybrid_search import HybridSearch
from worker.pipeline.rankers.dense import DenseRanker
from worker.pipeline.rankers.explain import excerpt, informative_terms
from worker.pipeline.rankers.hybrid import HybridRanker
from worker.pipeline.rankers.tfidf import TfidfRanker
from worker.pipeline.related import IndexedPaper, RelatedIndex, shared_terms_phrase

# Regularisation of each space's classifier, and the dense share of the fused score. Chosen
# on CSFCube's fold1_dev alone (bench/RESULTS.md, Quality, notes of 2026-12-04 19:54): C per
# space (0.01 to 3), dense weight (0.3 to 0.8) and dense vector (the text's, or with the
# title's beside it), each cell scored over six seeded draws of which papers a reader saved
# (one draw of 21 readers moved cells by several points), taking a cell inside the grid
# whose neighbours score as high. Small C since a reader saves few papers.
SVM_C = 0.03
DENSE_SVM_C = 0.3
DENSE_WEIGHT = 0.4
DISMISSED_WEIGHT = 3.0
MORE_LIKE_THIS_WEIGHT = 0.5
# Negatives: this many papers of the index, the same sample for every reader (seeded). The
# fits cost in proportion to them and are most of a reader's time. On fold1_dev 2,500 score
# as every paper does within the draws' noise (60.2% over three samples, 59.9% for this seed,
# against 60.1%; 2,000: 59.7%), and at 100,000 papers a reader's top 20 keeps 84-91% of its
# papers, as drawing another 5,000 does (82-90%) (bench/RESULTS.md, Suggestions at scale).
NEGATIVES = 2_500
NEGATIVES_SEED = 0
# Candidates from the nearest-neighbour graph: neighbours of each saved paper, and of the
# classifier's weight vector (the papers its margin favours most): on the TF-IDF index the
# graph over reduced TF-IDF and the lexical classifier's weights, on the hybrid's its graph
# over the embeddings and the dense classifier's weights (``DENSE_NEIGHBOURS_OF_MODEL``).
NEIGHBOURS_PER_SAVED = 200
NEIGHBOURS_OF_MODEL = 1_000
# And from the inverted lists of the lexical classifier's heaviest terms: the papers whose
# margin over those terms alone is highest. At a million papers the graph's reduced space
# misses most of the best-scored papers of some readers (recall@20 down to 0.20), which
# these lists hold (bench/RESULTS.md, Suggestions at scale).
TERMS_OF_MODEL = 50
BEST_BY_TERMS = 2_000
DENSE_NEIGHBOURS_OF_MODEL = 1_000
BECAUSE_MAX = 3
# A reason names a saved paper by its title, shortened to this many characters.
REASON_TITLE_CHARS = 60
# A feed takes in a new paper only when the reader's lexical classifier puts it at least this
# many spreads above the mean margin of the negatives (papers drawn at random): an ingest
# brings papers on every subject, and the best 50 of a small or mixed one for a reader would
# otherwise be mostly unrelated to the reader's list. The highest floor that keeps 95% of
# the papers CSFCube's fold1_dev readers sought (``bench/quality/feed_floor.py``).
FEED_FLOOR = 1.5


@dataclass
class _Positive:
    paper_id: str
    title: str
    vector: sparse.csr_matrix
    # Title and abstract as the reader sees them: reasons quote phrases as they are written.
    text: str


def suggestion_sets(
    index: RelatedIndex, profile: ReaderProfile, k: int, max_tags: int
) -> dict[str | None, SuggestionSet]:
    """The reader's sets: one over the whole list (key None) and one per tag."""
    now = dt.datetime.now(dt.UTC)
    scopes: list[str | None] = [None, *_busiest_tags(profile.saved, max_tags)]
    # A tag's papers are among the whole list's: each saved paper's neighbours are searched once.
    searched = SavedNeighbours()
    return {
        tag: SuggestionSet(
            revision=profile.revision,
            computed_at=now,
            items=suggest(
                index,
                profile,
                [p for p in profile.saved if tag is None or tag in p.tags],
                k,
                searched,
            ),
        )
        for tag in scopes
    }


def suggest(
    index: RelatedIndex,
    profile: ReaderProfile,
    saved: Sequence[ProfilePaper],
    k: int,
    searched: SavedNeighbours | None = None,
) -> list[Suggestion]:
    """The ``k`` papers of the index the reader's model ranks highest, each explained."""
    model = reader_model(index, profile, saved)
    if model is None:
        return []
    candidates = candidate_rows(index, model, searched)
    rows, scores = top_rows(index, model, candidates, profile, saved, k)
    return [
        model.explained(index.paper_ids[row], index.titles[row], index.vectors_of(row), score)
        for row, score in zip(rows, scores, strict=True)
    ]


def top_rows(
    index: RelatedIndex,
    model: ReaderModel,
    rows: np.ndarray,
    profile: ReaderProfile,
    saved: Sequence[ProfilePaper],
    k: int,
) -> tuple[list[int], list[float]]:
    """The ``k`` best-scored of ``rows`` and their scores, leaving out what the reader saved or
    dismissed and copies of a saved paper's title."""
    scores = model.scores_of_rows(rows)
    saved_titles = {_normalise(p.title) for p in saved}
    excluded = profile.saved_ids | profile.dismissed
    chosen: list[int] = []
    chosen_scores: list[float] = []
    for position in np.argsort(-scores, kind="stable"):
        row = int(rows[position])
        if index.paper_ids[row] in excluded or _normalise(index.titles[row]) in saved_titles:
            continue
        chosen.append(row)
        chosen_scores.append(float(scores[position]))
        if len(chosen) == k:
            break
    return chosen, chosen_scores


class ProjectedPapers:
    """Papers the index may not hold yet (a refresh's new papers), projected into its
    spaces once and shared by every reader they are ranked for: they are the same papers
    for each reader, so only the reader's model and list differ from one to the next.

    Their rows in the lexical space (the one ``rank_papers`` scores) are made for all of
    them at once; those in the explainer's larger space only for the papers some reader's
    feed lists, each the first time one does, and kept for the next reader.
    """

    def __init__(self, index: RelatedIndex, papers: Sequence[IndexedPaper]) -> None:
        self.papers = list(papers)
        self.titles = [_normalise(p.title) for p in self.papers]
        lexical, _ = _vector_spaces(index)
        self.lexical: sparse.csr_matrix = lexical.vectors(self.papers, [None] * len(self.papers))
        self._explainer = index.explainer
        self._explained: dict[int, sparse.csr_matrix] = {}

    def __len__(self) -> int:
        return len(self.papers)

    def explainer_rows(self, positions: Sequence[int]) -> list[sparse.csr_matrix]:
        """The papers at ``positions`` in the explainer's space, a one-row matrix each."""
        missing = [i for i in dict.fromkeys(positions) if i not in self._explained]
        if missing:
            found = self._explainer.vectors(
                [self.papers[i] for i in missing], [None] * len(missing)
            )
            for row, i in enumerate(missing):
                self._explained[i] = found[row]
        return [self._explained[i] for i in positions]


def rank_papers(
    index: RelatedIndex,
    profile: ReaderProfile,
    saved: Sequence[ProfilePaper],
    papers: ProjectedPapers,
    k: int,
    extra_positives: Sequence[ProfilePaper] = (),
) -> list[Suggestion]:
    """The ``k`` of ``papers`` (new ones the index may not hold yet) the reader's model ranks
    highest, each explained as a suggestion is, leaving out those below ``FEED_FLOOR``.
    Only the lexical classifier ranks them, on their projected text, so that a paper that
    arrived after the last build ranks as one that did not, without running the language
    model on every new paper. ``extra_positives`` are "more like this" papers the index does
    not hold, learnt from as the profile's others are."""
    if not len(papers):
        return []
    model = reader_model(index, profile, saved, extra_positives, lexical_only=True)
    if model is None:
        return []
    saved_titles = {_normalise(p.title) for p in saved}
    excluded = profile.saved_ids | profile.dismissed
    kept = np.array(
        [
            i
            for i, paper in enumerate(papers.papers)
            if paper.paper_id not in excluded and papers.titles[i] not in saved_titles
        ],
        dtype=np.intp,
    )
    if not kept.size:
        return []
    lexical = model.spaces[0]
    standing = lexical.standardised(papers.lexical[kept])
    above = standing >= FEED_FLOOR
    kept = kept[above]
    scores = lexical.weight * standing[above]
    order = np.argsort(-scores, kind="stable")[:k]
    best = kept[order].tolist()
    vectors = papers.explainer_rows(best)
    return [
        model.explained(papers.papers[i].paper_id, papers.papers[i].title, vector, score)
        for i, vector, score in zip(best, vectors, scores[order].tolist(), strict=True)
    ]


@dataclass
class _Space:
    """One classifier of the reader's model, and how its margins are put on a common scale:
    the mean and spread of its margins over the negatives it was fitted against."""

    classifier: LinearSVC
    weight: float
    centre: float
    spread: float

    def scaled(self, vectors: sparse.csr_matrix | np.ndarray) -> np.ndarray:
        return np.asarray(self.weight * self.standardised(vectors))

    def standardised(self, vectors: sparse.csr_matrix | np.ndarray) -> np.ndarray:
        """Margins in spreads above the negatives' mean: how far a paper stands out from
        papers drawn at random from the index, whatever the reader and the space."""
        margins = np.asarray(self.classifier.decision_function(vectors), dtype=np.float64)
        return np.asarray((margins - self.centre) / self.spread)


@dataclass
class ReaderModel:
    """The classifiers fitted on one reader's list, and what its explanations quote.

    ``lexical`` is the TF-IDF space the lexical classifier reads (the ranker's own when it
    has one, so that the nearest-neighbour graph built on it can propose candidates);
    ``dense`` is the hybrid's dense ranker when the index has its embeddings, and
    ``saved_dense`` the saved papers' (unit length, as the dense classifier read them).
    """

    lexical: TfidfRanker
    dense: DenseRanker | None
    spaces: list[_Space]
    positives: list[_Positive]
    saved_lexical: sparse.csr_matrix
    terms: Sequence[str]
    saved_dense: np.ndarray | None = None

    def __post_init__(self) -> None:
        # The saved papers' vectors as columns, so that each suggestion's similarity to all
        # of them is one product whose cost does not grow with the vocabulary.
        rows = sparse.vstack([p.vector for p in self.positives], format="csr")
        self.positive_columns: sparse.csr_matrix = rows.T.tocsr()

    def scores_of_rows(self, rows: np.ndarray) -> np.ndarray:
        """The fused score of each indexed row in ``rows``."""
        found = self.spaces[0].scaled(self.lexical.rows(rows))
        if len(self.spaces) > 1:
            found = found + self.spaces[1].scaled(self.dense_features(rows))
        return np.asarray(found)

    def dense_features(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """The indexed ``rows`` as the dense classifier reads them (unit length)."""
        if self.dense is None:
            raise ValueError("this reader's index has no dense vectors")
        return _unit(_whole_text(self.dense, rows))

    def explained(
        self, paper_id: str, title: str, vector: sparse.csr_matrix, score: float
    ) -> Suggestion:
        because = _closest(vector, self.positives, self.positive_columns)
        return Suggestion(
            paper_id=paper_id,
            title=title,
            score=round(float(score), 4),
            reason=_reason(vector, because, self.terms),
            because=[p.paper_id for p in because],
        )


def reader_model(
    index: RelatedIndex,
    profile: ReaderProfile,
    saved: Sequence[ProfilePaper],
    extra_positives: Sequence[ProfilePaper] = (),
    *,
    lexical_only: bool = False,
) -> ReaderModel | None:
    """The reader's classifiers, or None when there is nothing to learn from or against.
    ``extra_positives`` ("more like this" papers the index does not hold) are projected from
    their text and weigh as the profile's other "more like this" papers do.

    ``lexical_only`` leaves the dense classifier out, for a caller that ranks by the lexical
    one alone (``rank_papers``): on the hybrid's index it is most of the fitting's time. The
    lexical classifier keeps its share of the fused score, so its scores are the same either
    way."""
    if not saved or len(index) == 0:
        return None
    saved_rows = [index.row_of(paper.paper_id) for paper in saved]
    extra_rows = [row for p in profile.more_like_this if (row := index.row_of(p)) is not None]
    dismissed_rows = {row for p in profile.dismissed if (row := index.row_of(p)) is not None}
    left_out = set(extra_rows) | {row for row in saved_rows if row is not None}
    left_out |= {row for p in profile.saved_ids if (row := index.row_of(p)) is not None}
    negative_rows = [row for row in _negative_sample(len(index)) if row not in left_out]
    negative_rows += sorted(dismissed_rows - set(negative_rows) - left_out)
    if not negative_rows:
        return None
    # Positives in this order: saved papers, projected "more like this" papers, then those rows.
    projected = list(extra_positives)
    unheld: list[int | None] = [None] * len(projected)
    liked = len(projected) + len(extra_rows)
    labels = np.array([1] * (len(saved) + liked) + [0] * len(negative_rows))
    weights = np.array(
        [1.0] * len(saved)
        + [MORE_LIKE_THIS_WEIGHT] * liked
        + [DISMISSED_WEIGHT if row in dismissed_rows else 1.0 for row in negative_rows]
    )
    lexical, dense = _vector_spaces(index)
    lexical_parts = [lexical.vectors(saved_papers(saved), saved_rows)]
    if projected:
        lexical_parts.append(lexical.vectors(saved_papers(projected), unheld))
    lexical_rows = sparse.vstack(
        [*lexical_parts, lexical.rows(extra_rows + negative_rows)], format="csr"
    )
    dense_weight = DENSE_WEIGHT if dense is not None else 0.0
    spaces = [_fit(lexical_rows, labels, weights, SVM_C, 1.0 - dense_weight, len(negative_rows))]
    saved_dense = None
    if dense is not None and not lexical_only:
        dense_parts = [_saved_embeddings(saved, saved_rows, dense)]
        if projected:
            dense_parts.append(_saved_embeddings(projected, unheld, dense))
        held = _whole_text(dense, extra_rows + negative_rows)
        dense_rows = _unit(np.vstack([*dense_parts, held]))
        spaces.append(
            _fit(dense_rows, labels, weights, DENSE_SVM_C, dense_weight, len(negative_rows))
        )
        saved_dense = dense_rows[: len(saved)]
    positives = [_positive(index, paper) for paper in saved]
    terms = index.explainer.terms
    return ReaderModel(
        lexical,
        None if lexical_only else dense,
        spaces,
        positives,
        lexical_rows[: len(saved)],
        terms,
        saved_dense,
    )


class SavedNeighbours:
    """Each saved paper's neighbours in a graph, searched once per paper and graph and then
    remembered: the sets of one reader (the whole list and each tag) hold the same saved
    papers, whose vectors and so whose neighbours do not depend on the set, and searching the
    graph around 50 saved papers is the dearest part of proposing a set's candidates."""

    def __init__(self) -> None:
        self._found: dict[tuple[str, str], np.ndarray] = {}

    def search(
        self,
        graph: str,
        paper_ids: Sequence[str],
        queries: sparse.csr_matrix | np.ndarray,
        search: Callable[[sparse.csr_matrix | np.ndarray], np.ndarray],
    ) -> np.ndarray:
        """One row of neighbours per paper, from ``search`` over the ``queries`` (one row
        per paper) of the papers not searched in ``graph`` before."""
        missing = [i for i, paper in enumerate(paper_ids) if (graph, paper) not in self._found]
        if missing:
            for i, rows in zip(missing, search(queries[missing]), strict=True):
                self._found[(graph, paper_ids[i])] = rows
        return np.vstack([self._found[(graph, paper)] for paper in paper_ids])


def candidate_rows(
    index: RelatedIndex, model: ReaderModel, searched: SavedNeighbours | None = None
) -> np.ndarray:
    """The rows worth scoring: every row of an index without a nearest-neighbour graph; with
    one, the rows of ``candidate_sources`` together: they hold the best-scored papers of the
    whole index nearly always (``bench/suggestions.py`` measures how nearly)."""
    graph = index.neighbours
    if (graph is None or len(graph) == 0) and index.approximate_hybrid is None:
        return np.arange(len(index))
    sources = candidate_sources(index, model, searched)
    rows = np.concatenate([part.ravel() for part in sources.values()])
    return np.unique(rows[rows >= 0])


def candidate_sources(
    index: RelatedIndex, model: ReaderModel, searched: SavedNeighbours | None = None
) -> dict[str, np.ndarray]:
    """Each way of proposing candidates, by name, with the rows it proposes (-1 where a graph
    found fewer): the graph's neighbours of each saved paper and of the classifier's weight
    vector (the direction its margin grows in), and the best rows by the lexical classifier's
    heaviest terms. The TF-IDF index's graph is over reduced TF-IDF and follows the lexical
    classifier; the hybrid's is over its embeddings and follows the dense one. Named so that
    a benchmark can tell which of them holds the papers the reader's model ranks best.
    ``searched`` remembers the saved papers' neighbours for the reader's next set."""
    graph = index.neighbours
    hybrid = index.approximate_hybrid
    searched = searched if searched is not None else SavedNeighbours()
    saved_ids = [positive.paper_id for positive in model.positives]
    weights = model.spaces[0].classifier.coef_.ravel()
    found: dict[str, np.ndarray] = {}
    if graph is not None:
        direction = sparse.csr_matrix(weights.astype(np.float32))
        found["lexical neighbours of the saved papers"] = searched.search(
            "lexical",
            saved_ids,
            model.saved_lexical,
            lambda queries: graph.search(queries, NEIGHBOURS_PER_SAVED),
        )
        found["lexical neighbours of the model"] = graph.search(direction, NEIGHBOURS_OF_MODEL)
    if index.lexical_columns is not None:
        found["heaviest terms"] = best_by_terms(
            index.lexical_columns, weights, TERMS_OF_MODEL, BEST_BY_TERMS
        )
    if hybrid is not None and model.saved_dense is not None and len(model.spaces) > 1:
        dense_graph = hybrid.graph
        saved = _graph_queries(model.saved_dense, hybrid)
        direction = _graph_queries(model.spaces[1].classifier.coef_, hybrid)
        found["dense neighbours of the saved papers"] = searched.search(
            "dense",
            saved_ids,
            saved,
            lambda queries: dense_graph.search(queries, NEIGHBOURS_PER_SAVED),
        )
        found["dense neighbours of the model"] = hybrid.graph.search(
            direction, DENSE_NEIGHBOURS_OF_MODEL
        )
    return found


def _graph_queries(vectors: np.ndarray, hybrid: HybridSearch) -> np.ndarray:
    """Vectors of the text's part of the embeddings (``_whole_text``) as queries of the
    hybrid's graph, whose vectors may hold the title's beside it: zero on that part."""
    vectors = np.asarray(vectors, dtype=np.float32)
    width = hybrid.graph.width
    padding = np.zeros((len(vectors), width - vectors.shape[1]), dtype=np.float32)
    return np.hstack([vectors, padding])


def best_by_terms(columns: HalfSparse, weights: np.ndarray, terms: int, k: int) -> np.ndarray:
    """The ``k`` rows with the highest margin over the ``terms`` most positive weights alone.

    Read from those terms' columns (inverted lists), so the cost is the papers that use
    them, not the index: a paper the classifier favours uses its heaviest terms, wherever
    the graph's reduced space puts it.
    """
    heaviest = np.argsort(-weights, kind="stable")[:terms]
    heaviest = heaviest[weights[heaviest] > 0]
    partial = np.asarray(columns.major(heaviest) @ weights[heaviest]).ravel()
    scored = np.flatnonzero(partial)
    if scored.size > k:
        scored = scored[np.argpartition(-partial[scored], k)[:k]]
    return scored


def saved_papers(saved: Sequence[ProfilePaper]) -> list[IndexedPaper]:
    return [IndexedPaper(p.paper_id, p.title, p.abstract) for p in saved]


def _vector_spaces(index: RelatedIndex) -> tuple[TfidfRanker, DenseRanker | None]:
    """The index's lexical space and, for the hybrid, its dense ranker."""
    ranker = index.ranker
    if isinstance(ranker, TfidfRanker):
        return ranker, None
    if isinstance(ranker, HybridRanker) and isinstance(ranker.lexical, TfidfRanker):
        if not isinstance(ranker.dense, DenseRanker) or len(ranker.dense) != len(index):
            return ranker.lexical, None
        return ranker.lexical, ranker.dense
    return index.explainer.tfidf, None


def _whole_text(dense: DenseRanker, rows: Sequence[int] | np.ndarray) -> np.ndarray:
    """The title-and-abstract part of the dense ranker's vectors of ``rows``."""
    return dense.vectors(rows, _text_dims(dense))


def _text_part(dense: DenseRanker, vectors: np.ndarray) -> np.ndarray:
    """The title-and-abstract part of a dense ranker's vectors. The ranker puts the title's own
    vector beside it (``DenseRanker``), which helps related lists, but the reader's classifier
    did no better with it on fold1_dev (60.1% either way at the served setting) and takes
    twice as long to fit."""
    return vectors[:, : _text_dims(dense)]


def _text_dims(dense: DenseRanker) -> int | None:
    """How many leading dimensions of the dense ranker's vectors are the text's (None: all)."""
    return dense.width // 2 if dense.title_weight else None


def _negative_sample(size: int) -> np.ndarray:
    """The same rows for every reader of an index this size, in order."""
    if size <= NEGATIVES:
        return np.arange(size)
    picked = np.random.default_rng(NEGATIVES_SEED).choice(size, NEGATIVES, replace=False)
    return np.sort(picked)


def _fit(
    features: sparse.csr_matrix | np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray,
    c: float,
    share: float,
    negatives: int,
) -> _Space:
    # Seeded: the solver visits the examples in a random order, and unseeded two fits of one
    # list differed in a score's fourth decimal, enough to swap two papers of equal rank.
    model = LinearSVC(class_weight="balanced", C=c, max_iter=10_000, tol=1e-6, random_state=0)
    model.fit(features, labels, sample_weight=weights)
    margins = np.asarray(model.decision_function(features[-negatives:]), dtype=np.float64)
    return _Space(model, share, float(margins.mean()), float(margins.std()) or 1.0)


def _saved_embeddings(
    saved: Sequence[ProfilePaper],
    rows: Sequence[int | None],
    dense: DenseRanker,
) -> np.ndarray:
    """The saved papers' embeddings: their rows, or their text run through the encoder."""
    missing = [paper for paper, row in zip(saved, rows, strict=True) if row is None]
    encoded = iter(_text_part(dense, dense.embed(saved_papers(missing))) if missing else [])
    held = [row for row in rows if row is not None]
    stored = iter(_whole_text(dense, held) if held else [])
    return np.vstack([next(stored) if row is not None else next(encoded) for row in rows])


def _unit(vectors: np.ndarray) -> np.ndarray:
    """``vectors`` scaled to unit length, in float32 whatever precision they are stored in."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


def _positive(index: RelatedIndex, paper: ProfilePaper) -> _Positive:
    """A saved paper's vector: its row in the index, or its text projected into the index."""
    row = index.row_of(paper.paper_id)
    if row is not None:
        vector = index.vectors_of(row)
    else:
        text = IndexedPaper(paper.paper_id, paper.title, paper.abstract).text
        vector = index.vectorizer.transform([text]).tocsr()
    return _Positive(paper.paper_id, paper.title, vector, f"{paper.title}. {paper.abstract}")


def _closest(
    vector: sparse.csr_matrix, positives: list[_Positive], columns: sparse.csr_matrix
) -> list[_Positive]:
    """The one to three saved papers most similar to a suggestion (cosine; rows are unit length);
    ``columns`` holds the positives' vectors as columns."""
    similarity = np.asarray((vector @ columns).toarray()).ravel().tolist()
    order = sorted(range(len(positives)), key=lambda i: -similarity[i])
    chosen = [positives[i] for i in order[:BECAUSE_MAX] if similarity[i] > 0]
    return chosen or [positives[order[0]]]


def _reason(vector: sparse.csr_matrix, because: list[_Positive], terms: Sequence[str]) -> str:
    """'Like “X” and “Y” in your list. All discuss “a b” and “c d”': phrases of several
    words only, as for related papers, since single shared words are mostly generic, each
    written as the saved papers write it."""
    columns, weights = _overlap(vector, [p.vector for p in because])
    shared = informative_terms(terms, columns, weights, [p.text for p in because])
    titles = [f"“{_short(p.title)}”" for p in because[:2]]
    like = titles[0] if len(titles) == 1 else " and ".join(titles)
    more = f" (and {len(because) - 2} more)" if len(because) > 2 else ""
    if not shared:
        return f"Like {like}{more} in your list"
    phrase = shared_terms_phrase(shared)
    if len(because) > 1:
        phrase = phrase.replace("Both discuss", "All discuss", 1)
    return f"Like {like}{more} in your list. {phrase}"


def _overlap(
    vector: sparse.csr_matrix, others: list[sparse.csr_matrix]
) -> tuple[np.ndarray, np.ndarray]:
    """The columns ``vector`` shares with the sum of the one-row ``others``, and the product of
    their weights there, in the order ``vector.multiply(sum(others))`` lists them.

    Computed on the rows' own entries: scipy's sums and products of rows whose indices are
    not sorted allocate work arrays as wide as the matrix, and with the explainer's million
    terms these few rows were about a third of a reader's suggestion time (profiled at
    100,000 papers). ``_row_op`` does what scipy does, so the order, which breaks ties of
    weight between shared terms, is scipy's too.
    """
    profile = _row(others[0])
    for other in others[1:]:
        profile = _row_op(profile, _row(other), np.add)
    return _row_op(_row(vector), profile, np.multiply)


def _row(vector: sparse.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    start, end = vector.indptr[0], vector.indptr[1]
    return np.asarray(vector.indices[start:end]), np.asarray(vector.data[start:end])


def _row_op(
    first: tuple[np.ndarray, np.ndarray],
    second: tuple[np.ndarray, np.ndarray],
    op: np.ufunc,
) -> tuple[np.ndarray, np.ndarray]:
    """scipy's element-wise ``op`` of two one-row CSR matrices, as (columns, values): with
    both rows' columns in increasing order, the result's are too; otherwise they come in the
    reverse of the order first met, the first row's before the second's. Zeros are dropped."""
    (first_columns, first_values), (second_columns, second_values) = first, second
    if _increasing(first_columns) and _increasing(second_columns):
        columns = np.union1d(first_columns, second_columns)
    else:
        only_second = second_columns[~np.isin(second_columns, first_columns)]
        columns = np.concatenate([first_columns, only_second])[::-1]
    dtype = np.result_type(first_values, second_values)
    left = np.zeros(len(columns), dtype)
    right = np.zeros(len(columns), dtype)
    order = np.argsort(columns)
    left[order[np.searchsorted(columns[order], first_columns)]] = first_values
    right[order[np.searchsorted(columns[order], second_columns)]] = second_values
    values = op(left, right)
    kept = values != 0
    return columns[kept], values[kept]


def _increasing(columns: np.ndarray) -> bool:
    return bool(np.all(columns[1:] > columns[:-1]))


def _busiest_tags(saved: Sequence[ProfilePaper], limit: int) -> list[str]:
    counts: dict[str, int] = {}
    for paper in saved:
        for tag in paper.tags:
            counts[tag] = counts.get(tag, 0) + 1
    return sorted(counts, key=lambda tag: (-counts[tag], tag))[:limit]


def _short(title: str) -> str:
    """A saved paper's title as a reason names it: whole up to ``REASON_TITLE_CHARS``, else
    cut at a word boundary, as reasons cut the sentences they quote."""
    return excerpt(title, REASON_TITLE_CHARS)


def _normalise(title: str) -> str:
    return " ".join(title.lower().split())
