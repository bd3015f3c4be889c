"""One reading-list entry per paper: what happens to readers' rows when ids turn out to
name the same paper.

A reader may save a preprint under its arXiv id and later its DOI, before anything tells
the catalogue that both name one paper. When the catalogue joins the ids (an ingest
record naming both, a source answer, an import), the reader's two entries become one that
keeps everything either held, and their feedback on the paper becomes one signal.
``join_reader_rows`` is called by the catalogue wherever ids are joined; ``merge_entries``
is also used by an import that finds one paper under two of the reader's entries.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from paperlens.store.models import Feedback, LibraryEntry, LibraryTag, Paper, PaperAlias, User

log = logging.getLogger(__name__)

# Reading progress, least advanced first: a merged entry keeps the furthest a reader got.
STATUS_PROGRESS = ("to_read", "reading", "done")

# Bound on the size of an IN (...) list, as for the catalogue's lookups.
JOIN_CHUNK = 500

ReaderRow = TypeVar("ReaderRow", LibraryEntry, Feedback)


def join_reader_rows(session: Session, ids: Iterable[str]) -> int:
    """Merge each reader's entries (and feedback) that now name one paper; how many entries
    were merged away.

    ``ids`` are the ids just joined; every alias of the papers they name is looked at, since
    a reader may have saved the paper under an id the catalogue knew before.
    """
    wanted = list(dict.fromkeys(ids))
    session.flush()
    merged = 0
    readers: set[int] = set()
    for start in range(0, len(wanted), JOIN_CHUNK):
        chunk = wanted[start : start + JOIN_CHUNK]
        pks = select(PaperAlias.paper_pk).where(PaperAlias.alias.in_(chunk))
        papers = session.execute(select(Paper.id, Paper.paper_id).where(Paper.id.in_(pks)))
        canonical = {pk: paper_id for pk, paper_id in papers}
        if not canonical:
            continue
        entries = _grouped(session, LibraryEntry, canonical)
        for (reader_id, _), group in entries.items():
            if len(group) > 1:
                merge_entries(session, group)
                merged += len(group) - 1
                readers.add(reader_id)
        signals = _grouped(session, Feedback, canonical)
        for (reader_id, pk), rows in signals.items():
            if len(rows) > 1 or rows[0].paper_id != canonical[pk]:
                _merge_feedback(session, rows, canonical[pk])
                readers.add(reader_id)
    if merged:
        log.info("%d reading-list entries merged into the entries of papers they joined", merged)
    if readers:
        session.execute(
            update(User)
            .where(User.id.in_(readers))
            .values(library_revision=User.library_revision + 1)
        )
    return merged


def _grouped(
    session: Session, model: type[ReaderRow], canonical: dict[int, str]
) -> dict[tuple[int, int], list[ReaderRow]]:
    """The rows of ``model`` saved under any alias of the papers, by reader and paper,
    oldest first."""
    rows = session.execute(
        select(model, PaperAlias.paper_pk)
        .join(PaperAlias, PaperAlias.alias == model.paper_id)
        .where(PaperAlias.paper_pk.in_(list(canonical)))
        .order_by(model.id)
    )
    grouped: dict[tuple[int, int], list[ReaderRow]] = defaultdict(list)
    for row, pk in rows:
        grouped[(row.user_id, pk)].append(row)
    return grouped


def merge_entries(session: Session, entries: Sequence[LibraryEntry]) -> LibraryEntry:
    """Fold every entry into the first (the oldest save, so an export keeps its place) and
    delete the rest.

    The merged entry has the most advanced status, every tag, every note (each kept whole,
    those from other entries headed by the id they were saved under), the earliest save
    and the latest change; an import's metadata missing from the first is taken from the
    others. Tags and notes may then exceed what a single write may set: nothing is dropped.
    """
    keep, others = entries[0], list(entries[1:])
    if not others:
        return keep
    tags = {tag.name for entry in entries for tag in entry.tags}
    present = {tag.name: tag for tag in keep.tags}
    saved_at = min(aware(entry.saved_at) for entry in entries)
    updated_at = max(aware(entry.updated_at) for entry in entries)
    status = max((entry.status for entry in entries), key=_progress)
    note = keep.note
    for other in others:
        note = joined_notes(note, other.note, other.paper_id)
        keep.title = keep.title or other.title
        keep.authors = list(keep.authors or []) or list(other.authors or [])
        keep.published = keep.published or other.published
        keep.details = {**(other.details or {}), **(keep.details or {})}
        session.delete(other)
    session.flush()
    keep.tags = [present.get(name) or LibraryTag(name=name) for name in sorted(tags)]
    keep.status = status
    keep.note = note
    keep.saved_at = saved_at
    keep.updated_at = updated_at
    session.flush()
    return keep


def joined_notes(first: str, second: str, second_id: str) -> str:
    """Both notes, the second headed by the id it was saved under; one when they agree."""
    if not second or second == first:
        return first
    if not first:
        return second
    return f"{first}\n\n--- note saved under {second_id} ---\n{second}"


def _merge_feedback(session: Session, rows: list[Feedback], canonical: str) -> None:
    """Keep the latest signal, under the paper's canonical id (where a new signal looks)."""
    latest = max(rows, key=lambda row: (aware(row.created_at), row.id))
    for row in rows:
        if row is not latest:
            session.delete(row)
    session.flush()
    latest.paper_id = canonical
    session.flush()


def _progress(status: str) -> int:
    return STATUS_PROGRESS.index(status) if status in STATUS_PROGRESS else 0


def aware(moment: dt.datetime) -> dt.datetime:
    """SQLite hands timestamps back without a zone; they were written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
