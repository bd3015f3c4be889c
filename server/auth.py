"""Bearer-token authentication for the reader's own endpoints (``/api/v1/me/...``).

A blueprint handed to ``protect`` checks the token before each of its requests and keeps
the reader it finds for ``current_reader``, the only scope any ``/me`` query runs in. A
missing or invalid token gets a 401 with a challenge, or a 429 once the client has failed
too often. Tokens are never logged or echoed back.
"""

from __future__ import annotations

from flask import Blueprint, Response, g, request

from paperlens.store.users import Reader, authenticate
from server import ratelimit
from server.errors import error_response
from server.services import services

CHALLENGE = 'Bearer realm="paperlens"'


def protect(bp: Blueprint) -> None:
    """Make every route of ``bp`` answer 401 unless a valid token comes with the request."""
    bp.before_request(_require_reader)


def current_reader() -> Reader:
    reader: Reader = g.reader
    return reader


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (any case of the scheme);
    None when the header is missing, names another scheme or carries no token."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def _require_reader() -> Response | None:
    if request.method == "OPTIONS":
        return None  # CORS preflights carry no credentials by design
    token = bearer_token()
    if token is None:
        return _unauthorized(None, "Send your API token as 'Authorization: Bearer <token>'.")
    with services().db.session() as session:
        reader = authenticate(session, token)
    if reader is None:
        return _unauthorized(token, "The API token is not valid (unknown, malformed or revoked).")
    g.reader = reader
    return None


def _unauthorized(token: str | None, message: str) -> Response:
    """401, or 429 once this client (or this token) has failed too often (see
    ``server.ratelimit``)."""
    response = error_response(401, "unauthorized", message)
    response.headers["WWW-Authenticate"] = CHALLENGE
    return ratelimit.failure_answer(response, token)
