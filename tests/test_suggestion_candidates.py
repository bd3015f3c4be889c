"""A reader's suggestions from the nearest-neighbour graph's candidates match scoring every
paper, and the model learns from a fixed sample of negatives and from the hybrid's vectors."""

from __future__ import annotations

import numpy as np
import pytest

from paperlens.store.library import ProfilePaper, ReaderProfile
from tests.test_related import demo_papers
from worker.pipeline import suggestions
from worker.pipeline.neighbours import AnnParams
from worker.pipeline.rankers.choose import embeddings_available, make_ranker
from worker.pipeline.rankers.tfidf import TfidfRanker
from worker.pipeline.related import IndexedPaper, RelatedIndex

SAVED_MOE = ["arxiv:2310.01334", "arxiv:2507.23279", "arxiv:2505.21411"]
OTHER_MOE = {"arxiv:2506.05426", "arxiv:2406.08155", "arxiv:2503.22517", "arxiv:2306.02824"}


def moe_reader(papers: list[IndexedPaper], dismissed: set[str] | None = None) -> ReaderProfile:
    by_id = {p.paper_id: p for p in papers}
    saved = [ProfilePaper(i, by_id[i].title, by_id[i].abstract, ["moe"]) for i in SAVED_MOE]
    return ReaderProfile(
        revision=1,
        saved=saved,
        saved_ids=set(SAVED_MOE),
        dismissed=dismissed or set(),
        more_like_this=set(),
    )


@pytest.fixture
def graph_index(monkeypatch: pytest.MonkeyPatch) -> RelatedIndex:
    """The demo corpus with a small graph that proposes a few candidates per query only."""
    monkeypatch.setattr(suggestions, "NEIGHBOURS_PER_SAVED", 12)
    monkeypatch.setattr(suggestions, "NEIGHBOURS_OF_MODEL", 20)
    index = RelatedIndex.build(demo_papers(), "tfidf")
    index.add_neighbours(AnnParams(dims=48, candidates=20, ef_search=64, links=8))
    return index


def test_suggestions_from_graph_candidates_are_those_of_scoring_every_paper(
    graph_index: RelatedIndex,
) -> None:
    papers = demo_papers()
    profile = moe_reader(papers)
    model = suggestions.reader_model(graph_index, profile, profile.saved)
    assert model is not None
    rows = suggestions.candidate_rows(graph_index, model)
    assert 10 <= len(rows) < len(graph_index)  # a part of the index is scored, not all of it

    served = suggestions.suggest(graph_index, profile, profile.saved, 5)
    every_row = np.arange(len(graph_index))
    exact, scores = suggestions.top_rows(graph_index, model, every_row, profile, profile.saved, 5)
    assert [s.paper_id for s in served] == [graph_index.paper_ids[row] for row in exact]
    assert [s.score for s in served] == [round(score, 4) for score in scores]
    assert len(OTHER_MOE & {s.paper_id for s in served}) >= 3
    assert not {s.paper_id for s in served} & set(SAVED_MOE)
    assert all(s.reason.startswith("Like “") and set(s.because) <= set(SAVED_MOE) for s in served)


def test_the_heaviest_terms_find_what_a_graph_too_shallow_to_reach_misses(
    graph_index: RelatedIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the graph proposing one neighbour per query, the inverted lists of the
    classifier's heaviest terms still bring the best-scored papers; without them the
    graph's candidates alone miss some."""
    monkeypatch.setattr(suggestions, "NEIGHBOURS_PER_SAVED", 1)
    monkeypatch.setattr(suggestions, "NEIGHBOURS_OF_MODEL", 1)
    monkeypatch.setattr(suggestions, "BEST_BY_TERMS", 10)
    profile = moe_reader(demo_papers())
    model = suggestions.reader_model(graph_index, profile, profile.saved)
    assert model is not None
    every_row = np.arange(len(graph_index))
    exact, _ = suggestions.top_rows(graph_index, model, every_row, profile, profile.saved, 5)

    rows = suggestions.candidate_rows(graph_index, model)
    assert set(exact) <= set(rows.tolist()) and len(rows) < len(graph_index)
    assert graph_index.lexical_columns is not None
    monkeypatch.setattr(graph_index, "lexical_columns", None)
    assert not set(exact) <= set(suggestions.candidate_rows(graph_index, model).tolist())


def test_best_by_terms_ranks_rows_by_their_margin_over_those_terms_alone(
    graph_index: RelatedIndex,
) -> None:
    columns = graph_index.lexical_columns
    assert columns is not None
    weights = np.random.default_rng(1).normal(size=columns.shape[1])
    heaviest = np.argsort(-weights)[:30]
    assert isinstance(graph_index.ranker, TfidfRanker)
    lexical = graph_index.ranker.whole()
    partial = lexical[:, heaviest] @ weights[heaviest]
    expected = set(np.argsort(-partial)[:7].tolist())

    assert set(suggestions.best_by_terms(columns, weights, 30, 7).tolist()) == expected


def test_a_small_sample_of_negatives_still_finds_the_other_moe_papers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(suggestions, "NEGATIVES", 20)
    papers = demo_papers()
    index = RelatedIndex.build(papers, "tfidf")
    dismissed = "arxiv:2506.05426"
    profile = moe_reader(papers, dismissed={dismissed})

    found = suggestions.suggest(index, profile, profile.saved, 5)

    ids = [s.paper_id for s in found]
    assert len(OTHER_MOE & set(ids)) >= 2, ids
    assert dismissed not in ids and not set(ids) & set(SAVED_MOE)


@pytest.mark.skipif(not embeddings_available(), reason="the packaged model is not installed")
def test_on_the_hybrid_index_the_model_reads_both_spaces() -> None:
    papers = demo_papers()
    index = RelatedIndex.build(papers, make_ranker("hybrid"))
    profile = moe_reader(papers)
    model = suggestions.reader_model(index, profile, profile.saved)
    assert model is not None and model.dense is not None and len(model.spaces) == 2

    found = [s.paper_id for s in suggestions.suggest(index, profile, profile.saved, 5)]

    assert set(found[:3]) <= OTHER_MOE, found


@pytest.mark.skipif(not embeddings_available(), reason="the packaged model is not installed")
def test_on_the_hybrid_index_a_saved_paper_it_lacks_is_projected_into_both_spaces() -> None:
    papers = demo_papers()
    index = RelatedIndex.build([p for p in papers if p.paper_id != SAVED_MOE[0]], "hybrid")
    profile = moe_reader(papers)
    model = suggestions.reader_model(index, profile, profile.saved)
    assert model is not None and model.dense is not None and len(model.spaces) == 2

    found = [s.paper_id for s in suggestions.suggest(index, profile, profile.saved, 5)]

    assert set(found[:3]) <= OTHER_MOE, found


@pytest.mark.skipif(not embeddings_available(), reason="the packaged model is not installed")
def test_on_the_hybrid_index_the_dense_graph_proposes_what_the_dense_classifier_favours(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The hybrid's graph over its embeddings, searched along the dense classifier's weights,
    brings the papers that classifier ranks first; searched too shallow, the other stages
    miss some."""
    monkeypatch.setattr(suggestions, "NEIGHBOURS_PER_SAVED", 1)
    monkeypatch.setattr(suggestions, "NEIGHBOURS_OF_MODEL", 1)
    monkeypatch.setattr(suggestions, "BEST_BY_TERMS", 1)
    monkeypatch.setattr(suggestions, "DENSE_NEIGHBOURS_OF_MODEL", 8)
    papers = demo_papers()
    index = RelatedIndex.build(papers, make_ranker("hybrid"))
    index.add_neighbours(AnnParams(dims=24, candidates=10, ef_search=64, links=8))
    profile = moe_reader(papers)
    model = suggestions.reader_model(index, profile, profile.saved)
    assert model is not None and model.dense is not None and len(model.spaces) == 2
    dense_margins = model.spaces[1].classifier.decision_function(
        model.dense_features(np.arange(len(index)))
    )
    favoured = set(np.argsort(-dense_margins)[:5].tolist())

    assert index.neighbours is None  # no graph over reduced TF-IDF beside the hybrid's
    assert favoured <= set(suggestions.candidate_rows(index, model).tolist())
    monkeypatch.setattr(suggestions, "DENSE_NEIGHBOURS_OF_MODEL", 1)
    assert not favoured <= set(suggestions.candidate_rows(index, model).tolist())


@pytest.mark.skipif(not embeddings_available(), reason="the packaged model is not installed")
def test_a_readers_sets_search_the_graph_around_each_saved_paper_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The whole list and each tag share their saved papers: the graph is searched around each
    of them once, and every set is the one it would be if it searched on its own."""
    papers = demo_papers()
    index = RelatedIndex.build(papers, make_ranker("hybrid"))
    index.add_neighbours(AnnParams(dims=24, candidates=10, ef_search=64, links=8))
    by_id = {p.paper_id: p for p in papers}
    tagged = {SAVED_MOE[0]: ["moe"], SAVED_MOE[1]: ["moe", "routing"], SAVED_MOE[2]: ["routing"]}
    saved = [ProfilePaper(i, by_id[i].title, by_id[i].abstract, tags) for i, tags in tagged.items()]
    profile = ReaderProfile.of_saved(saved)
    hybrid = index.approximate_hybrid
    assert hybrid is not None
    graph = hybrid.graph
    searched_rows: list[int] = []
    search = graph.search

    def counted(rows: np.ndarray, depth: int) -> np.ndarray:
        searched_rows.append(len(rows))
        return search(rows, depth)

    monkeypatch.setattr(graph, "search", counted)
    sets = suggestions.suggestion_sets(index, profile, 5, max_tags=2)

    assert set(sets) == {None, "moe", "routing"}
    # Each saved paper once, and each set's classifier direction once.
    assert sum(searched_rows) == len(SAVED_MOE) + len(sets)
    for tag, found in sets.items():
        own = [p for p in profile.saved if tag is None or tag in p.tags]
        alone = suggestions.suggest(index, profile, own, 5)
        assert [s.paper_id for s in found.items] == [s.paper_id for s in alone]
        assert [s.score for s in found.items] == [s.score for s in alone]
        assert all(s.title for s in found.items)
