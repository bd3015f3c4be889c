"""CSV, for spreadsheets: one row per saved paper, lists joined with semicolons."""

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
        writer.writerow(
            [
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
                _defused(record.note),
                record.saved_at.isoformat(),
            ]
        )
    return out.getvalue()


def _defused(text: str) -> str:
    """A note starting with '=' would run as a formula when a spreadsheet opens the file."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
