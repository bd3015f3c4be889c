"""The published version of a preprint, found through the fixture server: DBLP first, then
Crossref, Semantic Scholar and OpenAlex; the DOI joins the paper's ids only when a source's
own record of the paper names it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer
from redis import Redis

from paperlens import enrichments, job_queue, keys
from paperlens.settings import Settings, get_settings
from paperlens.store.db import Database
from tests.source_server import serve_fixtures, source_environment
from tests.support import open_until_served, run_workers
from worker.context import reset_context

HEAT_BATH = "arxiv:1605.08386"
HEAT_BATH_DOI = "doi:10.1000/fixture.heatbath"


@pytest.fixture
def internet(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[HTTPServer]:
    """Sources pointed at the fixture server; a test may narrow PAPERLENS_SOURCES after."""
    for name, value in source_environment(httpserver).items():
        monkeypatch.setenv(name, value)
    serve_fixtures(httpserver)
    get_settings.cache_clear()
    reset_context()
    yield httpserver
    get_settings.cache_clear()


def test_dblp_names_the_published_version_and_the_doi_joins_the_preprint(
    internet: HTTPServer, client: FlaskClient, demo: Database, redis: Redis
) -> None:
    paper = open_until_served(client, redis, HEAT_BATH)
    assert paper["published_version"] == {
        "venue": "Adv. Appl. Math.",
        "year": 2018,
        "doi": "10.1000/fixture.heatbath",
        "pages": "122-143",
        "entry_type": "article",
        "source": "dblp",
    }
    assert paper["sources"]["dblp"]["status"] == "ok"
    assert "crossref" not in paper["sources"]  # DBLP answered: Crossref is not asked
    # Semantic Scholar's record of the preprint names the DOI: one paper, both ids.
    assert paper["ids"] == [HEAT_BATH, HEAT_BATH_DOI]
    by_doi = client.get(f"/api/v1/papers/{HEAT_BATH_DOI}")
    assert by_doi.status_code == 200 and by_doi.get_json()["paper_id"] == HEAT_BATH
    asked = [request.args.get("q") for request, _ in internet.log if "/dblp/" in request.path]
    assert asked == ["Heat-bath random walks with Markov bases"]


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        (
            "arxiv,semantic_scholar,openalex,crossref",
            ("Advances in Applied Mathematics", 2018, "122-143", "crossref"),
        ),
        (
            "arxiv,semantic_scholar,openalex",
            ("Advances in Applied Mathematics", 2018, "122-143", "semantic_scholar"),
        ),
        ("arxiv,openalex", ("Advances in Applied Mathematics", 2016, "122-143", "openalex")),
    ],
)
def test_without_dblp_the_next_source_in_the_order_names_it(
    internet: HTTPServer,
    client: FlaskClient,
    demo: Database,
    redis: Redis,
    monkeypatch: pytest.MonkeyPatch,
    sources: str,
    expected: tuple[str, int, str, str],
) -> None:
    monkeypatch.setenv("PAPERLENS_SOURCES", sources)
    get_settings.cache_clear()
    reset_context()
    version = open_until_served(client, redis, HEAT_BATH)["published_version"]
    assert (version["venue"], version["year"], version["pages"], version["source"]) == expected
    assert (version["doi"], version["entry_type"]) == ("10.1000/fixture.heatbath", "article")


def test_a_title_match_alone_adds_no_alias_and_a_namesake_is_no_published_version(
    internet: HTTPServer,
    client: FlaskClient,
    demo: Database,
    redis: Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PAPERLENS_SOURCES", "arxiv,dblp")
    get_settings.cache_clear()
    reset_context()
    paper = open_until_served(client, redis, HEAT_BATH)
    # DBLP's record was matched by title and authors: PaperLens's inference, not DBLP's word.
    assert paper["published_version"]["source"] == "dblp"
    assert paper["ids"] == [HEAT_BATH]


def test_a_preprint_no_source_knows_as_published_has_none(
    internet: HTTPServer, demo: Database, redis: Redis, settings: Settings
) -> None:
    job_queue.request_enrichment(redis, settings, "arxiv:2205.13147", keys.QUEUE_DEFAULT)
    run_workers(redis)
    document = enrichments.read(redis, "arxiv:2205.13147")
    assert document is not None and document.published_version is None
    assert document.sources["dblp"].status == "empty"
