"""The one engine every ingest runs on: stream parsed items, write them in batches, save a
checkpoint after each batch (and every ten batches' worth of items read, so a run of
filtered or bad records is not read again), report bad records by number and never abort
on them.

Every input format is a parser, which turns its input into ``Parsed`` items starting
after the checkpoint's position; a writer stores a batch of values. This module owns the
batching, the progress display and the report; ``ingest_file`` runs a parser over a
file, plain or gzip, resuming where an interrupted run of the same file stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from paperlens.schemas import PaperRecord
from paperlens.store.db import Database
from paperlens.store.papers import upsert_papers
from worker.ingest.checkpoint import Checkpoint
from worker.ingest.files import InputFile, open_input
from worker.ingest.progress import Progress

T = TypeVar("T")

# Values written in one transaction: large enough for bulk statements to pay off, small
# enough that a crash costs little and the checkpoint moves often.
BATCH_SIZE = 1_000
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
    """What a run read and wrote; ``bad_records`` holds (number, reason) of bad ones."""

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


# A format's parser: the input, and the position and number of the last record done.
Parser = Callable[[InputFile, int, int], Iterator[Parsed[T]]]
Writer = Callable[[list[T]], WriteStats]


def run(
    items: Iterable[Parsed[T]],
    write: Writer[T],
    *,
    progress: Progress,
    checkpoint: Checkpoint | None = None,
    position_done: Callable[[int], int] | None = None,
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
            if len(batch) >= BATCH_SIZE or report.read % (BATCH_SIZE * 10) == 0:
                flush()
        flush()
    finally:
        progress.close()
        report.seconds = time.monotonic() - started
    if checkpoint is not None:
        checkpoint.clear()
    return report


def ingest_file(
    kind: str,
    path: Path,
    parse: Parser[T],
    write: Writer[T],
    *,
    checkpoint_dir: Path | None,
    restart: bool = False,
) -> IngestReport:
    """Run ``parse`` over the file at ``path`` (``kind`` names its format in checkpoints
    and progress); without a ``checkpoint_dir`` every run reads the whole file."""
    checkpoint = (
        Checkpoint.for_file(checkpoint_dir, kind, path, restart=restart)
        if checkpoint_dir is not None
        else None
    )
    position, number = (checkpoint.position, checkpoint.number) if checkpoint else (0, 0)
    with open_input(path) as source:
        return run(
            parse(source, position, number),
            write,
            progress=Progress(f"{kind} {path.name}", path.stat().st_size),
            checkpoint=checkpoint,
            position_done=source.disk_position,
        )


def upsert_writer(db: Database) -> Writer[PaperRecord]:
    """Each batch upserted in its own transaction, so a crash loses at most one batch."""

    def write(batch: list[PaperRecord]) -> WriteStats:
        with db.session() as session:
            stats = upsert_papers(session, batch)
        return WriteStats(created=stats.created, updated=stats.updated)

    return write
