"""The published version of a preprint, and the ids the sources say it also has.

Each source's answer becomes a ``PublishedVersion`` only when it names a conference or a
journal (never a preprint server), and the first in this order wins:

1. DBLP: curated by hand venue by venue for computer science, matched conservatively (same
   normalised title, an author in common), and its record type is the entry type itself.
2. Crossref: the record the publisher deposited for a DOI that Semantic Scholar or OpenAlex
   give the paper; asked only when DBLP has nothing, since it costs one more request.
3. Semantic Scholar: its typed ``publicationVenue``, merged by machine from many feeds.
4. OpenAlex: a location marked as the published version; also merged by machine, and the
   work it finds by the arXiv DOI is often the preprint's own record.

A DOI joins the paper's ids only when a source's own record of the paper names it (Semantic
Scholar's external ids, OpenAlex's work found by the arXiv DOI): a DBLP match is found by
title, which is this module's inference, not the source's word, so it adds no alias.
"""

from __future__ import annotations

from paperlens.identifiers import parse_paper_id
from paperlens.schemas import EntryType, PublishedVersion
from worker.sources import crossref, dblp, openalex, semantic_scholar

# Venue types, as Semantic Scholar and OpenAlex name them, and the entry type of each.
VENUE_ENTRY_TYPES: dict[str, EntryType] = {"conference": "inproceedings", "journal": "article"}
CROSSREF_ENTRY_TYPES: dict[str, EntryType] = {
    "proceedings-article": "inproceedings",
    "journal-article": "article",
}
# Venues that are where preprints live, never a published version (compared lower-cased).
PREPRINT_VENUES = frozenset({"arxiv", "arxiv.org", "corr", "biorxiv", "medrxiv", "ssrn"})


def choose(
    from_dblp: dblp.DblpRecord | None,
    from_crossref: crossref.Venue | None,
    scholar: semantic_scholar.ScholarPaper | None,
    work: openalex.Work | None,
) -> PublishedVersion | None:
    """The first trustworthy published version, in the order the module describes."""
    for found in (
        _from_dblp(from_dblp),
        _from_crossref(from_crossref),
        _from_scholar(scholar),
        _from_openalex(work),
    ):
        if found is not None:
            return found
    return None


def said_dois(
    scholar: semantic_scholar.ScholarPaper | None, work: openalex.Work | None
) -> list[str]:
    """The DOIs (as ``doi:`` ids) that the sources' records of the paper name, arXiv's aside."""
    named = [
        scholar.external_ids.get("DOI") if scholar is not None else None,
        work.doi if work is not None else None,
    ]
    found: list[str] = []
    for doi in named:
        paper_id = _doi_id(doi)
        if paper_id is not None and paper_id not in found:
            found.append(paper_id)
    return found


def _from_dblp(record: dblp.DblpRecord | None) -> PublishedVersion | None:
    if record is None or record.entry_type is None or not _is_venue(record.venue):
        return None
    return PublishedVersion(
        venue=str(record.venue),
        year=record.year,
        doi=_doi(record.doi),
        pages=record.pages,
        entry_type=record.entry_type,
        source=dblp.SOURCE,
    )


def _from_crossref(venue: crossref.Venue | None) -> PublishedVersion | None:
    entry_type = CROSSREF_ENTRY_TYPES.get(venue.work_type) if venue is not None else None
    if venue is None or entry_type is None or not _is_venue(venue.container):
        return None
    return PublishedVersion(
        venue=venue.container,
        year=venue.year,
        doi=_doi(venue.doi),
        pages=venue.pages,
        entry_type=entry_type,
        source=crossref.SOURCE,
    )


def _from_scholar(paper: semantic_scholar.ScholarPaper | None) -> PublishedVersion | None:
    if paper is None or paper.venue_type is None or not _is_venue(paper.venue):
        return None
    entry_type = VENUE_ENTRY_TYPES.get(paper.venue_type)
    if entry_type is None:
        return None
    return PublishedVersion(
        venue=str(paper.venue),
        year=paper.year,
        doi=_doi(paper.external_ids.get("DOI")),
        pages=paper.pages,
        entry_type=entry_type,
        source=semantic_scholar.SOURCE,
    )


def _from_openalex(work: openalex.Work | None) -> PublishedVersion | None:
    location = work.published_in if work is not None else None
    if work is None or location is None or not _is_venue(location.venue):
        return None
    return PublishedVersion(
        venue=location.venue,
        year=work.year,
        doi=_doi(location.doi) or _doi(work.doi),
        pages=work.pages,
        entry_type=VENUE_ENTRY_TYPES[location.venue_type],
        source=openalex.SOURCE,
    )


def _is_venue(name: str | None) -> bool:
    return bool(name and name.strip()) and str(name).strip().lower() not in PREPRINT_VENUES


def _doi(value: str | None) -> str | None:
    """A DOI as PaperLens spells it (``10.…``, lower case), arXiv's own left out."""
    paper_id = _doi_id(value)
    return paper_id.removeprefix("doi:") if paper_id is not None else None


def _doi_id(value: str | None) -> str | None:
    """``doi:…`` for a DOI; None for arXiv's own DOIs, which parse as the arXiv id."""
    ref = parse_paper_id(f"doi:{value}") if value else None
    return ref.paper_id if ref is not None and ref.paper_id.startswith("doi:") else None
