"""Precompute at scale: chunks enriched in bulk serve what one paper at a time would, the
approximate path for large corpora still finds related papers, and workers map the index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from redis import Redis
from rq import Queue
from rq.job import Job

from paperlens import enrichments, keys, precompute, status
from paperlens.job_queue import SERIALIZER
from paperlens.settings import Settings, get_settings
from paperlens.store.db import Database
from paperlens.store.papers import iter_papers
from tests.support import run_workers
from tests.test_related import demo_papers
from worker.context import reset_context
from worker.pipeline.enrich import enrich
from worker.pipeline.index_files import build_and_publish, current_index
from worker.pipeline.rankers.choose import embeddings_available
from worker.pipeline.rankers.explain import STUDY_PREFIX
from worker.pipeline.rankers.hybrid import HybridRanker
from worker.pipeline.rankers.tfidf import TfidfRanker
from worker.pipeline.related import IndexedPaper, RelatedIndex

MOE_PAPER = "arxiv:2310.01334"  # Merge, Then Compress: sparse mixture of experts


def stored_related(redis: Redis, paper_id: str) -> list[tuple[str, float, str]]:
    document = enrichments.read(redis, paper_id)
    assert document is not None, paper_id
    return [(r.paper_id, r.score, r.reason) for r in document.related]


def test_chunked_precompute_serves_the_lists_of_one_paper_at_a_time(
    precomputed: Database, redis: Redis, settings: Settings
) -> None:
    index = current_index(settings, precomputed, redis)
    assert index.neighbours is None  # 59 papers: exact search
    with precomputed.session() as session:
        papers = list(iter_papers(session))
        assert len(papers) == 59
        for paper in papers:
            one_by_one = enrich(paper, index, settings.related_k)
            stored = enrichments.read(redis, paper.paper_id)
            assert stored is not None
            assert stored.related == one_by_one.related, paper.paper_id
            assert stored.code == one_by_one.code
            assert len(stored.related) <= settings.related_k
    due = redis.zrange(keys.ENRICHMENT_DUE, 0, -1)
    assert len(due) == 59  # every paper's refresh is scheduled by the chunk's pipeline


def test_a_chunk_run_again_after_it_finished_counts_its_papers_once(
    demo: Database, redis: Redis, settings: Settings
) -> None:
    """RQ hands a job to another worker when its worker dies before marking it finished,
    even after the chunk's work was done: the run must still count each paper once."""
    bulk = Queue(keys.QUEUE_BULK, connection=redis, serializer=SERIALIZER)
    run = bulk.enqueue(keys.JOB_PRECOMPUTE_ALL).id
    run_workers(redis)
    assert precompute.read_progress(redis, run).enriched == 59
    chunk = Job.fetch(f"{run}-chunk-0", connection=redis, serializer=SERIALIZER)
    redis.delete(keys.enrichment(MOE_PAPER))
    bulk.enqueue_job(chunk)  # what RQ does with the job of a worker that died
    run_workers(redis)
    progress = precompute.read_progress(redis, run)
    assert (progress.enriched, progress.to_enrich, progress.repeated) == (59, 59, 1)
    assert enrichments.read(redis, MOE_PAPER) is None  # the repeat did no work


@pytest.fixture
def ann_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The approximate path from 10 papers on, with few candidates so that it matters."""
    for name, value in {
        "PAPERLENS_RELATED_ANN_FROM": "10",
        "PAPERLENS_RELATED_ANN_DIMS": "24",
        "PAPERLENS_RELATED_ANN_CANDIDATES": "15",
        "PAPERLENS_RELATED_RANKER": "bm25",  # overridden: the scale path is TF-IDF
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    reset_context()
    return get_settings()


def test_above_the_threshold_related_papers_come_from_the_graph(
    demo: Database, redis: Redis, ann_settings: Settings
) -> None:
    Queue(keys.QUEUE_BULK, connection=redis, serializer=SERIALIZER).enqueue(keys.JOB_PRECOMPUTE_ALL)
    run_workers(redis)

    index = current_index(ann_settings, demo, redis)
    assert index.neighbours is not None and len(index.neighbours) == 59
    assert index.ranker_name == "tfidf"
    assert redis.get(keys.INDEX_RANKER) == b"tfidf (lexical at scale: 59 papers use the ANN path)"
    moe = stored_related(redis, MOE_PAPER)
    titles = [index.titles[index.row_of(paper_id) or 0] for paper_id, _, _ in moe]
    assert sum("expert" in t.lower() or "moe" in t.lower() for t in titles[:5]) >= 3, titles
    assert all(reason.startswith(("Both discuss “", STUDY_PREFIX)) for _, _, reason in moe)
    assert [score for _, score, _ in moe] == sorted((s for _, s, _ in moe), reverse=True)
    # Every listed paper is among the graph's 15 candidates, ordered by exact TF-IDF cosine.
    row = index.row_of(MOE_PAPER)
    assert row is not None and isinstance(index.ranker, TfidfRanker)
    candidates = set(index.neighbours.search(index.ranker.rows([row]), 16)[0].tolist())
    assert {index.row_of(paper_id) for paper_id, _, _ in moe} <= candidates


def test_search_settings_apply_to_the_published_index_without_a_new_fit(
    demo: Database, redis: Redis, ann_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    moe = next(paper for paper in demo_papers() if paper.paper_id == MOE_PAPER)
    index = current_index(ann_settings, demo, redis)
    pointer = redis.get(keys.INDEX_POINTER)
    assert len(index.related(moe, 10)) > 3
    monkeypatch.setenv("PAPERLENS_RELATED_ANN_CANDIDATES", "3")
    monkeypatch.setenv("PAPERLENS_RELATED_ANN_DIMS", "12")  # built in: waits for a new fit
    get_settings.cache_clear()

    index = current_index(get_settings(), demo, redis)

    assert redis.get(keys.INDEX_POINTER) == pointer
    assert 1 <= len(index.related(moe, 10)) <= 3
    assert index.neighbours is not None and index.neighbours.projection is not None
    assert index.neighbours.projection.shape[1] == 24


def test_papers_outside_the_graph_are_served_by_projection(
    demo: Database, redis: Redis, ann_settings: Settings
) -> None:
    index = current_index(ann_settings, demo, redis)
    newcomer = IndexedPaper(
        "arxiv:9999.00001",
        "Sparse mixture of experts routing",
        "We study expert routing in sparse mixture-of-experts language models.",
    )
    related = index.related(newcomer, 5)
    assert len(related) == 5
    assert sum("expert" in r.title.lower() or "moe" in r.title.lower() for r in related) >= 3


def test_workers_map_the_published_index_instead_of_copying_it(
    demo: Database, redis: Redis, ann_settings: Settings
) -> None:
    index = current_index(ann_settings, demo, redis)
    pointer = redis.get(keys.INDEX_POINTER)
    assert isinstance(pointer, bytes)
    path: Path = ann_settings.index_dir / pointer.decode()
    assert path.with_suffix(".faiss").exists()
    assert isinstance(index.ranker, TfidfRanker) and index.ranker.half is not None
    explainer = index.explainer.tfidf.half
    assert explainer is not None and index.lexical_columns is not None
    for array in (index.ranker.half.data, explainer.low, index.lexical_columns.steps):
        assert isinstance(array, np.memmap) and not array.flags.writeable
    assert index.neighbours is not None
    assert isinstance(index.neighbours.projection, np.memmap)
    assert RelatedIndex.load(path).related(IndexedPaper("x", "Expert routing", "MoE"), 3)


@pytest.fixture
def hybrid_ann_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The approximate path from 10 papers on with the served ranker (the hybrid), proposing
    far fewer candidates per paper than the 58 others."""
    for name, value in {
        "PAPERLENS_RELATED_ANN_FROM": "10",
        "PAPERLENS_RELATED_ANN_DIMS": "24",
        "PAPERLENS_RELATED_ANN_CANDIDATES": "12",
        "PAPERLENS_RELATED_ANN_LEXICAL_CANDIDATES": "6",
        "PAPERLENS_RELATED_RANKER": "auto",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    reset_context()
    return get_settings()


@pytest.mark.skipif(not embeddings_available(), reason="the packaged model is not installed")
def test_above_the_threshold_the_hybrid_serves_the_lists_exact_search_would(
    demo: Database, redis: Redis, hybrid_ann_settings: Settings
) -> None:
    Queue(keys.QUEUE_BULK, connection=redis, serializer=SERIALIZER).enqueue(keys.JOB_PRECOMPUTE_ALL)
    run_workers(redis)

    index = current_index(hybrid_ann_settings, demo, redis)
    assert index.approximate_hybrid is not None and len(index.approximate_hybrid) == 59
    assert isinstance(index.ranker, HybridRanker)
    assert redis.get(keys.INDEX_RANKER) == b"hybrid"
    assert status.index_status(redis)["ranker"] == "hybrid"
    pointer = redis.get(keys.INDEX_POINTER)
    assert isinstance(pointer, bytes)
    path: Path = hybrid_ann_settings.index_dir / pointer.decode()
    assert path.with_suffix(".dense.faiss").exists()
    assert isinstance(index.ranker.dense.embeddings, np.memmap)  # type: ignore[attr-defined]
    assert isinstance(index.approximate_hybrid.columns.data, np.memmap)

    with demo.session() as session:
        papers = [IndexedPaper(p.paper_id, p.title, p.abstract) for p in iter_papers(session)]
    exact_index = RelatedIndex.load(path)
    exact_index.hybrid_search = exact_index.neighbours = None  # as below the threshold
    exact = exact_index.related_many(papers, hybrid_ann_settings.related_k)
    hits = listed = 0
    for paper, expected in zip(papers, exact, strict=True):
        served = stored_related(redis, paper.paper_id)
        hits += len({r.paper_id for r in expected} & {paper_id for paper_id, _, _ in served})
        listed += len(expected)
        by_id = {r.paper_id: r.score for r in expected}
        for paper_id, score, _ in served:  # a paper in both lists scores the same in both
            assert abs(by_id.get(paper_id, score) - score) <= 1e-4, (paper.paper_id, paper_id)
    assert listed >= 59 and hits / listed >= 0.9, (hits, listed)


def test_old_index_builds_are_removed_but_the_previous_one_is_kept(
    demo: Database, redis: Redis, settings: Settings
) -> None:
    names = [build_and_publish(settings, demo, redis) for _ in range(3)]
    left = sorted(path.name for path in settings.index_dir.glob("related-*.joblib"))
    assert left == names[1:]
    assert redis.get(keys.INDEX_POINTER) == names[-1].encode()


def test_an_index_saved_by_an_older_release_is_rebuilt_before_it_serves(
    demo: Database, redis: Redis, settings: Settings
) -> None:
    """An index whose stored vectors this code would not make again (older format) is
    replaced by a fresh build, not mixed with the papers projected into it."""
    with demo.session() as session:
        papers = [IndexedPaper(p.paper_id, p.title, p.abstract) for p in iter_papers(session)]
    old = RelatedIndex.build(papers, "tfidf")
    del old.format  # as saved before formats were numbered
    name = "related-20200101T000000000000.joblib"
    old.save(settings.index_dir / name)
    precompute.publish_index(redis, name, "tfidf", len(papers))
    assert not RelatedIndex.load(settings.index_dir / name).up_to_date

    index = current_index(settings, demo, redis)
    assert index.up_to_date and len(index) == len(papers)
    pointer = redis.get(keys.INDEX_POINTER)
    assert isinstance(pointer, bytes) and pointer.decode() != name
    assert RelatedIndex.load(settings.index_dir / pointer.decode()).up_to_date
