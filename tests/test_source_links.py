"""A link a source hands over (Hugging Face's project page, OpenAlex's open-access copy)
is served to readers only when it is a plain http(s) address: the extension renders these
as links, and a ``javascript:`` or ``data:`` one would run in the reader's browser."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from redis import Redis

from paperlens import job_queue, keys
from paperlens.settings import get_settings
from paperlens.store.db import Database
from tests.source_server import FIXTURES, SourceFleet
from tests.support import run_workers

MRL = "arxiv:2205.13147"
MRL_WORK = json.loads((FIXTURES / "openalex" / "work_arxiv_2205.13147.json").read_text())

NOT_WEB_ADDRESSES = [
    "javascript:alert(document.cookie)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "//evil.example/page",
    "https:evil.example",
    "https://evil.example\\@good.example/",
]


def _enriched_with(fleet: SourceFleet, client: FlaskClient, redis: Redis, link: str) -> Any:
    fleet.answers["huggingface", "/api/papers/2205.13147"] = {
        "id": "2205.13147",
        "title": "Matryoshka Representation Learning",
        "projectPage": link,
    }
    work = {**MRL_WORK, "best_oa_location": {"pdf_url": link}, "open_access": {"oa_url": link}}
    fleet.answers["openalex", "/works/doi:10.48550/arxiv.2205.13147"] = work
    job_queue.request_enrichment(redis, get_settings(), MRL, keys.QUEUE_INTERACTIVE)
    run_workers(redis)
    return client.get(f"/api/v1/papers/{MRL}").get_json()


@pytest.mark.parametrize("link", NOT_WEB_ADDRESSES)
def test_links_from_sources_are_served_only_as_http_or_https(
    source_fleet: SourceFleet, client: FlaskClient, demo: Database, redis: Redis, link: str
) -> None:
    paper = _enriched_with(source_fleet, client, redis, link)
    assert paper["sources"]["huggingface"]["status"] == "ok"
    assert paper["sources"]["openalex"]["status"] == "ok"
    assert paper["project_page"] is None
    assert paper["open_access"] is None
    served = [link["url"] for link in paper["code"]]
    assert all(url.startswith(("https://", "http://")) for url in served), served


def test_http_and_https_links_from_sources_are_served(
    source_fleet: SourceFleet, client: FlaskClient, demo: Database, redis: Redis
) -> None:
    paper = _enriched_with(source_fleet, client, redis, "https://example-lab.github.io/mrl/")
    assert paper["project_page"] == {
        "url": "https://example-lab.github.io/mrl/",
        "source": "huggingface",
    }
    assert paper["open_access"] == {
        "url": "https://example-lab.github.io/mrl/",
        "source": "openalex",
    }
