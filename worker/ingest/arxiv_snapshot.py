"""``paperlens ingest arxiv-snapshot``: arXiv's metadata snapshot, one JSON object a line.

The file arXiv publishes (about 2.7 million lines) has the fields ``id``, ``title``,
``abstract``, ``authors_parsed``, ``categories``, ``doi``, ``journal-ref``, ``comments``,
``versions`` and ``update_date``. It is streamed, so memory stays flat in its size.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paperlens.identifiers import parse_paper_id
from paperlens.schemas import PaperRecord
from paperlens.store.db import Database
from worker.ingest import bulk
from worker.ingest.json_lines import BadRecord, json_lines


@dataclass(frozen=True)
class SnapshotFilter:
    """``categories`` are shell patterns (``cs.*``); a paper matches when any category does."""

    categories: Sequence[str] = ()
    since: dt.date | None = None

    def keeps(self, record: PaperRecord) -> bool:
        if (
            self.since is not None
            and (record.updated or record.published or dt.date.min) < self.since
        ):
            return False
        if not self.categories:
            return True
        return any(
            fnmatch.fnmatchcase(category, pattern)
            for category in record.categories
            for pattern in self.categories
        )


def to_record(raw: Any) -> PaperRecord:
    if not isinstance(raw, dict):
        raise BadRecord("a record must be a JSON object")
    ref = parse_paper_id(str(raw.get("id") or ""))
    if ref is None or not ref.paper_id.startswith("arxiv:"):
        raise BadRecord(f"{raw.get('id')!r} is not an arXiv id")
    ids = [ref.paper_id]
    for doi in str(raw.get("doi") or "").split():
        doi_ref = parse_paper_id(f"doi:{doi}")
        if doi_ref is not None and doi_ref.paper_id not in ids:
            ids.append(doi_ref.paper_id)
            break
    return PaperRecord(
        ids=ids,
        title=_squash(raw.get("title")),
        abstract=_squash(raw.get("abstract")),
        authors=_authors(raw),
        published=_first_version_date(raw.get("versions")),
        updated=_date(raw.get("update_date")),
        categories=str(raw.get("categories") or "").split(),
        venue=_squash(raw.get("journal-ref")) or None,
        comments=_squash(raw.get("comments")) or None,
    )


def _squash(value: Any) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def _authors(raw: dict[str, Any]) -> list[str]:
    """``authors_parsed`` holds ``[last, first, suffix]``; readers expect "First Last Suffix"."""
    parsed = raw.get("authors_parsed")
    if isinstance(parsed, list):
        names = []
        for parts in parsed:
            if isinstance(parts, list) and parts:
                last, first, suffix = ([*map(str, parts), "", ""])[:3]
                names.append(" ".join(p for p in (first, last, suffix) if p.strip()))
        return names
    authors = raw.get("authors")
    if isinstance(authors, str):
        return [name.strip() for name in authors.replace(" and ", ", ").split(",") if name.strip()]
    return []


def _first_version_date(versions: Any) -> dt.date | None:
    if not isinstance(versions, list) or not versions:
        return None
    created = versions[0].get("created") if isinstance(versions[0], dict) else None
    if not isinstance(created, str):
        return None
    try:
        return email.utils.parsedate_to_datetime(created).date()
    except (TypeError, ValueError):
        return None


def _date(value: Any) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def ingest_snapshot(
    db: Database,
    path: Path,
    keep: SnapshotFilter,
    *,
    checkpoint_dir: Path,
    restart: bool = False,
) -> bulk.IngestReport:
    """Stream ``path`` into the catalogue, resuming where an interrupted run stopped."""
    return bulk.ingest_file(
        "arxiv-snapshot",
        path,
        json_lines(to_record, keep.keeps),
        bulk.upsert_writer(db),
        checkpoint_dir=checkpoint_dir,
        restart=restart,
    )
