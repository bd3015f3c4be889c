"""The OpenAPI description of the reader's endpoints (``/api/v1/me/...``).

Kept beside ``server.openapi`` (which merges it in) so that each table stays short.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from paperlens import schemas

REF = "#/components/schemas/{model}"

MODELS: list[type[BaseModel]] = [
    schemas.LibraryEntryWrite,
    schemas.LibraryItem,
    schemas.LibraryPage,
    schemas.TagCounts,
    schemas.ImportReport,
    schemas.FeedbackRequest,
    schemas.FeedbackResult,
    schemas.SuggestionList,
    schemas.SuggestionsPending,
]

SECURITY_SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from `paperlens users create` or `paperlens tokens create`.",
    }
}
_SECURED: list[dict[str, list[str]]] = [{"bearer": []}]


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _answer(description: str, model: type[BaseModel]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}


def _errors(*statuses: int) -> dict[str, Any]:
    error = _answer("Error", schemas.ErrorResponse)
    return {str(status): error for status in (401, 429, *statuses)}


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema or {"type": "string"},
        "description": description,
    }


def _body(model: type[BaseModel]) -> dict[str, Any]:
    return {"required": False, "content": {"application/json": {"schema": _ref(model)}}}


_ID = {
    "name": "paper_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "Any id or page URL of the paper, such as arxiv:2205.13147.",
}
_TAG = _query("tag", "Only papers with this tag.")
_ENTRY = _answer("The entry", schemas.LibraryItem)
_FORMATS = {
    "bibtex": "application/x-bibtex",
    "csljson": "application/vnd.citationstyles.csl+json",
    "ris": "application/x-research-info-systems",
    "csv": "text/csv",
}

PATHS: dict[str, Any] = {
    "/api/v1/me/library": {
        "get": {
            "summary": "The reader's list, filtered, sorted and paginated",
            "security": _SECURED,
            "parameters": [
                _TAG,
                _query("status", "to_read, reading or done."),
                _query("q", "Text searched in titles, authors and notes."),
                _query("sort", "saved (default), published or title."),
                _query("order", "asc or desc; newest first and A to Z by default."),
                _query("limit", "Page size, 1 to 200.", {"type": "integer", "default": 50}),
                _query("cursor", "The next_cursor of the previous page."),
            ],
            "responses": {"200": _answer("One page", schemas.LibraryPage), **_errors(422)},
        }
    },
    "/api/v1/me/library/{paper_id}": {
        "get": {
            "summary": "One saved paper",
            "security": _SECURED,
            "parameters": [_ID],
            "responses": {"200": _ENTRY, **_errors(404, 422)},
        },
        "put": {
            "summary": "Save a paper (idempotent); fields left out are kept",
            "security": _SECURED,
            "parameters": [_ID],
            "requestBody": _body(schemas.LibraryEntryWrite),
            "responses": {
                "200": _ENTRY,
                "201": _answer("Saved now", schemas.LibraryItem),
                **_errors(400, 404, 409, 415, 422),  # 404: an id with a line break matches no route
            },
        },
        "patch": {
            "summary": "Change status, tags or note",
            "security": _SECURED,
            "parameters": [_ID],
            "requestBody": _body(schemas.LibraryEntryWrite),
            "responses": {"200": _ENTRY, **_errors(400, 404, 415, 422)},
        },
        "delete": {
            "summary": "Remove a paper from the list",
            "security": _SECURED,
            "parameters": [_ID],
            "responses": {"204": {"description": "Removed"}, **_errors(404, 422)},
        },
    },
    "/api/v1/me/library/export": {
        "get": {
            "summary": "The list (or one tag) as BibTeX, CSL-JSON, RIS or CSV",
            "security": _SECURED,
            "parameters": [_query("format", "bibtex (default), csljson, ris or csv."), _TAG],
            "responses": {
                "200": {
                    "description": "The file, as an attachment",
                    "content": {
                        media: {"schema": {"type": "string"}} for media in _FORMATS.values()
                    },
                },
                **_errors(422),
            },
        }
    },
    "/api/v1/me/library/import": {
        "post": {
            "summary": "Save the papers of a BibTeX file or of a list of ids and URLs",
            "security": _SECURED,
            "parameters": [
                {
                    "name": "format",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string", "enum": ["bibtex", "ids"]},
                },
                _query("tag", "A tag added to every imported paper."),
            ],
            "requestBody": {
                "required": True,
                "content": {"text/plain": {"schema": {"type": "string"}}},
            },
            "responses": {
                "200": _answer("What was saved, merged or skipped", schemas.ImportReport),
                **_errors(413, 422),
            },
        }
    },
    "/api/v1/me/tags": {
        "get": {
            "summary": "The reader's tags with how many papers carry each",
            "security": _SECURED,
            "responses": {"200": _answer("Tags", schemas.TagCounts), **_errors()},
        }
    },
    "/api/v1/me/suggestions": {
        "get": {
            "summary": "Papers to read next, learned from the list, each with its reason",
            "security": _SECURED,
            "parameters": [
                _query("tag", "Suggestions from this tag's papers only."),
                _query("k", "How many, 1 to 100.", {"type": "integer", "default": 10}),
            ],
            "responses": {
                "200": _answer("Suggestions", schemas.SuggestionList),
                "202": _answer("First computation running", schemas.SuggestionsPending),
                **_errors(422, 503),
            },
        }
    },
    "/api/v1/me/feedback": {
        "post": {
            "summary": "Dismiss a suggestion, or ask for more like a paper",
            "security": _SECURED,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref(schemas.FeedbackRequest)}},
            },
            "responses": {
                "200": _answer("Recorded", schemas.FeedbackResult),
                **_errors(400, 415, 422),
            },
        }
    },
    "/api/v1/me/feedback/{paper_id}": {
        "delete": {
            "summary": "Withdraw feedback on a paper",
            "security": _SECURED,
            "parameters": [_ID],
            "responses": {"204": {"description": "Withdrawn"}, **_errors(404, 422)},
        }
    },
}
