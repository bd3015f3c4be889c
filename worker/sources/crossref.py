"""Crossref: metadata of a DOI, for papers that are not on arXiv.

Plain HTTP through the shared session: ``habanero`` can be given a base URL but
sends every request with module-level ``httpx2`` calls, outside any session, so the
shared rate limit, retries and cache could not apply to it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from paperlens.identifiers import parse_paper_id
from paperlens.schemas import PaperRecord
from worker.sources.http import MalformedResponse, SourceSession

SOURCE = "crossref"
_TAGS = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Venue:
    """Where the work with ``doi`` appeared: its container, Crossref's work type, year, pages."""

    doi: str
    container: str
    work_type: str
    year: int | None
    pages: str | None


def work(session: SourceSession, doi: str) -> PaperRecord | None:
    """The catalogue record Crossref's ``/works/{doi}`` describes, or None when unknown."""
    message = _message(session, doi)
    return None if message is None else to_record(message)


def venue(session: SourceSession, doi: str) -> Venue | None:
    """Where Crossref says the work with ``doi`` appeared, or None when unknown or unsaid."""
    message = _message(session, doi)
    if message is None:
        return None
    container = " ".join(" ".join(message.get("container-title") or []).split())
    registered = message.get("DOI")
    work_type = message.get("type")
    if not container or not isinstance(registered, str) or not isinstance(work_type, str):
        return None
    issued = _issued(message)
    page = message.get("page")
    return Venue(
        doi=registered.lower(),
        container=container,
        work_type=work_type,
        year=issued.year if issued else None,
        pages=page if isinstance(page, str) and page else None,
    )


def _message(session: SourceSession, doi: str) -> dict[str, Any] | None:
    body = session.get_json(SOURCE, ["works", *doi.split("/")])
    if body is None:
        return None
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, dict):
        raise MalformedResponse("crossref: expected an object with a 'message'")
    return message


def to_record(message: dict[str, Any]) -> PaperRecord | None:
    """The record of the work Crossref describes, named by the DOI Crossref gives it."""
    doi = message.get("DOI")
    ref = parse_paper_id(f"doi:{doi}") if isinstance(doi, str) else None
    title = " ".join(" ".join(message.get("title") or []).split())
    if ref is None or not title:
        return None
    authors = [
        " ".join(part for part in (a.get("given"), a.get("family")) if part) or a.get("name", "")
        for a in message.get("author") or []
        if isinstance(a, dict)
    ]
    venue = next(iter(message.get("container-title") or []), None)
    return PaperRecord(
        ids=[ref.paper_id],
        title=title,
        abstract=" ".join(_TAGS.sub(" ", message.get("abstract") or "").split()),
        authors=[name for name in authors if name],
        published=_issued(message),
        venue=venue or None,
    )


def _issued(message: dict[str, Any]) -> dt.date | None:
    for name in ("published", "issued", "published-print", "published-online", "created"):
        parts = (message.get(name) or {}).get("date-parts") or [[]]
        first = parts[0] if parts else []
        if first and all(isinstance(p, int) for p in first):
            year, month, day = ([*first, 1, 1])[:3]
            try:
                return dt.date(year, month, day)
            except ValueError:
                continue
    return None
