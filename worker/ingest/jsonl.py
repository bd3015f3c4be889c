"""``paperlens ingest jsonl``: one paper a line, ``{id, title, abstract, authors?, ...}``.

``id`` (or a list ``ids``) is any id the resolver accepts (``arxiv:2205.13147``,
``doi:...``, ``corpusid:...``); a record with none gets the project's own id from
its title, so papers without an external id are still held.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from paperlens.identifiers import local_paper_id, parse_paper_id
from paperlens.schemas import PaperRecord
from paperlens.store.db import Database
from paperlens.store.papers import upsert_papers

BATCH_SIZE = 500


@dataclass
class IngestReport:
    read: int = 0
    created: int = 0
    updated: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)


class BadRecord(ValueError):
    pass


def ingest_jsonl(db: Database, path: Path) -> IngestReport:
    """Upsert every good line in batches; bad lines are reported with their numbers, not fatal."""
    report = IngestReport()
    batch: list[PaperRecord] = []
    for line_number, line in _lines(path):
        report.read += 1
        try:
            batch.append(parse_record(json.loads(line)))
        except (ValueError, ValidationError) as error:
            report.skipped.append((line_number, _short(error)))
            continue
        if len(batch) >= BATCH_SIZE:
            _flush(db, batch, report)
    _flush(db, batch, report)
    return report


def parse_record(raw: Any) -> PaperRecord:
    """A validated catalogue record from one decoded JSON line."""
    if not isinstance(raw, dict):
        raise BadRecord("a record must be a JSON object")
    given = raw.get("ids") or ([raw["id"]] if raw.get("id") else [])
    if not isinstance(given, list):
        raise BadRecord("'ids' must be a list")
    ids: list[str] = []
    for value in given:
        ref = parse_paper_id(str(value))
        if ref is None:
            raise BadRecord(f"{value!r} is not a paper id")
        ids.append(ref.paper_id)
    title = raw.get("title")
    if not ids and isinstance(title, str) and title.strip():
        ids = [local_paper_id(title)]
    fields = {k: v for k, v in raw.items() if k not in {"id", "ids"}}
    return PaperRecord.model_validate({**fields, "ids": ids})


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, line


def _flush(db: Database, batch: list[PaperRecord], report: IngestReport) -> None:
    if not batch:
        return
    with db.session() as session:
        stats = upsert_papers(session, batch)
    report.created += stats.created
    report.updated += stats.updated
    batch.clear()


def _short(error: Exception) -> str:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "record"
        return f"{where}: {first['msg']}"
    return str(error).splitlines()[0]
