"""Answering with JSON: the one way every view and the error handler build a JSON response.

A pydantic model is written by pydantic itself, so its fields serialise as the model says
(the OpenAPI document is generated from the same models); any other structure, which may
hold stored JSON as an ``orjson.Fragment``, is written by orjson. Stored enrichment
documents (possibly gzip) and export files are answered as the bytes they already are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import orjson
from flask import Response
from pydantic import BaseModel

from paperlens.schemas import Pending, SuggestionsPending

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

JSON = "application/json"


def json_answer(
    payload: BaseModel | Any, status: int = 200, retry_after: int | None = None
) -> Response:
    """``payload`` as a JSON response; ``retry_after``, when given, goes in ``Retry-After``."""
    if isinstance(payload, BaseModel):
        body = payload.model_dump_json().encode()
    else:
        body = orjson.dumps(payload)
    response = Response(body, status=status, mimetype=JSON)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def accepted(pending: Pending | SuggestionsPending) -> Response:
    """202: the answer is being computed; the header and the body say when to ask again."""
    return json_answer(pending, status=202, retry_after=pending.retry_after)


class StoredAnswer(Response):
    """JSON bytes sent as they are, with headers that are the same on every such answer.

    A cache-hit GET is mostly this answer, so it does less than a plain ``Response``: the
    body goes to the server as the one-item list it already is (``direct_passthrough``:
    no re-encoding generator and no closing wrapper around it), and ``fixed_headers`` are
    appended to the header list the server gets. Werkzeug checks and copies each header of
    its own ``headers`` twice, once when the answer is built and once when it is sent;
    constants need neither. ``fixed_headers`` are therefore not in ``self.headers``: they
    must be headers nothing in the app reads or changes after the view (none is).
    """

    def __init__(self, body: bytes, fixed_headers: Sequence[tuple[str, str]]) -> None:
        super().__init__(body, content_type=JSON, direct_passthrough=True)
        self.fixed_headers = fixed_headers

    def get_wsgi_response(
        self, environ: WSGIEnvironment
    ) -> tuple[Iterable[bytes], str, list[tuple[str, str]]]:
        app_iter, status, headers = super().get_wsgi_response(environ)
        headers.extend(self.fixed_headers)
        return app_iter, status, headers
