"""``paperlens ingest bibtex``: a bibliography, entry by entry.

The file is split at lines that start an entry (``@article{``...), and each block
parsed on its own with ``bibtexparser``: memory stays flat, a broken entry costs only
itself, and every problem is reported with the line the entry starts on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from bibtexparser.entrypoint import parse_string
from bibtexparser.middlewares import LatexDecodingMiddleware
from pydantic import ValidationError

from paperlens.identifiers import local_paper_id, parse_paper_id, resolve_url
from paperlens.schemas import PaperRecord
from worker.ingest.bulk import Parsed
from worker.ingest.files import LineReader

_ENTRY_START = re.compile(rb"^\s*@")
_SKIPPED_TYPES = {"comment", "preamble", "string"}


def blocks(
    reader: LineReader, start: int = 0, first_number: int = 0
) -> Iterator[tuple[int, int, str]]:
    """``(first line, offset after the block, text)`` of each entry block."""
    lines: list[bytes] = []
    first = first_number + 1
    position = start
    for number, after, line in reader.lines(start, first_number):
        if _ENTRY_START.match(line) and lines:
            yield first, position, b"".join(lines).decode("utf-8", "replace")
            lines, first = [], number
        lines.append(line)
        position = after
    if lines:
        yield first, position, b"".join(lines).decode("utf-8", "replace")


def parse_entries(
    reader: LineReader, start: int = 0, first_number: int = 0
) -> Iterator[Parsed[PaperRecord]]:
    for first_line, position, text in blocks(reader, start, first_number):
        stripped = text.lstrip()
        if not stripped.startswith("@") or stripped[1:].lower().startswith(tuple(_SKIPPED_TYPES)):
            # Text outside entries is a comment in BibTeX, and so are these entry types.
            yield Parsed(first_line, position)
            continue
        library = parse_string(text, append_middleware=[LatexDecodingMiddleware()])
        if library.failed_blocks or not library.entries:
            yield Parsed(first_line, position, error=_failure(library.failed_blocks))
            continue
        fields = {field.key.lower(): str(field.value) for field in library.entries[0].fields}
        try:
            yield Parsed(first_line, position, to_record(fields))
        except (ValueError, ValidationError) as error:
            yield Parsed(first_line, position, error=str(error).splitlines()[0])


def _failure(failed: list[Any]) -> str:
    if not failed:
        return "no entry found"
    error = getattr(failed[0], "error", None)
    lines = [line for line in str(error or "").splitlines() if line.strip()]
    return lines[0] if lines else f"the entry is not valid BibTeX ({type(error).__name__})"


def to_record(fields: dict[str, Any]) -> PaperRecord:
    title = _plain(fields.get("title", ""))
    if not title:
        raise ValueError("the entry has no title")
    ids = _ids(fields) or [local_paper_id(title)]
    year = fields.get("year", "").strip()
    return PaperRecord(
        ids=ids,
        title=title,
        abstract=_plain(fields.get("abstract", "")),
        authors=[_first_last(name) for name in _split_authors(fields.get("author", ""))],
        venue=_plain(fields.get("journal") or fields.get("booktitle") or "") or None,
        extra={"year": int(year)} if year.isdigit() else {},
    )


def _ids(fields: dict[str, Any]) -> list[str]:
    found: list[str] = []
    archive = (fields.get("archiveprefix") or fields.get("eprinttype") or "").lower()
    if fields.get("eprint") and archive in {"arxiv", ""}:
        ref = parse_paper_id(f"arxiv:{fields['eprint'].strip()}")
        if ref is not None:
            found.append(ref.paper_id)
    if fields.get("doi"):
        ref = parse_paper_id(f"doi:{fields['doi'].strip()}")
        if ref is not None:
            found.append(ref.paper_id)
    if fields.get("url"):
        ref = resolve_url(fields["url"].strip())
        if ref is not None:
            found.append(ref.paper_id)
    return list(dict.fromkeys(found))


def _plain(value: str) -> str:
    return " ".join(value.replace("{", "").replace("}", "").split())


def _split_authors(value: str) -> list[str]:
    return [name.strip() for name in re.split(r"\s+and\s+", _plain(value)) if name.strip()]


def _first_last(name: str) -> str:
    """BibTeX's "Last, First" becomes "First Last", as everywhere else in the catalogue."""
    if "," in name:
        last, _, first = name.partition(",")
        return f"{first.strip()} {last.strip()}".strip()
    return name
