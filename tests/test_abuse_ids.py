"""Hostile ids and page addresses through every endpoint that takes one, with real
workers behind them and every source a recording fixture server of its own.

Whatever the id: no answer is a 500, no request a worker sends leaves its source's base
path, and no id a requester made up is filed as another paper's alias. Hypothesis builds
the ids from the pieces attacks are made of (dot segments plain and encoded, braces,
whitespace and control characters, query and fragment markers, over-long runs); the
``@example`` ids are attacks seen against earlier versions.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from redis import Redis
from sqlalchemy import select

from paperlens.identifiers import PAPER_ID_MAX_LENGTH, parse_paper_id
from paperlens.store.db import Database
from paperlens.store.models import Paper, PaperAlias
from tests.readers import ReaderClient, make_reader
from tests.source_server import SourceFleet
from tests.support import run_workers

EXAMPLES = 20
PIECES = [
    "..",
    ".",
    "%2e%2e",
    "%2E",
    "%2F",
    "%252e%252e",
    "/",
    "//",
    "\\",
    "}",
    "{",
    "@preamble{x}",
    " ",
    "\t",
    "\n",
    "\x00",
    "\x1b",
    "\u2028",
    "?",
    "#",
    "&api_key=x",
    "works",
    "doi:10.48550",
    "arxiv.1605.08386",
    "github",
    "repos",
    "user",
    ":",
    ";",
    "(x)",
    "<>",
    "%",
    "é",
    "+",
    "%2B",
    "[x]",
]
PREFIXES = [
    "doi:10.1234/",
    "DOI:10.1234/",
    "10.1234/",
    "doi:10.48550/",
    "arxiv:",
    "s2:",
    "pmlr:v1/",
    "acl:",
    "https://doi.org/10.1234/",
    "https://arxiv.org/abs/",
    "https://dl.acm.org/doi/10.1145/",
    "https://huggingface.co/papers/",
    "https://pubs.acs.org/doi/abs/10.1021/",
    "https://journals.plos.org/plosone/article?id=10.1371/",
    "https://iopscience.iop.org/article/10.1088/",
]
HOSTS = [
    "doi.org",
    "arxiv.org",
    "dl.acm.org",
    "huggingface.co",
    "github.com",
    "example.org",
    "onlinelibrary.wiley.com",
    "www.frontiersin.org",
]

piece = st.one_of(
    st.sampled_from(PIECES),
    st.text(alphabet="abcxyz0123456789-_.", min_size=1, max_size=6),
)
suffix = st.lists(piece, min_size=1, max_size=8).map("".join)
over_long = st.integers(PAPER_ID_MAX_LENGTH - 20, PAPER_ID_MAX_LENGTH + 40).map(lambda n: "a" * n)
hostile_ids = st.one_of(
    st.builds(str.__add__, st.sampled_from(PREFIXES), suffix),
    st.builds(str.__add__, st.sampled_from(PREFIXES), over_long),
)
hostile_urls = st.builds(
    lambda host, path: f"https://{host}/{path}", st.sampled_from(HOSTS), suffix
)

KNOWN_ATTACKS = [
    "doi:10.1234/x/../../..",
    "doi:10.1234/x/../../../works/doi:10.48550/arxiv.1605.08386",
    "doi:10.1234/../../../github/user",
    "doi:10.1234/%2E%2E/%2E%2E/github/user",
    'doi:10.9999/x}@preamble{"evil"}',
    "doi:10.1234/" + "a" * PAPER_ID_MAX_LENGTH,
]


@pytest.fixture
def reader(client: FlaskClient, demo: Database) -> ReaderClient:
    return ReaderClient(client, make_reader(demo, "mallory"))


def _aliases(db: Database) -> set[tuple[str, str]]:
    """(alias, canonical id of the paper it names) for every alias in the store."""
    with db.session() as session:
        rows = session.execute(
            select(PaperAlias.alias, Paper.paper_id).join(Paper, PaperAlias.paper_pk == Paper.id)
        )
        return {(alias, paper_id) for alias, paper_id in rows}


def _through_every_endpoint(
    client: FlaskClient, reader: ReaderClient, paper_id: str, url: str
) -> list[int]:
    """One id (and one page address) sent every way the API takes one; the statuses."""
    quoted = quote(paper_id, safe="")
    statuses = [
        client.get(f"/api/v1/papers/{quoted}").status_code,
        client.get(f"/api/v1/papers/{quote(paper_id, safe='/:')}").status_code,
        client.post("/api/v1/papers/batch", json={"ids": [paper_id, url]}).status_code,
        client.post("/api/v1/papers/batch", json={"ids": [paper_id], "view": "badges"}).status_code,
        client.get(f"/api/v1/resolve?url={quote(url, safe='')}").status_code,
        client.get(
            "/api/v1/resolve?url=https://example.org/x&citation_doi=" + quote(paper_id, safe="")
        ).status_code,
        reader.put(f"/api/v1/me/library/{quoted}", json={}).status_code,
        reader.get(f"/api/v1/me/library/{quoted}").status_code,
        reader.patch(f"/api/v1/me/library/{quoted}", json={"status": "reading"}).status_code,
        reader.delete(f"/api/v1/me/library/{quoted}").status_code,
        reader.post(
            "/api/v1/me/feedback", json={"paper_id": paper_id, "signal": "dismiss"}
        ).status_code,
        reader.delete(f"/api/v1/me/feedback/{quoted}").status_code,
    ]
    return statuses


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(paper_id=hostile_ids, url=hostile_urls)
@example(paper_id=KNOWN_ATTACKS[0], url="https://doi.org/10.1234/x/..%2F..%2F..%2Fgithub")
@example(paper_id=KNOWN_ATTACKS[1], url="https://github.com/../../user")
@example(paper_id=KNOWN_ATTACKS[2], url="https://doi.org/10.1234/%2e%2e/%2e%2e")
@example(paper_id=KNOWN_ATTACKS[3], url="https://dl.acm.org/doi/10.1145/..%5C..%5Cx")
@example(paper_id=KNOWN_ATTACKS[4], url="https://doi.org/10.9999/x%7D@preamble%7Bx%7D")
@example(paper_id=KNOWN_ATTACKS[5], url="https://doi.org/10.1234/" + "a" * 600)
def test_hostile_ids_through_every_endpoint_stay_inside_the_sources_and_the_catalogue(
    source_fleet: SourceFleet,
    demo: Database,
    redis: Redis,
    client: FlaskClient,
    reader: ReaderClient,
    paper_id: str,
    url: str,
) -> None:
    fleet, db = source_fleet, demo
    before = _aliases(db)
    statuses = _through_every_endpoint(client, reader, paper_id, url)
    assert all(status < 500 for status in statuses), (paper_id, statuses)
    run_workers(redis)

    assert fleet.outside_base() == []
    requested = {ref.paper_id for ref in map(parse_paper_id, [paper_id, url]) if ref}
    requested |= {paper_id, paper_id.lower(), url}
    filed = {(alias, named) for alias, named in _aliases(db) - before if alias != named}
    assert not {alias for alias, _ in filed} & requested, filed


def test_ids_longer_than_the_store_keeps_are_refused_everywhere(
    client: FlaskClient, reader: ReaderClient, redis: Redis
) -> None:
    """Refused as invalid (422) by every endpoint, on SQLite and on PostgreSQL alike,
    rather than stored (SQLite keeps any length) or failing in the database (PostgreSQL)."""
    for length in (PAPER_ID_MAX_LENGTH + 1, 600, 2000):
        paper_id = "doi:10.1234/" + "a" * (length - len("doi:10.1234/"))
        url = "https://doi.org/" + paper_id.removeprefix("doi:")
        statuses = _through_every_endpoint(client, reader, paper_id, url)
        del statuses[2:4]  # the batches answer 200 with the item marked invalid
        assert statuses == [422] * len(statuses), (length, statuses)
        batch = client.post("/api/v1/papers/batch", json={"ids": [paper_id]}).get_json()
        assert batch["items"][0]["status"] == "invalid"
    assert reader.get("/api/v1/me/library").get_json()["items"] == []
    run_workers(redis)
