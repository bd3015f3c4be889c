"""Headers every answer carries, so browsers never sniff, frame or cache what they should not."""

from __future__ import annotations

from flask import Flask, Response, request

# The API serves JSON only; no answer may load or run anything in a browser.
CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"


def register(app: Flask) -> None:
    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        if "Authorization" in request.headers:
            # A reader's own data must never sit in a shared or browser cache.
            response.headers["Cache-Control"] = "no-store, private"
        return response
