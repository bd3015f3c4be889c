"""Readers for API tests: created in the store as `paperlens users create` does."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from paperlens.store import users
from paperlens.store.db import Database


def make_reader(db: Database, name: str) -> str:
    """Create a reader and return their bearer token."""
    with db.session() as session:
        user = users.create_user(session, name)
        return users.create_token(session, user)


class ReaderClient:
    """A test client that sends one reader's token with every request."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client = client
        self.token = token

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.get(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def put(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.put(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def patch(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.patch(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def delete(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.delete(
            path, headers=self._headers(kwargs.pop("headers", None)), **kwargs
        )

    def post(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.post(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)


def error_code(response: TestResponse) -> str:
    body = response.get_json()
    assert set(body["error"]) == {"code", "message"} and body["error"]["message"]
    code: str = body["error"]["code"]
    return code
