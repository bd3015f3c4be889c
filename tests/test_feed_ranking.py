"""A feed refresh projects its new papers once and ranks them for every reader from that one
projection: each reader gets the list their own model gives, as if the index held the papers."""

from __future__ import annotations

import numpy as np
import pytest

from paperlens.store.library import ProfilePaper, ReaderProfile
from tests.test_related import demo_papers
from worker.pipeline import suggestions
from worker.pipeline.rankers.choose import embeddings_available, make_ranker
from worker.pipeline.rankers.tfidf import TfidfRanker
from worker.pipeline.related import IndexedPaper, RelatedIndex

SAVED_MOE = ["arxiv:2310.01334", "arxiv:2507.23279", "arxiv:2505.21411"]


def reader(papers: list[IndexedPaper], saved: list[str], dismissed: set[str]) -> ReaderProfile:
    by_id = {p.paper_id: p for p in papers}
    chosen = [ProfilePaper(i, by_id[i].title, by_id[i].abstract, []) for i in saved]
    return ReaderProfile(
        revision=1,
        saved=chosen,
        saved_ids=set(saved),
        dismissed=dismissed,
        more_like_this=set(),
    )


@pytest.fixture(scope="module")
def index() -> RelatedIndex:
    return RelatedIndex.build(demo_papers(), "tfidf")


def readers(papers: list[IndexedPaper]) -> list[ReaderProfile]:
    """The MoE reader, one who dismissed a MoE paper, and two with lists from elsewhere."""
    ids = [p.paper_id for p in papers]
    return [
        reader(papers, SAVED_MOE, set()),
        reader(papers, SAVED_MOE, {"arxiv:2506.05426"}),
        reader(papers, ids[10:16], set()),
        reader(papers, ids[40:43], {ids[44]}),
    ]


def test_new_papers_rank_for_each_reader_as_the_indexed_papers_would(index: RelatedIndex) -> None:
    papers = demo_papers()
    shared = suggestions.ProjectedPapers(index, papers)
    for profile in readers(papers):
        model = suggestions.reader_model(index, profile, profile.saved)
        assert model is not None
        every_row = np.arange(len(index))
        standing = model.spaces[0].standardised(model.lexical.rows(every_row))
        above = every_row[standing >= suggestions.FEED_FLOOR]
        rows, scores = suggestions.top_rows(index, model, above, profile, profile.saved, 8)
        assert rows  # every reader has papers above the floor

        served = suggestions.rank_papers(index, profile, profile.saved, shared, 8)

        assert [s.paper_id for s in served] == [index.paper_ids[row] for row in rows]
        assert [s.score for s in served] == [round(score, 4) for score in scores]
        expected = [
            model.explained(index.paper_ids[row], index.titles[row], index.vectors_of(row), score)
            for row, score in zip(rows, scores, strict=True)
        ]
        assert [(s.reason, s.because) for s in served] == [(e.reason, e.because) for e in expected]
        assert not {s.paper_id for s in served} & (profile.saved_ids | profile.dismissed)


def test_readers_sharing_one_projection_get_what_a_projection_of_their_own_gives(
    index: RelatedIndex,
) -> None:
    papers = demo_papers()
    new = papers[::3]  # a third of the corpus plays the new papers
    shared = suggestions.ProjectedPapers(index, new)
    lists = []
    for profile in readers(papers):
        alone = suggestions.ProjectedPapers(index, new)
        served = suggestions.rank_papers(index, profile, profile.saved, shared, 5)
        assert served == suggestions.rank_papers(index, profile, profile.saved, alone, 5)
        lists.append([s.paper_id for s in served])
    assert len({tuple(found) for found in lists}) > 1  # the readers' lists differ
    assert all(found for found in lists)


def test_papers_projected_together_match_papers_projected_one_by_one(index: RelatedIndex) -> None:
    papers = demo_papers()
    rows: list[int | None] = [None if i % 3 else i for i in range(len(papers))]
    lexical = index.ranker
    assert isinstance(lexical, TfidfRanker)
    together = lexical.vectors(papers, rows)
    one_by_one = [lexical.vector(paper, row) for paper, row in zip(papers, rows, strict=True)]
    for position, vector in enumerate(one_by_one):
        assert (together[position] != vector).nnz == 0


def test_shared_terms_come_out_as_the_full_width_product_gives_them(index: RelatedIndex) -> None:
    """The overlap behind a reason, computed among the few columns the rows use, equals
    scipy's product over the whole space, in the same order (which breaks ties of weight)."""
    papers = demo_papers()
    stored = [index.vectors_of(row) for row in range(len(papers))]
    projected = index.explainer.vectors(papers, [None] * len(papers))
    rows = stored + [projected[row] for row in range(len(papers))]
    for first in range(0, len(rows), 7):
        vector = rows[first]
        others = [rows[(first + step) % len(rows)] for step in (1, 30, 61)]
        for count in (1, 2, 3):
            profile = others[0]
            for other in others[1:count]:
                profile = profile + other
            expected = vector.multiply(profile).tocsr()
            columns, weights = suggestions._overlap(vector, others[:count])
            assert columns.tolist() == expected.indices.tolist()
            assert weights.tolist() == expected.data.tolist()


@pytest.mark.skipif(not embeddings_available(), reason="the packaged model is not installed")
def test_on_the_hybrid_index_the_feed_ranks_by_the_lexical_classifier_of_the_readers_model() -> (
    None
):
    """The feed fits no dense classifier, yet ranks and scores new papers as the lexical part
    of the reader's full model (the one suggestions use) does."""
    papers = demo_papers()
    index = RelatedIndex.build(papers, make_ranker("hybrid"))
    shared = suggestions.ProjectedPapers(index, papers)
    profile = reader(papers, SAVED_MOE, set())
    full = suggestions.reader_model(index, profile, profile.saved)
    lexical = suggestions.reader_model(index, profile, profile.saved, lexical_only=True)
    assert full is not None and len(full.spaces) == 2
    assert lexical is not None and len(lexical.spaces) == 1 and lexical.dense is None
    every_row = np.arange(len(index))
    standing = full.spaces[0].standardised(full.lexical.rows(every_row))
    above = every_row[standing >= suggestions.FEED_FLOOR]
    order = np.argsort(-standing[above], kind="stable")
    expected = [
        (index.paper_ids[above[i]], round(full.spaces[0].weight * float(standing[above[i]]), 4))
        for i in order
        if index.paper_ids[above[i]] not in profile.saved_ids
    ][:8]

    served = suggestions.rank_papers(index, profile, profile.saved, shared, 8)

    assert expected and [(s.paper_id, s.score) for s in served] == expected
