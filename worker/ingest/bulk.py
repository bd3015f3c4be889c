"""The loop every bulk ingest shares: stream parsed items, write them in batches, save a
checkpoint after each batch (and every ten batches' worth of items read, so a run of
filtered or bad records is not read again), report bad records by number and never abort
on them.

A source supplies a parser, which turns its input into ``Parsed`` items starting after
the checkpoint's position, and a writer for a batch of values; this module owns the
batching, the ``Checkpoint`` files, the progress display and the report.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from paperlens.schemas import PaperRecord
from paperlens.store.db import Database
from paperlens.store.papers import upsert_papers
from worker.ingest.progress import Progress

T = TypeVar("T")

DEFAULT_BATCH_SIZE = 1_000
# Bad records are all counted, but only this many are kept for the report.
MAX_REPORTED_BAD = 1_000


@dataclass
class Parsed(Generic[T]):
    """One record of a source: its number (line or item) for reports, the position to
    resume after it, and either a value, an error, or neither (filtered out)."""

    number: int
    position: int
    value: T | None = None
    error: str | None = None


@dataclass
class WriteStats:
    created: int = 0
    updated: int = 0


@dataclass
class IngestReport:
    read: int = 0
    written: int = 0
    created: int = 0
    updated: int = 0
    filtered: int = 0
    bad: int = 0
    bad_records: list[tuple[int, str]] = field(default_factory=list)
    resumed_from: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.written / self.seconds if self.seconds > 0 else 0.0


@dataclass
class Checkpoint:
    """Where an interrupted ingest of one file stopped; valid while the file is unchanged."""

    path: Path
    source: str
    size: int
    mtime_ns: int
    position: int = 0
    number: int = 0

    @classmethod
    def for_file(cls, directory: Path, kind: str, source: Path) -> Checkpoint:
        resolved = source.resolve()
        digest = hashlib.sha256(f"{kind}:{resolved}".encode()).hexdigest()[:16]
        stat = resolved.stat()
        found = cls(
            directory / f"{kind}-{digest}.json", str(resolved), stat.st_size, stat.st_mtime_ns
        )
        found._load()
        return found

    @classmethod
    def for_key(cls, directory: Path, kind: str, key: str) -> Checkpoint:
        digest = hashlib.sha256(f"{kind}:{key}".encode()).hexdigest()[:16]
        found = cls(directory / f"{kind}-{digest}.json", key, 0, 0)
        found._load()
        return found

    def _load(self) -> None:
        try:
            saved = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return
        if (saved.get("source"), saved.get("size"), saved.get("mtime_ns")) == (
            self.source,
            self.size,
            self.mtime_ns,
        ):
            self.position = int(saved.get("position", 0))
            self.number = int(saved.get("number", 0))

    def save(self, position: int, number: int) -> None:
        """Written to a temporary name and renamed, so a crash never leaves half a file."""
        self.position, self.number = position, number
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".partial")
        state = {k: v for k, v in asdict(self).items() if k != "path"}
        partial.write_text(json.dumps(state))
        partial.replace(self.path)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
        self.position = self.number = 0


def run(
    items: Iterable[Parsed[T]],
    write: Callable[[list[T]], WriteStats],
    *,
    progress: Progress,
    checkpoint: Checkpoint | None = None,
    position_done: Callable[[int], int] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> IngestReport:
    """Drain ``items`` into ``write`` in batches; ``position_done`` maps a resume position
    to progress units (for example compressed bytes read) when they differ."""
    started = time.monotonic()
    report = IngestReport(resumed_from=checkpoint.number if checkpoint else 0)
    batch: list[T] = []
    last: Parsed[T] | None = None

    def flush() -> None:
        if batch:
            stats = write(batch)
            report.written += len(batch)
            report.created += stats.created
            report.updated += stats.updated
            batch.clear()
        if last is not None:
            if checkpoint is not None:
                checkpoint.save(last.position, last.number)
            done = position_done(last.position) if position_done else last.position
            progress.advance(done, report.written)

    try:
        for item in items:
            last = item
            report.read += 1
            if item.error is not None:
                report.bad += 1
                if len(report.bad_records) < MAX_REPORTED_BAD:
                    report.bad_records.append((item.number, item.error))
            elif item.value is None:
                report.filtered += 1
            else:
                batch.append(item.value)
            if len(batch) >= batch_size or report.read % (batch_size * 10) == 0:
                flush()
        flush()
    finally:
        progress.close()
        report.seconds = time.monotonic() - started
    if checkpoint is not None:
        checkpoint.clear()
    return report


def upsert_writer(db: Database) -> Callable[[list[PaperRecord]], WriteStats]:
    """Each batch upserted in its own transaction, so a crash loses at most one batch."""

    def write(batch: list[PaperRecord]) -> WriteStats:
        with db.session() as session:
            stats = upsert_papers(session, batch)
        return WriteStats(created=stats.created, updated=stats.updated)

    return write
