"""Suggestions computed by real RQ workers from what a reader saved, and steered by feedback."""

from __future__ import annotations

import re
import socket

import pytest
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue

from paperlens import keys
from paperlens.job_queue import SERIALIZER
from paperlens.settings import Settings
from paperlens.store.db import Database
from paperlens.store.library import bump_revision
from paperlens.store.users import find_user
from server import create_app
from tests.readers import ReaderClient, error_code, make_reader
from tests.support import run_workers

LIB = "/api/v1/me/library"
SUGGEST = "/api/v1/me/suggestions"
# The Mixture-of-Experts papers of the demo corpus: the reader saves three.
SAVED_MOE = ["arxiv:2310.01334", "arxiv:2507.23279", "arxiv:2505.21411"]
OTHER_MOE = {"arxiv:2506.05426", "arxiv:2406.08155", "arxiv:2503.22517", "arxiv:2306.02824"}


@pytest.fixture
def reader(client: FlaskClient, precomputed: Database) -> ReaderClient:
    return ReaderClient(client, make_reader(precomputed, "moe-reader"))


def _save_moe(reader: ReaderClient) -> None:
    for paper_id in SAVED_MOE:
        assert reader.put(f"{LIB}/{paper_id}", json={"tags": ["moe"]}).status_code == 201


def test_moe_reader_is_suggested_the_other_moe_papers_each_explained(
    reader: ReaderClient, redis: Redis
) -> None:
    _save_moe(reader)
    first = reader.get(SUGGEST)
    assert first.status_code == 202 and first.headers["Retry-After"]
    assert first.get_json()["status"] == "pending"

    run_workers(redis)

    answer = reader.get(f"{SUGGEST}?k=5")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["stale"] is False and body["computed_at"]
    items = body["items"]
    assert len(items) == 5
    top = [item["paper_id"] for item in items]
    assert len(OTHER_MOE & set(top)) >= 3, top  # mostly the other MoE papers
    assert set(top[:3]) <= OTHER_MOE, top
    assert not set(top) & set(SAVED_MOE)
    scores = [item["score"] for item in items]
    assert scores == sorted(scores, reverse=True)
    for item in items:
        assert item["title"] and item["reason"].startswith("Like “")
        assert 1 <= len(item["because"]) <= 3 and set(item["because"]) <= set(SAVED_MOE)
    moe_reason = next(item["reason"] for item in items if item["paper_id"] in OTHER_MOE)
    assert "expert" in moe_reason.lower(), moe_reason
    # Saved papers are named by their titles, long ones cut between words, never inside one.
    saved_titles = [reader.get(f"{LIB}/{paper_id}").get_json()["title"] for paper_id in SAVED_MOE]
    named = [
        name
        for item in items
        for name in re.findall(r"“([^”]*)”", item["reason"].split(" in your list")[0])
    ]
    assert any(name.endswith("…") for name in named), named  # the demo has long titles
    for name in named:
        prefix = name.removesuffix("…")
        title = next(t for t in saved_titles if t.startswith(prefix))
        assert name == title or title[len(prefix)] in " ,;:-(", (name, title)


def test_dismissing_a_suggestion_changes_the_next_computation(
    reader: ReaderClient, redis: Redis
) -> None:
    _save_moe(reader)
    reader.get(SUGGEST)
    run_workers(redis)
    before = [item["paper_id"] for item in reader.get(f"{SUGGEST}?k=10").get_json()["items"]]

    dismissed = before[0]
    answer = reader.post("/api/v1/me/feedback", json={"paper_id": dismissed, "signal": "dismiss"})
    assert answer.status_code == 200
    assert answer.get_json() == {"paper_id": dismissed, "signal": "dismiss"}
    stale = reader.get(f"{SUGGEST}?k=10").get_json()
    assert stale["stale"] is True  # served while the new computation is queued
    run_workers(redis)

    after = reader.get(f"{SUGGEST}?k=10").get_json()
    assert after["stale"] is False
    now = [item["paper_id"] for item in after["items"]]
    assert dismissed not in now and now != before
    assert now[0] == before[1]

    # Withdrawing the feedback brings the paper back.
    assert reader.delete(f"/api/v1/me/feedback/{dismissed}").status_code == 204
    run_workers(redis)
    again = [item["paper_id"] for item in reader.get(f"{SUGGEST}?k=10").get_json()["items"]]
    assert dismissed in again


def test_more_like_this_pulls_in_papers_like_the_signalled_one(
    reader: ReaderClient, redis: Redis
) -> None:
    reader.put(f"{LIB}/arxiv:2205.13147")  # Matryoshka Representation Learning
    reader.get(SUGGEST)
    run_workers(redis)
    before = reader.get(f"{SUGGEST}?k=50").get_json()["items"]
    rank_before = [i["paper_id"] for i in before].index("arxiv:2306.02824")
    reader.post(
        "/api/v1/me/feedback", json={"paper_id": "arxiv:2310.01334", "signal": "more_like_this"}
    )
    run_workers(redis)
    after = reader.get(f"{SUGGEST}?k=50").get_json()["items"]
    assert [i["paper_id"] for i in after].index("arxiv:2306.02824") < rank_before


def test_per_tag_suggestions_follow_that_tags_papers(reader: ReaderClient, redis: Redis) -> None:
    _save_moe(reader)
    reader.put(f"{LIB}/arxiv:2211.15661", json={"tags": ["icl"]})  # in-context learning
    reader.put(f"{LIB}/arxiv:2306.04891", json={"tags": ["icl"]})
    assert reader.get(f"{SUGGEST}?tag=moe").status_code == 202
    run_workers(redis)

    moe = reader.get(f"{SUGGEST}?tag=moe&k=3").get_json()
    assert moe["tag"] == "moe"
    assert {item["paper_id"] for item in moe["items"]} <= OTHER_MOE
    assert all(set(item["because"]) <= set(SAVED_MOE) for item in moe["items"])

    icl = reader.get(f"{SUGGEST}?tag=icl&k=3").get_json()
    icl_ids = [item["paper_id"] for item in icl["items"]]
    assert not set(icl_ids) & OTHER_MOE
    assert all(set(i["because"]) <= {"arxiv:2211.15661", "arxiv:2306.04891"} for i in icl["items"])
    assert any("context" in item["reason"].lower() for item in icl["items"])

    unknown = reader.get(f"{SUGGEST}?tag=never-used")
    assert unknown.status_code == 200 and unknown.get_json()["items"] == []


def test_many_changes_queue_one_job_per_reader(reader: ReaderClient, redis: Redis) -> None:
    _save_moe(reader)
    reader.patch(f"{LIB}/{SAVED_MOE[0]}", json={"status": "done"})
    reader.post("/api/v1/me/feedback", json={"paper_id": "arxiv:2205.13147", "signal": "dismiss"})
    reader.get(SUGGEST)
    jobs = Queue(keys.QUEUE_DEFAULT, connection=redis, serializer=SERIALIZER).jobs
    # One suggestions job, and the feedback's one refresh of the reader's feed.
    assert [job.func_name for job in jobs] == [
        keys.JOB_COMPUTE_SUGGESTIONS,
        keys.JOB_REFRESH_READER_FEED,
    ]


def test_a_change_whose_job_was_lost_is_recomputed_when_suggestions_are_read(
    reader: ReaderClient, redis: Redis, precomputed: Database
) -> None:
    _save_moe(reader)
    run_workers(redis)
    assert reader.get(SUGGEST).get_json()["stale"] is False
    with precomputed.session() as session:  # a change made while Redis was unreachable
        user = find_user(session, "moe-reader")
        assert user is not None
        bump_revision(session, user.id)
    assert reader.get(SUGGEST).get_json()["stale"] is True
    assert Queue(keys.QUEUE_DEFAULT, connection=redis, serializer=SERIALIZER).count == 1
    run_workers(redis)
    assert reader.get(SUGGEST).get_json()["stale"] is False


def test_a_reader_with_nothing_saved_gets_an_empty_list(reader: ReaderClient, redis: Redis) -> None:
    assert reader.get(SUGGEST).status_code == 202
    run_workers(redis)
    body = reader.get(SUGGEST).get_json()
    assert body["items"] == [] and body["stale"] is False


@pytest.mark.parametrize("query", ["k=0", "k=101", "k=many", "tag=" + "x" * 65])
def test_invalid_suggestion_queries_get_422(reader: ReaderClient, query: str) -> None:
    assert reader.get(f"{SUGGEST}?{query}").status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        {"paper_id": "arxiv:2205.13147", "signal": "love"},
        {"paper_id": "nope", "signal": "dismiss"},
        {"signal": "dismiss"},
        {"paper_id": "arxiv:2205.13147", "signal": "dismiss", "x": 1},
    ],
)
def test_invalid_feedback_gets_422(reader: ReaderClient, body: dict[str, object]) -> None:
    assert reader.post("/api/v1/me/feedback", json=body).status_code == 422


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_without_redis_the_list_works_and_suggestions_answer_503(
    settings: Settings, demo: Database
) -> None:
    offline = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{_closed_port()}/0"})
    app = create_app(offline)
    reader = ReaderClient(app.test_client(), make_reader(demo, "offline"))
    try:
        saved = reader.put(f"{LIB}/arxiv:2205.13147", json={"tags": ["kept"]})
        assert saved.status_code == 201
        assert (
            reader.put(f"{LIB}/arxiv:2401.99999").status_code == 201
        )  # fetch not queued, save kept
        assert reader.patch(f"{LIB}/arxiv:2205.13147", json={"note": "n"}).status_code == 200
        assert len(reader.get(LIB).get_json()["items"]) == 2
        assert reader.get("/api/v1/me/tags").get_json()["items"] == [{"tag": "kept", "count": 1}]
        assert reader.get(f"{LIB}/export?format=bibtex").status_code == 200
        feedback = {"paper_id": "arxiv:2310.01334", "signal": "dismiss"}
        assert reader.post("/api/v1/me/feedback", json=feedback).status_code == 200
        down = reader.get(SUGGEST)
        assert down.status_code == 503 and down.headers["Retry-After"]
        assert error_code(down) == "cache_unavailable"
        assert reader.delete(f"{LIB}/arxiv:2401.99999").status_code == 204
    finally:
        app.extensions["paperlens"].db.dispose()


def test_while_stale_what_was_just_saved_or_dismissed_is_left_out(
    reader: ReaderClient, redis: Redis
) -> None:
    _save_moe(reader)
    reader.get(SUGGEST)
    run_workers(redis)
    first, second = (item["paper_id"] for item in reader.get(SUGGEST).get_json()["items"][:2])
    reader.post("/api/v1/me/feedback", json={"paper_id": first, "signal": "dismiss"})
    reader.put(f"{LIB}/{second}")
    stale = reader.get(SUGGEST).get_json()  # no worker has run since
    assert stale["stale"] is True
    assert not {first, second} & {item["paper_id"] for item in stale["items"]}
