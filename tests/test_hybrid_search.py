"""The hybrid's approximate search scores its candidates as scoring every paper does, and
finds the papers exact search lists."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from paperlens.schemas import RelatedPaper
from tests.test_related import demo_papers
from worker.pipeline.neighbours import AnnParams
from worker.pipeline.rankers.choose import embeddings_available
from worker.pipeline.rankers.dense import DenseRanker
from worker.pipeline.rankers.hybrid import HybridRanker
from worker.pipeline.rankers.tfidf import TfidfRanker
from worker.pipeline.related import IndexedPaper, RelatedIndex

pytestmark = pytest.mark.skipif(
    not embeddings_available(), reason="the packaged model is not installed"
)

# Far fewer candidates per paper than the demo corpus's 58 other papers.
SMALL = AnnParams(dims=24, candidates=10, ef_search=16, links=8, lexical_candidates=5)
NEWCOMER = IndexedPaper(
    "arxiv:9999.00001",
    "Sparse mixture of experts routing",
    "We study expert routing in sparse mixture-of-experts language models.",
)


@pytest.fixture(scope="module")
def index() -> RelatedIndex:
    return RelatedIndex.build(demo_papers(), "hybrid")


def test_candidates_score_what_they_score_against_the_whole_corpus(index: RelatedIndex) -> None:
    papers = [*demo_papers(), NEWCOMER]
    rows = [index.row_of(paper.paper_id) for paper in papers]
    ranker = copy.deepcopy(index.ranker)
    approximate = RelatedIndex(ranker, index.explainer, index.paper_ids, index.titles)
    approximate.add_neighbours(SMALL)
    assert approximate.approximate_hybrid is not None and isinstance(ranker, HybridRanker)

    found = approximate.approximate_hybrid.candidates(ranker, papers, rows)

    for paper, row, (candidates, fused, raw) in zip(papers, rows, found, strict=True):
        assert row not in candidates
        assert 10 <= len(candidates) < len(index)
        # The same ranker scoring every paper, from the embeddings as the graph keeps them.
        exact_fused, exact_raw = ranker.scored(paper, row)
        np.testing.assert_allclose(fused, exact_fused[candidates], atol=1e-5)
        np.testing.assert_allclose(raw, exact_raw[candidates], atol=1e-5)
        assert list(fused) == sorted(fused, reverse=True)


def test_approximate_lists_hold_the_papers_of_exact_lists(index: RelatedIndex) -> None:
    papers = [*demo_papers(), NEWCOMER]
    exact = index.related_many(papers, 10)
    approximate = approximate_copy(index, SMALL)

    served = approximate.related_many(papers, 10)

    shared, listed = papers_in_common(served, exact)
    assert listed >= 59 and shared / listed >= 0.9, (shared, listed)
    moe = served[-1]
    assert sum("expert" in r.title.lower() or "moe" in r.title.lower() for r in moe[:5]) >= 3


def test_a_built_index_searches_with_the_search_parameters_it_is_given(
    index: RelatedIndex,
) -> None:
    papers = [*demo_papers(), NEWCOMER]
    approximate = approximate_copy(index, SMALL)
    before = [len(listed) for listed in approximate.related_many(papers, 10)]

    approximate.search_as(replace(SMALL, candidates=2, lexical_candidates=0, dims=8, links=4))

    # The graph's two nearest papers (three for a paper outside it) are all a list can hold.
    after = [len(listed) for listed in approximate.related_many(papers, 10)]
    assert max(after) <= 3 < max(before) and 0 < sum(after) < sum(before), (before, after)
    search = approximate.approximate_hybrid
    assert search is not None and (search.params.dims, search.params.links) == (24, 8)


def test_at_scale_the_embeddings_are_kept_once_in_the_graph_and_order_papers_as_before(
    tmp_path: Path,
) -> None:
    index = RelatedIndex.build(demo_papers(), "hybrid")
    assert isinstance(index.ranker, HybridRanker)
    dense = index.ranker.dense
    assert isinstance(dense, DenseRanker)
    papers = [*demo_papers(), NEWCOMER]
    rows = [index.row_of(paper.paper_id) for paper in papers]
    encoded = dense.embeddings.copy()
    before = [top_ten(index, paper, row) for paper, row in zip(papers, rows, strict=True)]

    index.add_neighbours(SMALL)
    index.save(tmp_path / "index.joblib")
    loaded = RelatedIndex.load(tmp_path / "index.joblib")

    assert isinstance(loaded.ranker, HybridRanker) and isinstance(loaded.ranker.dense, DenseRanker)
    kept = loaded.ranker.dense
    assert kept.embeddings.size == 0 and len(kept) == len(index)
    read = kept.vectors(np.arange(len(index)))
    similarity = np.sum(read * encoded, axis=1) / np.sum(encoded * encoded, axis=1)
    np.testing.assert_allclose(similarity, 1.0, atol=5e-3)
    after = [top_ten(loaded, paper, row) for paper, row in zip(papers, rows, strict=True)]
    same = sum(len(set(b) & set(a)) for b, a in zip(before, after, strict=True))
    assert same >= 0.99 * 10 * len(papers), same


def top_ten(index: RelatedIndex, paper: IndexedPaper, row: int | None) -> list[int]:
    """The rows the ranker scores best for ``paper``, scoring every paper."""
    return [int(r) for r in np.argsort(-index.ranker.scores(paper, row), kind="stable")[:10]]


def test_the_lexical_stage_reads_the_rarest_terms_within_its_budget(index: RelatedIndex) -> None:
    papers = demo_papers()
    approximate = approximate_copy(index, replace(SMALL, lexical_postings=40))
    search = approximate.approximate_hybrid
    assert search is not None and isinstance(approximate.ranker, HybridRanker)
    lexical = approximate.ranker.lexical
    assert isinstance(lexical, TfidfRanker)
    queries = lexical.vectors(papers, [approximate.row_of(p.paper_id) for p in papers])
    lengths = np.diff(search.columns.indptr)

    read = search._rarest_terms(queries)

    assert read.nnz < queries.nnz
    for position in range(queries.shape[0]):
        terms = set(queries[position].indices)
        kept = set(read[position].indices)
        assert kept and kept <= terms
        np.testing.assert_array_equal(
            read[position, list(kept)].toarray(), queries[position, list(kept)].toarray()
        )
        entries = int(lengths[list(kept)].sum())
        assert entries <= 40 or len(kept) == 1
        left = terms - kept
        if left:
            assert max(lengths[list(kept)]) <= min(lengths[list(left)])
            assert entries + min(lengths[list(left)]) > 40


def test_lists_from_a_budget_and_a_sample_hold_the_papers_of_exact_lists(
    index: RelatedIndex,
) -> None:
    """A reading budget well under a query's inverted lists and the lexical spread taken
    from a third of the papers, as at a million papers: the lists barely change."""
    papers = [*demo_papers(), NEWCOMER]
    exact = index.related_many(papers, 10)
    approximate = approximate_copy(index, replace(SMALL, lexical_postings=60, statistics_sample=20))
    search = approximate.approximate_hybrid
    assert search is not None and search.lexical_moments.sampled == 20

    served = approximate.related_many(papers, 10)

    shared, listed = papers_in_common(served, exact)
    assert shared / listed >= 0.85, (shared, listed)


def test_after_an_extension_candidates_score_what_they_score_against_every_paper() -> None:
    papers = demo_papers()
    index = RelatedIndex.build(papers[:-8], "hybrid")
    index.add_neighbours(SMALL)
    index.extend(papers[-8:])
    ranker = index.ranker
    search = index.approximate_hybrid
    assert search is not None and isinstance(ranker, HybridRanker)
    rows = [index.row_of(paper.paper_id) for paper in papers]

    found = search.candidates(ranker, papers, rows)

    for paper, row, (candidates, fused, raw) in zip(papers, rows, found, strict=True):
        exact_fused, exact_raw = ranker.scored(paper, row)
        np.testing.assert_allclose(fused, exact_fused[candidates], atol=1e-5)
        np.testing.assert_allclose(raw, exact_raw[candidates], atol=1e-5)


def papers_in_common(
    served: list[list[RelatedPaper]], exact: list[list[RelatedPaper]]
) -> tuple[int, int]:
    """How many papers of the exact lists the served lists hold, and how many they list."""
    shared = sum(
        len({r.paper_id for r in a} & {r.paper_id for r in e})
        for a, e in zip(served, exact, strict=True)
    )
    return shared, sum(len(e) for e in exact)


def approximate_copy(index: RelatedIndex, params: AnnParams) -> RelatedIndex:
    """``index``'s fitted ranker with an approximate search of ``params`` of its own."""
    approximate = RelatedIndex(
        copy.deepcopy(index.ranker),
        index.explainer,
        index.paper_ids,
        index.titles,
        floor=index.floor,
    )
    approximate.add_neighbours(params)
    return approximate


def test_with_a_sample_the_terms_read_count_exactly_in_the_spread(index: RelatedIndex) -> None:
    """Above the sample's size the sample only estimates what the unread terms add: when
    every term is read, candidates score what they score against every paper."""
    papers = [*demo_papers(), NEWCOMER]
    rows = [index.row_of(paper.paper_id) for paper in papers]
    approximate = approximate_copy(index, replace(SMALL, statistics_sample=20))
    search = approximate.approximate_hybrid
    ranker = approximate.ranker
    assert search is not None and search.lexical_moments.sample is not None
    assert isinstance(ranker, HybridRanker)

    found = search.candidates(ranker, papers, rows)

    for paper, row, (candidates, fused, _) in zip(papers, rows, found, strict=True):
        exact_fused, _ = ranker.scored(paper, row)
        np.testing.assert_allclose(fused, exact_fused[candidates], atol=1e-5)


def test_every_term_is_read_where_the_sample_would_cost_more_than_it_saves(
    index: RelatedIndex,
) -> None:
    """Above the sample's size the budget prunes a query's terms only when the rarest terms'
    lists plus every term's over the sample hold fewer entries than every term's lists: with
    half the papers sampled and a budget near a query's lists, every term is read, and
    candidates score what they score against every paper; with a third sampled and a small
    budget, the rarest terms are read."""
    papers = [*demo_papers(), NEWCOMER]
    rows = [index.row_of(paper.paper_id) for paper in papers]
    near = approximate_copy(index, replace(SMALL, lexical_postings=600, statistics_sample=40))
    small = approximate_copy(index, replace(SMALL, lexical_postings=60, statistics_sample=20))
    near_search, small_search = near.approximate_hybrid, small.approximate_hybrid
    assert near_search is not None and small_search is not None
    assert isinstance(near.ranker, HybridRanker) and isinstance(near.ranker.lexical, TfidfRanker)
    queries = near.ranker.lexical.vectors(papers, rows)
    assert near_search.lexical_moments.sampled == 30
    assert near_search._rarest_terms(queries).nnz < queries.nnz

    assert near_search.terms_read(queries) is queries
    assert small_search.terms_read(queries).nnz < queries.nnz

    found = near_search.candidates(near.ranker, papers, rows)
    for paper, row, (candidates, fused, _) in zip(papers, rows, found, strict=True):
        exact_fused, _ = near.ranker.scored(paper, row)
        np.testing.assert_allclose(fused, exact_fused[candidates], atol=1e-5)
