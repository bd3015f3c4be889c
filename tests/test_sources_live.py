"""The adapters against the real services. Opt-in only: `pytest -m live` (CI never sets it)."""

from __future__ import annotations

import pytest
from redis import Redis

from paperlens.settings import Settings
from worker.sources import arxiv_api, crossref, github, huggingface, openalex, semantic_scholar
from worker.sources.http import SourceSession

pytestmark = pytest.mark.live

MRL = "2205.13147"


@pytest.fixture(autouse=True)
def _opted_in(request: pytest.FixtureRequest) -> None:
    if "live" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("calls the real sources; run with `pytest -m live`")


@pytest.fixture
def session(redis: Redis) -> SourceSession:
    return SourceSession(Settings(sources=["all"], source_cache_ttl_seconds=0), redis)


def test_arxiv_knows_matryoshka(session: SourceSession) -> None:
    (record,) = arxiv_api.fetch_ids(session, [MRL])
    assert record.title == "Matryoshka Representation Learning"


def test_huggingface_semantic_scholar_and_openalex_know_it(session: SourceSession) -> None:
    hub = huggingface.paper(session, MRL)
    assert hub is not None and hub.title
    scholar = semantic_scholar.paper(session, f"arxiv:{MRL}")
    assert scholar is not None and (scholar.citation_count or 0) > 0
    assert openalex.work(session, f"arxiv:{MRL}") is not None


def test_crossref_and_github(session: SourceSession) -> None:
    record = crossref.work(session, "10.1145/3292500.3330648")
    assert record is not None and record.title
    assert github.repo_facts(session, "RAIVNLab", "MRL").exists
