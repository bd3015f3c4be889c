"""SQLAlchemy models of the durable records.

A paper is one row however many ids name it: every id (the canonical one included)
is a row of ``paper_aliases`` pointing at it, so a lookup by any id is one indexed join.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ID_MAX_LENGTH = 512


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
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    modified_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

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
