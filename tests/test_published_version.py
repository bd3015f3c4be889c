"""The published version of a preprint, found through the fixture server: DBLP first, then
Crossref, Semantic Scholar and OpenAlex; the DOI joins the paper's ids only when a source's
own record of the paper names it."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
import rispy
from bibtexparser.entrypoint import parse_string
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer
from redis import Redis

from paperlens import enrichments, job_queue, keys
from paperlens.settings import Settings, get_settings
from paperlens.store.db import Database
from server import create_app
from tests.readers import ReaderClient, make_reader
from tests.source_server import FIXTURES, serve_fixtures, source_environment
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


def test_a_saved_preprint_exports_as_its_published_version_with_its_eprint(
    internet: HTTPServer, client: FlaskClient, demo: Database, redis: Redis, settings: Settings
) -> None:
    open_until_served(client, redis, HEAT_BATH)
    reader = ReaderClient(client, make_reader(demo, "alice"))
    library = "/api/v1/me/library"
    assert reader.put(f"{library}/{HEAT_BATH}", json={"note": "read twice"}).status_code == 201
    # A preprint no source knows as published stays the preprint entry.
    assert reader.put(f"{library}/arxiv:2205.13147", json={}).status_code == 201
    chosen = (
        "Published version (Adv. Appl. Math. 2018, as DBLP gives it); preprint arXiv:1605.08386"
    )

    bibtex = parse_string(reader.get(f"{library}/export?format=bibtex").get_data(as_text=True))
    entry, other = bibtex.entries
    assert entry.entry_type == "article" and other.entry_type == "misc"
    fields = {field.key: field.value for field in entry.fields}
    assert fields["journal"] == "Adv. Appl. Math." and fields["year"] == "2018"
    assert fields["doi"] == "10.1000/fixture.heatbath" and fields["pages"] == "122-143"
    assert (fields["eprint"], fields["archivePrefix"]) == ("1605.08386", "arXiv")
    assert fields["note"] == chosen and fields["annote"] == "read twice"
    assert "month" not in fields  # the preprint's month is not the published version's
    assert entry.key == "stanley2018heat"

    items = json.loads(reader.get(f"{library}/export?format=csljson").get_data())
    item = items[0]
    assert (item["type"], item["container-title"]) == ("article-journal", "Adv. Appl. Math.")
    assert (item["DOI"], item["page"], item["issued"]) == (
        "10.1000/fixture.heatbath",
        "122-143",
        {"date-parts": [[2018]]},
    )
    assert (item["archive"], item["archive_location"]) == ("arXiv", "arXiv:1605.08386")
    assert item["note"] == f"read twice\n{chosen}"
    assert items[1]["type"] == "article" and items[1]["number"] == "arXiv:2205.13147"

    references = rispy.loads(reader.get(f"{library}/export?format=ris").get_data(as_text=True))
    reference = references[0]
    assert (reference["type_of_reference"], reference["journal_name"]) == (
        "JOUR",
        "Adv. Appl. Math.",
    )
    assert (reference["doi"], reference["year"]) == ("10.1000/fixture.heatbath", "2018")
    assert (reference["start_page"], reference["end_page"]) == ("122", "143")
    assert reference["note"] == "arXiv:1605.08386"
    assert reference["notes"] == ["read twice", chosen]
    assert references[1]["type_of_reference"] == "GEN"

    # Exports never need Redis: without it the preprint is exported as the preprint.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    offline = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{closed}/0"})
    app = create_app(offline)
    try:
        offline_reader = ReaderClient(app.test_client(), reader.token)
        answer = offline_reader.get(f"{library}/export?format=bibtex")
        assert answer.status_code == 200
        first = parse_string(answer.get_data(as_text=True)).entries[0]
        assert first.entry_type == "misc" and first.fields_dict["eprint"].value == "1605.08386"
    finally:
        app.extensions["paperlens"].db.dispose()


def test_a_conference_paper_exports_as_inproceedings_conf_and_paper_conference(
    internet: HTTPServer, client: FlaskClient, demo: Database, redis: Redis
) -> None:
    """DBLP's conference record (as its fixture answers for another title) in every format."""
    internet.clear()
    conference = json.loads(
        (FIXTURES / "dblp" / "search_heat-bath-random-walks-with-markov-bases.json").read_text()
    )
    hits = conference["result"]["hits"]["hit"]
    hits[0]["info"].update(
        {"venue": "NeurIPS", "year": "2022", "type": "Conference and Workshop Papers"}
    )
    hits[0]["info"]["key"] = "conf/nips/StanleyW22"
    internet.expect_request("/dblp/search/publ/api").respond_with_json(conference)
    serve_fixtures(internet)
    paper = open_until_served(client, redis, HEAT_BATH)
    assert paper["published_version"]["entry_type"] == "inproceedings"
    reader = ReaderClient(client, make_reader(demo, "alice"))
    assert reader.put(f"/api/v1/me/library/{HEAT_BATH}", json={}).status_code == 201
    export = "/api/v1/me/library/export?format="

    (entry,) = parse_string(reader.get(f"{export}bibtex").get_data(as_text=True)).entries
    fields = {field.key: field.value for field in entry.fields}
    assert entry.entry_type == "inproceedings" and fields["booktitle"] == "NeurIPS"
    assert "journal" not in fields and fields["archivePrefix"] == "arXiv"
    (item,) = json.loads(reader.get(f"{export}csljson").get_data())
    assert (item["type"], item["container-title"]) == ("paper-conference", "NeurIPS")
    (reference,) = rispy.loads(reader.get(f"{export}ris").get_data(as_text=True))
    assert (reference["type_of_reference"], reference["secondary_title"]) == ("CONF", "NeurIPS")
    assert "journal_name" not in reference
