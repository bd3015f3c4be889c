"""The reading list as a reader drives it with curl: save, change, list, search, remove."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue

from paperlens import keys
from paperlens.job_queue import SERIALIZER
from paperlens.schemas import PaperRecord
from paperlens.settings import Settings
from paperlens.store.db import Database
from paperlens.store.papers import upsert_papers
from server import create_app
from tests.readers import ReaderClient, error_code, make_reader

MRL = "arxiv:2205.13147"
MOE = "arxiv:2310.01334"
LIB = "/api/v1/me/library"


@pytest.fixture
def alice(client: FlaskClient, demo: Database) -> ReaderClient:
    return ReaderClient(client, make_reader(demo, "alice"))


def test_save_read_change_and_remove_a_paper(alice: ReaderClient) -> None:
    saved = alice.put(f"{LIB}/{MRL}", json={"tags": ["embeddings", "to cite"], "note": "nested"})
    assert saved.status_code == 201
    item = saved.get_json()
    assert item["paper_id"] == MRL and item["known"] is True
    assert item["title"] == "Matryoshka Representation Learning"
    assert item["status"] == "to_read" and item["tags"] == ["embeddings", "to cite"]
    assert item["note"] == "nested" and item["saved_at"]

    changed = alice.patch(f"{LIB}/{MRL}", json={"status": "reading"})
    assert changed.status_code == 200
    assert changed.get_json()["status"] == "reading"
    assert changed.get_json()["tags"] == ["embeddings", "to cite"]  # untouched fields stay

    fetched = alice.get(f"{LIB}/https://arxiv.org/abs/2205.13147v2").get_json()
    assert fetched["status"] == "reading" and fetched["note"] == "nested"

    assert alice.delete(f"{LIB}/{MRL}").status_code == 204
    assert error_code(alice.get(f"{LIB}/{MRL}")) == "not_saved"
    assert alice.delete(f"{LIB}/{MRL}").status_code == 404


def test_put_is_an_idempotent_upsert_that_keeps_fields_left_out(alice: ReaderClient) -> None:
    assert alice.put(f"{LIB}/{MRL}", json={"tags": ["a"], "note": "n"}).status_code == 201
    again = alice.put(f"{LIB}/arXiv:2205.13147v3")
    assert again.status_code == 200
    assert again.get_json()["tags"] == ["a"] and again.get_json()["note"] == "n"
    replaced = alice.put(f"{LIB}/{MRL}", json={"tags": ["b"], "status": "done"}).get_json()
    assert replaced["tags"] == ["b"] and replaced["status"] == "done"
    listed = alice.get(LIB).get_json()["items"]
    assert [i["paper_id"] for i in listed] == [MRL]


def test_saving_a_paper_the_catalogue_lacks_keeps_the_save_and_queues_a_fetch(
    fetching_enabled: None, alice: ReaderClient, redis: Redis
) -> None:
    saved = alice.put(f"{LIB}/https://arxiv.org/abs/2401.99999", json={"tags": ["later"]})
    assert saved.status_code == 201
    item = saved.get_json()
    assert item["paper_id"] == "arxiv:2401.99999" and item["known"] is False
    assert item["title"] is None
    queued = Queue(keys.QUEUE_INTERACTIVE, connection=redis, serializer=SERIALIZER).jobs
    assert [(job.func_name, tuple(job.args)) for job in queued] == [
        (keys.JOB_FETCH_PAPER, ("arxiv:2401.99999",))
    ]
    assert alice.get(f"{LIB}/arxiv:2401.99999").get_json()["tags"] == ["later"]


def test_an_entry_survives_its_paper_joining_another_id(
    alice: ReaderClient, demo: Database
) -> None:
    doi = "doi:10.1234/example.5678"
    assert alice.put(f"{LIB}/{doi}", json={"note": "from the journal"}).status_code == 201
    with demo.session() as session:
        upsert_papers(
            session,
            [PaperRecord(ids=["arxiv:2402.00001", doi], title="A preprint, later published")],
        )
    item = alice.get(f"{LIB}/arxiv:2402.00001").get_json()
    assert item["paper_id"] == "arxiv:2402.00001" and item["saved_as"] == doi
    assert item["known"] is True and item["note"] == "from the journal"
    assert alice.put(f"{LIB}/arxiv:2402.00001").status_code == 200  # the same entry, not a second
    assert len(alice.get(LIB).get_json()["items"]) == 1


def _catalogue(demo: Database, *records: PaperRecord) -> None:
    with demo.session() as session:
        upsert_papers(session, list(records))


def _listed(reader: ReaderClient, query: str) -> list[str]:
    """The paper ids one list query answers, sorted."""
    response = reader.get(f"{LIB}?{query}")
    assert response.status_code == 200, response.get_json()
    return sorted(item["paper_id"] for item in response.get_json()["items"])


def test_list_filters_by_tag_status_and_text(alice: ReaderClient, demo: Database) -> None:
    authors = ["Aditya Kusupati", "José Müller"]
    _catalogue(
        demo, PaperRecord(ids=[MRL], title="Matryoshka Representation Learning", authors=authors)
    )
    alice.put(f"{LIB}/{MRL}", json={"tags": ["embeddings"], "status": "done"})
    alice.put(f"{LIB}/{MOE}", json={"tags": ["moe"], "note": "routing policy hints"})
    alice.put(f"{LIB}/arxiv:2507.23279", json={"tags": ["moe", "embeddings"]})

    def ids(query: str) -> list[str]:
        return _listed(alice, query)

    assert ids("tag=moe") == [MOE, "arxiv:2507.23279"]
    assert ids("status=done") == [MRL]
    assert ids("tag=embeddings&status=to_read") == ["arxiv:2507.23279"]
    assert ids("q=matryoshka") == [MRL]  # title
    assert ids("q=kusupati") == [MRL]  # authors
    assert ids("q=m%C3%BCller") == [MRL]  # authors, as typed
    assert ids("q=ROUTING%20policy") == [MOE]  # note (and title words), any case
    assert ids("q=100%25") == []  # LIKE wildcards are matched literally
    assert ids("tag=nothing") == []
    assert ids("q=EMBEDD") == [MRL, "arxiv:2507.23279"]  # tags, any case
    assert ids("q=moe") == [MOE, "arxiv:2507.23279"]


def test_list_filters_by_year_and_venue(alice: ReaderClient, demo: Database) -> None:
    _catalogue(
        demo,
        PaperRecord(
            ids=[MRL], title="Matryoshka", published=dt.date(2022, 5, 26), venue="NeurIPS 2022"
        ),
        PaperRecord(ids=[MOE], title="Mixture", published=dt.date(2023, 1, 1), venue="ICLR"),
    )
    for paper_id in (MRL, MOE, "arxiv:2507.23279"):
        alice.put(f"{LIB}/{paper_id}")

    assert _listed(alice, "year=2022") == [MRL]
    assert _listed(alice, "year=2023") == [MOE]
    assert _listed(alice, "year=1999") == []
    assert _listed(alice, "venue=neurips") == [MRL]  # a part of the venue, any case
    assert _listed(alice, "venue=iclr&year=2022") == []
    venues = {item["paper_id"]: item["venue"] for item in alice.get(LIB).get_json()["items"]}
    assert venues == {MRL: "NeurIPS 2022", MOE: "ICLR", "arxiv:2507.23279": None}


def test_tags_are_counted(alice: ReaderClient) -> None:
    alice.put(f"{LIB}/{MRL}", json={"tags": ["embeddings"]})
    alice.put(f"{LIB}/{MOE}", json={"tags": ["moe", "embeddings"]})
    body = alice.get("/api/v1/me/tags").get_json()
    assert body == {"items": [{"tag": "embeddings", "count": 2}, {"tag": "moe", "count": 1}]}


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("saved", "desc"),
        ("saved", "asc"),
        ("published", "desc"),
        ("title", "asc"),
        ("title", "desc"),
    ],
)
def test_cursor_pagination_visits_every_entry_once_in_order(
    alice: ReaderClient, sort: str, order: str
) -> None:
    papers = [MRL, MOE, "arxiv:2507.23279", "arxiv:2406.08155", "arxiv:2505.21411"]
    papers += ["arxiv:2501.99998", "arxiv:2501.99999"]  # unknown: no title, no date
    for paper_id in papers:
        assert alice.put(f"{LIB}/{paper_id}").status_code == 201
    whole = alice.get(f"{LIB}?sort={sort}&order={order}&limit=100").get_json()
    assert whole["next_cursor"] is None
    expected = [item["paper_id"] for item in whole["items"]]
    assert sorted(expected) == sorted(papers)

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = f"sort={sort}&order={order}&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = alice.get(f"{LIB}?{query}").get_json()
        seen += [item["paper_id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected and pages == 4
    if sort == "saved":
        assert expected == (papers[::-1] if order == "desc" else papers)
    if sort == "title" and order == "asc":
        titles = [item["title"] or item["paper_id"] for item in whole["items"]]
        assert [t.lower() for t in titles] == sorted(t.lower() for t in titles)
    if sort == "published":
        dates = [item["published"] for item in whole["items"] if item["published"]]
        assert dates == sorted(dates, reverse=True)
        assert [item["published"] for item in whole["items"][-2:]] == [None, None]


@pytest.mark.parametrize(
    "body",
    [
        {"status": "finished"},
        {"tags": [f"t{n}" for n in range(21)]},
        {"tags": ["x" * 65]},
        {"tags": ["   "]},
        {"tags": ["a,b"]},
        {"tags": "moe"},
        {"note": "n" * 10_001},
        {"note": "a NUL \x00 here"},
        {"rating": 5},
        {"status": None},
    ],
)
def test_invalid_fields_are_refused_with_422_and_change_nothing(
    alice: ReaderClient, body: dict[str, object]
) -> None:
    alice.put(f"{LIB}/{MRL}", json={"tags": ["keep"], "note": "keep"})
    assert alice.put(f"{LIB}/{MOE}", json=body).status_code == 422
    assert alice.patch(f"{LIB}/{MRL}", json=body).status_code == 422
    assert alice.get(f"{LIB}/{MOE}").status_code == 404
    item = alice.get(f"{LIB}/{MRL}").get_json()
    assert item["tags"] == ["keep"] and item["note"] == "keep" and item["status"] == "to_read"


@pytest.mark.parametrize(
    "query",
    [
        "status=finished",
        "sort=rating",
        "order=up",
        "limit=0",
        "limit=201",
        "limit=x",
        "cursor=garbage",
        "q=" + "q" * 201,
        "q=nul%00",
        "tag=" + "t" * 65,
        "year=0",
        "year=twenty",
        "venue=" + "v" * 201,
    ],
)
def test_invalid_list_queries_get_422(alice: ReaderClient, query: str) -> None:
    response = alice.get(f"{LIB}?{query}")
    assert response.status_code == 422, query
    error_code(response)


def test_a_cursor_from_another_sort_is_refused(alice: ReaderClient) -> None:
    for paper_id in (MRL, MOE, "arxiv:2507.23279"):
        alice.put(f"{LIB}/{paper_id}")
    cursor = alice.get(f"{LIB}?limit=1&sort=title").get_json()["next_cursor"]
    assert error_code(alice.get(f"{LIB}?limit=1&sort=saved&cursor={cursor}")) == "invalid_cursor"


def test_bad_ids_and_bodies(alice: ReaderClient) -> None:
    assert error_code(alice.put(f"{LIB}/not-a-paper")) == "invalid_id"
    assert error_code(alice.put(f"{LIB}/https://example.com/blog")) == "invalid_id"
    bad_json = alice.put(f"{LIB}/{MRL}", data="{", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400
    assert alice.put(f"{LIB}/{MRL}", data="status=done").status_code == 415
    assert error_code(alice.patch(f"{LIB}/{MRL}", json={"status": "done"})) == "not_saved"
    alice.put(f"{LIB}/{MRL}")
    assert error_code(alice.patch(f"{LIB}/{MRL}", json={})) == "nothing_to_change"


def test_openapi_describes_the_reader_endpoints(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    me = {path for path in spec["paths"] if path.startswith("/api/v1/me/")}
    assert me == {
        "/api/v1/me/library",
        "/api/v1/me/library/{paper_id}",
        "/api/v1/me/library/export",
        "/api/v1/me/library/import",
        "/api/v1/me/tags",
        "/api/v1/me/tags/{tag}",
        "/api/v1/me/suggestions",
        "/api/v1/me/feed",
        "/api/v1/me/feed-token",
        "/api/v1/me/feedback",
        "/api/v1/me/feedback/{paper_id}",
    }
    refs = set(re.findall(r'"#/components/schemas/(\w+)"', json.dumps(spec)))
    assert refs <= set(spec["components"]["schemas"])
    item = spec["components"]["schemas"]["LibraryItem"]["properties"]
    assert {"paper_id", "title", "status", "tags", "note", "saved_at"} <= set(item)
    suggestion = spec["components"]["schemas"]["Suggestion"]["properties"]
    assert set(suggestion) == {"paper_id", "title", "score", "reason", "because"}
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_a_full_list_refuses_new_papers_but_keeps_changing_old_ones(
    settings: Settings, demo: Database
) -> None:
    app = create_app(settings.model_copy(update={"library_max_entries": 2}))
    reader = ReaderClient(app.test_client(), make_reader(demo, "collector"))
    try:
        assert reader.put(f"{LIB}/{MRL}").status_code == 201
        assert reader.put(f"{LIB}/{MOE}").status_code == 201
        assert error_code(reader.put(f"{LIB}/arxiv:2507.23279")) == "library_full"
        assert reader.put(f"{LIB}/{MRL}", json={"status": "done"}).status_code == 200
        report = reader.post(f"{LIB}/import?format=ids", data="arxiv:2507.23279\n2205.13147")
        outcomes = [item["outcome"] for item in report.get_json()["items"]]
        assert outcomes == ["skipped", "merged"]
    finally:
        app.extensions["paperlens"].db.dispose()
