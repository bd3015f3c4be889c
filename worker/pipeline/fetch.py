"""Fetching a paper the catalogue lacks from the source that holds its id.

Only ids of fixed schemes are fetched, and only from the configured sources: an
arXiv id from the arXiv API, a DOI from Crossref (or OpenAlex when Crossref is off).
"""

from __future__ import annotations

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
        found = arxiv_api.fetch_ids(http, [value])
        return (found[0], "arxiv") if found else None
    if scheme == "doi" and "crossref" in settings.sources:
        record = crossref.work(http, value)
        if record is not None:
            return record, "crossref"
    if scheme == "doi" and "openalex" in settings.sources:
        work = openalex.work(http, paper_id)
        if work is not None and work.title:
            ids = [paper_id] + ([f"arxiv:{work.arxiv_id}"] if work.arxiv_id else [])
            return PaperRecord(ids=ids, title=work.title), "openalex"
    return None
