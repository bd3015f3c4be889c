"""The research feed: papers an ingest brings, ranked for each reader from their list by a
real RQ worker, served a page at a time, and steered by what the reader saves and dismisses."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from redis import Redis
from werkzeug.test import TestResponse

from cli.main import main
from paperlens import keys, logs
from paperlens.formats.records import landing_page
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
    {
        "id": "arxiv:2601.00006",
        "title": "Four-Bit Experts: Quantizing Sparse Mixture-of-Experts Language Models",
        "abstract": (
            "We quantize the expert weights of sparse mixture-of-experts language models to "
            "four bits: per-channel scales calibrated on a few hundred sequences keep expert "
            "routing and quality, and quantized experts halve the memory of large models."
        ),
        "authors": ["Fay Scale"],
        "published": "2026-01-03",
    },
    {
        "id": "arxiv:2601.00007",
        "title": "Calibrated Low-Bit Quantization of Expert Weights",
        "abstract": (
            "Per-channel quantization scales, calibrated on a few hundred sequences, compress "
            "the expert weights of mixture-of-experts models to four bits with little loss."
        ),
        "authors": ["Gil Bits"],
        "published": "2026-01-03",
    },
]
# A feed before its first computation.
NEVER_COMPUTED: dict[str, Any] = {
    "items": [],
    "computed_at": None,
    "last_refresh": None,
    "next_cursor": None,
}
# The papers of each batch on the reader's subject; the seabird papers are not.
ON_TOPIC = {"arxiv:2601.00001", "arxiv:2601.00003", "arxiv:2601.00006", "arxiv:2601.00007"}


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
    assert feed(reader) == NEVER_COMPUTED


def test_an_ingest_puts_its_papers_in_the_feed_ranked_and_explained(
    reader: ReaderClient, redis: Redis, tmp_path: Path
) -> None:
    ingest(tmp_path, "first", FIRST_BATCH)
    # The ingest asks for the index update, which asks for the feeds' refresh.
    assert redis.exists(f"rq:job:{keys.INDEX_UPDATE_JOB_ID}")
    run_workers(redis)
    assert not redis.exists(f"rq:job:{keys.FEED_REFRESH_JOB_ID}")  # it ran

    body = feed(reader, "?limit=200")
    assert body["computed_at"] and body["next_cursor"] is None
    found = ids(body)
    assert "arxiv:2601.00001" in found
    assert "arxiv:2601.00002" not in found  # new, but nothing like the reader's list
    # The first refresh ranked the catalogue's papers; those in the feed stood out.
    refresh = body["last_refresh"]
    assert refresh["papers_ranked"] >= len(FIRST_BATCH)
    assert refresh["papers_taken"] == len(found)
    assert not set(found) & set(SAVED_MOE)
    item = body["items"][found.index("arxiv:2601.00001")]
    assert item["title"] == FIRST_BATCH[0]["title"]
    assert item["authors"] == ["Ada Router", "Ben Gate"]
    assert item["published"] == "2026-01-02"
    assert item["reason"].startswith("Like “") and "expert" in item["reason"].lower()
    assert set(item["because"]) <= set(SAVED_MOE) and item["added_at"]
    scores = [entry["score"] for entry in body["items"]]
    assert scores == sorted(scores, reverse=True)  # one refresh: best first


def test_an_ingest_on_other_subjects_adds_nothing_to_the_feed(
    reader: ReaderClient, redis: Redis, tmp_path: Path
) -> None:
    ingest(tmp_path, "first", FIRST_BATCH)
    run_workers(redis)
    since = dt.datetime.now(dt.UTC).isoformat()
    before = feed(reader, "?limit=200")

    seabirds = [record for record in SECOND_BATCH if record["id"] not in ON_TOPIC]
    ingest(tmp_path, "seabirds", seabirds)
    run_workers(redis)

    assert feed(reader, f"?since={quote(since)}")["items"] == []
    after = feed(reader, "?limit=200")
    assert ids(after) == ids(before)
    # The refresh ran and says so: it ranked the two papers and took neither.
    assert after["computed_at"] > before["computed_at"]
    assert after["last_refresh"] == {"papers_ranked": len(seabirds), "papers_taken": 0}


def test_since_pages_and_feedback(reader: ReaderClient, redis: Redis, tmp_path: Path) -> None:
    ingest(tmp_path, "first", FIRST_BATCH)
    run_workers(redis)
    everything_before = ids(feed(reader, "?limit=200"))
    since = dt.datetime.now(dt.UTC).isoformat()

    ingest(tmp_path, "second", SECOND_BATCH)
    run_workers(redis)
    newest = feed(reader, f"?since={quote(since)}")
    assert set(ids(newest)) == {"arxiv:2601.00003", "arxiv:2601.00006", "arxiv:2601.00007"}
    scores = [item["score"] for item in newest["items"]]
    assert scores == sorted(scores, reverse=True)  # new only, best first
    everything = ids(feed(reader, "?limit=200"))
    assert everything[:3] == ids(newest)  # newest first
    assert set(everything) == set(everything_before) | set(ids(newest))

    # Cursor pages walk the whole feed once, in the same order.
    walked: list[str] = []
    cursor = ""
    while True:
        page = feed(reader, f"?limit=2{cursor}")
        assert len(page["items"]) <= 2
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


def _reader_refresh_jobs(redis: Redis) -> list[bytes]:
    return sorted(redis.scan_iter(f"rq:job:{keys.reader_feed_job_id(0).rsplit('-', 1)[0]}-*"))


def test_more_like_this_ranks_the_readers_feed_again_towards_the_paper(
    reader: ReaderClient, redis: Redis, tmp_path: Path
) -> None:
    ingest(tmp_path, "both", [*FIRST_BATCH, *SECOND_BATCH])
    run_workers(redis)
    before = {item["paper_id"]: item for item in feed(reader, "?limit=200")["items"]}
    liked, alike = "arxiv:2601.00006", "arxiv:2601.00007"  # both on quantizing experts
    assert before[alike]["score"] < before["arxiv:2601.00003"]["score"]

    signal = {"paper_id": liked, "signal": "more_like_this"}
    answer = reader.post("/api/v1/me/feedback", json=signal)
    assert answer.status_code == 200 and answer.get_json() == signal
    assert _reader_refresh_jobs(redis)  # queued by the feedback, by job name
    run_workers(redis)
    assert not _reader_refresh_jobs(redis)

    after = {item["paper_id"]: item for item in feed(reader, "?limit=200")["items"]}
    assert liked in after  # asking for more like a paper keeps it
    assert after[alike]["score"] > before[alike]["score"]
    # Ranked again, not taken in again: what the feed held keeps the time it came in.
    assert all(after[p]["added_at"] == before[p]["added_at"] for p in set(after) & set(before))

    # Withdrawn, the signal no longer steers the next ranking.
    assert reader.delete(f"/api/v1/me/feedback/{liked}").status_code == 204
    run_workers(redis)
    again = {item["paper_id"]: item for item in feed(reader, "?limit=200")["items"]}
    assert again[alike]["score"] == pytest.approx(before[alike]["score"], abs=1e-3)


def test_a_dismissal_leaves_the_feed_for_good_and_only_the_readers_own(
    reader: ReaderClient, client: FlaskClient, db: Database, redis: Redis, tmp_path: Path
) -> None:
    other = ReaderClient(client, make_reader(db, "other-feed-reader"))
    for paper_id in SAVED_MOE:
        assert other.put(f"{LIB}/{paper_id}", json={}).status_code == 201
    ingest(tmp_path, "first", FIRST_BATCH)
    run_workers(redis)
    dismissed = "arxiv:2601.00001"
    assert dismissed in ids(feed(reader)) and dismissed in ids(feed(other))

    answer = reader.post("/api/v1/me/feedback", json={"paper_id": dismissed, "signal": "dismiss"})
    assert answer.status_code == 200
    assert dismissed not in ids(feed(reader))  # at once, before any worker ran
    run_workers(redis)  # the reader's own refresh
    assert dismissed not in ids(feed(reader))
    ingest(tmp_path, "second", SECOND_BATCH)
    run_workers(redis)  # the next ingest's refresh of every feed
    assert dismissed not in ids(feed(reader))
    assert dismissed in ids(feed(other))  # another reader's feed is theirs alone

    # Another reader cannot withdraw it; the reader can, and the paper is ranked in again.
    assert error_code(other.delete(f"/api/v1/me/feedback/{dismissed}")) == "no_feedback"
    assert dismissed not in ids(feed(reader))
    assert reader.delete(f"/api/v1/me/feedback/{dismissed}").status_code == 204
    run_workers(redis)
    assert dismissed in ids(feed(reader))


@pytest.mark.parametrize(
    "body",
    [
        {"paper_id": "arxiv:2601.00001", "signal": "more"},
        {"paper_id": "arxiv:2601.00001"},
        {"paper_id": "", "signal": "dismiss"},
        {"paper_id": ["arxiv:2601.00001"], "signal": "dismiss"},
        {"paper_id": "arxiv:2601.00001", "signal": "dismiss", "action": "dismiss"},
    ],
)
def test_bad_feedback_is_refused_and_changes_nothing(
    reader: ReaderClient, redis: Redis, tmp_path: Path, body: dict[str, object]
) -> None:
    ingest(tmp_path, "first", FIRST_BATCH)
    run_workers(redis)
    before = feed(reader, "?limit=200")
    answer = reader.post("/api/v1/me/feedback", json=body)
    assert answer.status_code == 422 and error_code(answer)
    assert not _reader_refresh_jobs(redis)
    assert feed(reader, "?limit=200") == before
    assert reader.client.post("/api/v1/me/feedback", json=body).status_code == 401


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
    assert feed(other) == NEVER_COMPUTED
    assert reader.client.get(FEED).status_code == 401


def test_a_tag_switched_off_no_longer_feeds_the_feed(
    client: FlaskClient, precomputed: Database, redis: Redis, tmp_path: Path
) -> None:
    reader = ReaderClient(client, make_reader(precomputed, "two-interests"))
    for paper_id in SAVED_MOE:
        assert reader.put(f"{LIB}/{paper_id}", json={"tags": ["moe"]}).status_code == 201
    answer = reader.put("/api/v1/me/tags/moe", json={"feeds": False})
    assert answer.status_code == 200
    assert answer.get_json() == {"tag": "moe", "feeds": False}
    ingest(tmp_path, "first", FIRST_BATCH)
    run_workers(redis)
    assert feed(reader)["items"] == []  # the list's only tag feeds nothing

    assert reader.put("/api/v1/me/tags/moe", json={"feeds": True}).status_code == 200
    ingest(tmp_path, "second", SECOND_BATCH)
    run_workers(redis)
    assert set(ids(feed(reader))) == ON_TOPIC - {"arxiv:2601.00001"}  # the second batch's

    for body in ({"feeds": "no"}, {"feeds": False, "other": 1}, {}):
        refused = reader.put("/api/v1/me/tags/moe", json=body)
        assert refused.status_code == 422, body
    assert reader.put("/api/v1/me/tags/a,b", json={"feeds": False}).status_code == 422


# The Atom feed.

FEED_TOKEN = "/api/v1/me/feed-token"
ATOM = "{http://www.w3.org/2005/Atom}"
HOSTILE_TITLE = 'Experts <b>&amp; "routers"</b> ]]> \x01\x0b\x1f\ufffe mixture-of-experts'


def atom_path(url: str) -> str:
    path = url.split("://", 1)[1]
    return path[path.index("/") :]


def logged_request(client: FlaskClient, path: str) -> tuple[TestResponse, list[dict[str, Any]]]:
    """A GET and the JSON log lines it wrote, with the processes' own log configuration."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    buffer = io.StringIO()
    logs.configure("INFO", "json", buffer)
    try:
        answer = client.get(path)
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    return answer, [json.loads(line) for line in buffer.getvalue().splitlines() if line]


def test_the_atom_feed_is_valid_private_and_revocable(
    reader: ReaderClient,
    client: FlaskClient,
    db: Database,
    redis: Redis,
    tmp_path: Path,
) -> None:
    import xml.etree.ElementTree as ET

    import feedparser

    hostile = {**FIRST_BATCH[0], "id": "arxiv:2601.00009", "title": HOSTILE_TITLE}
    ingest(tmp_path, "first", [*FIRST_BATCH, hostile])
    run_workers(redis)

    created = reader.post(FEED_TOKEN)
    assert created.status_code == 201
    token, url = created.get_json()["token"], created.get_json()["url"]
    assert token.startswith("plf_") and url.endswith(f"/feeds/{token}.atom")
    answer, lines = logged_request(client, atom_path(url))
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    requests = [line for line in lines if line.get("message") == "request"]
    assert requests[-1]["endpoint"] == "/feeds/<token>.atom"  # the route pattern only
    assert token not in json.dumps(lines)

    parsed = feedparser.parse(answer.data)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    api_items = feed(reader, "?limit=100")["items"]
    assert [e.link for e in parsed.entries] == [
        landing_page(item["paper_id"]) or f"http://localhost/api/v1/papers/{item['paper_id']}"
        for item in api_items
    ]
    first = next(e for e in parsed.entries if e.link.endswith("2601.00001"))
    api_first = next(i for i in api_items if i["paper_id"] == "arxiv:2601.00001")
    assert first.title == FIRST_BATCH[0]["title"] and first.summary == api_first["reason"]
    assert [author.name for author in first.authors] == ["Ada Router", "Ben Gate"]

    root = ET.fromstring(answer.data)  # well-formed, whatever the titles held
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert root.findtext(f"{ATOM}{name}"), name
    assert root.find(f"{ATOM}link[@rel='self']") is not None
    assert root.findtext(f"{ATOM}author/{ATOM}name")
    entries = root.findall(f"{ATOM}entry")
    assert entries
    for entry in entries:
        for name in ("id", "title", "updated", "summary"):
            assert entry.findtext(f"{ATOM}{name}"), name
        assert entry.findtext(f"{ATOM}id", "").startswith("urn:uuid:")
        link = entry.find(f"{ATOM}link")
        assert link is not None and link.get("href", "").startswith(("https://", "http://"))
    titles = [entry.findtext(f"{ATOM}title") for entry in entries]
    assert 'Experts <b>&amp; "routers"</b> ]]>  mixture-of-experts' in titles

    # Another reader's token shows their own (empty) feed, never the first reader's.
    other = ReaderClient(client, make_reader(db, "other-reader"))
    other_url = other.post(FEED_TOKEN).get_json()["url"]
    other_feed = feedparser.parse(client.get(atom_path(other_url)).data)
    assert other_feed.bozo == 0 and other_feed.entries == []
    assert other_feed.feed.id != parsed.feed.id

    # A new token replaces the old; a revoked one answers 404; API tokens are no feed tokens.
    replaced = reader.post(FEED_TOKEN).get_json()["url"]
    assert client.get(atom_path(url)).status_code == 404
    assert client.get(atom_path(replaced)).status_code == 200
    assert reader.delete(FEED_TOKEN).status_code == 204
    gone = client.get(atom_path(replaced))
    assert gone.status_code == 404 and error_code(gone) == "not_found"
    assert error_code(reader.delete(FEED_TOKEN)) == "no_feed_token"
    assert client.get(f"/feeds/{reader.token}.atom").status_code == 404
    assert client.get("/feeds/plf_00000000_x.atom").status_code == 404
    assert client.post(FEED_TOKEN).status_code == 401
