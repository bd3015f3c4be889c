"""The keys and contact address the instance sends to external sources stay secret: when
every source fails in every way, no credential reaches a stored document, an API answer,
RQ's job records or a log line, and keys travel in headers wherever a source takes them.

Everything is real: the API under Flask's test client, RQ workers, Redis, the SQL store
and the source adapters, pointed at the local fixture server that fails on demand.
"""

from __future__ import annotations

import gzip
import io
import logging
import re
import time
import zlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, quote_plus

import orjson
import pytest
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer
from redis import Redis
from werkzeug import Request, Response

from paperlens import enrichments, job_queue, keys, logs
from paperlens.embedded_redis import free_port
from paperlens.schemas import SOURCE_ERROR_CODES, SourceStatus
from paperlens.settings import Settings, get_settings
from paperlens.store.db import Database
from tests.source_server import SETTING_NAMES, serve_fixtures, source_environment
from tests.support import run_workers
from worker.context import reset_context

# One unique marker per credential setting: any trace of one is a leak.
CREDENTIALS = {
    "PAPERLENS_HUGGINGFACE_TOKEN": "hf-marker-5c1d7e",
    "PAPERLENS_SEMANTIC_SCHOLAR_API_KEY": "s2-marker-a93b10",
    "PAPERLENS_OPENALEX_API_KEY": "openalex-marker-77f02c",
    "PAPERLENS_GITHUB_TOKEN": "github-marker-e4418d",
    "PAPERLENS_SOURCE_CONTACT_EMAIL": "contact-marker-0b6a@paperlens.test",
}
MARKERS = tuple(CREDENTIALS.values())
MRL = "arxiv:2205.13147"  # in the demo corpus, with a GitHub repository among its links
# How each way of failing is named in the enrichment's ``sources`` (the arXiv fetch is not
# part of an enrichment, so it only shows in job records and logs).
EXPECTED_CODES = {
    "429": "rate_limited",
    "500": "http_500",
    "503": "http_503",
    "timeout": "timeout",
    "not_json": "bad_response",
    "wrong_shape": "bad_response",
    "refused": "unreachable",
}
TIMEOUT_SECONDS = 0.3


class FailingSources:
    """Answers every source request in the way ``mode`` names."""

    def __init__(self) -> None:
        self.mode = "503"

    def __call__(self, request: Request) -> Response:
        if self.mode == "429":
            return Response("slow down", 429, headers={"Retry-After": "0"})
        if self.mode in {"500", "503"}:
            return Response("broken", int(self.mode))
        if self.mode == "timeout":
            time.sleep(TIMEOUT_SECONDS * 3)
            return Response("late", 200)
        if self.mode == "not_json":
            return Response("<html>maintenance</html>", 200, content_type="text/html")
        return Response('{"unexpected": true}', 200, content_type="application/json")


@pytest.fixture
def secret_sources(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[HTTPServer, FailingSources]]:
    """Every source enabled, every credential set to a marker, quick timeouts, no retries."""
    env = source_environment(httpserver)
    env.update(CREDENTIALS)
    env["PAPERLENS_SOURCE_TIMEOUT_SECONDS"] = str(TIMEOUT_SECONDS)
    env["PAPERLENS_SOURCE_MAX_ATTEMPTS"] = "1"
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    failing = FailingSources()
    httpserver.expect_request(re.compile(".*", re.DOTALL)).respond_with_handler(failing)
    get_settings.cache_clear()
    reset_context()
    yield httpserver, failing
    get_settings.cache_clear()


@pytest.fixture
def operator_log() -> Iterator[io.StringIO]:
    """The log an operator reads: the handler ``paperlens`` installs, at DEBUG, so that
    libraries' own lines (urllib3 prints whole URLs) are in it too."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    logs.configure("DEBUG", "json", stream, secrets=get_settings().source_credentials())
    root.handlers.extend(handler for handler in saved[0] if handler not in root.handlers)
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def every_redis_value(redis: Redis) -> list[bytes]:
    """Every key and every value of every key, with gzip and zlib payloads opened."""
    found: list[bytes] = []
    for key in redis.scan_iter(count=1000):
        found.append(key)
        found.extend(_opened(value) for value in _values(redis, key))
    return found


def _values(redis: Redis, key: bytes) -> list[bytes]:
    kind = redis.type(key)
    values: Any
    if kind == b"string":
        values = [redis.get(key) or b""]
    elif kind == b"hash":
        values = [v for pair in redis.hgetall(key).items() for v in pair]
    elif kind == b"list":
        values = redis.lrange(key, 0, -1)
    elif kind == b"set":
        values = redis.smembers(key)
    elif kind == b"zset":
        values = redis.zrange(key, 0, -1)
    elif kind == b"stream":
        entries: Any = redis.xrange(key)
        values = [v for _, fields in entries for pair in fields.items() for v in pair]
    else:
        values = []
    return [bytes(value) for value in values]


def _opened(value: bytes) -> bytes:
    """Compressed payloads (enrichment documents, RQ job data) as their plain bytes."""
    try:
        if value[:2] == b"\x1f\x8b":
            return gzip.decompress(value)
        return value + b"\n" + zlib.decompress(value)
    except (OSError, zlib.error, EOFError):
        return value


def leaked(texts: list[bytes] | list[str]) -> list[str]:
    """The markers found in ``texts``, as they are or percent-encoded (inside a URL)."""
    found: list[str] = []
    for text in texts:
        plain = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        for marker in MARKERS:
            forms = {marker, quote(marker, safe=""), quote_plus(marker)}
            if any(form in plain for form in forms):
                found.append(marker)
    return sorted(set(found))


def run_round(
    client: FlaskClient, redis: Redis, settings: Settings, round_number: int
) -> list[bytes]:
    """A reader's traffic while the sources fail: an unknown arXiv id and an unknown DOI
    (fetched), a known paper (enriched from every source), then what the API serves."""
    # Each round fails its own way: a pause left by the last round's timeout would
    # answer for the sources without asking them.
    redis.delete(*(keys.source_paused(name) for name in SETTING_NAMES))
    unknown_arxiv = f"arxiv:2101.{round_number:05d}"
    unknown_doi = f"doi:10.1000/failing-round-{round_number}"
    answers = [client.get(f"/api/v1/papers/{unknown_arxiv}")]
    answers.append(client.get(f"/api/v1/papers/{unknown_doi}"))
    job_queue.request_enrichment(redis, settings, MRL, keys.QUEUE_INTERACTIVE)
    run_workers(redis)
    answers.append(client.get(f"/api/v1/papers/{MRL}"))
    answers.append(client.get(f"/api/v1/papers/{unknown_arxiv}"))
    ids = [MRL, unknown_arxiv, unknown_doi]
    answers.append(client.post("/api/v1/papers/batch", json={"ids": ids, "view": "full"}))
    answers.append(client.post("/api/v1/papers/batch", json={"ids": ids, "view": "badges"}))
    # 503 source_unreachable is the designed answer for a paper whose source failed.
    assert all(
        answer.status_code < 500 or answer.get_json()["error"]["code"] == "source_unreachable"
        for answer in answers
    )
    return [answer.get_data() for answer in answers]


def test_source_credentials_never_reach_answers_or_logs(
    secret_sources: tuple[HTTPServer, FailingSources],
    client: FlaskClient,
    demo: Database,
    redis: Redis,
    settings: Settings,
    operator_log: io.StringIO,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.handler.setLevel(logging.INFO)  # records as any handler gets them by default
    server, failing = secret_sources
    answers: list[bytes] = []
    codes_seen: dict[str, set[str]] = {}
    for number, mode in enumerate(EXPECTED_CODES, start=1):
        if mode == "refused":  # nothing listens where the sources now point
            dead = f"http://127.0.0.1:{free_port()}"
            for name in SETTING_NAMES.values():
                monkeypatch.setenv(name, dead)
            get_settings.cache_clear()
            reset_context()
        failing.mode = mode
        answers.extend(run_round(client, redis, get_settings(), number))
        served = client.get(f"/api/v1/papers/{MRL}").get_json()
        codes_seen[mode] = {s["error"] for s in served["sources"].values() if s["error"]}

    assert leaked(answers) == []
    assert leaked(every_redis_value(redis)) == []
    own_records = [r for r in caplog.records if r.name != "werkzeug"]  # the fake hosts' logs
    assert own_records, "nothing was logged: the failures went unnoticed"
    assert leaked([caplog.handler.format(r) for r in own_records]) == []
    written = operator_log.getvalue()
    assert "api_key" in written or "GET /" in written  # library DEBUG lines were there
    assert leaked([written]) == []

    # Every source failed, in the way it was made to, and says so in the vocabulary only.
    for mode, expected in EXPECTED_CODES.items():
        assert codes_seen[mode] == {expected}, (mode, codes_seen[mode])
    assert all(codes <= SOURCE_ERROR_CODES for codes in codes_seen.values())
    assert server.log, "the sources were never asked"


@pytest.fixture
def keyed_sources(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[HTTPServer]:
    """Every source enabled at the fixture server, every credential set to a marker."""
    for name, value in {**source_environment(httpserver), **CREDENTIALS}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    reset_context()
    serve_fixtures(httpserver)
    yield httpserver
    get_settings.cache_clear()


def test_source_keys_travel_in_headers_where_sources_take_them(
    keyed_sources: HTTPServer, client: FlaskClient, demo: Database, redis: Redis
) -> None:
    """Hugging Face, Semantic Scholar and GitHub get their keys as headers, Crossref and
    OpenAlex the contact address in the User-Agent: no URL carries them. OpenAlex
    documents its key only as the ``api_key`` parameter, so only that key is in a URL."""
    assert client.get("/api/v1/papers/arxiv:1605.08386").status_code == 202
    assert client.get("/api/v1/papers/doi:10.1000/fixture.journal").status_code == 202
    run_workers(redis)

    requests = [request for request, _ in keyed_sources.log]
    by_prefix = {p: [r for r in requests if r.path.startswith(p + "/")] for p in ("/hf", "/s2")}
    by_prefix["/github"] = [r for r in requests if r.path.startswith("/github/")]
    assert all(by_prefix.values()), {k: len(v) for k, v in by_prefix.items()}
    openalex_key = CREDENTIALS["PAPERLENS_OPENALEX_API_KEY"]
    for request in requests:
        url = request.url
        assert leaked([url.replace(openalex_key, "")]) == [], url
        contact = CREDENTIALS["PAPERLENS_SOURCE_CONTACT_EMAIL"]
        assert f"mailto:{contact}" in request.headers["User-Agent"]
    hf = CREDENTIALS["PAPERLENS_HUGGINGFACE_TOKEN"]
    s2 = CREDENTIALS["PAPERLENS_SEMANTIC_SCHOLAR_API_KEY"]
    github = CREDENTIALS["PAPERLENS_GITHUB_TOKEN"]
    assert all(r.headers["Authorization"] == f"Bearer {hf}" for r in by_prefix["/hf"])
    assert all(r.headers["x-api-key"] == s2 for r in by_prefix["/s2"])
    assert all(r.headers["Authorization"] == f"Bearer {github}" for r in by_prefix["/github"])
    # A key goes only to its own source.
    others = [r for r in requests if not r.path.startswith(("/hf/", "/s2/", "/github/"))]
    assert all("Authorization" not in r.headers and "x-api-key" not in r.headers for r in others)


def test_a_document_stored_before_the_vocabulary_loses_its_error_text_at_its_refresh(
    precomputed: Database, redis: Redis, settings: Settings, client: FlaskClient
) -> None:
    """Earlier versions stored a failing source's URL (keys and all) as its error. Such a
    document is due for refresh soon after it was written; the first refresh tick rewrites
    it with a code from the vocabulary, before its recomputation has even run."""
    from worker.pipeline.freshness import refresh_due

    stored = enrichments.read(redis, MRL)
    assert stored is not None
    failed = SourceStatus(status="failed", error="unavailable")
    enrichments.write(redis, stored.model_copy(update={"sources": {"openalex": failed}}))
    legacy_error = (
        "openalex: HTTP 503 from https://api.openalex.org/works/doi:10.48550/arxiv.2205.13147"
        f"?mailto={quote(MARKERS[4])}&api_key={MARKERS[2]}"
    )
    raw = enrichments.as_json(enrichments.read_raw(redis, MRL) or b"")
    legacy = raw.replace(b'"error":"unavailable"', orjson.dumps({"error": legacy_error})[1:-1])
    assert legacy != raw
    redis.set(keys.enrichment(MRL), enrichments.encode(legacy))
    assert leaked([client.get(f"/api/v1/papers/{MRL}").get_data()]) != []  # as it was served

    enrichments.schedule_refresh(redis, MRL, time.time() - 1)
    assert refresh_due(redis, settings) == 1
    served = client.get(f"/api/v1/papers/{MRL}")
    assert leaked([served.get_data()]) == []
    assert served.get_json()["sources"]["openalex"]["error"] == "unavailable"
