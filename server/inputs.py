"""What a request brings, read one way everywhere: its JSON body, its query string, paper ids.

Every refusal is an ``ApiError`` or a pydantic ``ValidationError``, which the error handler
(``server.errors``) turns into the one JSON error shape: 415 for a body that is not JSON,
400 for one that does not parse, 422 for values the models or the id parser refuse.
"""

from __future__ import annotations

import functools
from typing import Any, TypeVar

import orjson
from flask import request
from pydantic import BaseModel

from paperlens.identifiers import PaperRef, parse_paper_id
from server.errors import ApiError

Model = TypeVar("Model", bound=BaseModel)


def json_body(model: type[Model], allow_empty: bool = False) -> Model:
    """The request's JSON body parsed by ``model``; 415 when it is not JSON, 400 when it does
    not parse. With ``allow_empty``, no body at all reads as ``{}``."""
    return model.model_validate(_json_data(allow_empty))


def _json_data(allow_empty: bool) -> Any:
    if allow_empty and not request.get_data(cache=True):
        return {}
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Send a JSON body (application/json).")
    try:
        return orjson.loads(request.get_data(cache=True))
    except orjson.JSONDecodeError as error:
        raise ApiError(400, "invalid_json", f"The body is not valid JSON: {error}") from None


def query(model: type[Model]) -> Model:
    """The query string parsed by ``model`` (the first value of a repeated name counts)."""
    return model.model_validate(request.args.to_dict())


def paper_id(text: str) -> str:
    """The canonical form of a paper id or page URL a client sent in a path or a body."""
    ref = paper_ref(text)
    if ref is None:
        raise ApiError(422, "invalid_id", f"{text[:200]!r} is not a paper id or paper URL.")
    return ref.paper_id


# Distinct ids each process remembers parsing, and the longest text it remembers: clients ask
# for the same papers again and again (a listing page's ids, an open paper), and parsing is
# pure, so the cache only ever saves work; the bounds keep what a client sends from filling it.
PARSED_IDS_KEPT = 8192
PARSED_ID_KEPT_MAX_CHARS = 256


def paper_ref(text: str) -> PaperRef | None:
    """``parse_paper_id`` of what a client sent (None: not an id), remembered for short texts."""
    if len(text) > PARSED_ID_KEPT_MAX_CHARS:
        return parse_paper_id(text)
    return _parsed(text)


@functools.lru_cache(maxsize=PARSED_IDS_KEPT)
def _parsed(text: str) -> PaperRef | None:
    return parse_paper_id(text)
