"""The research feed: papers an ingest brings, ranked for each reader from their list by a
real RQ worker, served a page at a time, and steered by what the reader saves and dismisses."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from redis import Redis

from cli.main import main
from paperlens import keys
from paperlens.store.db import Database
from tests.readers import ReaderClient, error_code, make_reader
from tests.support import run_workers

LIB = "/api/v1/me/library"
FEED = "/api/v1/me/feed"
SAVED_MOE = ["arxiv:2310.01334", "arxiv:2507.23279", "arxiv:2505.21411"]

MOE_ABSTRACT = (
    "We study sparse mixture-of-experts language models: a router sends each token to a few "
    "experts, and we show how expert routing, expert pruning and load balancing trade "
    "quality for compute in large language models."
)
UNRELATED_ABSTRACT = (
    "We measure the migration routes of seabirds across the North Atlantic with satellite "
    "tags and relate them to sea surface temperature and fish stocks."
)
FIRST_BATCH = [
    {
        "id": "arxiv:2601.00001",
        "title": "Routing Tokens to Experts in Sparse Mixture-of-Experts Language Models",
        "abstract": MOE_ABSTRACT,
        "authors": ["Ada Router", "Ben Gate"],
        "published": "2026-01-02",
    },
    {
        "id": "arxiv:2601.00002",
        "title": "Seabird Migration Routes and Sea Surface Temperature",
        "abstract": UNRELATED_ABSTRACT,
        "authors": ["Cora Gull"],
        "published": "2026-01-02",
    },
]
SECOND_BATCH = [
    {
        "id": "arxiv:2601.00003",
        "title": "Pruning Experts of Mixture-of-Experts Models Without Losing Quality",
        "abstract": MOE_ABSTRACT,
        "authors": ["Dan Prune"],
        "published": "2026-01-03",
    },
    {
        "id": "arxiv:2601.00004",
        "title": "Satellite Tags on Atlantic Seabirds",
        "abstract": UNRELATED_ABSTRACT,
        "authors": ["Eve Tern"],
        "published": "2026-01-03",
    },
]


@pytest.fixture
def reader(client: FlaskClient, precomputed: Database) -> ReaderClient:
    reader = ReaderClient(client, make_reader(precomputed, "feed-reader"))
    for paper_id in SAVED_MOE:
        assert reader.put(f"{LIB}/{paper_id}", json={"tags": ["moe"]}).status_code == 201
    return reader


def ingest(tmp_path: Path, name: str, records: list[dict[str, Any]]) -> None:
    """New papers through ``paperlens ingest jsonl``, as an operator brings them."""
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    result = CliRunner().invoke(main, ["ingest", "jsonl", str(path)])
    assert result.exit_code == 0, result.output
    assert f"{len(records)} new" in result.output, result.output


def feed(reader: ReaderClient, query: str = "") -> dict[str, Any]:
    answer = reader.get(f"{FEED}{query}")
    assert answer.status_code == 200, answer.get_json()
    body: dict[str, Any] = answer.get_json()
    return body


def ids(body: dict[str, Any]) -> list[str]:
    return [item["paper_id"] for item in body["items"]]


def test_before_any_ingest_the_feed_is_empty(reader: ReaderClient) -> None:
    assert feed(reader) == {"items": [], "computed_at": None, "next_cursor": None}


def test_an_ingest_puts_its_papers_in_the_feed_ranked_and_explained(
    reader: ReaderClient, redis: Redis, tmp_path: Path
) -> None:
    ingest(tmp_path, "first", FIRST_BATCH)
    assert redis.exists(f"rq:job:{keys.FEED_REFRESH_JOB_ID}")  # queued by the ingest
    run_workers(redis)

    body = feed(reader, "?limit=200")
    assert body["computed_at"] and body["next_cursor"] is None
    found = ids(body)
    assert "arxiv:2601.00001" in found and "arxiv:2601.00002" in found
    assert not set(found) & set(SAVED_MOE)
    assert found.index("arxiv:2601.00001") < found.index("arxiv:2601.00002")
    item = body["items"][found.index("arxiv:2601.00001")]
    assert item["title"] == FIRST_BATCH[0]["title"]
    assert item["authors"] == ["Ada Router", "Ben Gate"]
    assert item["published"] == "2026-01-02"
    assert item["reason"].startswith("Like “") and "expert" in item["reason"].lower()
    assert set(item["because"]) <= set(SAVED_MOE) and item["added_at"]
    scores = [entry["score"] for entry in body["items"]]
    assert scores == sorted(scores, reverse=True)  # one refresh: best first


def test_since_pages_and_feedback(reader: ReaderClient, redis: Redis, tmp_path: Path) -> None:
    ingest(tmp_path, "first", FIRST_BATCH)
    run_workers(redis)
    everything_before = ids(feed(reader, "?limit=200"))
    since = dt.datetime.now(dt.UTC).isoformat()

    ingest(tmp_path, "second", SECOND_BATCH)
    run_workers(redis)
    newest = feed(reader, f"?since={quote(since)}")
    assert ids(newest) == ["arxiv:2601.00003", "arxiv:2601.00004"]  # new only, best first
    everything = ids(feed(reader, "?limit=200"))
    assert everything[:2] == ids(newest)  # newest first
    assert set(everything) == set(everything_before) | set(ids(newest))

    # Cursor pages walk the whole feed once, in the same order.
    walked: list[str] = []
    cursor = ""
    while True:
        page = feed(reader, f"?limit=7{cursor}")
        assert len(page["items"]) <= 7
        walked += ids(page)
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert walked == everything

    # Dismissed and saved papers leave the feed at once, and stay out after a refresh.
    dismissed, saved = everything[0], everything[1]
    answer = reader.post("/api/v1/me/feedback", json={"paper_id": dismissed, "signal": "dismiss"})
    assert answer.status_code == 200
    assert reader.put(f"{LIB}/{saved}", json={}).status_code == 201
    left = ids(feed(reader, "?limit=200"))
    assert dismissed not in left and saved not in left
    ingest(tmp_path, "third", [{**FIRST_BATCH[0], "id": "arxiv:2601.00005", "title": "Experts"}])
    run_workers(redis)
    after_refresh = ids(feed(reader, "?limit=200"))
    assert "arxiv:2601.00005" in after_refresh
    assert dismissed not in after_refresh and saved not in after_refresh


def test_bad_queries_are_refused(reader: ReaderClient, redis: Redis, tmp_path: Path) -> None:
    ingest(tmp_path, "first", FIRST_BATCH)
    run_workers(redis)
    for query in ("?cursor=not-a-cursor", "?limit=0", "?limit=201", "?since=yesterday"):
        answer = reader.get(f"{FEED}{query}")
        assert answer.status_code == 422, query
        assert error_code(answer)


def test_a_reader_without_a_list_gets_no_feed(
    reader: ReaderClient, client: FlaskClient, db: Database, redis: Redis, tmp_path: Path
) -> None:
    other = ReaderClient(client, make_reader(db, "no-list"))
    ingest(tmp_path, "first", FIRST_BATCH)
    run_workers(redis)
    assert feed(reader)["items"]
    assert feed(other) == {"items": [], "computed_at": None, "next_cursor": None}
    assert reader.client.get(FEED).status_code == 401
