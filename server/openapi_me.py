"""The OpenAPI description of the reader's endpoints (``/api/v1/me/...``).

Kept beside ``server.openapi`` (which merges it in) so that each table stays short; both
are written with the pieces of ``server.openapi_blocks``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from paperlens import schemas
from server.openapi_blocks import PAPER_ID, answer, errors, json_request, path, query

MODELS: list[type[BaseModel]] = [
    schemas.LibraryEntryWrite,
    schemas.LibraryItem,
    schemas.LibraryPage,
    schemas.TagCounts,
    schemas.ImportReport,
    schemas.ExportSelection,
    schemas.FeedbackRequest,
    schemas.FeedbackResult,
    schemas.SuggestionList,
    schemas.SuggestionsPending,
    schemas.FeedPage,
    schemas.FeedTokenCreated,
    schemas.TagFeedsWrite,
    schemas.TagFeeds,
]

SECURITY_SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from `paperlens users create` or `paperlens tokens create`.",
    }
}
_SECURED: list[dict[str, list[str]]] = [{"bearer": []}]


def _errors(*statuses: int) -> dict[str, Any]:
    """Every reader endpoint may also answer 401 (no valid token) and 429 (too many failures)."""
    return errors(401, 429, *statuses)


_TAG = query("tag", "Only papers with this tag.")
_ENTRY = answer("The entry", schemas.LibraryItem)
_FORMATS = {
    "bibtex": "application/x-bibtex",
    "csljson": "application/vnd.citationstyles.csl+json",
    "ris": "application/x-research-info-systems",
    "csv": "text/csv",
}

_EXPORTED = {
    "description": "The file, as an attachment",
    "content": {media: {"schema": {"type": "string"}} for media in _FORMATS.values()},
}

PATHS: dict[str, Any] = {
    "/api/v1/me/library": {
        "get": {
            "summary": "The reader's list, filtered, sorted and paginated",
            "security": _SECURED,
            "parameters": [
                _TAG,
                query("status", "to_read, reading or done."),
                query("q", "Text searched in titles, authors, notes and tags."),
                query("year", "Only papers published that year.", {"type": "integer"}),
                query("venue", "Only papers whose venue contains this text (any case)."),
                query("sort", "saved (default), published or title."),
                query("order", "asc or desc; newest first and A to Z by default."),
                query("limit", "Page size, 1 to 200.", {"type": "integer", "default": 50}),
                query("cursor", "The next_cursor of the previous page."),
            ],
            "responses": {"200": answer("One page", schemas.LibraryPage), **_errors(422)},
        }
    },
    "/api/v1/me/library/{paper_id}": {
        "get": {
            "summary": "One saved paper",
            "security": _SECURED,
            "parameters": [PAPER_ID],
            "responses": {"200": _ENTRY, **_errors(404, 422)},
        },
        "put": {
            "summary": "Save a paper (idempotent); fields left out are kept",
            "security": _SECURED,
            "parameters": [PAPER_ID],
            "requestBody": json_request(schemas.LibraryEntryWrite, required=False),
            "responses": {
                "200": _ENTRY,
                "201": answer("Saved now", schemas.LibraryItem),
                **_errors(400, 404, 409, 415, 422),  # 404: an id with a line break matches no route
            },
        },
        "patch": {
            "summary": "Change status, tags or note",
            "security": _SECURED,
            "parameters": [PAPER_ID],
            "requestBody": json_request(schemas.LibraryEntryWrite, required=False),
            "responses": {"200": _ENTRY, **_errors(400, 404, 415, 422)},
        },
        "delete": {
            "summary": "Remove a paper from the list",
            "security": _SECURED,
            "parameters": [PAPER_ID],
            "responses": {"204": {"description": "Removed"}, **_errors(404, 422)},
        },
    },
    "/api/v1/me/library/export": {
        "get": {
            "summary": "The list (or one tag) as BibTeX, CSL-JSON, RIS or CSV",
            "security": _SECURED,
            "parameters": [query("format", "bibtex (default), csljson, ris or csv."), _TAG],
            "responses": {
                "200": _EXPORTED,
                **_errors(422),
            },
        },
        "post": {
            "summary": "The entries holding the given ids, in one format (others are left out)",
            "security": _SECURED,
            "parameters": [query("format", "bibtex (default), csljson, ris or csv.")],
            "requestBody": json_request(schemas.ExportSelection),
            "responses": {
                "200": _EXPORTED,
                **_errors(415, 422),
            },
        },
    },
    "/api/v1/me/library/import": {
        "post": {
            "summary": "Save the papers of a BibTeX file or of a list of ids and URLs",
            "security": _SECURED,
            "parameters": [
                query(
                    "format",
                    "bibtex (a BibTeX file) or ids (one id or page URL a line).",
                    {"type": "string", "enum": ["bibtex", "ids"]},
                    required=True,
                ),
                query("tag", "A tag added to every imported paper."),
            ],
            "requestBody": {
                "required": True,
                "content": {"text/plain": {"schema": {"type": "string"}}},
            },
            "responses": {
                "200": answer("What was saved, merged or skipped", schemas.ImportReport),
                **_errors(413, 422),
            },
        }
    },
    "/api/v1/me/tags": {
        "get": {
            "summary": "The reader's tags with how many papers carry each",
            "security": _SECURED,
            "responses": {"200": answer("Tags", schemas.TagCounts), **_errors()},
        }
    },
    "/api/v1/me/tags/{tag}": {
        "put": {
            "summary": "Whether the papers with this tag feed the research feed",
            "security": _SECURED,
            "parameters": [path("tag", "A tag (of the list, or one to come).")],
            "requestBody": json_request(schemas.TagFeedsWrite),
            "responses": {
                "200": answer("Recorded", schemas.TagFeeds),
                **_errors(400, 415, 422),
            },
        }
    },
    "/api/v1/me/suggestions": {
        "get": {
            "summary": "Papers to read next, learned from the list, each with its reason",
            "security": _SECURED,
            "parameters": [
                query("tag", "Suggestions from this tag's papers only."),
                query("k", "How many, 1 to 100.", {"type": "integer", "default": 10}),
            ],
            "responses": {
                "200": answer("Suggestions", schemas.SuggestionList),
                "202": answer("First computation running", schemas.SuggestionsPending),
                **_errors(422, 503),
            },
        }
    },
    "/api/v1/me/feed": {
        "get": {
            "summary": "New papers ranked from the list after each ingest, each with its reason",
            "security": _SECURED,
            "parameters": [
                query(
                    "since",
                    "Only papers the feed took in after this time (ISO 8601; UTC without a zone).",
                    {"type": "string", "format": "date-time"},
                ),
                query("limit", "Items per page, 1 to 200.", {"type": "integer", "default": 50}),
                query("cursor", "The next_cursor of the previous page."),
            ],
            "responses": {
                "200": answer("A page of the feed", schemas.FeedPage),
                **_errors(422, 503),
            },
        }
    },
    "/api/v1/me/feed-token": {
        "post": {
            "summary": "A new token for the Atom feed (replacing any older one), shown once",
            "security": _SECURED,
            "responses": {"201": answer("Created", schemas.FeedTokenCreated), **_errors()},
        },
        "delete": {
            "summary": "Revoke the Atom feed's token: its address answers 404 from now on",
            "security": _SECURED,
            "responses": {"204": {"description": "Revoked"}, **_errors(404)},
        },
    },
    "/feeds/{token}.atom": {
        "get": {
            "summary": "The research feed as Atom 1.0, for feed readers (the token is the key)",
            "parameters": [path("token", "The feed token from POST /api/v1/me/feed-token.")],
            "responses": {
                "200": {
                    "description": "An Atom 1.0 document",
                    "content": {"application/atom+xml": {"schema": {"type": "string"}}},
                },
                **errors(404, 503),
            },
        }
    },
    "/api/v1/me/feedback": {
        "post": {
            "summary": "Dismiss a suggestion or feed item, or ask for more like a paper",
            "description": "Recorded in the SQL store; a dismissed paper leaves the reader's "
            "suggestions and research feed at once, and the reader's feed is ranked again "
            "(job worker.jobs.refresh_reader_feed) with the signal in their model.",
            "security": _SECURED,
            "requestBody": json_request(schemas.FeedbackRequest),
            "responses": {
                "200": answer("Recorded", schemas.FeedbackResult),
                **_errors(400, 415, 422),
            },
        }
    },
    "/api/v1/me/feedback/{paper_id}": {
        "delete": {
            "summary": "Withdraw feedback on a paper",
            "description": "The reader's suggestions and research feed are ranked again "
            "without the signal.",
            "security": _SECURED,
            "parameters": [PAPER_ID],
            "responses": {"204": {"description": "Withdrawn"}, **_errors(404, 422)},
        }
    },
}
