"""Crossref: metadata of a DOI, for papers that are not on arXiv.

Plain HTTP through the shared session: ``habanero`` can be given a base URL but
sends every request with module-level ``httpx2`` calls, outside any session, so the
shared rate limit, retries and cache could not apply to it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from paperlens.identifiers import parse_paper_id
from paperlens.schemas import PaperRecord
from worker.sources.http import MalformedResponse, SourceSession

SOURCE = "crossref"
_TAGS = re.compile(r"<[^>]+>")


def work(session: SourceSession, doi: str) -> PaperRecord | None:
    """The catalogue record Crossref's ``/works/{doi}`` describes, or None when unknown."""
    body = session.get_json(SOURCE, ["works", *doi.split("/")])
    if body is None:
        return None
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, dict):
        raise MalformedResponse("crossref: expected an object with a 'message'")
    return to_record(message)


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
