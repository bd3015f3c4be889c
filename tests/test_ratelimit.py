"""Failed authentications are limited per client address and per token prefix; readers with a
valid token are never slowed by their own traffic, and a Redis outage never locks them out."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pydantic import ValidationError
from redis import Redis

from paperlens import keys
from paperlens.embedded_redis import EmbeddedRedis
from paperlens.settings import Settings
from paperlens.store.db import Database
from server import create_app
from tests.readers import error_code, make_reader

LIB = "/api/v1/me/library"
PAPER = "arxiv:2205.13147"


def limited_app(settings: Settings, per_client: str, per_token: str) -> Flask:
    app = create_app(
        settings.model_copy(
            update={"auth_failures_per_client": per_client, "auth_failures_per_token": per_token}
        )
    )
    app.config["TESTING"] = True
    return app


def call(
    client: FlaskClient, token: str, address: str = "203.0.113.7", path: str = LIB
) -> tuple[int, Any, dict[str, str]]:
    response = client.get(
        path,
        headers={"Authorization": f"Bearer {token}"},
        environ_base={"REMOTE_ADDR": address},
    )
    return response.status_code, response.get_json(silent=True) or {}, dict(response.headers)


def wrong_secret(token: str, n: int) -> str:
    """A token with the same public prefix as ``token`` and a wrong secret."""
    prefix = token.rsplit("_", 1)[0]
    return f"{prefix}_wrong-secret-{n}"


def test_failures_from_one_address_are_limited_with_retry_after(
    settings: Settings, db: Database, redis: Redis
) -> None:
    reader = make_reader(db, "alice")
    client = limited_app(settings, "3/minute", "1000/minute").test_client()
    for n in range(3):
        assert call(client, f"pl_0000000{n}_nope")[0] == 401
    # Another route of another blueprint: one shared budget for every /me endpoint.
    status, body, headers = call(client, "pl_00000009_nope", path="/api/v1/me/suggestions")
    assert status == 429
    assert body["error"]["code"] == "too_many_requests"
    assert 1 <= int(headers["Retry-After"]) <= 60
    # Blocked before the token is even checked, so a guess that happens to be right learns nothing.
    assert call(client, reader)[0] == 429
    # Other addresses are unaffected; the counters live in Redis under the project's prefix.
    assert call(client, reader, address="198.51.100.1")[0] == 200
    assert redis.keys(f"{keys.RATE_LIMIT_PREFIX}*")


def test_guesses_at_one_token_are_limited_from_any_address(
    settings: Settings, db: Database
) -> None:
    alice = make_reader(db, "alice")
    bob = make_reader(db, "bob")
    client = limited_app(settings, "1000/minute", "2/minute").test_client()
    assert call(client, wrong_secret(alice, 1), address="192.0.2.1")[0] == 401
    assert call(client, wrong_secret(alice, 2), address="192.0.2.2")[0] == 401
    status, body, headers = call(client, wrong_secret(alice, 3), address="192.0.2.3")
    assert status == 429 and int(headers["Retry-After"]) >= 1
    assert set(body["error"]) == {"code", "message"}
    # Bob's token has another prefix: his list stays reachable from the same addresses.
    assert call(client, bob, address="192.0.2.3")[0] == 200


def test_successful_requests_never_count(settings: Settings, db: Database) -> None:
    reader = make_reader(db, "alice")
    client = limited_app(settings, "2/minute", "2/minute").test_client()
    headers = {"Authorization": f"Bearer {reader}"}
    for n in range(25):
        response = client.put(
            f"{LIB}/arxiv:2101.{n + 1:05d}", json={"note": str(n)}, headers=headers
        )
        assert response.status_code == 201
    assert call(client, reader)[0] == 200


def test_missing_tokens_count_against_the_address(settings: Settings, db: Database) -> None:
    client = limited_app(settings, "1000/minute", "2/minute").test_client()
    for _ in range(2):
        assert client.get(LIB, environ_base={"REMOTE_ADDR": "192.0.2.9"}).status_code == 401
    response = client.get(LIB, environ_base={"REMOTE_ADDR": "192.0.2.9"})
    assert response.status_code == 429 and error_code(response) == "too_many_requests"
    assert client.get(LIB, environ_base={"REMOTE_ADDR": "192.0.2.10"}).status_code == 401


def test_redis_down_fails_open_and_readers_keep_their_list(
    settings: Settings, db: Database, own_redis: EmbeddedRedis
) -> None:
    reader = make_reader(db, "alice")
    settings = settings.model_copy(update={"redis_url": own_redis.url})
    client = limited_app(settings, "1/minute", "1/minute").test_client()
    headers = {"Authorization": f"Bearer {reader}"}
    assert client.put(f"{LIB}/{PAPER}", json={"note": "before"}, headers=headers).status_code == 201

    own_redis.stop()
    for _ in range(3):  # no counter can be kept: failures are answered 401, never 429 or 500
        assert call(client, "pl_00000000_nope")[0] == 401
    saved = client.patch(f"{LIB}/{PAPER}", json={"note": "during"}, headers=headers)
    assert saved.status_code == 200 and saved.get_json()["note"] == "during"
    assert call(client, reader)[0] == 200

    own_redis.start()
    assert call(client, "pl_00000001_nope")[0] == 401
    assert call(client, "pl_00000002_nope")[0] == 429  # limits apply again, no restart


def test_a_limit_that_does_not_parse_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="not a rate limit"):
        Settings(auth_failures_per_client="lots")
