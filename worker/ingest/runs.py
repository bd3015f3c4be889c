"""The ``paperlens ingest`` runs for Papers with Code dumps, BibTeX files and Hugging
Face's daily pages: each hands its format's parser and a writer to the one engine in
``worker.ingest.bulk``.

The arXiv snapshot's run is beside its parser, in ``worker.ingest.arxiv_snapshot``, and
the JSON lines one in ``worker.ingest.jsonl``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from redis import Redis

from paperlens.schemas import PaperRecord
from paperlens.settings import Settings
from paperlens.store.db import Database
from worker.ingest import bibtex, bulk, pwc
from worker.ingest.bulk import IngestReport, Parsed, Parser
from worker.ingest.checkpoint import Checkpoint
from worker.ingest.progress import Progress
from worker.sources import huggingface
from worker.sources.http import SourceError, SourceSession

# The files of papers for the catalogue, by the name of their command.
PaperFile = Literal["bibtex", "pwc-papers"]
_PAPER_PARSERS: dict[PaperFile, Parser[PaperRecord]] = {
    "bibtex": bibtex.parse_entries,
    "pwc-papers": pwc.parse_papers,
}


def paper_file(
    settings: Settings,
    db: Database,
    kind: PaperFile,
    path: Path,
    *,
    restart: bool = False,
) -> IngestReport:
    """A file of papers into the catalogue, gzip or not, resumed where its checkpoint
    left off."""
    return bulk.ingest_file(
        kind,
        path,
        _PAPER_PARSERS[kind],
        bulk.upsert_writer(db),
        checkpoint_dir=settings.ingest_checkpoint_dir,
        restart=restart,
    )


def pwc_links(
    settings: Settings, redis: Redis, path: Path, *, restart: bool = False
) -> IngestReport:
    """Papers with Code's code links into Redis, through the same loop as its papers."""
    return bulk.ingest_file(
        "pwc-links",
        path,
        pwc.parse_links,
        pwc.link_writer(redis),
        checkpoint_dir=settings.ingest_checkpoint_dir,
        restart=restart,
    )


def hf_daily(
    settings: Settings,
    db: Database,
    session: SourceSession,
    first: dt.date,
    last: dt.date,
    *,
    restart: bool = False,
) -> IngestReport:
    """Every paper featured on Hugging Face's daily pages from ``first`` to ``last``."""
    days = (last - first).days + 1
    checkpoint = Checkpoint.for_key(
        settings.ingest_checkpoint_dir, "hf-daily", f"{first}:{last}", restart=restart
    )
    return bulk.run(
        _daily_records(session, first, days, checkpoint.position),
        bulk.upsert_writer(db),
        progress=Progress(f"hf-daily {first}..{last}", days, unit="day"),
        checkpoint=checkpoint,
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
