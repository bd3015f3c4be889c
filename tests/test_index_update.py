"""Papers that join the catalogue join the related-papers index without a new fit: they are
listed beside the papers indexed before, those papers list them, and the approximate
search scores them as exact search would."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from redis import Redis
from rq import Queue

from paperlens import enrichments, keys, precompute
from paperlens.job_queue import SERIALIZER
from paperlens.schemas import EnrichedPaper, PaperRecord
from paperlens.settings import Settings, get_settings
from paperlens.store.db import Database
from paperlens.store.papers import upsert_papers
from tests.support import record_encodings, run_workers
from tests.test_related import demo_papers
from worker.context import reset_context
from worker.pipeline import gains
from worker.pipeline.neighbours import AnnParams
from worker.pipeline.rankers.choose import embeddings_available
from worker.pipeline.rankers.dense import DenseRanker
from worker.pipeline.rankers.hybrid import HybridRanker
from worker.pipeline.related import IndexedPaper, NotExtendable, RelatedIndex

SMOE = "arxiv:2310.01334"  # Merge, Then Compress: efficient sparse mixture of experts
NEWCOMER = IndexedPaper(
    "arxiv:2612.00001",
    "Routing collapse in sparse mixture-of-experts models",
    "Sparsely activated mixture-of-experts (SMoE) models route each token to a few experts. "
    "We show that learning-based routing policies suffer from representational collapse, "
    "so experts become redundant, and we merge redundant experts into fewer experts to cut "
    "the memory of SMoE layers without losing accuracy.",
)
# Far fewer candidates per paper than the demo corpus's other papers.
SMALL = AnnParams(dims=24, candidates=10, ef_search=16, links=8, lexical_candidates=5)


def _listed(index: RelatedIndex, paper_id: str) -> list[str]:
    paper = next(p for p in [*demo_papers(), NEWCOMER] if p.paper_id == paper_id)
    return [related.paper_id for related in index.related(paper, 10)]


def test_an_added_paper_is_listed_by_the_papers_indexed_before() -> None:
    papers = demo_papers()
    index = RelatedIndex.build(papers[:50], "tfidf")
    held = papers[50:]
    assert SMOE in [p.paper_id for p in papers[:50]]
    before = _listed(index, SMOE)

    index.extend([*held, NEWCOMER, papers[0]])  # one indexed already: skipped

    assert len(index) == len(papers) + 1
    assert [index.row_of(p.paper_id) for p in [*held, NEWCOMER]] == list(range(50, 60))
    assert index.papers_fitted == 50 and index.added_rows_from == 50
    assert NEWCOMER.paper_id not in before
    assert _listed(index, SMOE)[0] == NEWCOMER.paper_id
    assert SMOE in _listed(index, NEWCOMER.paper_id)[:3]
    # The rows indexed before keep their vectors: the fitted space has not moved.
    refitted = RelatedIndex.build(papers[:50], "tfidf")
    np.testing.assert_array_equal(
        index.vectors_of(np.arange(50)).toarray(),
        refitted.vectors_of(np.arange(50)).toarray(),
        strict=False,
    )


def test_a_ranker_fitted_only_as_a_whole_is_not_extended() -> None:
    index = RelatedIndex.build(demo_papers()[:20], "bm25")
    with pytest.raises(NotExtendable):
        index.extend([NEWCOMER])


@pytest.mark.skipif(not embeddings_available(), reason="the packaged model is not installed")
def test_the_hybrid_at_scale_takes_papers_into_its_graphs_and_moments(tmp_path: Path) -> None:
    papers = demo_papers()
    built = RelatedIndex.build(papers[:45], "hybrid")
    built.add_neighbours(SMALL)
    built.save(tmp_path / "related-1.joblib")
    index = RelatedIndex.load(tmp_path / "related-1.joblib", writable=True)

    index.extend([*papers[45:], NEWCOMER])
    index.save(tmp_path / "related-2.joblib")
    saved = RelatedIndex.load(tmp_path / "related-2.joblib")

    assert isinstance(saved.ranker, HybridRanker) and isinstance(saved.ranker.dense, DenseRanker)
    search = saved.approximate_hybrid
    assert search is not None and saved.neighbours is None  # the hybrid's one graph
    assert len(search) == len(saved) == 60
    assert search.columns.shape[0] == 60
    # The moments are those of every paper's vector as the graph keeps it.
    kept = saved.ranker.dense.vectors(np.arange(len(saved))).astype(np.float64)
    np.testing.assert_allclose(search.dense_mean, kept.mean(axis=0), atol=1e-9)
    np.testing.assert_allclose(search.dense_second_moment, kept.T @ kept / len(kept), atol=1e-9)
    # Candidates of added and earlier papers score exactly as scoring every paper does.
    queries = [NEWCOMER, papers[50], papers[3]]
    rows = [saved.row_of(p.paper_id) for p in queries]
    for paper, row, (found, fused, _) in zip(
        queries, rows, search.candidates(saved.ranker, queries, rows), strict=True
    ):
        exact, _ = saved.ranker.scored(paper, row)
        np.testing.assert_allclose(fused, exact[found], atol=1e-5)
    assert _listed(saved, SMOE)[0] == NEWCOMER.paper_id


def _store_newcomer(db: Database) -> None:
    record = PaperRecord(
        ids=[NEWCOMER.paper_id],
        title=NEWCOMER.title,
        abstract=NEWCOMER.abstract,
        authors=["A. Author"],
    )
    with db.session() as session:
        stats = upsert_papers(session, [record])
    assert stats.created == 1


def _document(redis: Redis, paper_id: str) -> EnrichedPaper:
    document = enrichments.read(redis, paper_id)
    assert document is not None, paper_id
    return document


def test_an_ingest_adds_its_papers_and_refreshes_the_lists_that_gain_them(
    precomputed: Database, redis: Redis, settings: Settings
) -> None:
    built = precompute.index_info(redis)
    smoe_before = _document(redis, SMOE)
    assert NEWCOMER.paper_id not in [r.paper_id for r in smoe_before.related]
    _store_newcomer(precomputed)

    precompute.record_ingest(redis, settings, "one new paper", created=1, updated=0)
    run_workers(redis)

    info = precompute.index_info(redis)
    assert info["name"] != built["name"] and info["papers"] == "60"
    newcomer = _document(redis, NEWCOMER.paper_id)
    assert SMOE in [r.paper_id for r in newcomer.related]
    smoe = _document(redis, SMOE)
    assert smoe.related[0].paper_id == NEWCOMER.paper_id
    assert smoe.related[0].reason  # explained like any other related paper
    assert smoe.computed_at == smoe_before.computed_at  # only its list was computed again
    # Only the builds kept on disk remain: the published one and the one before.
    assert len(list(settings.index_dir.glob("related-*.joblib"))) == 2


def test_many_new_papers_make_the_update_fit_a_new_index(
    precomputed: Database, redis: Redis, settings: Settings
) -> None:
    records = [
        PaperRecord(
            ids=[f"arxiv:2612.{n:05d}"], title=f"{NEWCOMER.title} {n}", abstract=NEWCOMER.abstract
        )
        for n in range(10, 25)
    ]
    with precomputed.session() as session:
        upsert_papers(session, records)
    smoe_before = _document(redis, SMOE)

    precompute.record_ingest(redis, settings, "fifteen new papers", created=15, updated=0)
    run_workers(redis)

    assert precompute.index_info(redis)["papers"] == "74"
    # A new fit changes every list, so every paper was enriched again.
    assert _document(redis, SMOE).computed_at > smoe_before.computed_at
    assert _document(redis, "arxiv:2612.00010").status == "ready"


def test_an_update_waits_for_a_pending_precompute(
    precomputed: Database, redis: Redis, settings: Settings
) -> None:
    _store_newcomer(precomputed)
    bulk = Queue(keys.QUEUE_BULK, connection=redis, serializer=SERIALIZER)
    assert precompute.request_index_update(redis, settings)
    assert not precompute.request_index_update(redis, settings)  # one queued at a time
    precompute.request_precompute(redis, settings)
    assert bulk.count == 2

    run_workers(redis)

    assert precompute.index_info(redis)["papers"] == "60"
    assert NEWCOMER.paper_id in [r.paper_id for r in _document(redis, SMOE).related]


def _documents(
    index: RelatedIndex, papers: list[IndexedPaper], k: int = 10
) -> dict[str, EnrichedPaper]:
    """Each paper's document as an enrichment stores it, its list of ``k`` from ``index``."""
    lists = index.related_many(papers, k)
    return {
        paper.paper_id: EnrichedPaper(
            paper_id=paper.paper_id,
            ids=[paper.paper_id],
            title=paper.title,
            abstract=paper.abstract,
            authors=[],
            published=None,
            code=[],
            related=related,
            status="ready",
            computed_at=dt.datetime.now(dt.UTC),
            schema_version=keys.ENRICHMENT_SCHEMA_VERSION,
        )
        for paper, related in zip(papers, lists, strict=True)
    }


@pytest.mark.skipif(not embeddings_available(), reason="the packaged model is not installed")
def test_new_papers_inserted_into_hybrid_lists_as_a_search_would_list_them() -> None:
    papers = demo_papers()
    earlier, new = papers[:52], [*papers[52:], NEWCOMER]
    index = RelatedIndex.build(earlier, "hybrid")
    stored = _documents(index, earlier)
    index.extend(new)
    rows = [index.row_of(p.paper_id) for p in new]
    assert all(row is not None for row in rows)

    indexed = [row for row in rows if row is not None]
    candidates = index.candidates(new, indexed, gains.GAIN_CANDIDATES)
    near = gains.near_earlier(index, indexed, candidates)
    lists = [
        gains.Earlier(row, stored[index.paper_ids[row]], new_rows) for row, new_rows in near.items()
    ]
    merged = {
        paper.document.paper_id: document
        for paper, document in zip(
            lists,
            gains.with_new_papers(index, lists, 10, dict(zip(indexed, new, strict=True))),
            strict=True,
        )
    }

    searched = dict(
        zip([p.paper_id for p in earlier], index.related_many(earlier, 10), strict=True)
    )
    changed = {paper_id: document for paper_id, document in merged.items() if document}
    assert SMOE in changed
    smoe = changed[SMOE].related
    assert smoe[0].paper_id == NEWCOMER.paper_id and "routing" in smoe[0].reason.lower()
    agree = 0
    for paper_id, document in changed.items():
        assert document.title == stored[paper_id].title  # only the list changes
        assert len(document.related) <= 10
        scores = [related.score for related in document.related]
        assert scores == sorted(scores, reverse=True)
        agree += [r.paper_id for r in document.related] == [r.paper_id for r in searched[paper_id]]
    # The scales the stored lists were made with moved with the corpus (52 papers to 60), so
    # a near tie may swap; the lists are otherwise those a new search gives.
    assert agree >= 0.8 * len(changed), (agree, len(changed))
    # An earlier paper listing none of the new papers after a search is left as it was.
    for paper_id, left in merged.items():
        if left is None:
            new_ids = {p.paper_id for p in new}
            assert not new_ids & {r.paper_id for r in searched[paper_id][:9]}


@pytest.mark.parametrize("ranker", ["hybrid", "tfidf"])
def test_only_the_lists_a_new_paper_may_enter_are_read(ranker: str) -> None:
    """The stored cutoffs rule out most lists without reading them, and never one that
    takes a new paper in; a list without a cutoff of this fit is read as before."""
    if ranker == "hybrid" and not embeddings_available():
        pytest.skip("the packaged model is not installed")
    papers = demo_papers()
    earlier, new = papers[:50], [*papers[50:], NEWCOMER]
    index = RelatedIndex.build(earlier, ranker)
    # Lists of 4, so that most are full in this small corpus (a list of fewer takes in any
    # paper past the floor).
    k = 4
    stored = _documents(index, earlier, k)
    documents = list(stored.values())
    cutoffs = dict(
        zip(
            stored,
            gains.cutoffs(index, [index.row_of(d.paper_id) for d in documents], documents),
            strict=True,
        )
    )
    # Every list made by this index says how it scores, but the hybrid's shortest (three
    # unknowns to fit), which are searched again instead.
    fitted = 0 if ranker == "tfidf" else gains.MIN_FITTED
    assert [bool(cutoffs[d.paper_id]) for d in documents] == [
        len(d.related) >= fitted for d in documents
    ]
    index.extend(new)
    indexed = [row for row in map(index.row_of, [p.paper_id for p in new]) if row is not None]
    near = gains.near_earlier(index, indexed, index.candidates(new, indexed, 100))
    lists = [gains.Earlier(row, stored[index.paper_ids[row]], rows) for row, rows in near.items()]
    changed = {
        paper.row
        for paper, document in zip(
            lists,
            gains.with_new_papers(index, lists, k, dict(zip(indexed, new, strict=True))),
            strict=True,
        )
        if document is not None
    }

    read = gains.may_gain(index, near, [cutoffs[index.paper_ids[row]] for row in near], k)

    # Here the lists read are exactly those that change; the others are not read at all.
    assert changed and set(read) == changed and len(read) < len(near)
    assert read == [row for row in near if row in changed]  # in ``near``'s order
    # Without a cutoff, or with one of another fit of the index, every list is read.
    assert gains.may_gain(index, near, [b""] * len(near), k) == list(near)
    other_fit = RelatedIndex.build(earlier, ranker)
    foreign = gains.cutoffs(other_fit, [other_fit.row_of(d.paper_id) for d in documents], documents)
    assert sum(map(bool, foreign)) == sum(map(bool, cutoffs.values()))
    by_id = dict(zip(stored, foreign, strict=True))
    assert gains.may_gain(index, near, [by_id[index.paper_ids[r]] for r in near], k) == list(near)


@pytest.mark.skipif(not embeddings_available(), reason="the packaged model is not installed")
def test_a_paper_entering_earlier_lists_is_explained_from_its_own_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its reasons quote its own sentences, encoded for its own list: no earlier paper's
    sentences are encoded, however many update chunks gain that paper a new entry."""
    papers = demo_papers()
    earlier, new = papers[:50], [*papers[50:], NEWCOMER]
    index = RelatedIndex.build(earlier, "hybrid")
    stored = _documents(index, earlier)
    index.extend(new)
    rows = [index.row_of(p.paper_id) for p in new]
    indexed = [row for row in rows if row is not None]
    asked = record_encodings(monkeypatch, capacity=1_000)
    index.related_many(new, 10)  # the new papers' own lists, as their enrichment makes them
    own = len(asked)
    near = gains.near_earlier(index, indexed, index.candidates(new, indexed, 100))
    lists = [gains.Earlier(row, stored[index.paper_ids[row]], rows) for row, rows in near.items()]
    # Lists whose scoring is recovered take the new papers in; the rest are searched again.
    lists = [
        paper
        for paper, merge in zip(lists, gains.merged_many(index, lists, 10), strict=True)
        if merge is not None
    ]

    changed = gains.with_new_papers(index, lists, 10, dict(zip(indexed, new, strict=True)))

    abstracts = {paper.paper_id: paper.abstract for paper in new}
    inserted = [
        entry
        for paper, document in zip(lists, changed, strict=True)
        if document is not None
        for entry in document.related
        if entry.paper_id not in {r.paper_id for r in paper.document.related}
    ]
    assert len(inserted) >= 10
    quotes = [entry for entry in inserted if entry.reason.startswith("Both study:")]
    assert quotes
    for entry in quotes:
        quoted = entry.reason.removeprefix("Both study: \u2018").removesuffix("\u2019")
        # As quoted: a lead-in ("However, ...") dropped and the first letter made capital.
        assert quoted.removesuffix("\u2026")[1:] in abstracts[entry.paper_id], entry
    assert own > 0
    assert all(any(text in paper.abstract for paper in new) for text in asked[own:])
    assert len(asked) - own < own


def test_a_list_made_otherwise_is_searched_again(precomputed: Database, redis: Redis) -> None:
    papers = demo_papers()
    index = RelatedIndex.build(papers[:50], "tfidf")
    stored = _documents(index, papers[:50])
    index.extend([NEWCOMER])
    row = index.row_of(SMOE)
    assert row is not None
    document = stored[SMOE]
    foreign = document.model_copy(
        update={
            "related": [
                r.model_copy(update={"paper_id": "arxiv:0000.00000"}) for r in document.related
            ]
        }
    )

    (changed,) = gains.with_new_papers(
        index, [gains.Earlier(row, foreign, [50])], 10, {50: NEWCOMER}
    )

    assert changed is not None
    assert [r.paper_id for r in changed.related] == [
        r.paper_id for r in index.related(papers[6], 10)
    ]


def test_an_update_gives_way_to_a_build_published_while_it_saved(
    precomputed: Database, redis: Redis, settings: Settings
) -> None:
    from worker.pipeline.index_files import build_and_publish, update_and_publish

    _store_newcomer(precomputed)
    others: list[str] = []

    def meanwhile(step: str) -> None:
        if step == "saving the index":  # another worker's precompute publishes its build now
            others.append(build_and_publish(settings, precomputed, redis))

    update = update_and_publish(settings, precomputed, redis, phase=meanwhile)

    assert update.published is None and update.added == []
    assert precompute.index_info(redis)["name"] == others[0]
    assert precompute.index_info(redis)["papers"] == "60"  # the precompute took it in
    names = {path.name for path in settings.index_dir.glob("related-*.joblib")}
    assert others[0] in names and len(names) == 2  # the update's own build is gone


def test_each_update_enriches_the_papers_it_adds(
    precomputed: Database, redis: Redis, settings: Settings
) -> None:
    second = PaperRecord(
        ids=["arxiv:2612.00002"],
        title="Expert merging for sparse mixture-of-experts inference",
        abstract="Routing collapse makes sparse mixture-of-experts (SMoE) layers keep redundant "
        "experts. We merge the redundant experts of each SMoE layer after training, which cuts "
        "memory at inference with little loss.",
    )
    for record in [None, second]:
        if record is None:
            _store_newcomer(precomputed)
        else:
            with precomputed.session() as session:
                upsert_papers(session, [record])
        precompute.record_ingest(redis, settings, "a new paper", created=1, updated=0)
        run_workers(redis)

    assert precompute.index_info(redis)["papers"] == "61"
    assert _document(redis, "arxiv:2612.00002").status == "ready"  # not refused as queued before
    assert NEWCOMER.paper_id in [r.paper_id for r in _document(redis, "arxiv:2612.00002").related]


def test_papers_an_update_published_but_did_not_queue_are_queued_when_it_runs_again(
    precomputed: Database, redis: Redis, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import worker.jobs

    smoe_before = _document(redis, SMOE)
    _store_newcomer(precomputed)
    queue_chunk = worker.jobs._enqueue_chunk
    attempts: list[str] = []

    def dies_at_first(*args: Any, **kwargs: Any) -> None:
        attempts.append("queueing")
        if len(attempts) == 1:  # as a worker killed between publishing and queueing leaves it
            raise SystemExit("the worker died after publishing its build, before queueing")
        queue_chunk(*args, **kwargs)

    monkeypatch.setattr(worker.jobs, "_enqueue_chunk", dies_at_first)
    precompute.record_ingest(redis, settings, "one new paper", created=1, updated=0)
    run_workers(redis)  # the update job fails once and runs again, as RQ retries it

    assert len(attempts) == 2
    assert precompute.index_info(redis)["papers"] == "60"
    assert SMOE in [r.paper_id for r in _document(redis, NEWCOMER.paper_id).related]
    smoe = _document(redis, SMOE)
    assert smoe.related[0].paper_id == NEWCOMER.paper_id  # the earlier list took it in
    assert smoe.computed_at == smoe_before.computed_at
    # Once its papers are queued, the next update with nothing new queues nothing.
    assert precompute.request_index_update(redis, settings)
    run_workers(redis)
    assert len(attempts) == 2


PROTEIN_PAPERS = [
    PaperRecord(
        ids=["arxiv:2612.00011"],
        title="Protein structure prediction from single sequences",
        abstract="We predict the three-dimensional structure of a protein from its amino-acid "
        "sequence alone, without multiple sequence alignments, with a language model trained "
        "on millions of protein sequences and a folding head.",
    ),
    PaperRecord(
        ids=["arxiv:2612.00012"],
        title="Folding proteins with learned residue contacts",
        abstract="Residue contact maps predicted from protein sequences guide the folding of "
        "the protein backbone; our model predicts contacts and the three-dimensional "
        "structure of each protein from its amino-acid sequence.",
    ),
]
EXPERT_PAPERS = [
    PaperRecord(ids=[NEWCOMER.paper_id], title=NEWCOMER.title, abstract=NEWCOMER.abstract),
    PaperRecord(
        ids=["arxiv:2612.00002"],
        title="Expert merging for sparse mixture-of-experts inference",
        abstract="Routing collapse makes sparse mixture-of-experts (SMoE) layers keep redundant "
        "experts. We merge the redundant experts of each SMoE layer after training, which cuts "
        "memory at inference with little loss.",
    ),
]


@pytest.mark.skipif(not embeddings_available(), reason="the packaged model is not installed")
def test_an_update_queues_its_papers_in_chunks_of_one_topic(
    demo: Database, redis: Redis, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import worker.jobs

    monkeypatch.setenv("PAPERLENS_RELATED_RANKER", "auto")  # the served hybrid, dense vectors
    get_settings.cache_clear()
    reset_context()
    Queue(keys.QUEUE_BULK, connection=redis, serializer=SERIALIZER).enqueue(keys.JOB_PRECOMPUTE_ALL)
    run_workers(redis)
    queue_chunk = worker.jobs._enqueue_chunk
    chunks: list[list[str]] = []

    def recording(ctx: Any, chunk: list[str], *args: Any, **kwargs: Any) -> None:
        chunks.append(list(chunk))
        queue_chunk(ctx, chunk, *args, **kwargs)

    monkeypatch.setattr(worker.jobs, "_enqueue_chunk", recording)
    monkeypatch.setattr(worker.jobs, "PRECOMPUTE_CHUNK", 2)
    arriving = [EXPERT_PAPERS[0], PROTEIN_PAPERS[0], EXPERT_PAPERS[1], PROTEIN_PAPERS[1]]
    with demo.session() as session:
        upsert_papers(session, arriving)
    precompute.record_ingest(redis, get_settings(), "four new papers", created=4, updated=0)
    run_workers(redis)

    topics = {record.ids[0]: "experts" for record in EXPERT_PAPERS}
    topics |= {record.ids[0]: "proteins" for record in PROTEIN_PAPERS}
    assert sorted(chunks, key=lambda chunk: topics[chunk[0]]) == [
        [EXPERT_PAPERS[0].ids[0], EXPERT_PAPERS[1].ids[0]],  # arrival order within a topic
        [PROTEIN_PAPERS[0].ids[0], PROTEIN_PAPERS[1].ids[0]],
    ]
    for record in arriving:
        assert _document(redis, record.ids[0]).status == "ready"
    assert _document(redis, SMOE).related[0].paper_id in topics  # the earlier list took one in


def test_an_index_without_dense_vectors_keeps_the_papers_in_arrival_order() -> None:
    index = RelatedIndex.build(demo_papers(), "tfidf")
    rows = list(range(len(index)))[::-1]

    assert gains.in_topic_order(index, rows, 2) == rows


@pytest.mark.skipif(not embeddings_available(), reason="the packaged model is not installed")
def test_grouping_fitted_on_a_sample_places_every_paper_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    index = RelatedIndex.build(demo_papers(), "hybrid")
    monkeypatch.setattr(gains, "TOPIC_SAMPLE", 8)  # fitted on every 7th paper, applied by 8
    monkeypatch.setattr(gains, "TOPIC_GROUPS", 3)
    rows = list(range(len(index)))

    ordered = gains.in_topic_order(index, rows, 5)

    assert sorted(ordered) == rows
    assert ordered != rows
