"""DBLP: the published version of a computer-science preprint, from DBLP's publication search.

DBLP lists an arXiv paper twice once it is published: as a CoRR record (``journals/corr/...``,
the preprint) and as the conference or journal record. Its search API needs no key and
answers ``{"result": {"hits": {"hit": [{"info": {...}}]}}}``; a field with one value is an
object or a string where several would be a list, so every field is read both ways.

A search matches words, not papers, so a record counts as the published version only when
its title is the paper's title once normalised and it shares an author surname with the
paper: a different paper with the same title is left alone.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from paperlens.schemas import EntryType
from worker.sources.http import MalformedResponse, SourceSession

SOURCE = "dblp"
# Enough hits for a paper's preprint, published record and a few namesakes.
SEARCH_HITS = 10
# DBLP's record types that are a published version, and the BibTeX entry type of each.
ENTRY_TYPES: dict[str, EntryType] = {
    "Conference and Workshop Papers": "inproceedings",
    "Journal Articles": "article",
}
PREPRINT_KEY_PREFIX = "journals/corr/"
_NOT_WORD = re.compile(r"[^a-z0-9]+")


@dataclass
class DblpRecord:
    """One DBLP publication record, as its search hit describes it."""

    key: str
    title: str
    authors: list[str] = field(default_factory=list)
    venue: str | None = None
    year: int | None = None
    pages: str | None = None
    doi: str | None = None
    record_type: str = ""

    @property
    def entry_type(self) -> EntryType | None:
        """``inproceedings`` or ``article`` for a published record; None for anything else."""
        if self.key.startswith(PREPRINT_KEY_PREFIX):
            return None
        return ENTRY_TYPES.get(self.record_type)


def search(session: SourceSession, title: str) -> list[DblpRecord]:
    """The records DBLP's publication search finds for ``title``."""
    body = session.get_json(
        SOURCE, ["search", "publ", "api"], {"q": title, "format": "json", "h": SEARCH_HITS}
    )
    if body is None:
        return []
    result = body.get("result") if isinstance(body, dict) else None
    hits = result.get("hits") if isinstance(result, dict) else None
    if not isinstance(hits, dict):
        raise MalformedResponse("dblp: expected an object with 'result.hits'")
    found = []
    for hit in _many(hits.get("hit")):
        info = hit.get("info") if isinstance(hit, dict) else None
        if not isinstance(info, dict):
            raise MalformedResponse("dblp: a hit without 'info'")
        record = _record(info)
        if record is not None:
            found.append(record)
    return found


def published_version(
    session: SourceSession, title: str, authors: Sequence[str]
) -> DblpRecord | None:
    """The conference or journal record of the paper titled ``title`` by ``authors``, if any."""
    if not normalised_title(title) or not authors:
        return None
    return match(search(session, title), title, authors)


def match(records: Sequence[DblpRecord], title: str, authors: Sequence[str]) -> DblpRecord | None:
    """The first published record with the same normalised title and a shared author surname."""
    wanted = normalised_title(title)
    surnames = {_surname(name) for name in authors} - {""}
    for record in records:
        if record.entry_type is None or normalised_title(record.title) != wanted:
            continue
        if surnames & {_surname(name) for name in record.authors}:
            return record
    return None


def normalised_title(title: str) -> str:
    """A title as compared across sources: no accents, case, punctuation or extra spaces."""
    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return " ".join(_NOT_WORD.sub(" ", plain.lower()).split())


def _record(info: dict[str, Any]) -> DblpRecord | None:
    key = info.get("key")
    title = info.get("title")
    if not isinstance(key, str) or not isinstance(title, str):
        return None
    listed = info.get("authors")
    authors = [
        author.get("text") if isinstance(author, dict) else author
        for author in _many(listed.get("author") if isinstance(listed, dict) else None)
    ]
    venue = next(iter(_many(info.get("venue"))), None)
    year = str(info.get("year") or "")
    doi = info.get("doi")
    pages = info.get("pages")
    return DblpRecord(
        key=key,
        title=" ".join(title.split()).removesuffix("."),
        authors=[name for name in authors if isinstance(name, str) and name],
        venue=venue if isinstance(venue, str) and venue else None,
        year=int(year) if year.isdigit() else None,
        pages=pages if isinstance(pages, str) and pages else None,
        doi=doi.lower() if isinstance(doi, str) and doi else None,
        record_type=str(info.get("type") or ""),
    )


def _many(value: Any) -> list[Any]:
    """DBLP writes a one-element list as the element itself."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _surname(name: str) -> str:
    """The last word of a name, normalised; DBLP adds a number to tell namesakes apart."""
    words = [word for word in normalised_title(name).split() if not word.isdigit()]
    return words[-1] if words else ""
