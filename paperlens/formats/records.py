"""One saved paper as every export format needs it: metadata, ids, links and the reader's notes."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bibtexparser.middlewares.names import parse_single_name_into_parts

from paperlens.schemas import PublishedVersion
from paperlens.store.library import SavedPaper

_WORD = re.compile(r"[a-z0-9]+")
_SKIP_WORDS = frozenset({"a", "an", "the", "on", "of", "in", "for", "to", "and", "with", "is"})

# Landing pages of the schemes that have one; other ids are exported without a URL.
_LANDING_PAGES = {
    "arxiv": "https://arxiv.org/abs/{}",
    "doi": "https://doi.org/{}",
    "openreview": "https://openreview.net/forum?id={}",
    "acl": "https://aclanthology.org/{}",
    "pmid": "https://pubmed.ncbi.nlm.nih.gov/{}/",
    "pmcid": "https://pmc.ncbi.nlm.nih.gov/articles/{}/",
    "ieee": "https://ieeexplore.ieee.org/document/{}",
}
# How the note of an exported published version names the source that gave it.
_SOURCE_NAMES = {
    "dblp": "DBLP",
    "crossref": "Crossref",
    "semantic_scholar": "Semantic Scholar",
    "openalex": "OpenAlex",
}


@dataclass
class ExportRecord:
    paper_id: str
    key: str
    title: str
    authors: list[str]
    published: dt.date | None
    year: int | None
    abstract: str
    venue: str | None
    arxiv_id: str | None
    primary_class: str | None
    doi: str | None
    url: str | None
    status: str
    tags: list[str]
    note: str
    saved_at: dt.datetime
    ids: list[str] = field(default_factory=list)
    # Set for a preprint whose published version is known: exported as that version.
    published_version: PublishedVersion | None = None

    @property
    def version_note(self) -> str | None:
        """Which version an export chose, said in the entry itself; None for a plain entry."""
        version = self.published_version
        if version is None:
            return None
        source = _SOURCE_NAMES.get(version.source, version.source)
        where = " ".join(part for part in (version.venue, str(version.year or "")) if part)
        return f"Published version ({where}, as {source} gives it); preprint arXiv:{self.arxiv_id}"


def export_records(
    saved: Iterable[SavedPaper], published: Mapping[str, PublishedVersion] | None = None
) -> list[ExportRecord]:
    """Records with citation keys unique within the export; a preprint with an entry in
    ``published`` (by paper id) is exported as its published version, its arXiv id kept."""
    records: list[ExportRecord] = []
    used: set[str] = set()
    for item in saved:
        record = _record(item, (published or {}).get(item.paper_id))
        record.key = _unique_key(record.key, used)
        records.append(record)
    return records


def _record(item: SavedPaper, version: PublishedVersion | None) -> ExportRecord:
    entry, paper = item.entry, item.paper
    ids = paper.ids if paper is not None else [entry.paper_id]
    details = dict(entry.details or {})
    arxiv_id = _value_of("arxiv", ids)
    doi = _value_of("doi", ids) or details.get("doi")
    categories = list(paper.categories or []) if paper is not None else []
    published = item.published
    year = published.year if published else _int(details.get("year"))
    title = item.title or item.paper_id
    if arxiv_id is None:
        version = None
    if version is not None:
        year = version.year or year
        doi = version.doi or doi
    return ExportRecord(
        paper_id=item.paper_id,
        key=citation_key(item.authors, year, title),
        title=title,
        authors=item.authors,
        published=published,
        year=year,
        abstract=paper.abstract if paper is not None else "",
        venue=(paper.venue if paper is not None else None) or details.get("venue"),
        arxiv_id=arxiv_id,
        primary_class=categories[0] if categories else None,
        doi=doi,
        url=landing_page(item.paper_id) or details.get("url"),
        status=entry.status,
        tags=entry.tag_names,
        note=entry.note,
        saved_at=entry.saved_at,
        ids=ids,
        published_version=version,
    )


def landing_page(paper_id: str) -> str | None:
    scheme, _, value = paper_id.partition(":")
    template = _LANDING_PAGES.get(scheme)
    return template.format(value) if template else None


def citation_key(authors: list[str], year: int | None, title: str) -> str:
    """``lastname2024word``, in ASCII letters and digits so that every BibTeX tool accepts it."""
    family = family_name(authors[0]) if authors else ""
    words = [w for w in _WORD.findall(_ascii(title)) if w not in _SKIP_WORDS]
    word = words[0] if words else ""
    if family:
        key = f"{_ascii(family).replace(' ', '')}{year or ''}{word}"
    else:  # without an author the title leads, so that the key starts with a letter
        key = f"{word}{year or ''}"
    key = "".join(_WORD.findall(key))
    return key or "paper"


def family_name(name: str) -> str:
    parts = split_name(name)
    return parts[0]


def split_name(name: str) -> tuple[str, str]:
    """(family, given) of a display name such as 'Aditya Kusupati' or 'Vincent van Gogh'."""
    try:
        parts = parse_single_name_into_parts(name, strict=False)
    except Exception:  # the name parser refuses odd input; the whole name is then the family
        return name, ""
    family = " ".join([*parts.von, *parts.last])
    given = " ".join([*parts.first, *parts.jr])
    return (family or name), given


def _unique_key(key: str, used: set[str]) -> str:
    candidate, suffix = key, 0
    while candidate in used:
        suffix += 1
        candidate = key + _letters(suffix)
    used.add(candidate)
    return candidate


def _letters(number: int) -> str:
    """1 -> 'a', 26 -> 'z', 27 -> 'aa': the suffixes reference managers add to clashing keys."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def _value_of(scheme: str, ids: list[str]) -> str | None:
    for paper_id in ids:
        if paper_id.startswith(f"{scheme}:"):
            return paper_id[len(scheme) + 1 :]
    return None


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None
