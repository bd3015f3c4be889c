"""What a reader is told when the paper they opened must come from a source that cannot be
reached (an instance without internet, or a source that is down), and that it passes."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from redis import Redis

from paperlens import keys
from paperlens.settings import Settings
from tests.support import run_workers


class RefusingHost:
    """A TCP server that accepts each connection and closes it at once, counting them: a host
    that a client reaches but that never answers, as a source does while it is down."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def arxiv_down(monkeypatch: pytest.MonkeyPatch) -> Iterator[RefusingHost]:
    host = RefusingHost()
    monkeypatch.setenv("PAPERLENS_SOURCES", "arxiv")
    monkeypatch.setenv("PAPERLENS_ARXIV_API_URL", f"http://127.0.0.1:{host.port}")
    monkeypatch.setenv("PAPERLENS_ARXIV_MIN_INTERVAL_SECONDS", "0")
    monkeypatch.setenv("PAPERLENS_SOURCE_MAX_ATTEMPTS", "2")
    yield host
    host.close()


def test_sources_are_on_by_default_and_none_turns_them_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PAPERLENS_SOURCES", raising=False)
    monkeypatch.delenv("PAPERLENS_OPENALEX_API_KEY", raising=False)
    keyless = {"arxiv", "huggingface", "semantic_scholar", "crossref", "dblp", "github"}
    assert set(Settings().sources) == keyless
    assert set(Settings(openalex_api_key="key").sources) == keyless | {"openalex"}
    monkeypatch.setenv("PAPERLENS_SOURCES", "none")
    assert Settings().sources == []


def test_an_unknown_paper_whose_source_is_down_names_the_source_and_when_it_is_tried_again(
    arxiv_down: RefusingHost, settings: Settings, client: FlaskClient, redis: Redis
) -> None:
    first = client.get("/api/v1/papers/arxiv:1706.03762")
    assert first.status_code == 202
    run_workers(redis)

    answer = client.get("/api/v1/papers/arxiv:1706.03762")
    assert answer.status_code == 503
    error = answer.get_json()["error"]
    assert error["code"] == "source_unreachable"
    assert error["source"] == "arxiv"
    assert error["reason"] == "unreachable"
    assert "arXiv could not be reached" in error["message"]
    assert "will try again after" in error["message"]
    retry_after = int(answer.headers["Retry-After"])
    assert 1 <= retry_after <= settings.source_unreachable_pause_seconds
    assert "unknown" not in error["message"].lower()


def test_a_source_that_is_down_is_paused_instead_of_asked_for_every_paper(
    arxiv_down: RefusingHost, settings: Settings, client: FlaskClient, redis: Redis
) -> None:
    client.get("/api/v1/papers/arxiv:1706.03762")
    run_workers(redis)
    tried = arxiv_down.connections
    assert tried >= 1

    for paper_id in ("arxiv:1810.04805", "arxiv:2005.14165", "arxiv:2103.00020"):
        assert client.get(f"/api/v1/papers/{paper_id}").status_code == 202
    run_workers(redis)

    assert arxiv_down.connections == tried  # no new connection while paused
    for paper_id in ("arxiv:1810.04805", "arxiv:2005.14165", "arxiv:2103.00020"):
        answer = client.get(f"/api/v1/papers/{paper_id}")
        assert answer.get_json()["error"]["code"] == "source_unreachable"


def test_the_failure_is_forgotten_when_the_source_is_due_again(
    arxiv_down: RefusingHost,
    settings: Settings,
    client: FlaskClient,
    redis: Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client.get("/api/v1/papers/arxiv:1706.03762")
    run_workers(redis)
    assert client.get("/api/v1/papers/arxiv:1706.03762").status_code == 503

    # What the pause's expiry does: the next request queues a new fetch and asks the source.
    redis.delete(keys.source_paused("arxiv"), keys.fetch_failure("arxiv:1706.03762"))
    tried = arxiv_down.connections
    assert client.get("/api/v1/papers/arxiv:1706.03762").status_code == 202
    run_workers(redis)
    assert arxiv_down.connections > tried
    assert redis.ttl(keys.fetch_failure("arxiv:1706.03762")) <= (
        settings.source_unreachable_pause_seconds
    )
