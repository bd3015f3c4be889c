"""SQLAlchemy models of the durable records.

A paper is one row however many ids name it: every id (the canonical one included)
is a row of ``paper_aliases`` pointing at it, so a lookup by any id is one indexed join.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from paperlens.identifiers import PAPER_ID_MAX_LENGTH

# Ids are bounded where they are parsed, so that a long one is refused, never truncated.
ID_MAX_LENGTH = PAPER_ID_MAX_LENGTH


def _written_at() -> Mapped[dt.datetime]:
    """When the row was written, set by the database so every writer agrees on the clock."""
    return mapped_column(DateTime(timezone=True), server_default=func.now())


def _changed_at() -> Mapped[dt.datetime]:
    """When the row last changed: set by the database on insert, by SQLAlchemy on update."""
    return mapped_column(DateTime(timezone=True), server_default=func.now(), onupdate=func.now())


class Base(DeclarativeBase):
    pass


class Paper(Base):
    __tablename__ = "papers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paper_id: Mapped[str] = mapped_column(String(ID_MAX_LENGTH), unique=True, index=True)
    title: Mapped[str] = mapped_column(Text)
    abstract: Mapped[str] = mapped_column(Text, default="")
    authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    published: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    updated: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    venue: Mapped[str | None] = mapped_column(String(512), nullable=True)
    comments: Mapped[str | None] = mapped_column(Text, nullable=True)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = _written_at()
    modified_at: Mapped[dt.datetime] = _changed_at()

    aliases: Mapped[list[PaperAlias]] = relationship(
        back_populates="paper", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def ids(self) -> list[str]:
        """Every id of the paper, canonical first, the rest sorted for stable output."""
        others = sorted(a.alias for a in self.aliases if a.alias != self.paper_id)
        return [self.paper_id, *others]


class PaperAlias(Base):
    __tablename__ = "paper_aliases"

    alias: Mapped[str] = mapped_column(String(ID_MAX_LENGTH), primary_key=True)
    paper_pk: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), index=True)

    paper: Mapped[Paper] = relationship(back_populates="aliases")


# Readers, their tokens and their reading lists. A library entry names its paper by
# the id string it was saved under, not by a foreign key: the catalogue may not hold
# the paper yet, and when papers merge the alias table still finds it, so no save is lost.

USER_NAME_MAX_LENGTH = 64
TAG_MAX_LENGTH = 64


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(USER_NAME_MAX_LENGTH), unique=True)
    # Bumped in the same transaction as every change to the reader's list or feedback,
    # so suggestions computed from an older revision are known to be stale.
    library_revision: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = _written_at()


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime] = _written_at()
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    user: Mapped[User] = relationship(lazy="joined")


class LibraryEntry(Base):
    __tablename__ = "library_entries"
    __table_args__ = (
        UniqueConstraint("user_id", "paper_id", name="uq_library_entries_user_paper"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    paper_id: Mapped[str] = mapped_column(String(ID_MAX_LENGTH), index=True)
    status: Mapped[str] = mapped_column(String(16), default="to_read")
    note: Mapped[str] = mapped_column(Text, default="")
    # What an import said about the paper, shown until the catalogue knows it.
    title: Mapped[str | None] = mapped_column(Text, nullable=True)
    authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    published: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    saved_at: Mapped[dt.datetime] = _written_at()
    updated_at: Mapped[dt.datetime] = _changed_at()

    tags: Mapped[list[LibraryTag]] = relationship(
        back_populates="entry",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="LibraryTag.name",
    )

    @property
    def tag_names(self) -> list[str]:
        return [tag.name for tag in self.tags]


class LibraryTag(Base):
    __tablename__ = "library_tags"

    entry_id: Mapped[int] = mapped_column(
        ForeignKey("library_entries.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(TAG_MAX_LENGTH), primary_key=True, index=True)

    entry: Mapped[LibraryEntry] = relationship(back_populates="tags")


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("user_id", "paper_id", name="uq_feedback_user_paper"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    paper_id: Mapped[str] = mapped_column(String(ID_MAX_LENGTH))
    signal: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = _written_at()


# A reader's research feed settings: the token of their Atom feed and the tags whose
# papers do not feed it.


class FeedToken(Base):
    """The one Atom feed token of a reader, stored as a digest like an API token; replacing
    it deletes the old row, revoking it deletes the row."""

    __tablename__ = "feed_tokens"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = _written_at()


class FeedMutedTag(Base):
    """A tag of the reader's list that does not feed the research feed."""

    __tablename__ = "feed_muted_tags"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(TAG_MAX_LENGTH), primary_key=True)
