"""The pieces the OpenAPI path tables are written with (``server.openapi``, the public
endpoints, and ``server.openapi_me``, the reader's): each answer and body names the pydantic
model it is, by a reference into the component schemas generated from those models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from paperlens.schemas import ErrorResponse

REF = "#/components/schemas/{model}"


def path(name: str, description: str) -> dict[str, Any]:
    """A parameter that is a segment of the path (a string, as every one of ours is)."""
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": description,
    }


PAPER_ID = path(
    "paper_id",
    "Any id or page URL of the paper, such as arxiv:2205.13147 or doi:10.1145/3292500.3330648.",
)


def ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def answer(description: str, model: type[BaseModel]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ref(model)}}}


def errors(*statuses: int) -> dict[str, Any]:
    """The error answers an operation may give, all in the one error shape."""
    error = answer("Error", ErrorResponse)
    return {str(status): error for status in statuses}


def query(
    name: str,
    description: str,
    schema: dict[str, Any] | None = None,
    required: bool = False,
) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema or {"type": "string"},
        "description": description,
    }


def json_request(model: type[BaseModel], required: bool = True) -> dict[str, Any]:
    """A JSON request body; ``required=False`` where no body at all is read as ``{}``."""
    return {"required": required, "content": {"application/json": {"schema": ref(model)}}}
