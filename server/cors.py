"""Cross-origin grants: which web origins may read the API's answers in a browser.

Only the origins in ``PAPERLENS_CORS_ORIGINS`` (the extension's by default) get a grant, and
only on ``/api/`` paths: an answer to a request whose ``Origin`` is one of them carries that
origin in ``Access-Control-Allow-Origin``; a preflight (``OPTIONS`` naming a method the API
serves) also gets the methods, the request headers the API reads, and how long to keep that.
Any other origin, and a request that sends no ``Origin`` (not a cross-origin request), gets no
grant at all; never a wildcard.

The grant is added at the WSGI layer to the header list the server is about to send, like
``server.security``: errors get it too, and each answer costs one dictionary lookup.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from flask import Flask

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

PATH_PREFIX = "/api/"
METHODS = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"
# The request headers a page may send: the body's type and the reader's token.
ALLOWED_HEADERS = ("authorization", "content-type")
# Headers a page may read besides the simple ones: when to ask again after a 202, 429 or 503.
EXPOSED_HEADERS = "Retry-After"
PREFLIGHT_MAX_AGE_SECONDS = 600


class Cors:
    """WSGI middleware adding the grant for ``origins`` (compared without regard to case)."""

    def __init__(self, app: WSGIApplication, origins: Sequence[str]) -> None:
        self.app = app
        self.origins = frozenset(origin.casefold() for origin in origins)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        origin = environ.get("HTTP_ORIGIN")
        if (
            origin is None
            or origin.casefold() not in self.origins
            or not environ.get("PATH_INFO", "").startswith(PATH_PREFIX)
        ):
            return self.app(environ, start_response)
        grant = [
            ("Access-Control-Allow-Origin", origin),
            ("Access-Control-Expose-Headers", EXPOSED_HEADERS),
            ("Vary", "Origin"),
        ]
        if environ.get("REQUEST_METHOD") == "OPTIONS":
            grant += _preflight(environ)

        def start(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            headers.extend(grant)
            return start_response(status, headers, *exc_info)

        return self.app(environ, start)


def _preflight(environ: WSGIEnvironment) -> list[tuple[str, str]]:
    """What a preflight for a method the API serves is told; nothing more for any other."""
    method = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD", "").strip().upper()
    if not method or method not in METHODS.split(", "):
        return []
    asked = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "")
    allowed = sorted(
        name.strip() for name in asked.split(",") if name.strip().casefold() in ALLOWED_HEADERS
    )
    grant = [
        ("Access-Control-Allow-Methods", METHODS),
        ("Access-Control-Max-Age", str(PREFLIGHT_MAX_AGE_SECONDS)),
    ]
    if allowed:
        grant.append(("Access-Control-Allow-Headers", ", ".join(allowed)))
    return grant


def register(app: Flask, origins: Sequence[str]) -> None:
    app.wsgi_app = Cors(app.wsgi_app, origins)  # type: ignore[method-assign]
