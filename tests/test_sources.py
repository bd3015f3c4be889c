"""Every source adapter against a local server speaking the source's documented format,
and the manners they share: retries, Retry-After, timeouts, rate limits, cache, fixed hosts."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from pytest_httpserver import HTTPServer
from redis import Redis
from werkzeug import Request, Response

from paperlens import keys
from paperlens.settings import Settings
from tests.source_server import serve_fixtures, source_environment
from worker.sources import (
    arxiv_api,
    crossref,
    dblp,
    github,
    huggingface,
    openalex,
    semantic_scholar,
)
from worker.sources.http import (
    HostNotAllowed,
    MalformedResponse,
    SourceError,
    SourceSession,
    SourceUnavailable,
)


@pytest.fixture
def source_settings(
    httpserver: HTTPServer, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    for name, value in source_environment(httpserver).items():
        monkeypatch.setenv(name, value)
    return Settings()


@pytest.fixture
def session(source_settings: Settings, redis: Redis) -> Iterator[SourceSession]:
    found = SourceSession(source_settings, redis)
    yield found
    found.close()


@pytest.fixture
def fixtures(httpserver: HTTPServer) -> HTTPServer:
    serve_fixtures(httpserver)
    return httpserver


# --- the adapters -------------------------------------------------------------------


def test_arxiv_fetches_ids_in_one_batched_request(
    session: SourceSession, fixtures: HTTPServer
) -> None:
    records = arxiv_api.fetch_ids(session, ["0808.05394", "1707.08567"])
    # 0808.05394 is shaped like an id but names no paper: arXiv leaves it out.
    assert [r.ids[0] for r in records] == ["arxiv:1707.08567"]
    assert len(fixtures.log) == 1
    one = arxiv_api.fetch_ids(session, ["1605.08386"])[0]
    assert one.title == "Heat-bath random walks with Markov bases"
    assert one.authors == ["Caprice Stanley", "Tobias Windisch"]
    assert one.categories == ["math.CO", "math.ST"]
    assert one.published == dt.date(2016, 5, 26)
    assert one.comments == "20 pages, 3 figures"


def test_arxiv_unknown_id_is_an_empty_result_and_a_bad_id_an_error(
    session: SourceSession, fixtures: HTTPServer
) -> None:
    assert arxiv_api.fetch_ids(session, ["0000.0000"]) == []
    with pytest.raises(SourceError):
        arxiv_api.fetch_ids(session, ["abc"])


def test_arxiv_new_submissions_stop_at_the_date(
    session: SourceSession, fixtures: HTTPServer
) -> None:
    recent = arxiv_api.new_submissions(session, "cs.SE", since=dt.date(2025, 1, 1))
    assert [r.ids[0] for r in recent] == ["arxiv:2503.05378", "arxiv:2502.07719"]
    query = fixtures.log[0][0].args
    assert query["search_query"] == "cat:cs.SE" and query["sortBy"] == "submittedDate"


def test_huggingface_paper_daily_and_citing_repositories(
    session: SourceSession, fixtures: HTTPServer
) -> None:
    hub = huggingface.paper(session, "1605.08386")
    assert hub is not None
    assert hub.github_repo == "https://github.com/example-lab/heat-bath-walks"
    assert hub.project_page == "https://example-lab.github.io/heat-bath/"
    assert hub.upvotes == 17
    assert huggingface.paper(session, "0000.0000") is None
    daily = huggingface.daily_papers(session, dt.date(2025, 12, 8))
    assert [p.arxiv_id for p in daily] == ["2512.04001", "2512.04002"]
    assert huggingface.daily_papers(session, dt.date(2025, 12, 9)) == []
    models = huggingface.citing_repos(session, "1605.08386", "models")
    assert [m.url for m in models] == ["https://huggingface.co/example-lab/heat-bath-sampler"]
    spaces = huggingface.citing_repos(session, "1605.08386", "spaces")
    assert spaces[0].url == "https://huggingface.co/spaces/example-lab/heat-bath-demo"
    assert huggingface.citing_repos(session, "0000.0000", "datasets") == []
    asked = [request.args.get("filter") for request, _ in fixtures.log]
    assert "arxiv:1605.08386" in asked


def test_semantic_scholar_paper_tldr_and_recommendations(
    session: SourceSession, fixtures: HTTPServer
) -> None:
    found = semantic_scholar.paper(session, "arxiv:1605.08386")
    assert found is not None and found.citation_count == 23
    assert found.tldr is not None and found.tldr.startswith("Heat-bath random walks")
    assert found.external_ids["DOI"] == "10.1000/fixture.heatbath"
    recommended = semantic_scholar.recommendations(session, found.paper_id)
    assert [r.external_ids.get("ArXiv") for r in recommended] == ["1707.08567", None, None]
    assert semantic_scholar.paper(session, "arxiv:0000.0000") is None
    assert fixtures.log[0][0].headers["x-api-key"] == "s2-test-key"


def test_dblp_finds_the_published_record_and_leaves_the_preprint_and_namesakes(
    session: SourceSession, fixtures: HTTPServer
) -> None:
    title = "Heat-bath random walks with Markov bases"
    records = dblp.search(session, title)
    assert [r.key for r in records] == [
        "journals/aam/StanleyW18",
        "journals/corr/StanleyW16",
        "conf/fixture/Example19",
    ]
    assert records[2].authors == ["Ada Example"]  # one author: an object, not a list
    assert [r.entry_type for r in records] == ["article", None, "inproceedings"]
    found = dblp.published_version(session, title, ["Caprice Stanley", "Tobias Windisch"])
    assert found is not None and found.key == "journals/aam/StanleyW18"
    assert (found.venue, found.year, found.pages, found.doi) == (
        "Adv. Appl. Math.",
        2018,
        "122-143",
        "10.1000/fixture.heatbath",
    )
    # The same title by other authors is a different paper; the CoRR record is the preprint.
    assert dblp.published_version(session, title, ["Grace Hopper"]) is None
    assert dblp.match(records[1:2], title, ["Tobias Windisch"]) is None
    assert dblp.published_version(session, "An unknown title", ["Tobias Windisch"]) is None
    asked = [request.args for request, _ in fixtures.log]
    assert asked[0]["format"] == "json" and asked[0]["q"] == title


def test_dblp_refuses_an_answer_outside_its_documented_format(
    session: SourceSession, httpserver: HTTPServer
) -> None:
    httpserver.expect_oneshot_request("/dblp/search/publ/api").respond_with_json({"result": {}})
    with pytest.raises(MalformedResponse):
        dblp.search(session, "Heat-bath random walks with Markov bases")
    odd = {
        "result": {
            "hits": {
                "hit": [
                    {"info": {"key": "conf/x/A1", "title": "T.", "authors": "A", "year": 2020}},
                    {"info": {"key": 7, "title": "No key"}},
                    {"info": {"key": "conf/x/B2", "title": ["not", "text"]}},
                ]
            }
        }
    }
    httpserver.expect_oneshot_request("/dblp/search/publ/api").respond_with_json(odd)
    (record,) = dblp.search(session, "odd shapes")
    assert (record.key, record.title, record.authors, record.year) == ("conf/x/A1", "T", [], 2020)
    assert record.entry_type is None  # no record type: not taken for a published version
    one_hit = {"result": {"hits": {"hit": "not an object"}}}
    httpserver.expect_oneshot_request("/dblp/search/publ/api").respond_with_json(one_hit)
    with pytest.raises(MalformedResponse):
        dblp.search(session, "a third title")


def test_openalex_work_and_related_titles(session: SourceSession, fixtures: HTTPServer) -> None:
    work = openalex.work(session, "arxiv:1605.08386")
    assert work is not None
    assert work.oa_url == "https://arxiv.org/pdf/1605.08386"
    assert work.related_works == ["W3000000001", "W3000000002"]
    related = openalex.works_by_id(session, work.related_works)
    assert [(w.arxiv_id, w.doi) for w in related] == [
        ("2104.12255", "10.48550/arxiv.2104.12255"),
        (None, "10.1000/fixture.fibers"),
    ]
    assert openalex.work(session, "doi:10.1000/unknown") is None
    # The contact address travels in the User-Agent (OpenAlex's polite pool), not the URL.
    first = fixtures.log[0][0]
    assert "mailto" not in first.args
    assert "mailto:ops@paperlens.test" in first.headers["User-Agent"]


def test_crossref_record(session: SourceSession, fixtures: HTTPServer) -> None:
    record = crossref.work(session, "10.1000/fixture.journal")
    assert record is not None
    assert record.ids == ["doi:10.1000/fixture.journal"]
    assert record.authors == ["Ada Example", "Bo Fixture"]
    assert record.venue == "Journal of Test Fixtures"
    assert record.published == dt.date(2021, 3, 14)
    assert record.abstract.startswith("We count walks") and "<jats" not in record.abstract
    assert crossref.work(session, "10.1000/unknown") is None


def test_crossref_venue_of_a_doi(session: SourceSession, fixtures: HTTPServer) -> None:
    venue = crossref.venue(session, "10.1000/fixture.heatbath")
    assert venue == crossref.Venue(
        doi="10.1000/fixture.heatbath",
        container="Advances in Applied Mathematics",
        work_type="journal-article",
        year=2018,
        pages="122-143",
    )
    assert crossref.venue(session, "10.1000/unknown") is None


def test_semantic_scholar_and_openalex_say_where_a_preprint_was_published(
    session: SourceSession, fixtures: HTTPServer
) -> None:
    scholar = semantic_scholar.paper(session, "arxiv:1605.08386")
    assert scholar is not None
    assert (scholar.venue, scholar.venue_type, scholar.year, scholar.pages) == (
        "Advances in Applied Mathematics",
        "journal",
        2018,
        "122-143",
    )
    work = openalex.work(session, "arxiv:1605.08386")
    assert work is not None and (work.year, work.pages) == (2016, "122-143")
    # The arXiv location is a repository's submitted version: not the published one.
    assert work.published_in == openalex.PublishedLocation(
        "Advances in Applied Mathematics", "journal", "10.1000/fixture.heatbath"
    )
    related = openalex.works_by_id(session, work.related_works)
    assert [w.published_in for w in related] == [None, None]


def test_github_repository_facts(session: SourceSession, fixtures: HTTPServer) -> None:
    live = github.repo_facts(session, "example-lab", "heat-bath-walks")
    assert (live.exists, live.stars, live.archived, live.license) == (True, 42, False, "MIT")
    assert live.pushed_at == dt.datetime(2023, 11, 30, 8, 15, tzinfo=dt.UTC)
    archived = github.repo_facts(session, "community", "heat-bath-port")
    assert archived.archived and archived.license is None
    assert github.repo_facts(session, "nobody", "gone").exists is False
    assert github.repo_path("https://github.com/a/b/tree/main/x") == ("a", "b")
    assert github.repo_path("https://gitlab.com/a/b") is None


# --- the manners every adapter shares ---------------------------------------------


def test_429_with_retry_after_is_waited_out_then_answered(
    session: SourceSession, fixtures: HTTPServer
) -> None:
    fixtures.expect_oneshot_request("/github/repos/example-lab/heat-bath-walks").respond_with_json(
        {"message": "slow down"}, status=429, headers={"Retry-After": "1"}
    )
    started = time.monotonic()
    facts = github.repo_facts(session, "example-lab", "heat-bath-walks")
    assert facts.stars == 42
    assert time.monotonic() - started >= 0.9
    assert len(fixtures.log) == 2


def test_a_retry_after_longer_than_allowed_gives_up_at_once(
    session: SourceSession, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/github/repos/a/b").respond_with_json(
        {}, status=429, headers={"Retry-After": "3600"}
    )
    started = time.monotonic()
    with pytest.raises(SourceUnavailable):
        github.repo_facts(session, "a", "b")
    assert time.monotonic() - started < 2 and len(httpserver.log) == 1


def test_5xx_is_retried_with_backoff_then_reported(
    session: SourceSession, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/s2/graph/v1/paper/ARXIV:1605.08386").respond_with_data(
        "upstream down", status=503
    )
    with pytest.raises(SourceUnavailable):
        semantic_scholar.paper(session, "arxiv:1605.08386")
    assert len(httpserver.log) == 3  # PAPERLENS_SOURCE_MAX_ATTEMPTS


def test_a_5xx_then_success_is_a_success(session: SourceSession, fixtures: HTTPServer) -> None:
    fixtures.expect_oneshot_request("/hf/api/papers/1605.08386").respond_with_data(
        "bad gateway", status=502
    )
    assert huggingface.paper(session, "1605.08386") is not None


def test_timeouts_are_retried_then_reported(
    source_settings: Settings, redis: Redis, httpserver: HTTPServer
) -> None:
    def slow(_request: Request) -> Response:
        time.sleep(0.6)
        return Response("[]", content_type="application/json")

    httpserver.expect_request("/hf/api/models").respond_with_handler(slow)
    quick = source_settings.model_copy(update={"source_timeout_seconds": 0.2})
    with SourceSession(quick, redis) as session, pytest.raises(SourceUnavailable):
        huggingface.citing_repos(session, "1605.08386", "models")


@pytest.mark.parametrize(
    "source, path, body, content_type, ask",
    [
        pytest.param(
            "arxiv",
            "/arxiv/api/query",
            "<html>maintenance</html",
            "text/html",
            lambda session: arxiv_api.fetch_ids(session, ["1605.08386"]),
            id="arxiv-html-not-an-empty-answer",
        ),
        pytest.param(
            "openalex",
            "/openalex/works/doi:10.1000/x",
            '{"id": "https://openalex.org/W1", ',
            "application/json",
            lambda session: openalex.work(session, "doi:10.1000/x"),
            id="openalex-cut-json",
        ),
    ],
)
def test_a_malformed_answer_is_an_error_and_never_cached(
    session: SourceSession,
    httpserver: HTTPServer,
    redis: Redis,
    source: str,
    path: str,
    body: str,
    content_type: str,
    ask: Callable[[SourceSession], object],
) -> None:
    httpserver.expect_request(path).respond_with_data(body, content_type=content_type)
    with pytest.raises(MalformedResponse):
        ask(session)
    assert not redis.keys(keys.source_cache(source, "*"))


def test_json_of_another_shape_is_an_error(session: SourceSession, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/openalex/works/doi:10.1000/x").respond_with_json([1, 2])
    with pytest.raises(MalformedResponse):
        openalex.work(session, "doi:10.1000/x")


def test_successful_answers_are_cached_in_redis(
    session: SourceSession, fixtures: HTTPServer, redis: Redis
) -> None:
    first = crossref.work(session, "10.1000/fixture.journal")
    second = crossref.work(session, "10.1000/fixture.journal")
    assert first == second
    assert len(fixtures.log) == 1
    (key,) = redis.keys(keys.source_cache("crossref", "*"))
    assert 0 < int(redis.ttl(key)) <= 86_400


def test_rate_limit_is_shared_by_every_worker(
    source_settings: Settings, redis: Redis, fixtures: HTTPServer
) -> None:
    spaced = source_settings.model_copy(
        update={"github_min_interval_seconds": 0.3, "source_cache_ttl_seconds": 0}
    )
    sessions = [SourceSession(spaced, redis) for _ in range(3)]
    moments: list[float] = []

    def call(session: SourceSession) -> None:
        github.repo_facts(session, "example-lab", "heat-bath-walks")
        moments.append(time.monotonic())

    started = time.monotonic()
    threads = [threading.Thread(target=call, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert max(moments) - started >= 0.55  # three calls, 0.3 s apart, whatever the worker
    assert redis.exists(keys.rate_limit(spaced.github_api_url.split("/")[2]))


def test_only_configured_hosts_are_ever_contacted(
    session: SourceSession, httpserver: HTTPServer
) -> None:
    for url in (
        "http://169.254.169.254/latest/meta-data",
        httpserver.url_for("/elsewhere"),
        httpserver.url_for("/githubX/repos/a/b"),
    ):
        with pytest.raises(HostNotAllowed):
            session.get(url)
    assert httpserver.log == []


def test_user_agent_names_the_contact_address(session: SourceSession, fixtures: HTTPServer) -> None:
    huggingface.paper(session, "1605.08386")
    arxiv_api.fetch_ids(session, ["1605.08386"])
    for request, _ in fixtures.log:
        agent = request.headers["User-Agent"]
        assert agent.startswith("PaperLens/") and "mailto:ops@paperlens.test" in agent


def test_empty_and_odd_bodies(session: SourceSession, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/hf/api/daily_papers").respond_with_json({"error": "x"})
    with pytest.raises(MalformedResponse):
        huggingface.daily_papers(session, dt.date(2025, 1, 1))
    httpserver.expect_request("/s2/recommendations/v1/papers/forpaper/p").respond_with_json(
        {"recommendedPapers": []}
    )
    assert semantic_scholar.recommendations(session, "p") == []
    body = json.dumps({"status": "ok", "message": {"DOI": "10.1/x", "title": []}})
    httpserver.expect_request("/crossref/works/10.1/x").respond_with_data(body)
    assert crossref.work(session, "10.1/x") is None
