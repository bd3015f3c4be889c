"""Fetching a paper the catalogue lacks from the source that holds its id.

Only ids of fixed schemes are fetched, and only from the configured sources: an
arXiv id from the arXiv API, a DOI from Crossref (or OpenAlex when Crossref is off).
A record's ids are the ones the source gives the work it sent, never the id that was
asked for: a record that does not carry the asked id is no answer at all, so that no
one can attach an id of their choosing to a paper of the catalogue.
"""

from __future__ import annotations

from paperlens.identifiers import parse_paper_id
from paperlens.schemas import PaperRecord
from paperlens.settings import Settings
from worker.sources import arxiv_api, crossref, openalex
from worker.sources.http import SourceSession

# Kept in the paper's ``extra``, so that its enrichment names where the metadata came from.
METADATA_SOURCE = "metadata_source"


def fetch_record(http: SourceSession, settings: Settings, paper_id: str) -> PaperRecord | None:
    """The paper's record from its source; None when the source says it has no such paper."""
    found = _fetch(http, settings, paper_id)
    if found is None:
        return None
    record, source = found
    return record.model_copy(update={"extra": {**record.extra, METADATA_SOURCE: source}})


def _fetch(
    http: SourceSession, settings: Settings, paper_id: str
) -> tuple[PaperRecord, str] | None:
    scheme, _, value = paper_id.partition(":")
    if scheme == "arxiv" and "arxiv" in settings.sources:
        records = arxiv_api.fetch_ids(http, [value])
        named = next((record for record in records if paper_id in record.ids), None)
        return (named, "arxiv") if named is not None else None
    if scheme == "doi" and "crossref" in settings.sources:
        record = crossref.work(http, value)
        if record is not None and paper_id in record.ids:
            return record, "crossref"
    if scheme == "doi" and "openalex" in settings.sources:
        work = openalex.work(http, paper_id)
        record = _openalex_record(work) if work is not None else None
        if record is not None and paper_id in record.ids:
            return record, "openalex"
    return None


def _openalex_record(work: openalex.Work) -> PaperRecord | None:
    """The work as OpenAlex names it: its DOI (an arXiv DataCite DOI names the arXiv id)."""
    ref = parse_paper_id(f"doi:{work.doi}") if work.doi else None
    if ref is None or not work.title:
        return None
    ids = [ref.paper_id]
    if work.arxiv_id and (arxiv := parse_paper_id(f"arxiv:{work.arxiv_id}")) is not None:
        ids = list(dict.fromkeys([*ids, arxiv.paper_id]))
    return PaperRecord(ids=ids, title=work.title)
