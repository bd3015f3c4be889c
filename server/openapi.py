"""The OpenAPI document, served at ``/api/v1/openapi.json``.

Paths are declared by hand in two tables, this module's public endpoints and
``server.openapi_me``'s reading-list ones, each answer naming the pydantic model it is;
the component schemas are generated from those models, so the fields the document lists
are the ones the models serialise.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from paperlens import schemas
from server import openapi_me

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")

REF = "#/components/schemas/{model}"
_MODELS: list[type[BaseModel]] = [
    schemas.EnrichedPaper,
    schemas.Pending,
    schemas.ResolveResult,
    schemas.BatchRequest,
    schemas.BatchResponse,
    schemas.ErrorResponse,
    schemas.Health,
]


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _answer(description: str, model: type[BaseModel]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(status): _answer("Error", schemas.ErrorResponse) for status in statuses}


_ID_PARAM = {
    "name": "paper_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "A paper id such as arxiv:2205.13147 or doi:10.1145/3292500.3330648.",
}

PATHS: dict[str, Any] = {
    "/api/v1/resolve": {
        "get": {
            "summary": "Turn a page address into a paper id",
            "parameters": [
                {"name": "url", "in": "query", "required": True, "schema": {"type": "string"}},
                *[
                    {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
                    for name in ("citation_doi", "citation_arxiv_id", "citation_title")
                ],
            ],
            "responses": {
                "200": _answer("The paper the address names", schemas.ResolveResult),
                **_errors(422),
            },
        }
    },
    "/api/v1/papers/{paper_id}": {
        "get": {
            "summary": "One paper with its code links and related papers",
            "parameters": [_ID_PARAM],
            "responses": {
                "200": _answer("The enriched paper", schemas.EnrichedPaper),
                "202": _answer("Being computed; retry after Retry-After seconds", schemas.Pending),
                **_errors(404, 422, 429, 503),
            },
        }
    },
    "/api/v1/papers/batch": {
        "post": {
            "summary": "Many papers in one request (listing pages)",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref(schemas.BatchRequest)}},
            },
            "responses": {
                "200": _answer("One item per input", schemas.BatchResponse),
                **_errors(400, 413, 415, 422, 503),
            },
        }
    },
    "/healthz": {
        "get": {"summary": "The process is up", "responses": {"200": _answer("Up", schemas.Health)}}
    },
    "/readyz": {
        "get": {
            "summary": "Redis and the SQL store are reachable",
            "responses": {
                "200": _answer("Ready", schemas.Health),
                "503": _answer("Not ready", schemas.Health),
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
    return jsonify(document())
