"""Reading and writing the paper catalogue.

Every function takes a session, so callers decide the transaction: ingest commits
a batch at a time, the API reads in a short session per request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import QueryableAttribute, Session

from paperlens.schemas import PaperRecord
from paperlens.store.merging import join_reader_rows
from paperlens.store.models import Paper, PaperAlias

T = TypeVar("T")

# Bound on the size of an IN (...) list, well under SQLite's and PostgreSQL's limits.
LOOKUP_CHUNK = 500

# Core tables for bulk inserts, which skip the ORM's per-row bookkeeping.
PAPERS_TABLE = cast(Table, Paper.__table__)
ALIASES_TABLE = cast(Table, PaperAlias.__table__)

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
    return _by_alias(session, ids, Paper.paper_id)


def papers_by_ids(session: Session, ids: Iterable[str]) -> dict[str, Paper]:
    """Map each known id (alias or canonical) to its paper row, in few queries."""
    return _by_alias(session, ids, Paper)


def _by_alias(
    session: Session, ids: Iterable[str], wanted: QueryableAttribute[T] | type[T]
) -> dict[str, T]:
    """Each known id mapped to what is ``wanted`` of its paper (a column or the whole row),
    one query per LOOKUP_CHUNK ids; a column alone spares loading rows and their aliases."""
    distinct = list(dict.fromkeys(ids))
    found: dict[str, T] = {}
    for start in range(0, len(distinct), LOOKUP_CHUNK):
        rows = session.execute(
            select(PaperAlias.alias, wanted)
            .join(Paper, PaperAlias.paper_pk == Paper.id)
            .where(PaperAlias.alias.in_(distinct[start : start + LOOKUP_CHUNK]))
        )
        found.update({alias: value for alias, value in rows})
    return found


def count_papers(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Paper)) or 0


def newest_papers(session: Session, after: int | None, limit: int) -> list[Paper]:
    """Up to ``limit`` papers stored after row ``after`` (the newest when ``after`` is None),
    newest first: the papers a research feed has not taken in yet."""
    statement = select(Paper).order_by(Paper.id.desc()).limit(limit)
    if after is not None:
        statement = statement.where(Paper.id > after)
    return list(session.scalars(statement))


def iter_paper_ids(session: Session, batch_size: int = 10_000) -> Iterator[str]:
    """Every paper's canonical id, streamed: what an index update compares with its rows,
    without loading a million abstracts."""
    yield from session.scalars(
        select(Paper.paper_id).order_by(Paper.id).execution_options(yield_per=batch_size)
    )


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
    Records are matched in chunks (one lookup query and one flush per chunk), which is
    what lets a bulk ingest write thousands of papers a second.
    """
    stats = UpsertStats()
    chunk: list[PaperRecord] = []
    for record in records:
        chunk.append(record)
        if len(chunk) == LOOKUP_CHUNK:
            _upsert_chunk(session, chunk, stats)
            chunk = []
    if chunk:
        _upsert_chunk(session, chunk, stats)
    return stats


def _upsert_chunk(session: Session, records: list[PaperRecord], stats: UpsertStats) -> None:
    """Plain values and bulk statements; the ORM only for a chunk that merges papers. A
    record naming several ids may join a reader's entries saved under them into one."""
    session.flush()
    if not _upsert_chunk_bulk(session, records, stats):
        _upsert_chunk_orm(session, records, stats)
    joined = [paper_id for record in records if len(record.ids) > 1 for paper_id in record.ids]
    if joined:
        join_reader_rows(session, joined)


def join_ids(session: Session, ids: Sequence[str]) -> Paper | None:
    """Record that ``ids`` name one paper, for a source answer that says so (a preprint's
    published DOI, say); the paper, or None when the catalogue holds none of them.

    Papers known apart under these ids become one, the new ids become aliases, the
    canonical id is chosen as an upsert would, and every reader's entries under any of
    them become one entry: the same join an ingest record naming all the ids makes.
    """
    session.flush()
    rows = _rows_for_ids(session, ids)
    if not rows:
        return None
    keep = rows[0]
    for other in rows[1:]:
        _merge_into(session, keep, other)
    session.refresh(keep)
    _add_aliases(session, keep, ids)
    keep.paper_id = preferred_id(keep.ids)
    session.flush()
    join_reader_rows(session, keep.ids)
    return keep


def _upsert_chunk_bulk(session: Session, records: list[PaperRecord], stats: UpsertStats) -> bool:
    """Match, apply and write a chunk without ORM objects; False (nothing written) when a
    record would join two papers, which the ORM path merges."""
    papers = _stored_by_alias(session, {i for record in records for i in record.ids})
    before = {id(paper): (paper.row(), set(paper.aliases)) for paper in papers.values()}
    created = updated = 0
    for record in records:
        matches = list({id(papers[i]): papers[i] for i in record.ids if i in papers}.values())
        if len(matches) > 1:
            return False
        if matches:
            paper = matches[0]
            updated += 1
        else:
            paper = _NewPaper(paper_id=preferred_id(record.ids), title=record.title)
            created += 1
        _apply_record(paper, record)
        paper.add_ids(record.ids)
        papers.update(dict.fromkeys(paper.aliases, paper))
    distinct = list({id(paper): paper for paper in papers.values()}.values())
    _update_stored(session, [p for p in distinct if p.pk is not None], before)
    _insert_new(session, {p.paper_id: p for p in distinct if p.pk is None})
    stats.created += created
    stats.updated += updated
    return True


def _stored_by_alias(session: Session, ids: set[str]) -> dict[str, _NewPaper]:
    """The stored papers any of ``ids`` names, as plain values keyed by every alias."""
    if not ids:
        return {}
    pks = select(PaperAlias.paper_pk).where(PaperAlias.alias.in_(ids))
    columns = [PAPERS_TABLE.c[name] for name in _NEW_PAPER_COLUMNS]
    rows = session.execute(select(PAPERS_TABLE.c.id, *columns).where(PAPERS_TABLE.c.id.in_(pks)))
    by_pk = {
        row[0]: _NewPaper(**dict(zip(_NEW_PAPER_COLUMNS, row[1:], strict=True)), pk=row[0])
        for row in rows
    }
    if not by_pk:
        return {}
    aliases = session.execute(
        select(PaperAlias.alias, PaperAlias.paper_pk).where(PaperAlias.paper_pk.in_(by_pk))
    )
    found: dict[str, _NewPaper] = {}
    for alias, pk in aliases:
        by_pk[pk].aliases.append(alias)
        found[alias] = by_pk[pk]
    return found


def _update_stored(
    session: Session,
    papers: list[_NewPaper],
    before: dict[int, tuple[dict[str, Any], set[str]]],
) -> None:
    """One executemany UPDATE for the papers whose values changed, one INSERT for new aliases."""
    changed = [paper for paper in papers if paper.row() != before[id(paper)][0]]
    if changed:
        statement = (
            update(PAPERS_TABLE)
            .where(PAPERS_TABLE.c.id == bindparam("pk_"))
            .values({name: bindparam(name) for name in _NEW_PAPER_COLUMNS})
        )
        session.connection().execute(statement, [{**p.row(), "pk_": p.pk} for p in changed])
    aliases = [
        {"alias": alias, "paper_pk": paper.pk}
        for paper in papers
        for alias in paper.aliases
        if alias not in before[id(paper)][1]
    ]
    if aliases:
        session.connection().execute(insert(ALIASES_TABLE), aliases)
    session.expire_all()


def _upsert_chunk_orm(session: Session, records: list[PaperRecord], stats: UpsertStats) -> None:
    """Known papers are updated through the ORM; new ones are inserted in two bulk statements."""
    by_alias = _papers_by_alias(session, {i for record in records for i in record.ids})
    new: dict[str, _NewPaper] = {}
    for record in records:
        fresh = list(dict.fromkeys(new[i] for i in record.ids if i in new))
        rows = list(dict.fromkeys(by_alias[i] for i in record.ids if i in by_alias))
        if fresh and (rows or len(fresh) > 1):
            # The record joins a paper new in this chunk to another one: write the new
            # ones first, then treat the record as an update of rows that now exist.
            _insert_new(session, new)
            new = {}
            fresh = []
            by_alias.update(_papers_by_alias(session, set(record.ids)))
            rows = list(dict.fromkeys(by_alias[i] for i in record.ids if i in by_alias))
        if fresh:
            paper: Paper | _NewPaper = fresh[0]
            stats.updated += 1
        elif rows:
            paper = _known_paper(session, record, rows, stats)
            stats.updated += 1
        else:
            paper = _NewPaper(paper_id=preferred_id(record.ids), title=record.title)
            stats.created += 1
        _apply_record(paper, record)
        if isinstance(paper, _NewPaper):
            paper.add_ids(record.ids)
            new.update(dict.fromkeys(paper.aliases, paper))
        else:
            _add_aliases(session, paper, record.ids)
            by_alias.update({alias.alias: paper for alias in paper.aliases})
    session.flush()
    _insert_new(session, new)


def _known_paper(
    session: Session, record: PaperRecord, rows: list[Paper], stats: UpsertStats
) -> Paper:
    if len(rows) == 1:
        return rows[0]
    # Rare: the record joins papers known apart. Merge them in the database.
    session.flush()
    rows = _rows_for_ids(session, record.ids)
    for other in rows[1:]:
        _merge_into(session, rows[0], other)
        stats.merged += 1
    return rows[0]


@dataclass(eq=False)
class _NewPaper:
    """A paper held as plain values: first seen in this chunk (``pk`` None) until its bulk
    insert, or a stored one (``pk`` set) until its bulk update."""

    paper_id: str
    title: str
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    published: dt.date | None = None
    updated: dt.date | None = None
    categories: list[str] = field(default_factory=list)
    venue: str | None = None
    comments: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)
    pk: int | None = None

    @property
    def ids(self) -> list[str]:
        return [self.paper_id, *sorted(a for a in self.aliases if a != self.paper_id)]

    def add_ids(self, ids: Sequence[str]) -> None:
        self.aliases = list(dict.fromkeys([*self.aliases, self.paper_id, *ids]))

    def row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _NEW_PAPER_COLUMNS}


_NEW_PAPER_COLUMNS = (
    "paper_id",
    "title",
    "abstract",
    "authors",
    "published",
    "updated",
    "categories",
    "venue",
    "comments",
    "extra",
)


def _insert_new(session: Session, new: dict[str, _NewPaper]) -> None:
    papers = list({id(paper): paper for paper in new.values()}.values())
    if not papers:
        return
    # executemany without RETURNING: SQLite cannot return ids in parameter order for a
    # multi-row insert, and one statement per row is several times slower than a lookup.
    # Core executemany on the session's connection: the ORM's bulk path costs more per row.
    connection = session.connection()
    connection.execute(insert(PAPERS_TABLE), [paper.row() for paper in papers])
    wanted = select(Paper.paper_id, Paper.id).where(
        Paper.paper_id.in_([paper.paper_id for paper in papers])
    )
    pks = {paper_id: pk for paper_id, pk in session.execute(wanted)}
    aliases = [
        {"alias": alias, "paper_pk": pks[paper.paper_id]}
        for paper in papers
        for alias in paper.aliases
    ]
    connection.execute(insert(ALIASES_TABLE), aliases)


def _papers_by_alias(session: Session, ids: set[str]) -> dict[str, Paper]:
    """The known papers any of ``ids`` names, keyed by every alias they have."""
    if not ids:
        return {}
    papers = _rows_for_ids(session, ids)
    return {alias.alias: paper for paper in papers for alias in paper.aliases}


def _rows_for_ids(session: Session, ids: Iterable[str]) -> list[Paper]:
    """The known papers any of ``ids`` names, each once, oldest first."""
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


def _apply_record(paper: Paper | _NewPaper, record: PaperRecord) -> None:
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
    for column in ("published", "updated", "venue", "comments"):
        value = getattr(record, column)
        if value is not None:
            setattr(paper, column, value)
    paper.extra = {**(paper.extra or {}), **record.extra}


def _add_aliases(session: Session, paper: Paper, ids: Sequence[str]) -> None:
    present = {alias.alias for alias in paper.aliases}
    for paper_id in dict.fromkeys([paper.paper_id, *ids]):
        if paper_id not in present:
            paper.aliases.append(PaperAlias(alias=paper_id))
            present.add(paper_id)
