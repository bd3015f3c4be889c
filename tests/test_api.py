"""The HTTP API as the extension and curl users see it."""

from __future__ import annotations

import gzip
import json
import zlib
from concurrent.futures import ThreadPoolExecutor

from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue

from paperlens import enrichments, keys
from paperlens.job_queue import SERIALIZER
from paperlens.store.db import Database
from tests.support import TEST_ORIGIN, run_workers

MRL = "arxiv:2205.13147"


def assert_error(response: object, status: int) -> None:
    assert response.status_code == status  # type: ignore[attr-defined]
    body = response.get_json()  # type: ignore[attr-defined]
    assert set(body["error"]) == {"code", "message"} and body["error"]["message"]


def test_miss_answers_202_then_the_worker_fills_it(
    client: FlaskClient, demo: Database, redis: Redis
) -> None:
    first = client.get(f"/api/v1/papers/{MRL}")
    assert first.status_code == 202
    assert first.headers["Retry-After"] == "2"
    assert first.get_json()["status"] == "pending"
    assert Queue(keys.QUEUE_INTERACTIVE, connection=redis, serializer=SERIALIZER).count == 1

    run_workers(redis)

    ready = client.get(f"/api/v1/papers/{MRL}")
    assert ready.status_code == 200
    paper = ready.get_json()
    assert paper["paper_id"] == MRL and paper["title"] == "Matryoshka Representation Learning"
    assert paper["status"] == "ready" and paper["computed_at"]
    assert {
        "url": "https://github.com/RAIVNLab/MRL",
        "kind": "repository",
        "host": "github.com",
        "official": True,
        "source": "abstract",
    } in paper["code"]
    # Up to ten, and only those above the similarity floor (tests/test_related_floor.py).
    assert 1 <= len(paper["related"]) <= 10
    assert all(r["reason"] and r["title"] and r["paper_id"] != MRL for r in paper["related"])


def test_precomputed_paper_is_served_under_any_form_of_its_id(
    client: FlaskClient, precomputed: Database
) -> None:
    for form in ("arxiv:2205.13147", "arXiv:2205.13147v3", "2205.13147"):
        response = client.get(f"/api/v1/papers/{form}")
        assert response.status_code == 200, form
        assert response.get_json()["paper_id"] == MRL


def test_drift_code_link_loses_its_git_suffix_and_full_stop(
    client: FlaskClient, precomputed: Database
) -> None:
    paper = client.get("/api/v1/papers/arxiv:2510.02341").get_json()
    assert [link["url"] for link in paper["code"]] == ["https://github.com/cacayaya/DRIFT"]


def test_unknown_and_invalid_ids(client: FlaskClient, demo: Database) -> None:
    assert_error(client.get("/api/v1/papers/arxiv:1501.00001"), 404)
    assert_error(client.get("/api/v1/papers/not-an-id"), 422)
    assert_error(client.get("/api/v1/papers/" + "9" * 5000), 422)


def test_burst_of_misses_queues_one_job(app: Flask, demo: Database, redis: Redis) -> None:
    def fetch(_: int) -> int:
        return app.test_client().get(f"/api/v1/papers/{MRL}").status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(fetch, range(64)))
    assert statuses == [202] * 64
    assert Queue(keys.QUEUE_INTERACTIVE, connection=redis, serializer=SERIALIZER).count == 1


def test_resolve(client: FlaskClient, demo: Database) -> None:
    known = client.get("/api/v1/resolve?url=https://arxiv.org/pdf/2205.13147v2.pdf")
    assert known.get_json() == {"paper_id": MRL, "version": 2, "known": True}
    unknown = client.get(
        "/api/v1/resolve", query_string={"url": "https://arxiv.org/abs/1501.00001"}
    )
    assert unknown.get_json() == {"paper_id": "arxiv:1501.00001", "version": None, "known": False}
    assert_error(client.get("/api/v1/resolve?url=https://arxiv.org/list/cs.CL/new"), 422)
    assert_error(client.get("/api/v1/resolve"), 422)


def test_resolve_reads_page_metadata(client: FlaskClient, demo: Database) -> None:
    response = client.get(
        "/api/v1/resolve",
        query_string={"url": "https://example.org/some/article", "citation_arxiv_id": "2205.13147"},
    )
    assert response.get_json()["paper_id"] == MRL


def test_batch_mixes_ready_pending_unknown_and_invalid(
    client: FlaskClient, precomputed: Database, redis: Redis
) -> None:
    redis.delete(keys.enrichment("arxiv:2403.13043"))
    response = client.post(
        "/api/v1/papers/batch",
        json={
            "ids": [
                MRL,
                "https://huggingface.co/papers/2510.02341",
                "arxiv:2403.13043",
                "arxiv:1501.00001",
                "garbage",
            ]
        },
    )
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [(i["paper_id"], i["status"]) for i in items] == [
        (MRL, "ready"),
        ("arxiv:2510.02341", "ready"),
        ("arxiv:2403.13043", "pending"),
        ("arxiv:1501.00001", "unknown"),
        (None, "invalid"),
    ]
    assert items[0]["paper"]["code"][0]["url"] == "https://github.com/RAIVNLab/MRL"
    assert Queue(keys.QUEUE_DEFAULT, connection=redis, serializer=SERIALIZER).count == 1


def test_batch_badges_agree_with_the_documents_and_are_small(
    client: FlaskClient, precomputed: Database, redis: Redis
) -> None:
    prefix = keys.enrichment("")
    ids = sorted(k.decode().removeprefix(prefix) for k in redis.scan_iter(prefix + "*"))
    assert len(ids) > 50  # the whole demo corpus
    full = client.post("/api/v1/papers/batch", json={"ids": ids})
    badges = client.post("/api/v1/papers/batch", json={"ids": ids, "view": "badges"})
    assert badges.status_code == 200
    documents = {item["paper_id"]: item["paper"] for item in full.get_json()["items"]}
    marks = {item["paper_id"]: item["badges"] for item in badges.get_json()["items"]}
    assert set(marks) == set(ids) and all("paper" not in i for i in badges.get_json()["items"])
    for paper_id, document in documents.items():
        code = [link for link in document["code"] if link["kind"] != "project_page"]
        assert marks[paper_id] == {
            "code": bool(code),
            "official_code": any(link["official"] for link in code),
            "code_url": code[0]["url"] if code else None,
        }, paper_id
    assert marks[MRL] == {
        "code": True,
        "official_code": True,
        "code_url": "https://github.com/RAIVNLab/MRL",
    }
    assert any(not mark["code"] for mark in marks.values())
    assert len(badges.data) * 10 < len(full.data)


def test_batch_badges_of_a_document_stored_without_them_are_derived(
    client: FlaskClient, precomputed: Database, redis: Redis
) -> None:
    redis.delete(keys.badges(MRL))
    response = client.post(
        "/api/v1/papers/batch", json={"ids": [MRL, "arxiv:1501.00001", "x"], "view": "badges"}
    )
    assert [(i["status"], i["badges"]) for i in response.get_json()["items"]] == [
        (
            "ready",
            {"code": True, "official_code": True, "code_url": "https://github.com/RAIVNLab/MRL"},
        ),
        ("unknown", None),
        ("invalid", None),
    ]


def test_batch_rejects_bad_bodies_without_changing_anything(
    client: FlaskClient, demo: Database, redis: Redis
) -> None:
    assert_error(client.post("/api/v1/papers/batch", json={"ids": [MRL] * 201}), 422)
    assert_error(client.post("/api/v1/papers/batch", json={"ids": []}), 422)
    assert_error(client.post("/api/v1/papers/batch", json={"ids": [MRL], "x": 1}), 422)
    assert_error(client.post("/api/v1/papers/batch", json=[MRL]), 422)
    assert_error(client.post("/api/v1/papers/batch", json={"ids": [1, 2]}), 422)
    assert_error(client.post("/api/v1/papers/batch", json={"ids": [MRL], "view": "tiny"}), 422)
    assert_error(
        client.post("/api/v1/papers/batch", data="{", content_type="application/json"), 400
    )
    assert_error(
        client.post("/api/v1/papers/batch", data=b"\xff\xfe", content_type="application/json"), 400
    )
    assert_error(client.post("/api/v1/papers/batch", data="ids", content_type="text/plain"), 415)
    big = '{"ids": ["' + "a" * (2 * 1024 * 1024) + '"]}'
    assert_error(
        client.post("/api/v1/papers/batch", data=big, content_type="application/json"), 413
    )
    assert redis.dbsize() == 0


def test_cors_is_granted_only_to_configured_origins(client: FlaskClient, demo: Database) -> None:
    allowed = client.get(
        "/api/v1/resolve?url=https://arxiv.org/abs/2205.13147", headers={"Origin": TEST_ORIGIN}
    )
    assert allowed.headers["Access-Control-Allow-Origin"] == TEST_ORIGIN
    other = client.get(
        "/api/v1/resolve?url=https://arxiv.org/abs/2205.13147",
        headers={"Origin": "https://evil.example"},
    )
    assert "Access-Control-Allow-Origin" not in other.headers
    preflight = client.options(
        "/api/v1/papers/batch",
        headers={
            "Origin": TEST_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == TEST_ORIGIN
    assert "content-type" in preflight.headers["Access-Control-Allow-Headers"].lower()


def test_health_and_readiness(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"] == {"redis": "ok", "database": "ok"}


def test_unknown_route_is_a_json_404(client: FlaskClient) -> None:
    assert_error(client.get("/api/v1/nothing-here"), 404)


def test_openapi_document_describes_the_paper_fields(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/resolve", "/api/v1/papers/{paper_id}", "/api/v1/papers/batch"} <= set(
        spec["paths"]
    )
    fields = set(spec["components"]["schemas"]["EnrichedPaper"]["properties"])
    assert {
        "paper_id",
        "ids",
        "title",
        "authors",
        "published",
        "abstract",
        "code",
        "related",
        "status",
        "computed_at",
    } <= fields


def test_documents_are_stored_compressed_and_sent_as_the_client_accepts(
    client: FlaskClient, precomputed: Database, redis: Redis
) -> None:
    stored = redis.get(keys.enrichment(MRL))
    assert isinstance(stored, bytes) and stored.startswith(b"\x1f\x8b")
    plain = client.get(f"/api/v1/papers/{MRL}")
    assert "Content-Encoding" not in plain.headers
    zipped = client.get(f"/api/v1/papers/{MRL}", headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert zipped.data == stored
    refused = client.get(f"/api/v1/papers/{MRL}", headers={"Accept-Encoding": "gzip;q=0, br"})
    assert "Content-Encoding" not in refused.headers and refused.get_json() == plain.get_json()
    assert json.loads(gzip.decompress(zipped.data)) == plain.get_json()
    assert len(stored) < len(plain.data) / 2
    # Each header once, the type and length of what is sent, and HEAD sends no body.
    for answer, body in ((zipped, stored), (plain, plain.data)):
        assert answer.headers["Content-Type"] == "application/json"
        assert answer.headers["Content-Length"] == str(len(body))
        assert answer.headers.getlist("Vary") == ["Accept-Encoding"]
    head = client.head(f"/api/v1/papers/{MRL}", headers={"Accept-Encoding": "gzip"})
    assert head.status_code == 200 and head.data == b""
    assert head.headers.getlist("Content-Encoding") == ["gzip"]
    assert head.headers["Content-Length"] == str(len(stored))


def test_batch_to_a_client_that_accepts_deflate_is_the_same_json_compressed(
    client: FlaskClient, precomputed: Database, redis: Redis
) -> None:
    prefix = keys.enrichment("")
    ready = sorted(k.decode().removeprefix(prefix) for k in redis.scan_iter(prefix + "*"))
    # A document gzipped before documents carried their checksum, one stored as plain JSON,
    # and one whose enrichment is missing (pending).
    older, plain_json, missing = ready[:3]
    redis.set(keys.enrichment(older), gzip.compress(stored_json(redis, older), mtime=0))
    redis.set(keys.enrichment(plain_json), stored_json(redis, plain_json))
    redis.delete(keys.enrichment(missing))
    body = {"ids": [*ready, "arxiv:1501.00001", "garbage", "arxiv:2205.13147v2"]}
    plain = client.post("/api/v1/papers/batch", json=body)
    zipped = client.post(
        "/api/v1/papers/batch", json=body, headers={"Accept-Encoding": "gzip, deflate, br"}
    )
    assert zipped.status_code == 200 and zipped.headers["Content-Encoding"] == "deflate"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert "Content-Encoding" not in plain.headers
    # zlib checks the stream's Adler-32 and length as a browser does.
    assert zlib.decompress(zipped.data) == plain.data
    statuses = [item["status"] for item in plain.get_json()["items"]]
    assert statuses.count("ready") == len(ready) and {"pending", "unknown", "invalid"} < {*statuses}
    assert len(zipped.data) * 2 < len(plain.data)
    # Every item a reused document, the last one included.
    spliced_only = {"ids": ready[3:]}
    alone = client.post(
        "/api/v1/papers/batch", json=spliced_only, headers={"Accept-Encoding": "deflate"}
    )
    expected = client.post("/api/v1/papers/batch", json=spliced_only).data
    assert alone.headers["Content-Encoding"] == "deflate"
    assert zlib.decompress(alone.data) == expected
    refused = client.post(
        "/api/v1/papers/batch", json=body, headers={"Accept-Encoding": "gzip, deflate;q=0"}
    )
    assert "Content-Encoding" not in refused.headers and refused.data == plain.data
    badges = client.post(
        "/api/v1/papers/batch",
        json={**body, "view": "badges"},
        headers={"Accept-Encoding": "deflate"},
    )
    assert "Content-Encoding" not in badges.headers and len(badges.get_json()["items"]) > 50


def stored_json(redis: Redis, paper_id: str) -> bytes:
    stored = redis.get(keys.enrichment(paper_id))
    assert isinstance(stored, bytes)
    return enrichments.as_json(stored)
