"""Answering with JSON: the one way every view and the error handler build a JSON response.

A pydantic model is written by pydantic itself, so its fields serialise as the model says
(the OpenAPI document is generated from the same models); any other structure, which may
hold stored JSON as an ``orjson.Fragment``, is written by orjson. Stored enrichment
documents (possibly gzip) and export files are answered as the bytes they already are.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response
from pydantic import BaseModel

from paperlens.schemas import Pending, SuggestionsPending

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
