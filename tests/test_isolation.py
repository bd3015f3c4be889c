"""Two readers on one instance: neither can read, change or learn of the other's data."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from redis import Redis

from paperlens.store.db import Database
from tests.readers import ReaderClient, error_code, make_reader
from tests.support import run_workers

LIB = "/api/v1/me/library"
SECRET_PAPER = "arxiv:2310.01334"
SECRET_DOI = "doi:10.1145/3447548.3467000"


@pytest.fixture
def readers(
    client: FlaskClient, precomputed: Database, redis: Redis
) -> tuple[ReaderClient, ReaderClient]:
    alice = ReaderClient(client, make_reader(precomputed, "alice"))
    bob = ReaderClient(client, make_reader(precomputed, "bob"))
    body = {"tags": ["secret-tag"], "note": "alice's private note", "status": "reading"}
    assert alice.put(f"{LIB}/{SECRET_PAPER}", json=body).status_code == 201
    assert alice.put(f"{LIB}/{SECRET_DOI}", json={"tags": ["secret-tag"]}).status_code == 201
    alice.put(f"{LIB}/arxiv:2507.23279", json={"tags": ["secret-tag"]})
    dismiss = {"paper_id": "arxiv:2406.08155", "signal": "dismiss"}
    assert alice.post("/api/v1/me/feedback", json=dismiss).status_code == 200
    alice.get("/api/v1/me/suggestions")
    run_workers(redis)
    return alice, bob


def _alice_unchanged(alice: ReaderClient) -> None:
    item = alice.get(f"{LIB}/{SECRET_PAPER}").get_json()
    assert item["tags"] == ["secret-tag"] and item["note"] == "alice's private note"
    assert item["status"] == "reading"
    assert len(alice.get(LIB).get_json()["items"]) == 3


def test_second_reader_cannot_see_first_readers_entries(
    readers: tuple[ReaderClient, ReaderClient],
) -> None:
    alice, bob = readers
    # The same answer as for a paper nobody saved: existence does not leak.
    for paper_id in (SECRET_PAPER, SECRET_DOI, "arxiv:2205.13147"):
        response = bob.get(f"{LIB}/{paper_id}")
        assert response.status_code == 404 and error_code(response) == "not_saved"
    assert bob.get(LIB).get_json() == {"items": [], "next_cursor": None}
    for query in ("tag=secret-tag", "q=private", "status=reading", "sort=title"):
        assert bob.get(f"{LIB}?{query}").get_json()["items"] == []
    _alice_unchanged(alice)


def test_second_reader_cannot_see_first_readers_tags(
    readers: tuple[ReaderClient, ReaderClient],
) -> None:
    _, bob = readers
    assert bob.get("/api/v1/me/tags").get_json() == {"items": []}


def test_second_reader_cannot_page_with_first_readers_cursor(
    readers: tuple[ReaderClient, ReaderClient],
) -> None:
    alice, bob = readers
    cursor = alice.get(f"{LIB}?limit=1").get_json()["next_cursor"]
    assert cursor
    assert bob.get(f"{LIB}?limit=1&cursor={cursor}").get_json()["items"] == []


def test_second_reader_cannot_change_or_delete_first_readers_entries(
    readers: tuple[ReaderClient, ReaderClient],
) -> None:
    alice, bob = readers
    patched = bob.patch(f"{LIB}/{SECRET_PAPER}", json={"note": "overwritten"})
    assert patched.status_code == 404 and error_code(patched) == "not_saved"
    assert bob.delete(f"{LIB}/{SECRET_PAPER}").status_code == 404
    # Bob saving the same paper makes his own entry; Alice's stays as it was.
    mine = bob.put(f"{LIB}/{SECRET_PAPER}", json={"tags": ["bobs"]})
    assert mine.status_code == 201
    assert mine.get_json()["tags"] == ["bobs"] and mine.get_json()["note"] == ""
    assert bob.delete(f"{LIB}/{SECRET_PAPER}").status_code == 204
    _alice_unchanged(alice)


def test_second_reader_cannot_export_or_import_into_first_readers_list(
    readers: tuple[ReaderClient, ReaderClient],
) -> None:
    alice, bob = readers
    for fmt in ("bibtex", "csljson", "ris", "csv"):
        exported = bob.get(f"{LIB}/export?format={fmt}&tag=secret-tag").get_data(as_text=True)
        assert "2310.01334" not in exported and "private" not in exported
    report = bob.post(f"{LIB}/import?format=ids", data=f"{SECRET_PAPER}\n").get_json()
    assert report["saved"] == 1 and report["merged"] == 0  # his own new entry, not a merge
    _alice_unchanged(alice)


def test_second_reader_gets_neither_feedback_nor_suggestions_of_the_first(
    readers: tuple[ReaderClient, ReaderClient], redis: Redis
) -> None:
    alice, bob = readers
    alice_suggestions = alice.get("/api/v1/me/suggestions").get_json()["items"]
    assert alice_suggestions and "arxiv:2406.08155" not in [
        i["paper_id"] for i in alice_suggestions
    ]
    assert bob.get("/api/v1/me/suggestions").status_code == 202  # nothing computed for him yet
    assert bob.get("/api/v1/me/suggestions?tag=secret-tag").status_code == 202
    run_workers(redis)
    assert bob.get("/api/v1/me/suggestions").get_json()["items"] == []
    assert bob.get("/api/v1/me/suggestions?tag=secret-tag").get_json()["items"] == []
    withdrawn = bob.delete("/api/v1/me/feedback/arxiv:2406.08155")
    assert withdrawn.status_code == 404 and error_code(withdrawn) == "no_feedback"
    # Bob's own feedback steers only his suggestions.
    top = alice_suggestions[0]["paper_id"]
    bob.post("/api/v1/me/feedback", json={"paper_id": top, "signal": "dismiss"})
    run_workers(redis)
    again = alice.get("/api/v1/me/suggestions").get_json()
    assert again["stale"] is False and again["items"] == alice_suggestions


ENDPOINTS = [
    ("get", f"{LIB}"),
    ("get", f"{LIB}/{SECRET_PAPER}"),
    ("put", f"{LIB}/{SECRET_PAPER}"),
    ("patch", f"{LIB}/{SECRET_PAPER}"),
    ("delete", f"{LIB}/{SECRET_PAPER}"),
    ("get", f"{LIB}/export?format=bibtex"),
    ("post", f"{LIB}/import?format=ids"),
    ("get", "/api/v1/me/tags"),
    ("get", "/api/v1/me/suggestions"),
    ("post", "/api/v1/me/feedback"),
    ("delete", "/api/v1/me/feedback/arxiv:2406.08155"),
]


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic YWxpY2U6c2VjcmV0",
        "Bearer pl_00000000_guess",
        "Bearer not-a-token",
        "Bearer " + "x" * 5000,
    ],
)
def test_every_me_endpoint_needs_a_valid_token(
    client: FlaskClient, demo: Database, authorization: str | None
) -> None:
    alice = ReaderClient(client, make_reader(demo, "alice"))
    body = {"tags": ["secret-tag"], "note": "alice's private note", "status": "reading"}
    alice.put(f"{LIB}/{SECRET_PAPER}", json=body)
    headers = {"Authorization": authorization} if authorization is not None else {}
    for method, path in ENDPOINTS:
        response = getattr(client, method)(path, headers=headers, json={"note": "x"})
        assert response.status_code == 401, (method, path)
        assert error_code(response) == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert alice.get(f"{LIB}/{SECRET_PAPER}").get_json()["note"] == "alice's private note"
