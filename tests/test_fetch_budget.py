"""Fetches of papers the catalogue lacks are bounded per client and in total: a burst of
anonymous GETs or one large import cannot queue unbounded work, and nothing a reader saved
is lost when their fetches have to wait."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis

from paperlens import job_queue, keys
from paperlens.settings import Settings
from paperlens.store.db import Database
from server import create_app
from tests.readers import ReaderClient, make_reader
from worker.pipeline.freshness import release_deferred_fetches

LIB = "/api/v1/me/library"


def budget_app(settings: Settings, per_client: str, ceiling: int) -> Flask:
    app = create_app(
        settings.model_copy(
            update={"fetches_per_client": per_client, "fetch_queue_max_jobs": ceiling}
        )
    )
    app.config["TESTING"] = True
    return app


def unknown(n: int) -> str:
    return f"arxiv:2409.{n + 10000:05d}"


def get_paper(client: FlaskClient, paper_id: str, address: str) -> tuple[int, dict[str, str]]:
    response = client.get(f"/api/v1/papers/{paper_id}", environ_base={"REMOTE_ADDR": address})
    if response.status_code >= 400:
        body = response.get_json()
        assert set(body["error"]) == {"code", "message"}  # the one error shape
    return response.status_code, dict(response.headers)


def fetch_queue(redis: Redis) -> int:
    return job_queue.queue(redis, keys.QUEUE_INTERACTIVE).count


def scrape(client: FlaskClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    samples = {}
    for family in text_string_to_metric_families(client.get("/metrics").get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def refused(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], reason: str) -> float:
    return samples.get(("paperlens_fetches_refused_total", (("reason", reason),)), 0.0)


def test_anonymous_gets_of_unknown_ids_are_limited_per_client(
    fetching_enabled: None, settings: Settings, redis: Redis
) -> None:
    client = budget_app(settings, "5/minute", 1_000).test_client()
    before = refused(scrape(client), "client_limit")
    answers = [get_paper(client, unknown(n), "203.0.113.66") for n in range(300)]
    assert [status for status, _ in answers[:5]] == [202] * 5
    assert {status for status, _ in answers[5:]} == {429}
    assert all(1 <= int(headers["Retry-After"]) <= 60 for _, headers in answers[5:])
    assert fetch_queue(redis) == 5  # 300 requests, 5 jobs
    # A paper already being fetched costs nothing: the request joins the queued job.
    assert get_paper(client, unknown(0), "203.0.113.66")[0] == 202
    # Other clients keep their own budget.
    assert get_paper(client, unknown(999), "198.51.100.2")[0] == 202
    assert fetch_queue(redis) == 6
    assert refused(scrape(client), "client_limit") - before == 295


def test_rotating_ipv6_addresses_of_one_network_share_one_budget(
    fetching_enabled: None, settings: Settings, redis: Redis
) -> None:
    client = budget_app(settings, "5/minute", 1_000).test_client()
    answers = [get_paper(client, unknown(n), f"2001:db8:1:2::{n + 1:x}")[0] for n in range(20)]
    assert answers[:5] == [202] * 5 and set(answers[5:]) == {429}
    assert get_paper(client, unknown(100), "2001:db8:1:3::1")[0] == 202  # another network
    assert fetch_queue(redis) == 6


def test_a_full_fetch_queue_answers_503_with_retry_after(
    fetching_enabled: None, settings: Settings, redis: Redis
) -> None:
    """Many clients at once (300 addresses, one GET each) fill the queue only to its ceiling."""
    app = budget_app(settings, "100/minute", 20)
    client = app.test_client()
    before = scrape(client)
    answers = [get_paper(client, unknown(n), f"10.1.{n // 250}.{n % 250}") for n in range(300)]
    assert [status for status, _ in answers[:20]] == [202] * 20
    assert {status for status, _ in answers[20:]} == {503}
    retry_after = settings.fetch_queue_full_retry_after_seconds
    assert {headers["Retry-After"] for _, headers in answers[20:]} == {str(retry_after)}
    assert fetch_queue(redis) == 20
    after = scrape(client)
    assert refused(after, "queue_full") - refused(before, "queue_full") == 280
    assert after[("paperlens_fetch_queue_depth", ())] == 20
    # A full queue does not spend anybody's own budget: once it drains, the same client
    # that was refused is served.
    job_queue.queue(redis, keys.QUEUE_INTERACTIVE).empty()  # type: ignore[no-untyped-call]
    assert get_paper(client, unknown(299), "10.1.1.49")[0] == 202


def test_imports_count_against_the_readers_fetch_budget_and_lose_no_entry(
    fetching_enabled: None, settings: Settings, db: Database, redis: Redis
) -> None:
    app = budget_app(settings, "5/minute", 1_000)
    reader = ReaderClient(app.test_client(), make_reader(db, "alice"))
    ids = [unknown(n) for n in range(40)]
    before = refused(scrape(app.test_client()), "client_limit")

    report = reader.post(f"{LIB}/import?format=ids", data="\n".join(ids).encode())
    assert report.status_code == 200 and report.get_json()["saved"] == 40
    listed = reader.get(f"{LIB}?limit=100").get_json()["items"]
    assert sorted(item["paper_id"] for item in listed) == sorted(ids)  # every entry is kept
    assert fetch_queue(redis) == 5
    # One more save over the budget: saved too, its fetch waits with the others.
    saved = reader.put(f"{LIB}/{unknown(40)}", json={"tags": ["later"]})
    assert saved.status_code == 201 and saved.get_json()["known"] is False
    assert fetch_queue(redis) == 5
    samples = scrape(app.test_client())
    assert refused(samples, "client_limit") - before == 36
    assert samples[("paperlens_fetches_deferred", ())] == 36

    # The scheduler's tick queues deferred fetches as the queue has room, a bounded number
    # at a time, skipping papers the catalogue has meanwhile.
    tick = settings.model_copy(update={"deferred_fetches_per_tick": 20})
    assert release_deferred_fetches(redis, db, tick) == 20
    assert fetch_queue(redis) == 25
    assert redis.zcard(keys.FETCH_DEFERRED) == 16
    full = tick.model_copy(update={"fetch_queue_max_jobs": 25})
    assert release_deferred_fetches(redis, db, full) == 0  # no room: nothing queued, none lost
    assert redis.zcard(keys.FETCH_DEFERRED) == 16
    queued = {job.args[0] for job in job_queue.queue(redis, keys.QUEUE_INTERACTIVE).jobs}
    assert queued < set(ids) | {unknown(40)}
