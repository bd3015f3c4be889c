"""Related papers: a ranker chosen by the quality benchmark, with reasons a reader can check.

The index is built once per corpus snapshot, saved to a file that every worker can
load, and queried per paper; a paper that arrived after the build is still served
by projecting its text into the same space. Which ranker scores the papers is
pluggable (see ``worker.pipeline.rankers``); the explanation always names the words
and phrases the two papers share, whatever ranker put them together.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence
from pathlib import Path

import joblib
import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from paperlens.schemas import RelatedPaper
from worker.pipeline.half_sparse import HalfSparse
from worker.pipeline.hybrid_search import HybridSearch
from worker.pipeline.neighbours import AnnParams, Neighbours
from worker.pipeline.packed import PackedStrings
from worker.pipeline.rankers.base import IndexedPaper, Ranker
from worker.pipeline.rankers.choose import make_ranker
from worker.pipeline.rankers.dense import DenseRanker, remembered
from worker.pipeline.rankers.explain import (
    REASON_PHRASES,
    Explainer,
    SentenceScorer,
    shared_terms_phrase,
)
from worker.pipeline.rankers.floors import floor_for
from worker.pipeline.rankers.hybrid import HybridRanker
from worker.pipeline.rankers.tfidf import TfidfRanker

__all__ = ["REASON_PHRASES", "IndexedPaper", "RelatedIndex", "shared_terms_phrase"]

# Two abstracts this alike (lexical cosine) are versions of one paper, not two papers.
NEAR_DUPLICATE = 0.9
# Random bytes naming one fit of an index's spaces (``RelatedIndex.fit``).
FIT_ID_BYTES = 8
# Raise when saved indexes stop agreeing with this code: the dense ranker's stored vectors
# with those it makes for a paper projected at query time, say. A worker that finds the
# published index in another format builds a new one (``index_files.current_index``).
# 2: the title's vector comes from the text's own run (``OnnxMiniLmEncoder.encode_titled``).
# 3: from ``PAPERLENS_RELATED_ANN_FROM`` papers the hybrid keeps its own approximate search
#    (``hybrid_search``) instead of giving way to TF-IDF.
# 4: the title's vector from a run of its own again (``OnnxMiniLmEncoder.encode_titled``).
# 5: paper ids, titles, terms and vocabularies packed into arrays (``worker.pipeline.packed``).
# 6: an index with graphs keeps its lexical matrix by columns (``lexical_columns``) for
#    both rankers, and the hybrid's search shares it.
# 7: at scale the hybrid's embeddings live in its graph only (``DenseRanker.keep_in``).
# 8: at scale the TF-IDF matrices keep half-precision values (``half_sparse``).
# 9: and two bytes of each entry's index (``HalfSparse.low``).
# 10: the explainer's values in one byte each (``EXPLAINER_VALUE_BYTES``).
# 11: the hybrid's search keeps the lexical matrix's moments (``LexicalMoments``).
INDEX_FORMAT = 11

# How far past k the list looks for replacements of skipped duplicates and for MMR.
_LOOKAHEAD = 30
# Candidates past k filtered first, in the hope that no more are needed (see _without_duplicates).
_PREFIX_SLACK = 4


class RelatedIndex:
    """A fitted ranker and explainer over one corpus snapshot.

    ``floor`` is the similarity below which a paper is not listed as related at all,
    however high it ranks among those indexed: in a small catalogue the best of a few
    unrelated papers is still unrelated (``rankers.floors`` says how it was measured).
    """

    def __init__(
        self,
        ranker: Ranker,
        explainer: Explainer,
        paper_ids: Sequence[str],
        titles: Sequence[str],
        diversity: float = 0.0,
        neighbours: Neighbours | None = None,
        floor: float | None = None,
    ) -> None:
        self.ranker = ranker
        self.format = INDEX_FORMAT
        self.floor = floor
        self.neighbours = neighbours
        self.hybrid_search: HybridSearch | None = None
        self.lexical_columns: HalfSparse | None = None
        self.explainer = explainer
        # Packed, so that a saved index maps them (``worker.pipeline.packed``); the ids
        # with a lookup table, which ``row_of`` answers from.
        self.paper_ids = _packed(paper_ids, lookup=True)
        self.titles = _packed(titles, lookup=False)
        self.diversity = diversity
        # Names this fit of the spaces, kept by ``extend`` and ``save``: what was computed
        # from one fit's scores (``gains.Cutoff``) is not used with another's.
        self.fit_id = secrets.token_bytes(FIT_ID_BYTES)

    @classmethod
    def build(
        cls,
        papers: Iterable[IndexedPaper],
        ranker: str | Ranker = "tfidf",
        diversity: float = 0.0,
        floor: float | None = None,
    ) -> RelatedIndex:
        """Fit ``ranker`` (an instance, or a name from ``rankers.choose``) and the explainer.

        A ranker given by name gets its measured similarity floor unless ``floor`` says
        otherwise; an instance (the benchmark's variants) gets only the ``floor`` given.
        """
        docs = list(papers)
        fitted = make_ranker(ranker) if isinstance(ranker, str) else ranker
        if floor is None and isinstance(ranker, str):
            floor = floor_for(ranker)
        # The explainer first: its fit's peak is the build's largest until the graphs, and a
        # dense ranker's embeddings (3 GB at a million papers) would otherwise sit under it.
        explainer = Explainer()
        explainer.fit(docs)
        fitted.fit(docs)
        return cls(
            fitted,
            explainer,
            [d.paper_id for d in docs],
            [d.title for d in docs],
            diversity,
            floor=floor,
        )

    def search_as(self, ann: AnnParams) -> None:
        """Search the graphs with ``ann``'s search parameters (``AnnParams.searching_as``):
        an operator's new settings apply once a worker loads the index, without a new fit."""
        hybrid = self.approximate_hybrid
        for graph in (self.neighbours, hybrid.graph if hybrid is not None else None):
            if graph is not None:
                graph.params = graph.params.searching_as(ann)

    def add_neighbours(self, ann: AnnParams) -> None:
        """Build what proposes candidates from now on, for the TF-IDF ranker or the hybrid,
        whose exact scores then order them. A step of its own, so that a caller can release
        the papers' text before the graphs take their memory.

        Both rankers get the TF-IDF matrix by columns, its inverted lists. TF-IDF gets a
        graph over reduced TF-IDF (``neighbours``); the hybrid its own search
        (``hybrid_search``: a graph over its embeddings, which also reads the columns), where
        its dense ranker keeps the embeddings from here on (``DenseRanker.keep_in``).
        Reading-list suggestions read the columns and the graph either has. Every TF-IDF
        matrix is kept compact (a byte per value) from here on (``half_sparse``).
        """
        lexical = self.ranker.lexical if isinstance(self.ranker, HybridRanker) else self.ranker
        if not isinstance(lexical, TfidfRanker):
            raise ValueError("approximate candidates are ordered by TF-IDF or the hybrid only")
        rows = lexical.whole()
        self.lexical_columns = HalfSparse.of(rows.tocsc())
        if isinstance(self.ranker, HybridRanker):
            self.hybrid_search = HybridSearch.build(self.ranker, ann, self.lexical_columns, rows)
        else:
            self.neighbours = Neighbours.build(lexical.whole(), ann)
        lexical.compact()
        self.explainer.tfidf.compact()

    def extend(self, papers: Sequence[IndexedPaper]) -> None:
        """Add ``papers`` after those indexed, without fitting again: their rows in the
        fitted spaces (TF-IDF's vocabulary and weights, the SVD's directions, the
        explainer's terms), their embeddings, into the graph, and into the dense moments.

        Much cheaper than a build at scale (only the new papers are read), at the price of
        spaces that age: a term only new papers use counts for nothing until the next build
        (``index_files.update_and_publish`` decides when to build again). Papers the index
        holds already are skipped. TF-IDF and the hybrid only (``NotExtendable`` else).
        """
        if not isinstance(self.ranker, TfidfRanker | HybridRanker):
            raise NotExtendable(f"the {self.ranker.name} ranker is fitted only as a whole")
        seen = set()
        fresh = []
        for paper in papers:
            if paper.paper_id not in seen and self.row_of(paper.paper_id) is None:
                seen.add(paper.paper_id)
                fresh.append(paper)
        before = len(self)
        self.fitted_count = self.papers_fitted
        self.added_from = before
        if not fresh:
            return
        self.ranker.extend(fresh)
        self.explainer.extend(fresh)
        self.paper_ids = PackedStrings([*self.paper_ids, *(p.paper_id for p in fresh)], lookup=True)
        self.titles = PackedStrings([*self.titles, *(p.title for p in fresh)])
        if self.lexical_columns is None:
            return
        lexical = self.ranker.lexical if isinstance(self.ranker, HybridRanker) else self.ranker
        assert isinstance(lexical, TfidfRanker)  # add_neighbours allows no other
        rows = lexical.whole()
        self.lexical_columns = HalfSparse.of(rows.tocsc())
        if self.neighbours is not None:
            self.neighbours.add(lexical.rows(slice(before, None)))
        if self.approximate_hybrid is not None:
            assert isinstance(self.ranker, HybridRanker)
            dense = self.ranker.dense
            assert isinstance(dense, DenseRanker)
            added = dense.vectors(np.arange(before, len(self)))
            self.approximate_hybrid.extend(added, self.lexical_columns, rows)

    @property
    def papers_fitted(self) -> int:
        """How many papers the spaces were fitted on: all of them until ``extend`` adds some."""
        return int(getattr(self, "fitted_count", None) or len(self))

    @property
    def fit(self) -> bytes:
        """The fit's name (``FIT_ID_BYTES`` long); empty for an index saved before fits had
        names."""
        return bytes(getattr(self, "fit_id", b""))

    @property
    def added_rows_from(self) -> int | None:
        """The first row the last ``extend`` added (None for an index as built)."""
        return getattr(self, "added_from", None)

    @property
    def ranker_name(self) -> str:
        return self.ranker.name

    @property
    def vectorizer(self) -> TfidfVectorizer:
        """The lexical space (words and two-word phrases) that reading-list suggestions use."""
        return self.explainer.tfidf.vectorizer

    def vectors_of(self, rows: int | Sequence[int] | np.ndarray) -> sparse.csr_matrix:
        """Indexed papers' L2-normalised rows in ``vectorizer``'s space (one for an int)."""
        return self.explainer.tfidf.rows(rows)

    def save(self, path: Path) -> None:
        """Write to temporary names and rename, so a reader never loads half a file.

        Uncompressed, so that ``load`` can map the large arrays instead of copying them;
        the neighbour graph goes to a file of its own beside it, renamed first.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        graphs: list[tuple[Neighbours | HybridSearch | None, Path]] = [
            (self.neighbours, graph_path(path)),
            (self.approximate_hybrid, dense_graph_path(path)),
        ]
        for found, graph in graphs:
            if found is not None:
                partial_graph = graph.with_suffix(graph.suffix + ".partial")
                found.save_graph(partial_graph)
                partial_graph.replace(graph)
        partial = path.with_suffix(path.suffix + ".partial")
        joblib.dump(self, partial)
        partial.replace(path)

    @classmethod
    def load(cls, path: Path, writable: bool = False) -> RelatedIndex:
        """The saved index with its arrays memory-mapped read-only: workers on one machine
        share one copy through the page cache instead of holding one each. ``writable``
        reads it all into memory instead, for ``extend``."""
        index = joblib.load(path, mmap_mode=None if writable else "r")
        if not isinstance(index, cls):
            raise TypeError(f"{path} does not hold a related-papers index")
        if index.neighbours is not None:
            index.neighbours.load_graph(graph_path(path), writable)
        if index.approximate_hybrid is not None:
            index.approximate_hybrid.load_graph(dense_graph_path(path), writable)
        return index

    def __len__(self) -> int:
        return len(self.paper_ids)

    def row_of(self, paper_id: str) -> int | None:
        return self.paper_ids.find(paper_id)

    @property
    def up_to_date(self) -> bool:
        """Whether this index was built in the format this code writes (saved indexes
        from before formats were numbered have none)."""
        return getattr(self, "format", 1) == INDEX_FORMAT

    @property
    def approximate_hybrid(self) -> HybridSearch | None:
        """The hybrid's search at scale, also for an index saved before it existed (none)."""
        return getattr(self, "hybrid_search", None)

    @property
    def similarity_floor(self) -> float | None:
        """The floor, also for an index saved before floors existed (it has none)."""
        return getattr(self, "floor", None)

    def scored(self, paper: IndexedPaper) -> tuple[np.ndarray, np.ndarray]:
        """The scores that order ``paper``'s list and the similarities the floor applies to,
        computed as ``related_many`` computes them (see ``_scored_many``)."""
        scores, similarities = self._scored_many([paper], [self.row_of(paper.paper_id)])
        return scores[0], similarities[0]

    def _close_enough(self, similarity: np.ndarray) -> np.ndarray:
        """Which candidates clear the floor (all, without one)."""
        floor = self.similarity_floor
        if floor is None:
            return np.asarray(np.isfinite(similarity))
        return np.asarray(similarity >= floor)

    def related(self, paper: IndexedPaper, k: int) -> list[RelatedPaper]:
        """``related_many`` of one paper: the list served for it, not another way to make one."""
        return self.related_many([paper], k)[0]

    def _without_duplicates(
        self,
        paper: IndexedPaper,
        query: sparse.csr_matrix,
        rows: list[int],
        vectors: sparse.csr_matrix,
        wanted: int | None = None,
    ) -> list[int]:
        """Drop copies of the paper and of each other: same title or near-identical text.

        ``vectors`` are the explainer's rows of ``rows``, in the same order. With ``wanted``,
        only the first ``wanted`` kept rows are asked for. Whether a row is kept depends only
        on the rows before it, so filtering a prefix of the candidates gives exactly the first
        rows of filtering them all; duplicates are rare, so a prefix a little longer than
        ``wanted`` nearly always suffices (about half the filter's cost per paper at 100k
        papers, profiled).
        """
        if wanted is not None:
            head = wanted + _PREFIX_SLACK
            if len(rows) > head:
                first = self._without_duplicates(paper, query, rows[:head], vectors[:head])
                if len(first) >= wanted:
                    return first[:wanted]
        matrix, query = _on_shared_columns(vectors, query)
        to_query = np.asarray((matrix @ query.T).toarray()).ravel()
        to_each_other = np.asarray((matrix @ matrix.T).toarray())
        seen_titles = {normalise_title(paper.title)}
        kept: list[int] = []
        for position, row in enumerate(rows):
            title = normalise_title(self.titles[row])
            if title in seen_titles or to_query[position] >= NEAR_DUPLICATE:
                continue
            if kept and to_each_other[position, kept].max() >= NEAR_DUPLICATE:
                continue
            seen_titles.add(title)
            kept.append(position)
        return [rows[position] for position in kept]

    def _diversify(self, relevance: np.ndarray, rows: list[int], k: int) -> list[int]:
        """Maximal marginal relevance: trade a little score for papers unlike those chosen."""
        if not rows:
            return []
        spread = float(relevance.max() - relevance.min()) or 1.0
        relevance = (relevance - relevance.min()) / spread
        matrix = self.explainer.tfidf.rows(rows)
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

    def related_many(
        self,
        papers: Sequence[IndexedPaper],
        k: int,
        candidates: Sequence[tuple[list[int], np.ndarray]] | None = None,
    ) -> list[list[RelatedPaper]]:
        """The ``k`` most related other papers of each paper, without duplicates, each with its
        reason: the one way a related list is made, for a chunk of papers (precompute) or for
        one (``related``). The similarity and the reasons of the whole chunk are computed in a
        few matrix operations instead of a few per paper. ``candidates``, when the caller has
        them already, are the papers' ``candidates`` at least ``candidate_depth(k)`` deep."""
        rows = [self.row_of(paper.paper_id) for paper in papers]
        queries = self.explainer.vectors(papers, rows)
        depth = self.candidate_depth(k)
        if candidates is None:
            candidates = self.candidates(papers, rows, depth)
        candidates = [(found[:depth], scores[:depth]) for found, scores in candidates]
        chosen: list[tuple[list[int], np.ndarray]] = []
        every = self.explainer.tfidf.rows([row for found, _ in candidates for row in found])
        start = 0
        for position, (paper, (found, scores)) in enumerate(zip(papers, candidates, strict=True)):
            own = every[start : start + len(found)]
            start += len(found)
            wanted = None if self.diversity else k
            kept = self._without_duplicates(paper, queries[position], found, own, wanted)
            relevance = scores[[found.index(row) for row in kept]]
            picked = self._diversify(relevance, kept, k) if self.diversity else kept[:k]
            chosen.append((picked, relevance[[kept.index(row) for row in picked]]))
        pairs = [(position, row) for position, (picked, _) in enumerate(chosen) for row in picked]
        reasons = iter(self.explainer.reasons_many(papers, queries, pairs, self._sentences_to()))
        return [
            [
                RelatedPaper(
                    paper_id=self.paper_ids[row],
                    title=self.titles[row],
                    score=round(float(score), 4),
                    reason=next(reasons),
                )
                for row, score in zip(picked, scores, strict=True)
            ]
            for picked, scores in chosen
        ]

    def reasons_many(
        self, papers: Sequence[IndexedPaper], pairs: Sequence[tuple[int, int]]
    ) -> list[str]:
        """Why each (position in ``papers``, row) pair is related, as ``related_many`` words
        it."""
        queries = self.explainer.vectors(papers, [self.row_of(paper.paper_id) for paper in papers])
        return self.explainer.reasons_many(papers, queries, pairs, self._sentences_to())

    def dense_vectors(self, rows: Sequence[int]) -> np.ndarray | None:
        """The dense ranker's stored vectors of ``rows``, when the ranker has them."""
        dense = self._dense_ranker()
        return None if dense is None else dense.vectors(list(rows))

    def _dense_ranker(self) -> DenseRanker | None:
        dense = self.ranker.dense if isinstance(self.ranker, HybridRanker) else self.ranker
        if not isinstance(dense, DenseRanker) or not len(dense):
            return None
        return dense

    def _sentences_to(self) -> SentenceScorer | None:
        """Sentence similarity by the dense ranker's own encoder and stored embeddings, when
        the ranker has them: no second model, only the query's sentences are encoded, and
        those encoded lately are not encoded again (``dense.remembered``)."""
        dense = self._dense_ranker()
        if dense is None:
            return None

        def scorer(groups: Sequence[tuple[Sequence[str], Sequence[int]]]) -> list[np.ndarray]:
            every = [sentence for sentences, _ in groups for sentence in sentences]
            if not every:
                return [np.zeros((0, len(rows))) for _, rows in groups]
            vectors = remembered(dense.encoder_name, every)
            found = []
            start = 0
            for sentences, rows in groups:
                own = vectors[start : start + len(sentences)]
                start += len(sentences)
                whole = dense.vectors(list(rows), own.shape[1])  # the text's, not the title's
                found.append(np.asarray(own @ whole.T))
            return found

        return scorer

    @staticmethod
    def candidate_depth(k: int) -> int:
        """How many candidates ``related_many`` looks at for a list of ``k``."""
        return k + _LOOKAHEAD

    def candidates(
        self, papers: Sequence[IndexedPaper], rows: Sequence[int | None], depth: int
    ) -> list[tuple[list[int], np.ndarray]]:
        """Each paper's ``depth`` best other papers above the floor with their scores, before
        duplicates are dropped: scored against every paper below ``related_ann_from``, found
        by the approximate search above."""
        if self.approximate_hybrid is not None:
            return self._hybrid_candidates(self.approximate_hybrid, papers, rows, depth)
        if self.neighbours is not None:
            return self._approximate_candidates(papers, rows, depth)
        return self._exact_candidates(papers, rows, depth)

    def _hybrid_candidates(
        self,
        search: HybridSearch,
        papers: Sequence[IndexedPaper],
        rows: Sequence[int | None],
        depth: int,
    ) -> list[tuple[list[int], np.ndarray]]:
        """The hybrid search's candidates, in the order of their exact hybrid scores."""
        assert isinstance(self.ranker, HybridRanker)
        found = []
        for candidates, scores, similarities in search.candidates(self.ranker, papers, rows):
            close = self._close_enough(similarities[:depth])
            found.append(([int(r) for r in candidates[:depth][close]], scores[:depth][close]))
        return found

    def _exact_candidates(
        self, papers: Sequence[IndexedPaper], rows: Sequence[int | None], depth: int
    ) -> list[tuple[list[int], np.ndarray]]:
        """Each paper's ``depth`` best-scored other papers above the floor, scored against
        the whole corpus."""
        block, similarities = self._scored_many(papers, rows)
        found = []
        for scores, similarity in zip(block, similarities, strict=True):
            close = self._close_enough(similarity)
            top = [r for r in _top_indices(scores, depth) if np.isfinite(scores[r]) and close[r]]
            found.append((top, scores[top]))
        return found

    def _scored_many(
        self, papers: Sequence[IndexedPaper], rows: Sequence[int | None]
    ) -> tuple[np.ndarray, np.ndarray]:
        """A row per paper of the scores that order its list and of the similarities the floor
        applies to: the same for most rankers, the raw mix for the hybrid (its scores are
        corpus-relative). Each paper's own entry is -inf in both."""
        if isinstance(self.ranker, TfidfRanker):
            block = np.asarray(self.ranker.scores_many(papers, rows), dtype=np.float64)
            similarities = block
        else:
            pairs = [
                _scored(self.ranker, paper, row) for paper, row in zip(papers, rows, strict=True)
            ]
            block = np.vstack([scores for scores, _ in pairs])
            similarities = np.vstack([similarity for _, similarity in pairs])
        for position, row in enumerate(rows):
            if row is not None:
                block[position, row] = -np.inf
                similarities[position, row] = -np.inf
        return block, similarities

    def _approximate_candidates(
        self, papers: Sequence[IndexedPaper], rows: Sequence[int | None], depth: int
    ) -> list[tuple[list[int], np.ndarray]]:
        """The graph's nearest papers in the reduced space, ordered by exact TF-IDF cosine."""
        assert self.neighbours is not None and isinstance(self.ranker, TfidfRanker)
        queries = self.ranker.vectors(papers, rows)
        proposed = self.neighbours.search(queries, self.neighbours.params.candidates + 1)
        lists = [
            [int(r) for r in found if r >= 0 and r != row]
            for found, row in zip(proposed, rows, strict=True)
        ]
        owner = np.repeat(np.arange(len(lists)), [len(found) for found in lists])
        flat = [r for found in lists for r in found]
        exact = np.asarray(
            queries[owner].multiply(self.ranker.rows(flat)).sum(axis=1), dtype=np.float64
        ).ravel()
        found = []
        start = 0
        for candidates in lists:
            scores = exact[start : start + len(candidates)]
            start += len(candidates)
            order = np.argsort(-scores, kind="stable")[:depth]
            order = order[self._close_enough(scores[order])]
            found.append(([candidates[i] for i in order], scores[order]))
        return found


class NotExtendable(TypeError):
    """The index's ranker cannot take papers without a new fit (``RelatedIndex.extend``)."""


def _packed(strings: Sequence[str], lookup: bool) -> PackedStrings:
    """``strings`` packed, unless they already are as asked (an index rebuilt from another's
    parts, as the benchmarks and tests make them)."""
    if isinstance(strings, PackedStrings) and (strings.slots is not None or not lookup):
        return strings
    return PackedStrings(strings, lookup=lookup)


def _on_shared_columns(
    rows: sparse.csr_matrix, query: sparse.csr_matrix
) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """``rows`` and ``query`` with only the columns ``rows`` uses, in the same order.

    Products and transposes of sparse matrices cost time in their number of columns; the
    explainer's space has up to a million, of which a few dozen rows use a few thousand.
    Dropping the rest changes no product, not even in its last bit: every sum runs over
    the same terms in the same order.
    """
    used, inverse = np.unique(rows.indices, return_inverse=True)
    compact = sparse.csr_matrix(
        (rows.data, inverse.astype(np.int32), rows.indptr), shape=(rows.shape[0], len(used))
    )
    position = np.searchsorted(used, query.indices)
    found = position < len(used)
    found[found] = used[position[found]] == query.indices[found]
    narrowed = sparse.csr_matrix(
        (query.data[found], position[found].astype(np.int32), [0, int(found.sum())]),
        shape=(1, len(used)),
    )
    return compact, narrowed


def _scored(ranker: Ranker, paper: IndexedPaper, row: int | None) -> tuple[np.ndarray, np.ndarray]:
    """A ranker's ordering scores and floor similarities of ``paper``, as float64 copies."""
    if isinstance(ranker, HybridRanker):
        scores, similarity = ranker.scored(paper, row)
    else:
        scores = similarity = ranker.scores(paper, row)
    return np.array(scores, dtype=np.float64), np.array(similarity, dtype=np.float64)


def graph_path(path: Path) -> Path:
    """Where the graph over reduced TF-IDF of the index saved at ``path`` lives."""
    return path.with_suffix(".faiss")


def dense_graph_path(path: Path) -> Path:
    """Where the hybrid's graph over dense embeddings of the index at ``path`` lives."""
    return path.with_suffix(".dense.faiss")


def _top_indices(scores: np.ndarray, k: int) -> list[int]:
    k = min(k, len(scores))
    if k <= 0:
        return []
    candidates = np.argpartition(-scores, k - 1)[:k]
    return [int(i) for i in candidates[np.argsort(-scores[candidates], kind="stable")]]


def normalise_title(title: str) -> str:
    """A title as duplicates are told apart: case, punctuation and spacing aside."""
    return re.sub(r"\W+", " ", title).strip().lower()
