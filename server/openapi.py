"""The OpenAPI document, served at ``/api/v1/openapi.json``.

Paths are declared by hand in two tables, this module's public endpoints and
``server.openapi_me``'s reading-list ones, both written with ``server.openapi_blocks`` so
that each answer names the pydantic model it is; the component schemas are generated from
those models, so the fields the document lists are the ones the models serialise.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from paperlens import schemas
from server import openapi_me
from server.answers import json_answer
from server.openapi_blocks import PAPER_ID, REF, answer, errors, json_request, query

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")

_MODELS: list[type[BaseModel]] = [
    schemas.EnrichedPaper,
    schemas.Pending,
    schemas.ResolveResult,
    schemas.BatchRequest,
    schemas.BatchResponse,
    schemas.ErrorResponse,
    schemas.Health,
]

PATHS: dict[str, Any] = {
    "/api/v1/resolve": {
        "get": {
            "summary": "Turn a page address into a paper id",
            "parameters": [
                query("url", "The address of the page.", required=True),
                query("citation_doi", "The page's citation_doi meta tag, if any."),
                query("citation_arxiv_id", "The page's citation_arxiv_id meta tag, if any."),
                query("citation_title", "The page's citation_title meta tag, if any."),
            ],
            "responses": {
                "200": answer("The paper the address names", schemas.ResolveResult),
                **errors(422),
            },
        }
    },
    "/api/v1/papers/{paper_id}": {
        "get": {
            "summary": "One paper with its code links and related papers",
            "parameters": [PAPER_ID],
            "responses": {
                "200": answer("The enriched paper", schemas.EnrichedPaper),
                "202": answer("Being computed; retry after Retry-After seconds", schemas.Pending),
                **errors(404, 422, 429, 503),
            },
        }
    },
    "/api/v1/papers/batch": {
        "post": {
            "summary": "Many papers in one request (listing pages)",
            "requestBody": json_request(schemas.BatchRequest),
            "responses": {
                "200": answer("One item per input", schemas.BatchResponse),
                **errors(400, 413, 415, 422, 503),
            },
        }
    },
    "/healthz": {
        "get": {"summary": "The process is up", "responses": {"200": answer("Up", schemas.Health)}}
    },
    "/readyz": {
        "get": {
            "summary": "Redis and the SQL store are reachable",
            "responses": {
                "200": answer("Ready", schemas.Health),
                "503": answer("Not ready", schemas.Health),
            },
        }
    },
}


PATHS.update(openapi_me.PATHS)
_MODELS.extend(openapi_me.MODELS)


def document() -> dict[str, Any]:
    _, components = models_json_schema(
        [(model, "serialization") for model in _MODELS], ref_template=REF
    )
    return {
        "openapi": "3.1.0",
        "info": {"title": "PaperLens API", "version": "1"},
        "paths": PATHS,
        "components": {
            "schemas": components["$defs"],
            "securitySchemes": openapi_me.SECURITY_SCHEMES,
        },
    }


@bp.get("/openapi.json")
def openapi_json() -> Response:
    return json_answer(document())
