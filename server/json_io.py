"""Reading a JSON request body and answering with JSON, for the endpoints that do either.

One body reader, so every JSON body is refused the same way (415 when it is not JSON, 400
when it does not parse); two writers: a pydantic model, or a plain structure that may hold
stored JSON as an ``orjson.Fragment``. Stored enrichment documents (possibly gzip), import
files (text) and error bodies (``server.errors``) are answered where they are made."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response, request
from pydantic import BaseModel

from server.errors import ApiError

JSON = "application/json"


def json_body(allow_empty: bool = False) -> Any:
    """The request's JSON body; 415 when it is not JSON, 400 when it does not parse."""
    if allow_empty and not request.get_data(cache=True):
        return {}
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Send a JSON body (application/json).")
    try:
        return orjson.loads(request.get_data(cache=True))
    except orjson.JSONDecodeError as error:
        raise ApiError(400, "invalid_json", f"The body is not valid JSON: {error}") from None


def json_response(model: BaseModel, status: int = 200) -> Response:
    return Response(model.model_dump_json(), status=status, mimetype=JSON)


def json_answer(payload: Any, status: int = 200) -> Response:
    """A plain structure (or ``orjson.Fragment`` of stored JSON) as a response."""
    return Response(orjson.dumps(payload), status=status, mimetype=JSON)
