"""Failed authentications are limited per client address and per token prefix; a valid token is
always served, whatever others send, and a Redis outage never locks readers out."""

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


def limited_app(settings: Settings, per_client: str, per_token: str, proxy_hops: int = 0) -> Flask:
    app = create_app(
        settings.model_copy(
            update={
                "auth_failures_per_client": per_client,
                "auth_failures_per_token": per_token,
                "trusted_proxy_hops": proxy_hops,
            }
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
    # Only failures are refused: the reader's valid token still works from the same address.
    assert call(client, reader)[0] == 200
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


def test_bad_tokens_with_a_readers_prefix_do_not_lock_out_the_reader(
    settings: Settings, db: Database
) -> None:
    """The prefix is public (``tokens list`` shows it): hammering it must not deny the reader."""
    alice = make_reader(db, "alice")
    client = limited_app(settings, "1000/minute", "5/minute").test_client()
    answers = [call(client, wrong_secret(alice, n), address="192.0.2.66")[0] for n in range(40)]
    assert answers[:5] == [401] * 5 and set(answers[5:]) == {429}
    # Alice is served from her own address and even from the attacker's.
    for address in ("198.51.100.20", "192.0.2.66"):
        status, body, _ = call(client, alice, address=address)
        assert status == 200 and "items" in body
    assert call(client, wrong_secret(alice, 99), address="192.0.2.66")[0] == 429


def call_via_proxy(
    client: FlaskClient, token: str, forwarded_for: str, proxy: str = "10.0.0.2"
) -> int:
    """A request as a reverse proxy on ``proxy`` passes it on, naming the client it saw."""
    response = client.get(
        LIB,
        headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": forwarded_for},
        environ_base={"REMOTE_ADDR": proxy},
    )
    return response.status_code


def test_bad_tokens_behind_a_proxy_lock_out_only_the_sender(
    settings: Settings, db: Database
) -> None:
    alice = make_reader(db, "alice")
    client = limited_app(settings, "30/minute", "1000/minute", proxy_hops=1).test_client()
    sent = [call_via_proxy(client, f"pl_{n:08x}_guess", "203.0.113.66") for n in range(45)]
    assert sent[:30] == [401] * 30 and set(sent[30:]) == {429}
    # Every request reaches the API from the proxy's address; only the sender is limited.
    assert call_via_proxy(client, alice, "198.51.100.7") == 200
    assert call_via_proxy(client, "pl_0000abcd_typo", "198.51.100.8") == 401
    # The sender cannot escape by writing its own X-Forwarded-For: the proxy appends the
    # address it saw, and only that last entry is trusted.
    assert call_via_proxy(client, "pl_0000abce_x", "198.51.100.9, 203.0.113.66") == 429


def test_forged_x_forwarded_for_is_ignored_without_trusted_proxies(
    settings: Settings, db: Database
) -> None:
    """With no trusted proxy (the default), a client cannot pick the address it is counted as."""
    alice = make_reader(db, "alice")
    client = limited_app(settings, "5/minute", "1000/minute").test_client()
    answers = [
        call_via_proxy(client, f"pl_{n:08x}_guess", f"198.51.100.{n}", proxy="203.0.113.9")
        for n in range(10)
    ]
    assert answers[:5] == [401] * 5 and set(answers[5:]) == {429}
    # Nobody else is affected, and a valid token from the limited address is still served.
    assert call(client, "pl_0000abcd_typo", address="203.0.113.10")[0] == 401
    assert call(client, alice, address="203.0.113.9")[0] == 200


def test_metrics_behind_a_trusted_proxy_see_the_real_client(
    settings: Settings, db: Database
) -> None:
    """Behind a proxy on this machine every request would look local; the hop setting fixes
    which address /metrics (open to loopback clients in development) judges."""
    client = limited_app(settings, "1000/minute", "1000/minute", proxy_hops=1).test_client()
    outside = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.5"})
    assert outside.status_code == 403
    assert client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 200
