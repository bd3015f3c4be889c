"""Headers every answer carries, so browsers never sniff, frame or cache what they should not.

They are added at the WSGI layer, to the header list the server is about to send: every
answer gets them, errors included, at the cost of one list extension per request
(Flask's per-header ``set`` calls cost about a tenth of a cache-hit GET, profiled).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

# The API serves JSON only; no answer may load or run anything in a browser.
CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"

ALWAYS = [
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
]
# A reader's own data must never sit in a shared or browser cache.
PRIVATE = ("Cache-Control", "no-store, private")


class SecurityHeaders:
    """WSGI middleware: ``ALWAYS`` on every answer, ``PRIVATE`` when credentials came along."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        private = "HTTP_AUTHORIZATION" in environ

        def start(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            if private:
                headers = [h for h in headers if h[0].lower() != "cache-control"]
                headers.append(PRIVATE)
            headers.extend(ALWAYS)
            return start_response(status, headers, *exc_info)

        return self.app(environ, start)


def register(app: Flask) -> None:
    app.wsgi_app = SecurityHeaders(app.wsgi_app)  # type: ignore[method-assign]
