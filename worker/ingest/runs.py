"""The ``paperlens ingest`` commands for Papers with Code dumps, BibTeX files and
Hugging Face's daily pages: open the input (a file or a range of days), resume from its
checkpoint, and drive ``bulk.run`` with the format's parser and writer.

The arXiv snapshot's command is beside its parser, in ``worker.ingest.arxiv_snapshot``."""

from __future__ import annotations

import datetime as dt
import gzip
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, TextIO, TypeVar

from redis import Redis

from paperlens.schemas import PaperRecord
from paperlens.settings import Settings
from paperlens.store.db import Database
from worker.ingest import bibtex, bulk, pwc
from worker.ingest.bulk import Checkpoint, IngestReport, Parsed, WriteStats
from worker.ingest.files import is_gzip, open_lines
from worker.ingest.progress import Progress
from worker.sources import huggingface
from worker.sources.http import SourceError, SourceSession

T = TypeVar("T")


def pwc_links(
    settings: Settings,
    redis: Redis,
    path: Path,
    *,
    restart: bool = False,
    progress_stream: TextIO | None = None,
) -> IngestReport:
    return _pwc_dump(
        settings,
        "pwc-links",
        path,
        pwc.parse_links,
        pwc.link_writer(redis),
        restart=restart,
        progress_stream=progress_stream,
    )


def pwc_papers(
    settings: Settings,
    db: Database,
    path: Path,
    *,
    restart: bool = False,
    progress_stream: TextIO | None = None,
) -> IngestReport:
    return _pwc_dump(
        settings,
        "pwc-papers",
        path,
        pwc.parse_papers,
        bulk.upsert_writer(db),
        restart=restart,
        progress_stream=progress_stream,
    )


def _pwc_dump(
    settings: Settings,
    name: str,
    path: Path,
    parse: Callable[[BinaryIO, int], Iterator[Parsed[T]]],
    write: Callable[[list[T]], WriteStats],
    *,
    restart: bool,
    progress_stream: TextIO | None,
) -> IngestReport:
    """A Papers with Code JSON dump (gzip or not), resumed where its checkpoint left off."""
    checkpoint = _checkpoint(settings, name, path, restart)
    with _open_dump(path) as (raw, stream):
        return bulk.run(
            parse(stream, checkpoint.number),
            write,
            progress=Progress(f"{name} {path.name}", _size(path), stream=progress_stream),
            checkpoint=checkpoint,
            position_done=lambda _item: raw.tell(),
        )


def bibtex_file(
    settings: Settings,
    db: Database,
    path: Path,
    *,
    restart: bool = False,
    progress_stream: TextIO | None = None,
) -> IngestReport:
    checkpoint = _checkpoint(settings, "bibtex", path, restart)
    with open_lines(path) as reader:
        return bulk.run(
            bibtex.parse_entries(reader, checkpoint.position, checkpoint.number),
            bulk.upsert_writer(db),
            progress=Progress(f"bibtex {path.name}", _size(path), stream=progress_stream),
            checkpoint=checkpoint,
            position_done=reader.disk_position,
        )


def hf_daily(
    settings: Settings,
    db: Database,
    session: SourceSession,
    first: dt.date,
    last: dt.date,
    *,
    restart: bool = False,
    progress_stream: TextIO | None = None,
) -> IngestReport:
    """Every paper featured on Hugging Face's daily pages from ``first`` to ``last``."""
    days = (last - first).days + 1
    checkpoint = Checkpoint.for_key(settings.ingest_checkpoint_dir, "hf-daily", f"{first}:{last}")
    if restart:
        checkpoint.clear()
    return bulk.run(
        _daily_records(session, first, days, checkpoint.position),
        bulk.upsert_writer(db),
        progress=Progress(f"hf-daily {first}..{last}", days, unit="day", stream=progress_stream),
        checkpoint=checkpoint,
        batch_size=200,
    )


def _daily_records(
    session: SourceSession, first: dt.date, days: int, done: int
) -> Iterator[Parsed[PaperRecord]]:
    """Numbered by day (1 is ``first``): a day that fails is reported, the others go on."""
    for number in range(done + 1, days + 1):
        day = first + dt.timedelta(days=number - 1)
        try:
            papers = huggingface.daily_papers(session, day)
        except SourceError as error:
            yield Parsed(number, number, error=f"{day}: {error}")
            continue
        for paper in papers:
            yield Parsed(number, number - 1, huggingface.to_record(paper))
        yield Parsed(number, number)


def _checkpoint(settings: Settings, kind: str, path: Path, restart: bool) -> Checkpoint:
    checkpoint = Checkpoint.for_file(settings.ingest_checkpoint_dir, kind, path)
    if restart:
        checkpoint.clear()
    return checkpoint


@contextmanager
def _open_dump(path: Path) -> Iterator[tuple[BinaryIO, BinaryIO]]:
    """The file on disk (for progress) and the stream to parse (decompressed when gzip)."""
    with path.open("rb") as raw:
        if is_gzip(path):
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                yield raw, stream  # type: ignore[misc]
        else:
            yield raw, raw


def _size(path: Path) -> int:
    return path.stat().st_size
