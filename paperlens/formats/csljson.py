"""CSL-JSON, the citation format of Zotero, Mendeley, Pandoc and citeproc."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from paperlens.formats.records import ExportRecord, split_name
from paperlens.schemas import PublishedVersion


def to_csljson(records: Sequence[ExportRecord]) -> bytes:
    return orjson.dumps([_item(record) for record in records], option=orjson.OPT_INDENT_2)


# CSL's item type of each published entry type.
_CSL_TYPES = {"inproceedings": "paper-conference", "article": "article-journal"}


def _item(record: ExportRecord) -> dict[str, Any]:
    version = record.published_version
    if version is not None:
        return _published_item(record, version)
    item: dict[str, Any] = {
        "id": record.key,
        "type": "article-journal" if record.venue and not record.arxiv_id else "article",
        "title": record.title,
        "author": [_name(author) for author in record.authors],
    }
    if record.published is not None:
        parts = [record.published.year, record.published.month, record.published.day]
        item["issued"] = {"date-parts": [parts]}
    elif record.year:
        item["issued"] = {"date-parts": [[record.year]]}
    if record.venue:
        item["container-title"] = record.venue
    if record.arxiv_id:
        item["publisher"] = "arXiv"
        item["number"] = f"arXiv:{record.arxiv_id}"
    optional = {
        "DOI": record.doi,
        "URL": record.url,
        "abstract": record.abstract,
        "keyword": ", ".join(record.tags),
        "note": record.note,
    }
    item.update({name: value for name, value in optional.items() if value})
    return item


def _published_item(record: ExportRecord, version: PublishedVersion) -> dict[str, Any]:
    """The published paper; its preprint kept as the archive location, and the note says so."""
    item: dict[str, Any] = {
        "id": record.key,
        "type": _CSL_TYPES[version.entry_type],
        "title": record.title,
        "author": [_name(author) for author in record.authors],
        "container-title": version.venue,
        "archive": "arXiv",
        "archive_location": f"arXiv:{record.arxiv_id}",
    }
    if record.year:
        item["issued"] = {"date-parts": [[record.year]]}
    optional = {
        "DOI": record.doi,
        "page": version.pages,
        "URL": record.url,
        "abstract": record.abstract,
        "keyword": ", ".join(record.tags),
        "note": "\n".join(note for note in (record.note, record.version_note) if note),
    }
    item.update({name: value for name, value in optional.items() if value})
    return item


def _name(display: str) -> dict[str, str]:
    family, given = split_name(display)
    if not given:
        return {"literal": display}
    return {"family": family, "given": given}
