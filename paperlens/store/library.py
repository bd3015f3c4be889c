"""Reading lists: one reader's saved papers, their tags and notes, and feedback.

Every function takes the reader's id and scopes every query by it, so no path
through this module can touch another reader's rows. An entry keeps the id it was
saved under; the alias table turns it into the catalogue's paper when there is one.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Select, String, cast, delete, func, inspect, or_, select, tuple_, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from paperlens.schemas import (
    NOTE_MAX_LENGTH,
    TAGS_PER_ENTRY_MAX,
    FeedbackSignal,
    ImportItem,
    ImportMatch,
    LibraryItem,
    LibraryListParams,
    LibrarySort,
    ReadingStatus,
)
from paperlens.store.merging import aware, merge_entries
from paperlens.store.models import Feedback, LibraryEntry, LibraryTag, Paper, PaperAlias, User
from paperlens.store.papers import canonical_ids, find_paper

# Sorting by date puts papers without one last (newest first) or first (oldest first).
_NO_DATE = dt.date(1, 1, 1)


class LibraryFull(Exception):
    """The reader's list holds as many entries as the instance allows."""


class InvalidCursor(ValueError):
    pass


@dataclass
class EntryChanges:
    """Fields to set on an entry; None leaves a field as it is."""

    status: ReadingStatus | None = None
    tags: list[str] | None = None
    note: str | None = None


@dataclass
class Snapshot:
    """What an import file says about a paper, kept until the catalogue knows it."""

    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published: dt.date | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class SavedPaper:
    """An entry joined with the catalogue's paper, when the catalogue holds it."""

    entry: LibraryEntry
    paper: Paper | None

    @property
    def paper_id(self) -> str:
        return self.paper.paper_id if self.paper is not None else self.entry.paper_id

    @property
    def title(self) -> str | None:
        return self.paper.title if self.paper is not None else self.entry.title

    @property
    def authors(self) -> list[str]:
        if self.paper is not None and self.paper.authors:
            return list(self.paper.authors)
        return list(self.entry.authors or [])

    @property
    def published(self) -> dt.date | None:
        if self.paper is not None and self.paper.published is not None:
            return self.paper.published
        return self.entry.published

    def item(self) -> LibraryItem:
        entry = self.entry
        return LibraryItem(
            paper_id=self.paper_id,
            saved_as=entry.paper_id,
            known=self.paper is not None,
            title=self.title,
            authors=self.authors,
            published=self.published,
            venue=self.paper.venue if self.paper is not None else None,
            status=entry.status,  # type: ignore[arg-type]  # only valid values are written
            tags=entry.tag_names,
            note=entry.note,
            saved_at=aware(entry.saved_at),
            updated_at=aware(entry.updated_at),
        )


# --- single entries ---------------------------------------------------------------


def get_entry(session: Session, reader_id: int, paper_id: str) -> SavedPaper | None:
    """The reader's entry for this paper, under whichever of its ids it was saved."""
    paper = find_paper(session, paper_id)
    ids = paper.ids if paper is not None else [paper_id]
    entry = session.scalars(
        select(LibraryEntry)
        .where(LibraryEntry.user_id == reader_id, LibraryEntry.paper_id.in_(ids))
        .order_by(LibraryEntry.id)
    ).first()
    return SavedPaper(entry, paper) if entry is not None else None


def save_entry(
    session: Session,
    reader_id: int,
    paper_id: str,
    changes: EntryChanges,
    *,
    max_entries: int,
    snapshot: Snapshot | None = None,
) -> tuple[SavedPaper, bool]:
    """Save a paper (or change the entry that holds it); True when the entry is new."""
    found = get_entry(session, reader_id, paper_id)
    if found is not None:
        _apply(found.entry, changes)
        _fill_snapshot(found.entry, snapshot)
        bump_revision(session, reader_id)
        return found, False
    if count_entries(session, reader_id) >= max_entries:
        raise LibraryFull(f"a reading list holds at most {max_entries} papers")
    paper = find_paper(session, paper_id)
    entry = LibraryEntry(
        user_id=reader_id,
        paper_id=paper.paper_id if paper is not None else paper_id,
        status=changes.status or "to_read",
        note=changes.note or "",
        authors=[],
        details={},
    )
    entry.tags = [LibraryTag(name=name) for name in changes.tags or []]
    _fill_snapshot(entry, snapshot)
    session.add(entry)
    bump_revision(session, reader_id)
    session.flush()
    session.refresh(entry)
    return SavedPaper(entry, paper), True


def update_entry(
    session: Session, reader_id: int, paper_id: str, changes: EntryChanges
) -> SavedPaper | None:
    found = get_entry(session, reader_id, paper_id)
    if found is None:
        return None
    _apply(found.entry, changes)
    bump_revision(session, reader_id)
    session.flush()
    session.refresh(found.entry)
    return found


def delete_entry(session: Session, reader_id: int, paper_id: str) -> bool:
    found = get_entry(session, reader_id, paper_id)
    if found is None:
        return False
    session.delete(found.entry)
    bump_revision(session, reader_id)
    return True


def count_entries(session: Session, reader_id: int) -> int:
    query = select(func.count()).select_from(LibraryEntry).where(LibraryEntry.user_id == reader_id)
    return session.scalar(query) or 0


def bump_revision(session: Session, reader_id: int) -> None:
    """Mark the reader's suggestions stale, in the same transaction as the change."""
    session.execute(
        update(User).where(User.id == reader_id).values(library_revision=User.library_revision + 1)
    )


def library_revision(session: Session, reader_id: int) -> int:
    return session.scalar(select(User.library_revision).where(User.id == reader_id)) or 0


def _apply(entry: LibraryEntry, changes: EntryChanges) -> None:
    if changes.status is not None:
        entry.status = changes.status
    if changes.note is not None:
        entry.note = changes.note
    if changes.tags is not None:
        keep = {tag.name: tag for tag in entry.tags}
        entry.tags = [keep.get(name) or LibraryTag(name=name) for name in changes.tags]
    entry.updated_at = dt.datetime.now(dt.UTC)


def _fill_snapshot(entry: LibraryEntry, snapshot: Snapshot | None) -> None:
    """An import's metadata fills what the entry does not know; it never overwrites."""
    if snapshot is None:
        return
    entry.title = entry.title or snapshot.title
    entry.authors = list(entry.authors or []) or list(snapshot.authors)
    entry.published = entry.published or snapshot.published
    entry.details = {**snapshot.details, **(entry.details or {})}


# --- importing --------------------------------------------------------------------


@dataclass
class ImportCandidate:
    """One item of an import file, resolved (or not) to a paper id."""

    input: str
    paper_id: str | None
    reason: str | None = None
    tags: list[str] = field(default_factory=list)
    note: str = ""
    snapshot: Snapshot | None = None
    # Every id the item names (a BibTeX entry may give an arXiv id and a DOI), paper_id first.
    ids: list[str] = field(default_factory=list)

    def named_ids(self) -> list[str]:
        ids = [self.paper_id] if self.paper_id is not None else []
        return list(dict.fromkeys([*ids, *self.ids]))


def import_candidates(
    session: Session,
    reader_id: int,
    candidates: Iterable[ImportCandidate],
    *,
    extra_tags: Sequence[str],
    max_entries: int,
) -> list[ImportItem]:
    """Save every resolvable candidate; one already on the list is merged into its entry.

    A candidate is on the list when an entry holds any id it names, or, when none does,
    an entry has the same title (see ``title_key``) and year. Merging adds tags and fills
    an empty note, and never changes the status or a note the reader wrote: an import must
    not undo what the reader did on the list.
    """
    titles = _TitleIndex(session, reader_id)
    items: list[ImportItem] = []
    for candidate in candidates:
        if candidate.paper_id is None:
            items.append(_skipped(candidate, candidate.reason or "no paper id"))
            continue
        if len(candidate.note) > NOTE_MAX_LENGTH:
            # The limit a note saved through the API has.
            reason = f"the note has more than {NOTE_MAX_LENGTH} characters"
            items.append(_skipped(candidate, reason))
            continue
        wanted = list(dict.fromkeys([*candidate.tags, *extra_tags]))
        found = _entry_sharing_an_id(session, reader_id, candidate.named_ids())
        matched_by: ImportMatch = "id"
        if found is None:
            found = titles.find(candidate.snapshot)
            matched_by = "title"
        if found is not None:
            merged = _merge_candidate(session, reader_id, found, candidate, wanted)
            items.append(
                ImportItem(
                    input=candidate.input,
                    outcome="merged",
                    paper_id=merged.paper_id,
                    imported_id=candidate.paper_id,
                    matched_by=matched_by,
                )
            )
            continue
        try:
            saved, _ = save_entry(
                session,
                reader_id,
                candidate.paper_id,
                EntryChanges(tags=wanted[:TAGS_PER_ENTRY_MAX], note=candidate.note),
                max_entries=max_entries,
                snapshot=candidate.snapshot,
            )
        except LibraryFull as full:
            items.append(_skipped(candidate, str(full)))
            continue
        titles.add(saved)
        items.append(ImportItem(input=candidate.input, outcome="saved", paper_id=saved.paper_id))
    return items


def _entry_sharing_an_id(session: Session, reader_id: int, ids: list[str]) -> SavedPaper | None:
    """The reader's entry holding any of ``ids``; entries holding different ones of them
    are the same paper, so they are merged into one first."""
    found: dict[int, SavedPaper] = {}
    for paper_id in ids:
        saved = get_entry(session, reader_id, paper_id)
        if saved is not None:
            found.setdefault(saved.entry.id, saved)
    if len(found) > 1:
        entries = [found[key].entry for key in sorted(found)]
        merge_entries(session, entries)
    return found[min(found)] if found else None


def _merge_candidate(
    session: Session,
    reader_id: int,
    found: SavedPaper,
    candidate: ImportCandidate,
    wanted: list[str],
) -> SavedPaper:
    existing = found.entry.tag_names
    room = TAGS_PER_ENTRY_MAX - len(existing)
    added = [tag for tag in wanted if tag not in existing][: max(room, 0)]
    changes = EntryChanges(
        tags=[*existing, *added] if added else None,
        note=candidate.note if candidate.note and not found.entry.note else None,
    )
    _apply(found.entry, changes)
    _fill_snapshot(found.entry, candidate.snapshot)
    bump_revision(session, reader_id)
    session.flush()
    return found


class _TitleIndex:
    """The reader's entries by title and year, for import items that share no id with them;
    read from the list when an item first needs it (an id list never does)."""

    def __init__(self, session: Session, reader_id: int) -> None:
        self._session = session
        self._reader_id = reader_id
        self._entries: dict[tuple[str, int], SavedPaper] | None = None

    def add(self, saved: SavedPaper) -> None:
        if self._entries is not None:
            self._index(self._entries, saved)

    def find(self, snapshot: Snapshot | None) -> SavedPaper | None:
        if snapshot is None or snapshot.published is None:
            return None
        key = title_key(snapshot.title)
        if not key:
            return None
        if self._entries is None:
            self._entries = {}
            for saved in all_entries(self._session, self._reader_id):
                self._index(self._entries, saved)
        found = self._entries.get((key, snapshot.published.year))
        # An entry this import merged into an older one is gone, and matches nothing.
        if found is None or inspect(found.entry).was_deleted:
            return None
        return found

    @staticmethod
    def _index(entries: dict[tuple[str, int], SavedPaper], saved: SavedPaper) -> None:
        key = title_key(saved.title)
        if key and saved.published is not None:
            entries.setdefault((key, saved.published.year), saved)


def title_key(title: str | None) -> str:
    """A title as compared across files: without case, accents, punctuation or extra spaces."""
    if not title:
        return ""
    letters = unicodedata.normalize("NFKD", title)
    plain = "".join(c for c in letters if not unicodedata.combining(c)).casefold()
    return _NOT_A_WORD.sub(" ", plain).strip()


_NOT_A_WORD = re.compile(r"[\W_]+")


def _skipped(candidate: ImportCandidate, reason: str) -> ImportItem:
    return ImportItem(
        input=candidate.input, outcome="skipped", paper_id=candidate.paper_id, reason=reason
    )


# --- lists, search and pagination -------------------------------------------------


def list_entries(
    session: Session, reader_id: int, query: LibraryListParams
) -> tuple[list[SavedPaper], str | None]:
    """One page of the reader's list and the cursor of the next page (None at the end)."""
    key = _sort_key(query.sort)
    descending = query.direction == "desc"
    statement = _filtered(reader_id, query)
    if query.cursor is not None:
        value, last_id = decode_cursor(query.cursor, query.sort, query.direction)
        position = tuple_(key, LibraryEntry.id)
        after = tuple_(_cursor_literal(query.sort, value), last_id)
        statement = statement.where(position < after if descending else position > after)
    if descending:
        statement = statement.order_by(key.desc(), LibraryEntry.id.desc())
    else:
        statement = statement.order_by(key.asc(), LibraryEntry.id.asc())
    rows: list[Any] = list(session.execute(statement.add_columns(key).limit(query.limit + 1)))
    page = [SavedPaper(entry, paper) for entry, paper, _ in rows[: query.limit]]
    if len(rows) <= query.limit:
        return page, None
    _, _, last_key = rows[query.limit - 1]
    last = page[-1].entry
    return page, encode_cursor(query.sort, query.direction, last_key, last.id)


def readers_with_lists(session: Session) -> list[int]:
    """The readers who saved at least one paper: those a research feed can be ranked for."""
    return list(
        session.scalars(select(LibraryEntry.user_id).distinct().order_by(LibraryEntry.user_id))
    )


def all_entries(session: Session, reader_id: int, tag: str | None = None) -> list[SavedPaper]:
    """The whole list (or one tag), oldest save first: the order an export keeps."""
    statement = _filtered(reader_id, LibraryListParams(tag=tag)).order_by(LibraryEntry.id)
    return [SavedPaper(entry, paper) for entry, paper in session.execute(statement).all()]


def selected_entries(
    session: Session, reader_id: int, paper_ids: Iterable[str]
) -> list[SavedPaper]:
    """The reader's entries holding these ids (each once), in the order given; ids that are
    not on the list are left out."""
    found: dict[int, SavedPaper] = {}
    for paper_id in paper_ids:
        saved = get_entry(session, reader_id, paper_id)
        if saved is not None:
            found.setdefault(saved.entry.id, saved)
    return list(found.values())


def _filtered(reader_id: int, query: LibraryListParams) -> Select[LibraryEntry, Paper]:
    statement = (
        select(LibraryEntry, Paper)
        .outerjoin(PaperAlias, PaperAlias.alias == LibraryEntry.paper_id)
        .outerjoin(Paper, Paper.id == PaperAlias.paper_pk)
        .where(LibraryEntry.user_id == reader_id)
    )
    if query.status is not None:
        statement = statement.where(LibraryEntry.status == query.status)
    if query.tag is not None:
        tagged = select(LibraryTag.entry_id).where(LibraryTag.name == query.tag)
        statement = statement.where(LibraryEntry.id.in_(tagged))
    if query.year is not None:
        published = func.coalesce(Paper.published, LibraryEntry.published)
        first, after = dt.date(query.year, 1, 1), dt.date(query.year + 1, 1, 1)
        statement = statement.where(published >= first, published < after)
    if query.venue:
        statement = statement.where(_contains(Paper.venue, query.venue))
    if query.q:
        statement = statement.where(_matches(query.q))
    return statement


def _contains(column: Any, text: str) -> ColumnElement[bool]:
    """Case-insensitive substring match; LIKE's wildcards in ``text`` are matched literally."""
    return func.lower(column).contains(text.lower(), autoescape=True)


def _matches(text: str) -> ColumnElement[bool]:
    """Search over title, authors, the reader's note and the entry's tags."""
    fields: list[Any] = [
        Paper.title,
        cast(Paper.authors, String),
        LibraryEntry.title,
        cast(LibraryEntry.authors, String),
        LibraryEntry.note,
    ]
    tagged = select(LibraryTag.entry_id).where(_contains(LibraryTag.name, text))
    return or_(*(_contains(f, text) for f in fields), LibraryEntry.id.in_(tagged))


def _sort_key(sort: LibrarySort) -> Any:
    if sort == "published":
        return func.coalesce(Paper.published, LibraryEntry.published, _NO_DATE)
    if sort == "title":
        return func.lower(func.coalesce(Paper.title, LibraryEntry.title, LibraryEntry.paper_id))
    return LibraryEntry.id


def _cursor_literal(sort: LibrarySort, value: Any) -> Any:
    if sort == "published":
        return dt.date.fromisoformat(value)
    return value


def encode_cursor(sort: str, order: str, key: Any, last_id: int) -> str:
    """An opaque position: the sort, the last row's sort key and its id (the tie-breaker)."""
    if isinstance(key, dt.date):
        key = key.isoformat()
    raw = orjson.dumps([sort, order, key, last_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str, order: str) -> tuple[Any, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        made_for, made_order, key, last_id = orjson.loads(raw)
    except (binascii.Error, ValueError, TypeError) as error:
        raise InvalidCursor("the cursor is not one this API handed out") from error
    if (made_for, made_order) != (sort, order):
        raise InvalidCursor("the cursor belongs to a different sort order")
    if not isinstance(last_id, int) or not isinstance(key, (str, int)):
        raise InvalidCursor("the cursor is not one this API handed out")
    if sort == "published":
        try:
            dt.date.fromisoformat(str(key))
        except ValueError as error:
            raise InvalidCursor("the cursor is not one this API handed out") from error
    return key, last_id


# --- tags and feedback ------------------------------------------------------------


def tag_counts(session: Session, reader_id: int) -> list[tuple[str, int]]:
    count = func.count(LibraryTag.entry_id)
    rows = session.execute(
        select(LibraryTag.name, count)
        .join(LibraryEntry, LibraryEntry.id == LibraryTag.entry_id)
        .where(LibraryEntry.user_id == reader_id)
        .group_by(LibraryTag.name)
        .order_by(count.desc(), LibraryTag.name)
    )
    return [(name, number) for name, number in rows]


def record_feedback(session: Session, reader_id: int, paper_id: str, signal: FeedbackSignal) -> str:
    """Remember the reader's latest signal about a paper; returns the id it is kept under."""
    canonical = canonical_ids(session, [paper_id]).get(paper_id, paper_id)
    existing = session.scalar(
        select(Feedback).where(Feedback.user_id == reader_id, Feedback.paper_id == canonical)
    )
    if existing is None:
        session.add(Feedback(user_id=reader_id, paper_id=canonical, signal=signal))
    else:
        existing.signal = signal
        existing.created_at = dt.datetime.now(dt.UTC)
    bump_revision(session, reader_id)
    return canonical


def feedback_signals(session: Session, reader_id: int) -> dict[str, str]:
    """The reader's signals keyed by the papers' current canonical ids."""
    rows = session.execute(
        select(Feedback.paper_id, Feedback.signal).where(Feedback.user_id == reader_id)
    ).all()
    canonical = canonical_ids(session, [paper_id for paper_id, _ in rows])
    return {canonical.get(paper_id, paper_id): signal for paper_id, signal in rows}


def delete_feedback(session: Session, reader_id: int, paper_id: str) -> bool:
    """Withdraw a signal, under whichever id of the paper it was given."""
    paper = find_paper(session, paper_id)
    ids = paper.ids if paper is not None else [paper_id]
    deleted = session.execute(
        delete(Feedback).where(Feedback.user_id == reader_id, Feedback.paper_id.in_(ids))
    )
    if not deleted.rowcount:  # type: ignore[attr-defined]
        return False
    bump_revision(session, reader_id)
    return True


def settled_ids(session: Session, reader_id: int) -> set[str]:
    """Ids of papers the reader saved or dismissed: never to be suggested."""
    profile = reader_profile(session, reader_id)
    if profile is None:
        return set()
    return profile.saved_ids | profile.dismissed


# --- what the suggestions worker learns from --------------------------------------


@dataclass
class ProfilePaper:
    paper_id: str
    title: str
    abstract: str
    tags: list[str]


@dataclass
class ReaderProfile:
    """A reader's saved papers and signals at one library revision."""

    revision: int
    saved: list[ProfilePaper]
    saved_ids: set[str]
    dismissed: set[str]
    more_like_this: set[str]

    @classmethod
    def of_saved(cls, saved: Sequence[ProfilePaper], revision: int = 1) -> ReaderProfile:
        """A reader who saved ``saved`` (each paper once) and gave no feedback yet: how the
        benchmarks and tests make readers without a database."""
        unique = list({paper.paper_id: paper for paper in saved}.values())
        return cls(revision, unique, {paper.paper_id for paper in unique}, set(), set())


def reader_profile(session: Session, reader_id: int) -> ReaderProfile | None:
    """Everything suggestions are computed from, or None when the reader no longer exists."""
    revision = session.scalar(select(User.library_revision).where(User.id == reader_id))
    if revision is None:
        return None
    saved: list[ProfilePaper] = []
    saved_ids: set[str] = set()
    for item in all_entries(session, reader_id):
        saved_ids.add(item.paper_id)
        saved_ids.add(item.entry.paper_id)
        if item.paper is not None:
            saved_ids.update(item.paper.ids)
        if item.title:
            abstract = item.paper.abstract if item.paper is not None else ""
            saved.append(ProfilePaper(item.paper_id, item.title, abstract, item.entry.tag_names))
    signals = feedback_signals(session, reader_id)
    return ReaderProfile(
        revision=revision,
        saved=saved,
        saved_ids=saved_ids,
        dismissed={paper_id for paper_id, s in signals.items() if s == "dismiss"},
        more_like_this={paper_id for paper_id, s in signals.items() if s == "more_like_this"},
    )
