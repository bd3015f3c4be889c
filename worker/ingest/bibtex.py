"""``paperlens ingest bibtex``: a bibliography into the catalogue, entry by entry.

The file is read by ``paperlens.formats.bibtex.read_entries``, the reader a reading
list's import uses too, so an entry gets the same paper id either way. Memory stays
flat, a broken entry costs only itself, and every problem is reported with the line
the entry starts on.
"""

from __future__ import annotations

from collections.abc import Iterator

from paperlens.formats.bibtex import BibEntry, read_entries
from paperlens.schemas import PaperRecord
from worker.ingest.bulk import Parsed
from worker.ingest.files import InputFile


def parse_entries(
    source: InputFile, start: int = 0, first_number: int = 0
) -> Iterator[Parsed[PaperRecord]]:
    """Comments, ``@string`` and ``@preamble`` blocks are read and filtered out."""
    lines = (
        (number, after, line.decode("utf-8", "replace"))
        for number, after, line in source.lines(start, first_number)
    )
    for block in read_entries(lines, start=start):
        if block.error is not None:
            yield Parsed(block.line, block.resume, error=block.error)
        elif block.entry is None:
            yield Parsed(block.line, block.resume)
        else:
            try:
                yield Parsed(block.line, block.resume, to_record(block.entry))
            except ValueError as error:  # pydantic's ValidationError is one
                yield Parsed(block.line, block.resume, error=str(error).splitlines()[0])


def to_record(entry: BibEntry) -> PaperRecord:
    if not entry.title:
        raise ValueError("the entry has no title")
    return PaperRecord(
        ids=entry.ids,
        title=entry.title,
        abstract=entry.abstract,
        authors=entry.authors,
        venue=entry.venue or None,
        extra={"year": entry.year} if entry.year else {},
    )
