"""OpenAlex: a work by DOI or arXiv id (referenced works, related works, open-access
location) and the titles of the related works.

Plain HTTP through the shared session: ``pyalex`` builds every entity URL on the fixed
host ``api.openalex.org`` (its ``openalex_url`` setting is not used for entity paths),
so it cannot be pointed at a test server or share our rate limit and cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from worker.sources.http import MalformedResponse, SourceSession

SOURCE = "openalex"
RELATED_LIMIT = 10
WORK_FIELDS = (
    "id,doi,display_name,ids,open_access,best_oa_location,referenced_works,related_works,"
    "cited_by_count,publication_year,biblio,locations"
)
# The kinds of OpenAlex source a published version appears in (others are repositories...).
PUBLISHING_SOURCE_TYPES = frozenset({"journal", "conference"})


@dataclass
class Work:
    openalex_id: str
    title: str
    doi: str | None = None
    arxiv_id: str | None = None
    oa_url: str | None = None
    referenced_works: list[str] = field(default_factory=list)
    related_works: list[str] = field(default_factory=list)
    cited_by_count: int | None = None
    year: int | None = None
    pages: str | None = None
    published_in: PublishedLocation | None = None


@dataclass(frozen=True)
class PublishedLocation:
    """A location of the work OpenAlex marks as the published version, in a journal or
    conference; ``doi`` is the DOI of its landing page when that is a DOI address."""

    venue: str
    venue_type: str
    doi: str | None = None


def lookup_doi(paper_id: str) -> str | None:
    """The DOI OpenAlex indexes a PaperLens id under (arXiv papers have DataCite DOIs)."""
    scheme, _, value = paper_id.partition(":")
    if scheme == "doi":
        return value
    if scheme == "arxiv":
        return f"10.48550/arxiv.{value}"
    return None


def work(session: SourceSession, paper_id: str) -> Work | None:
    doi = lookup_doi(paper_id)
    if doi is None:
        return None
    body = session.get_json(SOURCE, ["works", *f"doi:{doi}".split("/")], {"select": WORK_FIELDS})
    return None if body is None else _work(body)


def works_by_id(session: SourceSession, openalex_ids: list[str]) -> list[Work]:
    """Several works in one request (the related works, to show their titles)."""
    short = [_short_id(value) for value in openalex_ids[:RELATED_LIMIT]]
    if not short:
        return []
    body = session.get_json(
        SOURCE,
        ["works"],
        {"filter": "openalex:" + "|".join(short), "select": WORK_FIELDS, "per-page": len(short)},
    )
    results = body.get("results") if isinstance(body, dict) else None
    if body is not None and not isinstance(results, list):
        raise MalformedResponse("openalex works: no 'results' list")
    return [_work(entry) for entry in results or []]


def _work(body: Any) -> Work:
    if not isinstance(body, dict) or not isinstance(body.get("id"), str):
        raise MalformedResponse("openalex work: expected an object with an 'id'")
    ids = body.get("ids") or {}
    location = body.get("best_oa_location") or {}
    open_access = body.get("open_access") or {}
    doi = _strip_doi(body.get("doi") or ids.get("doi"))
    return Work(
        openalex_id=_short_id(body["id"]),
        title=" ".join(str(body.get("display_name") or body.get("title") or "").split()),
        doi=doi,
        arxiv_id=_arxiv_from_doi(doi),
        oa_url=location.get("pdf_url")
        or location.get("landing_page_url")
        or open_access.get("oa_url"),
        referenced_works=[_short_id(w) for w in body.get("referenced_works") or []],
        related_works=[_short_id(w) for w in body.get("related_works") or []],
        cited_by_count=cited if isinstance(cited := body.get("cited_by_count"), int) else None,
        year=year if isinstance(year := body.get("publication_year"), int) else None,
        pages=_pages(body.get("biblio")),
        published_in=_published_location(body.get("locations")),
    )


def _published_location(locations: Any) -> PublishedLocation | None:
    """The first location that is the published version in a journal or a conference."""
    for location in locations if isinstance(locations, list) else []:
        if not isinstance(location, dict) or location.get("version") != "publishedVersion":
            continue
        source = location.get("source")
        if not isinstance(source, dict) or source.get("type") not in PUBLISHING_SOURCE_TYPES:
            continue
        name = source.get("display_name")
        if isinstance(name, str) and name.strip():
            landing = _strip_doi(location.get("landing_page_url"))
            doi = landing if landing and landing.startswith("10.") else None
            return PublishedLocation(" ".join(name.split()), str(source["type"]), doi)
    return None


def _pages(biblio: Any) -> str | None:
    """``first-last`` from the work's ``biblio``, or the first page alone."""
    if not isinstance(biblio, dict):
        return None
    first, last = biblio.get("first_page"), biblio.get("last_page")
    if not isinstance(first, str) or not first:
        return None
    return f"{first}-{last}" if isinstance(last, str) and last and last != first else first


def _short_id(value: str) -> str:
    return str(value).rsplit("/", 1)[-1]


def _strip_doi(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    return value.lower().removeprefix("https://doi.org/").removeprefix("http://doi.org/")


def _arxiv_from_doi(doi: str | None) -> str | None:
    prefix = "10.48550/arxiv."
    return doi[len(prefix) :] if doi and doi.startswith(prefix) else None
