"""Reading and writing the paper catalogue.

Every function takes a session, so callers decide the transaction: ingest commits
a batch at a time, the API reads in a short session per request.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from paperlens.schemas import PaperRecord
from paperlens.store.models import Paper, PaperAlias

# Bound on the size of an IN (...) list, well under SQLite's and PostgreSQL's limits.
LOOKUP_CHUNK = 500

# When one paper is known under several ids, the first scheme in this list names it.
CANONICAL_SCHEME_ORDER = ("arxiv", "doi", "acl", "openreview", "pmlr", "neurips", "cvf")


@dataclass
class UpsertStats:
    created: int = 0
    updated: int = 0
    merged: int = 0


def preferred_id(ids: Sequence[str]) -> str:
    """The id that names a paper: arXiv first (it stays canonical), then DOI, then as given."""
    for scheme in CANONICAL_SCHEME_ORDER:
        for paper_id in ids:
            if paper_id.startswith(f"{scheme}:"):
                return paper_id
    return ids[0]


def find_paper(session: Session, paper_id: str) -> Paper | None:
    """The paper any of its ids names, or None."""
    return session.scalar(
        select(Paper)
        .join(PaperAlias, PaperAlias.paper_pk == Paper.id)
        .where(PaperAlias.alias == paper_id)
    )


def canonical_ids(session: Session, ids: Iterable[str]) -> dict[str, str]:
    """Map each known id (alias or canonical) to its paper's canonical id, in few queries."""
    wanted = list(dict.fromkeys(ids))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start : start + LOOKUP_CHUNK]
        rows = session.execute(
            select(PaperAlias.alias, Paper.paper_id)
            .join(Paper, PaperAlias.paper_pk == Paper.id)
            .where(PaperAlias.alias.in_(chunk))
        )
        found.update({alias: canonical for alias, canonical in rows})
    return found


def papers_by_ids(session: Session, ids: Iterable[str]) -> dict[str, Paper]:
    """Map each known id (alias or canonical) to its paper row, in few queries."""
    wanted = list(dict.fromkeys(ids))
    found: dict[str, Paper] = {}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start : start + LOOKUP_CHUNK]
        rows = session.execute(
            select(PaperAlias.alias, Paper)
            .join(Paper, PaperAlias.paper_pk == Paper.id)
            .where(PaperAlias.alias.in_(chunk))
        )
        found.update({alias: paper for alias, paper in rows})
    return found


def count_papers(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Paper)) or 0


def iter_papers(session: Session, batch_size: int = 1_000) -> Iterator[Paper]:
    """Every paper in a stable order, streamed so memory stays flat on large catalogues."""
    last_pk = 0
    while True:
        batch = list(
            session.scalars(
                select(Paper).where(Paper.id > last_pk).order_by(Paper.id).limit(batch_size)
            )
        )
        if not batch:
            return
        yield from batch
        last_pk = batch[-1].id


def upsert_papers(session: Session, records: Iterable[PaperRecord]) -> UpsertStats:
    """Insert or update papers, joining every id a record names onto one row.

    Ingest runs are repeated and sources overlap, so this must be idempotent: the
    same record twice changes nothing, and a record naming two known rows merges them.
    """
    stats = UpsertStats()
    for record in records:
        rows = _rows_for_ids(session, record.ids)
        if not rows:
            paper = Paper(paper_id=preferred_id(record.ids), title=record.title)
            session.add(paper)
            stats.created += 1
        else:
            paper = rows[0]
            for other in rows[1:]:
                _merge_into(session, paper, other)
                stats.merged += 1
            stats.updated += 1
        _apply_record(paper, record)
        _add_aliases(session, paper, record.ids)
        session.flush()
    return stats


def _rows_for_ids(session: Session, ids: Sequence[str]) -> list[Paper]:
    rows = session.scalars(
        select(Paper)
        .join(PaperAlias, PaperAlias.paper_pk == Paper.id)
        .where(PaperAlias.alias.in_(ids))
        .order_by(Paper.id)
    ).unique()
    return list(dict.fromkeys(rows))


def _merge_into(session: Session, keep: Paper, other: Paper) -> None:
    """Move every alias of ``other`` onto ``keep`` and drop ``other``."""
    for alias in list(other.aliases):
        alias.paper = keep
    session.flush()
    session.delete(other)
    session.flush()


def _apply_record(paper: Paper, record: PaperRecord) -> None:
    """Newer sources win for the fields they provide; an empty field never blanks a known one."""
    known_ids = [*paper.ids, *record.ids] if paper.paper_id else list(record.ids)
    paper.paper_id = preferred_id(list(dict.fromkeys(known_ids)))
    paper.title = record.title
    if record.abstract:
        paper.abstract = record.abstract
    elif paper.abstract is None:
        paper.abstract = ""
    if record.authors:
        paper.authors = list(record.authors)
    elif paper.authors is None:
        paper.authors = []
    if record.categories:
        paper.categories = list(record.categories)
    elif paper.categories is None:
        paper.categories = []
    for field in ("published", "updated", "venue", "comments"):
        value = getattr(record, field)
        if value is not None:
            setattr(paper, field, value)
    paper.extra = {**(paper.extra or {}), **record.extra}


def _add_aliases(session: Session, paper: Paper, ids: Sequence[str]) -> None:
    present = {alias.alias for alias in paper.aliases}
    for paper_id in dict.fromkeys([paper.paper_id, *ids]):
        if paper_id not in present:
            paper.aliases.append(PaperAlias(alias=paper_id))
            present.add(paper_id)
