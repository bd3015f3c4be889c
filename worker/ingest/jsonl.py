"""``paperlens ingest jsonl``: one paper a line, ``{id, title, abstract, authors?, ...}``.

``id`` (or a list ``ids``) is any id the resolver accepts (``arxiv:2205.13147``,
``doi:...``, ``corpusid:...``); a record with none gets the project's own id from
its title, so papers without an external id are still held.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from paperlens.identifiers import local_paper_id, parse_paper_id
from paperlens.schemas import PaperRecord
from paperlens.store.db import Database
from worker.ingest import bulk
from worker.ingest.json_lines import BadRecord, json_lines


def ingest_jsonl(db: Database, path: Path) -> bulk.IngestReport:
    """Upsert every good line in batches; bad lines are reported with their numbers, not fatal.

    A run keeps no checkpoint: upserts are idempotent, so a file read again after a crash
    costs only the time."""
    return bulk.ingest_file(
        "jsonl", path, json_lines(parse_record), bulk.upsert_writer(db), checkpoint_dir=None
    )


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
