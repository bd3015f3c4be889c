"""Semantic Scholar Graph API: a paper by arXiv id or DOI (external ids, citation
count, TLDR) and the papers its recommender suggests.

Plain HTTP through the shared session: the two endpoints used need no client
library, and the shared session carries the API key header and rate limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from worker.sources.http import MalformedResponse, SourceSession

SOURCE = "semantic_scholar"
PAPER_FIELDS = "paperId,externalIds,title,citationCount,tldr,venue,publicationVenue,year,journal"
RECOMMENDATION_FIELDS = "paperId,externalIds,title"
RECOMMENDATION_LIMIT = 10


@dataclass
class ScholarPaper:
    paper_id: str
    title: str
    external_ids: dict[str, str] = field(default_factory=dict)
    citation_count: int | None = None
    tldr: str | None = None
    # Where it was published: the venue's name and type ("conference", "journal"...), the
    # year and the pages in that venue's journal.
    venue: str | None = None
    venue_type: str | None = None
    year: int | None = None
    pages: str | None = None


def lookup_key(paper_id: str) -> str | None:
    """The Graph API's spelling of a PaperLens id, for the schemes it accepts."""
    scheme, _, value = paper_id.partition(":")
    prefixes = {
        "arxiv": "ARXIV",
        "doi": "DOI",
        "corpusid": "CorpusId",
        "acl": "ACL",
        "pmid": "PMID",
    }
    if scheme == "s2":
        return value
    return f"{prefixes[scheme]}:{value}" if scheme in prefixes else None


def paper(session: SourceSession, paper_id: str) -> ScholarPaper | None:
    key = lookup_key(paper_id)
    if key is None:
        return None
    body = session.get_json(
        SOURCE, ["graph", "v1", "paper", *key.split("/")], {"fields": PAPER_FIELDS}
    )
    return None if body is None else _scholar_paper(body)


def recommendations(session: SourceSession, s2_paper_id: str) -> list[ScholarPaper]:
    body = session.get_json(
        SOURCE,
        ["recommendations", "v1", "papers", "forpaper", s2_paper_id],
        {"fields": RECOMMENDATION_FIELDS, "limit": RECOMMENDATION_LIMIT},
    )
    if body is None:
        return []
    found = body.get("recommendedPapers") if isinstance(body, dict) else None
    if not isinstance(found, list):
        raise MalformedResponse("semantic scholar recommendations: no 'recommendedPapers' list")
    return [_scholar_paper(entry) for entry in found]


def _scholar_paper(body: Any) -> ScholarPaper:
    if not isinstance(body, dict) or not isinstance(body.get("paperId"), str):
        raise MalformedResponse("semantic scholar paper: expected an object with 'paperId'")
    external = body.get("externalIds") or {}
    tldr = body.get("tldr")
    count = body.get("citationCount")
    venue = body.get("publicationVenue")
    venue = venue if isinstance(venue, dict) else {}
    journal = body.get("journal")
    journal = journal if isinstance(journal, dict) else {}
    year = body.get("year")
    return ScholarPaper(
        paper_id=body["paperId"],
        title=" ".join(str(body.get("title") or "").split()),
        external_ids={str(k): str(v) for k, v in external.items() if v is not None},
        citation_count=count if isinstance(count, int) else None,
        tldr=tldr.get("text") if isinstance(tldr, dict) and tldr.get("text") else None,
        venue=_text(venue.get("name")) or _text(body.get("venue")),
        venue_type=_text(venue.get("type")),
        year=year if isinstance(year, int) else None,
        pages=_text(journal.get("pages")),
    )


def _text(value: Any) -> str | None:
    """A non-blank string from the answer, spaces tidied; None for anything else."""
    return (" ".join(value.split()) or None) if isinstance(value, str) else None
