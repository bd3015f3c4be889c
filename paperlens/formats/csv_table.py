"""CSV, for spreadsheets: one row per saved paper, lists joined with semicolons.

The csv module quotes what would end a cell or a row; what it cannot know is that a
spreadsheet runs a cell starting with '=', '+', '-', '@', a tab or a carriage return
as a formula. Every cell that would is written with a leading apostrophe, which
spreadsheets show as text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from paperlens.formats.records import ExportRecord

COLUMNS = (
    "paper_id",
    "title",
    "authors",
    "published",
    "venue",
    "doi",
    "arxiv_id",
    "url",
    "status",
    "tags",
    "note",
    "saved_at",
)


def to_csv(records: Sequence[ExportRecord]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for record in records:
        row = [
            record.paper_id,
            record.title,
            "; ".join(record.authors),
            record.published.isoformat() if record.published else "",
            record.venue or "",
            record.doi or "",
            record.arxiv_id or "",
            record.url or "",
            record.status,
            "; ".join(record.tags),
            record.note,
            record.saved_at.isoformat(),
        ]
        writer.writerow([_defused(cell) for cell in row])
    return out.getvalue()


def _defused(text: str) -> str:
    """The cell as text: a leading formula character is shown, never run."""
    return "'" + text if text[:1] in _FORMULA_STARTS else text


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
