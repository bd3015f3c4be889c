"""Related means related: below the measured similarity floor a paper of the catalogue is
not listed, however small the catalogue; the overlay's document then says so by its list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue

from paperlens import enrichments, keys
from paperlens.job_queue import SERIALIZER
from paperlens.settings import Settings
from paperlens.store.db import Database
from paperlens.store.papers import iter_papers
from tests.support import DEMO_CORPUS, run_workers
from worker.ingest.jsonl import ingest_jsonl
from worker.pipeline.rankers.choose import embeddings_available
from worker.pipeline.rankers.floors import FLOORS
from worker.pipeline.rankers.tfidf import TfidfRanker
from worker.pipeline.related import IndexedPaper, RelatedIndex

CORAL = {
    "id": "doi:10.5555/coral-heat",
    "title": "Coral reef bleaching under repeated marine heatwaves",
    "abstract": (
        "We survey coral cover on 40 reefs of the Great Barrier Reef after the marine "
        "heatwaves of 2016, 2017 and 2020, and relate bleaching severity to accumulated heat "
        "stress, depth and water turbidity. Reefs exposed to repeated heat stress recovered "
        "less coral cover, and fast-growing branching corals were replaced by massive species."
    ),
}
MOE_PAPERS = ("arxiv:2310.01334", "arxiv:2306.02824", "arxiv:2406.08155")


def demo_records() -> list[dict[str, str]]:
    return [json.loads(line) for line in DEMO_CORPUS.read_text().splitlines() if line.strip()]


def tiny_catalogue(tmp_path: Path) -> Path:
    """Three mixture-of-experts papers of the demo and one about coral reefs."""
    records = [r for r in demo_records() if r.get("id") in MOE_PAPERS] + [CORAL]
    assert len(records) == 4
    path = tmp_path / "tiny.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


def precompute(redis: Redis) -> None:
    Queue(keys.QUEUE_BULK, connection=redis, serializer=SERIALIZER).enqueue(keys.JOB_PRECOMPUTE_ALL)
    run_workers(redis)


def test_a_demo_papers_related_list_holds_nothing_below_the_floor(
    precomputed: Database, redis: Redis, settings: Settings
) -> None:
    with precomputed.session() as session:
        papers = [IndexedPaper(p.paper_id, p.title, p.abstract) for p in iter_papers(session)]
    # The cosine recomputed apart from the served index: the same TF-IDF over the demo.
    cosine = TfidfRanker()
    cosine.fit(papers)
    rows = {paper.paper_id: row for row, paper in enumerate(papers)}
    lengths = []
    for row, paper in enumerate(papers):
        document = enrichments.read(redis, paper.paper_id)
        assert document is not None
        similarity = cosine.scores(paper, row)
        for related in document.related:
            assert similarity[rows[related.paper_id]] >= FLOORS["tfidf"], (paper, related)
        lengths.append(len(document.related))
    # The floor is not idle on 59 papers: some lists are short, and most still hold papers.
    assert min(lengths) < settings.related_k
    assert sum(1 for n in lengths if n > 0) > len(lengths) / 2


def test_an_unrelated_paper_added_to_a_tiny_catalogue_is_not_listed_as_related(
    db: Database, redis: Redis, client: FlaskClient, tmp_path: Path
) -> None:
    report = ingest_jsonl(db, tiny_catalogue(tmp_path))
    assert report.created == 4
    precompute(redis)

    for paper_id in MOE_PAPERS:
        served = client.get(f"/api/v1/papers/{paper_id}").get_json()
        listed = [r["paper_id"] for r in served["related"]]
        assert CORAL["id"] not in listed, listed
        assert listed, paper_id  # its fellow mixture-of-experts papers are close
    coral = client.get(f"/api/v1/papers/{CORAL['id']}")
    assert coral.status_code == 200
    assert coral.get_json()["related"] == []  # nothing close: no padding


@pytest.mark.skipif(not embeddings_available(), reason="the embeddings extra is not installed")
def test_the_hybrid_lists_no_unrelated_paper_in_a_tiny_catalogue() -> None:
    papers = [
        IndexedPaper(r["id"], r["title"], r["abstract"])
        for r in [*(r for r in demo_records() if r.get("id") in MOE_PAPERS), CORAL]
    ]
    index = RelatedIndex.build(papers, "hybrid")
    assert index.similarity_floor == FLOORS["hybrid"]
    coral = papers[-1]
    assert index.related(coral, 10) == []
    for paper in papers[:-1]:
        listed = [r.paper_id for r in index.related(paper, 10)]
        assert listed and coral.paper_id not in listed, listed
