"""CORS grants only the configured origins, exactly: every other origin gets no grant on any
route family, preflights included, and no answer ever carries a wildcard."""

from __future__ import annotations

import pytest
from flask import Flask
from pydantic import ValidationError
from werkzeug.test import TestResponse

from paperlens.settings import Settings
from paperlens.store.db import Database
from server import create_app
from tests.readers import make_reader
from tests.support import TEST_ORIGIN

WEB_ORIGIN = "https://reader.example.org"
STRANGERS = [
    "https://evil.example",
    "null",
    "chrome-extension://otherextensionidaaaaaaaaaaaaaaaa",
    TEST_ORIGIN + "x",
    "http://reader.example.org",  # the configured origin's host, another scheme
    "https://reader.example.org.evil.example",  # a prefix match must not do
    "https://readerXexample.org",  # "." is not a wildcard
    "https://evil.example/https://reader.example.org",
    "https://reader.example.org:8443",
]


@pytest.fixture
def cors_app(settings: Settings, demo: Database) -> Flask:
    app = create_app(settings.model_copy(update={"cors_origins": [TEST_ORIGIN, WEB_ORIGIN]}))
    app.config["TESTING"] = True
    return app


def requests_from(app: Flask, origin: str, token: str) -> list[TestResponse]:
    client = app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}

    def preflight(path: str, method: str, headers: str) -> TestResponse:
        return client.options(
            path,
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": headers,
            },
        )

    return [
        client.get("/api/v1/papers/arxiv:2205.13147", headers={"Origin": origin}),
        client.get("/api/v1/papers/not-a-paper", headers={"Origin": origin}),
        client.get(
            "/api/v1/resolve?url=https://arxiv.org/abs/2205.13147", headers={"Origin": origin}
        ),
        client.post("/api/v1/papers/batch", json={"ids": ["x"]}, headers={"Origin": origin}),
        preflight("/api/v1/papers/batch", "POST", "content-type"),
        client.get("/api/v1/openapi.json", headers={"Origin": origin}),
        client.get("/api/v1/me/library", headers={"Origin": origin, **bearer}),
        client.get("/api/v1/me/library", headers={"Origin": origin}),  # a 401
        preflight("/api/v1/me/library/arxiv:2205.13147", "PUT", "authorization, content-type"),
        preflight("/api/v1/me/library/arxiv:2205.13147", "DELETE", "authorization"),
        preflight("/api/v1/me/suggestions", "GET", "authorization"),
        preflight("/api/v1/me/feedback", "POST", "authorization, content-type"),
        client.get("/api/v1/me/tags", headers={"Origin": origin, **bearer}),
    ]


def grant_headers(response: TestResponse) -> dict[str, str]:
    return {
        name: value
        for name, value in response.headers.items()
        if name.lower().startswith("access-control-allow")
    }


@pytest.mark.parametrize("stranger", STRANGERS)
def test_other_origins_get_no_grant_on_any_route(
    cors_app: Flask, db: Database, stranger: str
) -> None:
    token = make_reader(db, "alice")
    for response in requests_from(cors_app, stranger, token):
        assert grant_headers(response) == {}, (response.request.path, response.headers)


def test_configured_origins_get_exactly_their_own_grant(cors_app: Flask, db: Database) -> None:
    token = make_reader(db, "alice")
    for origin in (TEST_ORIGIN, WEB_ORIGIN):
        for response in requests_from(cors_app, origin, token):
            grants = grant_headers(response)
            assert grants["Access-Control-Allow-Origin"] == origin, response.request.path
            assert "*" not in "".join(grants.values())
            assert "Origin" in response.headers.get("Vary", "")
        preflight = requests_from(cors_app, origin, token)[8]
        allowed = preflight.headers["Access-Control-Allow-Headers"].lower()
        assert (
            "authorization" in allowed
            and "PUT" in preflight.headers["Access-Control-Allow-Methods"]
        )


def test_a_wildcard_origin_is_refused_in_every_spelling() -> None:
    for value in ("*", "https://a.example,*", " * ", "https://*.example.org"):
        with pytest.raises(ValidationError, match="wildcard"):
            Settings(cors_origins=value)  # type: ignore[arg-type]  # as the environment gives it
    # Patterns and paths: never what a browser sends as its Origin.
    for value in (r"https://.+\.example\.org", "https://(a|b).example", "https://a.example/"):
        with pytest.raises(ValidationError, match="not an origin"):
            Settings(cors_origins=value)  # type: ignore[arg-type]  # as the environment gives it


def test_no_grant_without_an_origin_or_outside_the_api(cors_app: Flask) -> None:
    client = cors_app.test_client()
    assert grant_headers(client.get("/api/v1/papers/arxiv:2205.13147")) == {}
    assert grant_headers(client.get("/healthz", headers={"Origin": WEB_ORIGIN})) == {}
    # Origins compare without regard to case; an error answer carries the grant too.
    shouted = client.get("/api/v1/nowhere", headers={"Origin": WEB_ORIGIN.upper()})
    assert shouted.status_code == 404
    assert shouted.headers["Access-Control-Allow-Origin"] == WEB_ORIGIN.upper()
    traced = client.options(
        "/api/v1/papers/batch",
        headers={"Origin": WEB_ORIGIN, "Access-Control-Request-Method": "TRACE"},
    )
    assert set(grant_headers(traced)) == {"Access-Control-Allow-Origin"}
