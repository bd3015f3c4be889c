"""No endpoint fetches an address a client supplies, and the source adapters reach only the
base URLs they are configured with, redirects included (server-side request forgery)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer
from redis import Redis

from paperlens.settings import Settings
from paperlens.store.db import Database
from tests.readers import ReaderClient, make_reader
from tests.source_server import source_environment
from tests.support import run_workers
from worker.sources import github
from worker.sources.http import HostNotAllowed, SourceSession


@pytest.fixture
def bait() -> Iterator[HTTPServer]:
    """A server that notes every request: it must never hear from PaperLens."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request("/").respond_with_data("bait")
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def bait_urls(bait: HTTPServer) -> list[str]:
    return [
        bait.url_for("/abs/2205.13147"),
        bait.url_for("/paper.pdf"),
        bait.url_for("/?doi=10.1145/3292500.3330648"),
        bait.url_for("/").replace("127.0.0.1", "localhost"),
        f"https://arxiv.org@127.0.0.1:{bait.port}/abs/2205.13147",
        f"https://doi.org/10.1000/x?next=http://127.0.0.1:{bait.port}/",
    ]


def test_no_endpoint_fetches_a_client_supplied_url(
    client: FlaskClient, demo: Database, redis: Redis, bait: HTTPServer
) -> None:
    reader = ReaderClient(client, make_reader(demo, "alice"))
    answers = []
    for url in bait_urls(bait):
        answers.append(client.get(f"/api/v1/resolve?url={quote(url, safe='')}"))
        answers.append(
            client.get(
                "/api/v1/resolve?url=https://example.org/article&citation_doi="
                + quote(url, safe="")
            )
        )
        answers.append(client.get(f"/api/v1/papers/{url}"))
        answers.append(client.get(f"/api/v1/papers/{quote(url, safe='')}"))
        answers.append(reader.put(f"/api/v1/me/library/{quote(url, safe='')}", json={}))
        answers.append(reader.get(f"/api/v1/me/library/{quote(url, safe='')}"))
    answers.append(client.post("/api/v1/papers/batch", json={"ids": bait_urls(bait)}))
    body = "\n".join(bait_urls(bait)).encode()
    answers.append(
        reader.post("/api/v1/me/library/import?format=ids", data=body, content_type="text/plain")
    )
    answers.append(
        reader.post(
            "/api/v1/me/library/import?format=bibtex",
            data=f"@article{{a, title={{T}}, url={{{bait_urls(bait)[0]}}}}}".encode(),
            content_type="application/x-bibtex",
        )
    )
    assert all(answer.status_code < 500 for answer in answers)
    run_workers(redis)  # whatever the answers queued runs too
    assert bait.log == []


@pytest.fixture
def source_session(
    httpserver: HTTPServer, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SourceSession]:
    for name, value in source_environment(httpserver).items():
        monkeypatch.setenv(name, value)
    session = SourceSession(Settings(), redis)
    yield session
    session.close()


def test_a_source_cannot_redirect_the_workers_elsewhere(
    source_session: SourceSession, httpserver: HTTPServer, bait: HTTPServer
) -> None:
    httpserver.expect_request("/github/repos/a/b").respond_with_data(
        "", status=302, headers={"Location": bait.url_for("/")}
    )
    with pytest.raises(HostNotAllowed):
        github.repo_facts(source_session, "a", "b")
    assert bait.log == []


def test_redirects_within_a_source_are_still_followed(
    source_session: SourceSession, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/github/repos/old/name").respond_with_data(
        "", status=301, headers={"Location": httpserver.url_for("/github/repos/new/name")}
    )
    httpserver.expect_request("/github/repos/new/name").respond_with_json(
        {"full_name": "new/name", "stargazers_count": 3, "archived": False}
    )
    assert github.repo_facts(source_session, "old", "name") is not None
