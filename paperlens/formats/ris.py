"""RIS, the tagged format EndNote, Zotero, Mendeley and most databases exchange.

RIS is read line by line, a tag at the start of each: every value is written on one
line (line breaks and control characters become spaces), so no value can start a
tag, end a record or begin another one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import rispy

from paperlens.formats.escaping import one_line, url_text
from paperlens.formats.records import ExportRecord, split_name
from paperlens.schemas import PublishedVersion


def to_ris(records: Sequence[ExportRecord]) -> str:
    return str(rispy.dumps([_one_line(_reference(record)) for record in records]))


def _one_line(reference: dict[str, Any]) -> dict[str, Any]:
    return {
        name: [one_line(item) for item in value] if isinstance(value, list) else one_line(value)
        for name, value in reference.items()
    }


# RIS's reference type of each published entry type.
_RIS_TYPES = {"inproceedings": "CONF", "article": "JOUR"}


def _reference(record: ExportRecord) -> dict[str, Any]:
    version = record.published_version
    if version is not None:
        return _published_reference(record, version)
    reference: dict[str, Any] = {
        "type_of_reference": "JOUR" if record.venue and not record.arxiv_id else "GEN",
        "id": record.key,
        "title": record.title,
        "authors": [_name(author) for author in record.authors],
    }
    if record.year:
        reference["year"] = str(record.year)
    if record.published is not None:
        reference["date"] = record.published.strftime("%Y/%m/%d")
    if record.arxiv_id:
        reference["publisher"] = "arXiv"
        reference["note"] = f"arXiv:{record.arxiv_id}"
    optional: dict[str, Any] = {
        "journal_name": record.venue,
        "doi": record.doi,
        # Readers split a UR line on ';', so a link keeps its own encoded.
        "urls": [url_text(record.url, also_encode=";")] if record.url else None,
        "abstract": record.abstract,
        "keywords": record.tags,
        "notes": [record.note] if record.note else None,
    }
    reference.update({name: value for name, value in optional.items() if value})
    return reference


def _published_reference(record: ExportRecord, version: PublishedVersion) -> dict[str, Any]:
    """The published paper (CONF with T2, or JOUR with JO); the preprint's id stays in M1 and
    an N1 note says which version this is."""
    container = "secondary_title" if version.entry_type == "inproceedings" else "journal_name"
    first, _, last = (version.pages or "").partition("-")
    reference: dict[str, Any] = {
        "type_of_reference": _RIS_TYPES[version.entry_type],
        "id": record.key,
        "title": record.title,
        "authors": [_name(author) for author in record.authors],
        container: version.venue,
        "note": f"arXiv:{record.arxiv_id}",
    }
    optional: dict[str, Any] = {
        "year": str(record.year) if record.year else None,
        "doi": record.doi,
        "start_page": first.strip(),
        "end_page": last.strip("- "),
        "urls": [url_text(record.url, also_encode=";")] if record.url else None,
        "abstract": record.abstract,
        "keywords": record.tags,
        "notes": [note for note in (record.note, record.version_note) if note],
    }
    reference.update({name: value for name, value in optional.items() if value})
    return reference


def _name(display: str) -> str:
    family, given = split_name(display)
    return f"{family}, {given}" if given else family
