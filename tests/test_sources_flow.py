"""The reader's path with the fixture server standing in for the internet: a paper the
corpus lacks is opened, fetched, enriched from every source with provenance, and served;
a failing source degrades the document and is retried; old documents are refreshed."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer
from redis import Redis
from rq import Queue

from paperlens import enrichments, job_queue, keys
from paperlens.job_queue import SERIALIZER
from paperlens.settings import Settings, get_settings
from paperlens.store.db import Database
from paperlens.store.papers import find_paper
from tests.source_server import FIXTURES, serve_fixtures, source_environment
from tests.support import open_until_served, run_workers
from worker.context import reset_context
from worker.pipeline.rankers.explain import STUDY_PREFIX

HEAT_BATH = "arxiv:1605.08386"
PWC_LINKS = FIXTURES / "pwc" / "links-between-papers-and-code.json.gz"


@pytest.fixture
def internet(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[HTTPServer]:
    """Sources enabled and pointed at the fixture server; requested before ``settings``."""
    for name, value in source_environment(httpserver).items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    reset_context()
    yield httpserver
    get_settings.cache_clear()


@pytest.fixture
def with_pwc(demo: Database, settings: Settings, redis: Redis) -> Database:
    from worker.ingest import runs

    runs.pwc_links(settings, redis, PWC_LINKS)
    return demo


def test_a_paper_the_corpus_lacks_is_fetched_enriched_and_served(
    internet: HTTPServer, client: FlaskClient, with_pwc: Database, redis: Redis
) -> None:
    serve_fixtures(internet)
    first = client.get(f"/api/v1/papers/{HEAT_BATH}")
    assert first.status_code == 202
    assert first.get_json() == {"status": "pending", "paper_id": HEAT_BATH, "retry_after": 2}
    assert client.get(f"/api/v1/papers/{HEAT_BATH}").status_code == 202
    # One fetch in flight.
    assert Queue(keys.QUEUE_INTERACTIVE, connection=redis, serializer=SERIALIZER).count == 1

    started = time.monotonic()
    run_workers(redis)
    assert time.monotonic() - started < 10  # well inside a reader's polling window

    paper = client.get(f"/api/v1/papers/{HEAT_BATH}").get_json()
    assert paper["title"] == "Heat-bath random walks with Markov bases"
    assert paper["authors"] == ["Caprice Stanley", "Tobias Windisch"]
    assert paper["status"] == "ready" and paper["schema_version"] == 4
    assert {name: s["status"] for name, s in paper["sources"].items()} == {
        "arxiv": "ok",
        "huggingface": "ok",
        "semantic_scholar": "ok",
        "openalex": "ok",
        "dblp": "ok",
        "github": "ok",
    }
    official, community = paper["code"]
    assert official["url"] == "https://github.com/example-lab/heat-bath-walks"
    assert official["official"] is True and official["found_in"] == ["huggingface", "pwc"]
    assert (official["stars"], official["license"], official["archived"]) == (42, "MIT", False)
    assert community["url"] == "https://github.com/community/heat-bath-port"
    assert community["official"] is False and community["source"] == "pwc"
    assert community["archived"] is True
    assert paper["project_page"] == {
        "url": "https://example-lab.github.io/heat-bath/",
        "source": "huggingface",
    }
    assert [m["name"] for m in paper["models"]] == ["example-lab/heat-bath-sampler"]
    assert (
        paper["datasets"][0]["url"] == "https://huggingface.co/datasets/example-lab/lattice-fibers"
    )
    assert paper["spaces"][0]["url"] == "https://huggingface.co/spaces/example-lab/heat-bath-demo"
    assert paper["citation_count"] == {"count": 23, "source": "semantic_scholar"}
    assert paper["tldr"]["source"] == "semantic_scholar"
    assert paper["open_access"] == {
        "url": "https://arxiv.org/pdf/1605.08386",
        "source": "openalex",
    }
    outside = {(r["paper_id"], r["source"], r["in_corpus"]) for r in paper["related_external"]}
    assert ("arxiv:1707.08567", "semantic_scholar", False) in outside
    assert ("arxiv:2104.12255", "openalex", False) in outside
    assert ("corpusid:20000003", "semantic_scholar", False) in outside
    # Nothing in the demo (machine learning) is close to this combinatorics paper: the
    # sources' suggestions fill the list, each marked with who made it.
    assert [(r["paper_id"], r["source"]) for r in paper["related"]] == [
        (r["paper_id"], r["source"]) for r in paper["related_external"]
    ][: get_settings().related_k]
    assert redis.zscore(keys.ENRICHMENT_DUE, HEAT_BATH) is not None


def test_related_reasons_name_a_citation_or_shared_references_from_openalex(
    internet: HTTPServer, demo: Database, redis: Redis, settings: Settings
) -> None:
    """MRL's neighbours 2403.13043 (which cites MRL in the fixtures) and 2204.08446 (which
    shares two references with it) are enriched first, so their references are known."""
    serve_fixtures(internet)
    mrl, citing, sharing = "arxiv:2205.13147", "arxiv:2403.13043", "arxiv:2204.08446"
    for paper_id in (citing, sharing):
        job_queue.request_enrichment(redis, settings, paper_id, keys.QUEUE_DEFAULT)
    run_workers(redis)
    job_queue.request_enrichment(redis, settings, mrl, keys.QUEUE_DEFAULT)
    run_workers(redis)

    document = enrichments.read(redis, mrl)
    assert document is not None
    reasons = {paper.paper_id: paper.reason for paper in document.related}
    assert reasons[citing].startswith(("Both discuss “", STUDY_PREFIX))
    assert reasons[citing].endswith("; it cites this paper")
    assert reasons[sharing].endswith("; they share 2 references")
    others = [reason for paper_id, reason in reasons.items() if paper_id not in (citing, sharing)]
    assert others and not any(";" in reason for reason in others)

    citing_document = enrichments.read(redis, citing)
    assert citing_document is not None
    assert all("cites" not in paper.reason for paper in citing_document.related)


def test_a_doi_the_corpus_lacks_is_fetched_from_crossref(
    internet: HTTPServer, client: FlaskClient, demo: Database, redis: Redis
) -> None:
    serve_fixtures(internet)
    paper = open_until_served(client, redis, "doi:10.1000/fixture.journal")
    assert paper["title"] == "Counting Lattice Walks in a Journal Fixture"
    assert paper["venue"] == "Journal of Test Fixtures"
    assert paper["code"][0]["url"] == "https://github.com/example-lab/lattice-walks"
    assert paper["sources"]["huggingface"] == {
        "status": "skipped",
        "fetched_at": None,
        "error": None,
    }


def test_an_id_no_source_holds_ends_in_404(
    internet: HTTPServer, client: FlaskClient, demo: Database, redis: Redis
) -> None:
    serve_fixtures(internet)
    assert client.get("/api/v1/papers/arxiv:2101.99999").status_code == 202
    run_workers(redis)
    gone = client.get("/api/v1/papers/arxiv:2101.99999")
    assert gone.status_code == 404 and gone.get_json()["error"]["code"] == "unknown_paper"
    assert client.get("/api/v1/papers/openreview:abcDEF123").status_code == 404
    assert Queue(keys.QUEUE_INTERACTIVE, connection=redis, serializer=SERIALIZER).count == 0


def test_without_sources_an_unknown_arxiv_id_stays_404(
    client: FlaskClient, demo: Database, redis: Redis
) -> None:
    assert client.get(f"/api/v1/papers/{HEAT_BATH}").status_code == 404
    assert Queue(keys.QUEUE_INTERACTIVE, connection=redis, serializer=SERIALIZER).count == 0


def test_a_failing_source_degrades_the_document_and_is_retried_soon(
    internet: HTTPServer, client: FlaskClient, demo: Database, redis: Redis, settings: Settings
) -> None:
    internet.expect_request("/s2/graph/v1/paper/ARXIV:1605.08386").respond_with_data(
        "overloaded", status=503
    )
    serve_fixtures(internet)
    paper = open_until_served(client, redis, HEAT_BATH)
    assert paper["status"] == "degraded"
    failed = paper["sources"]["semantic_scholar"]
    assert failed["status"] == "failed" and failed["error"] == "http_503"
    assert paper["sources"]["huggingface"]["status"] == "ok" and paper["models"]
    assert paper["citation_count"] == {"count": 21, "source": "openalex"}
    due = redis.zscore(keys.ENRICHMENT_DUE, HEAT_BATH)
    assert due is not None and due - time.time() <= settings.source_retry_failed_seconds


def test_old_enrichments_are_served_stale_while_refreshed_on_bulk(
    client: FlaskClient, precomputed: Database, redis: Redis, settings: Settings
) -> None:
    from worker.pipeline.freshness import refresh_due

    mrl = "arxiv:2205.13147"
    assert redis.zscore(keys.ENRICHMENT_DUE, mrl) is not None
    redis.zadd(keys.ENRICHMENT_DUE, {mrl: time.time() - 1})
    assert refresh_due(redis, settings) == 1
    stale = client.get(f"/api/v1/papers/{mrl}")
    assert stale.status_code == 200 and stale.get_json()["status"] == "stale"
    assert Queue(keys.QUEUE_BULK, connection=redis, serializer=SERIALIZER).count == 1
    assert refresh_due(redis, settings) == 0  # not picked twice while it waits
    run_workers(redis)
    fresh = client.get(f"/api/v1/papers/{mrl}").get_json()
    assert fresh["status"] == "ready" and fresh["computed_at"] > stale.get_json()["computed_at"]


def test_daily_ingest_stores_new_submissions_and_queues_the_index_update(
    internet: HTTPServer, demo: Database, redis: Redis, settings: Settings
) -> None:
    import datetime as dt

    from worker.context import get_context
    from worker.pipeline.freshness import ingest_recent

    serve_fixtures(internet)
    ctx = get_context()
    categories = settings.model_copy(update={"arxiv_daily_categories": ["cs.SE"]})
    added = ingest_recent(ctx.http, demo, redis, categories, today=dt.date(2025, 3, 8))
    assert added == 1  # 2503.05378 is new; 2502.07719 is older than two days
    with demo.session() as session:
        assert find_paper(session, "arxiv:2503.05378") is not None
        assert find_paper(session, "arxiv:2502.07719") is None
    queued = Queue(keys.QUEUE_BULK, connection=redis, serializer=SERIALIZER).jobs
    assert [job.func_name for job in queued] == [keys.JOB_UPDATE_INDEX]


def test_the_schedule_enqueues_its_jobs_on_bulk(redis: Redis, settings: Settings) -> None:
    import datetime as dt

    from worker.schedule import build_scheduler

    scheduler = build_scheduler(redis, settings)
    crons = {job.func_name: job.cron for job in scheduler.get_jobs()}
    assert crons == {
        "worker.jobs.ingest_new_submissions": settings.daily_ingest_cron,
        "worker.jobs.refresh_stale": settings.refresh_cron,
        "worker.jobs.request_index_update": settings.index_update_cron,
    }
    for job in scheduler.get_jobs():
        job.next_enqueue_time = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    assert len(scheduler.enqueue_jobs()) == 3
    queued = Queue(keys.QUEUE_BULK, connection=redis, serializer=SERIALIZER).jobs
    assert sorted(str(job.func_name) for job in queued) == sorted(crons)
    run_workers(redis)  # they run cleanly with no source enabled and no paper


def test_stale_marking_keeps_the_document(redis: Redis, precomputed: Database) -> None:
    document = enrichments.read(redis, "arxiv:2205.13147")
    assert document is not None and enrichments.mark_stale(redis, "arxiv:2205.13147")
    after = enrichments.read(redis, "arxiv:2205.13147")
    assert after is not None and after.status == "stale" and after.code == document.code
