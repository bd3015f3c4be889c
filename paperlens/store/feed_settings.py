"""A reader's research feed settings: the token of their Atom feed, and the tags whose
papers do not feed the feed."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from paperlens import tokens
from paperlens.store.models import FeedMutedTag, FeedToken


def replace_feed_token(session: Session, reader_id: int) -> str:
    """A new feed token for the reader, replacing any older one; the clear text is returned
    here and nowhere else."""
    new = tokens.generate(tokens.FEED_TOKEN_SCHEME)
    session.execute(delete(FeedToken).where(FeedToken.user_id == reader_id))
    session.add(FeedToken(user_id=reader_id, prefix=new.prefix, secret_hash=new.secret_hash))
    session.flush()
    return new.token


def revoke_feed_token(session: Session, reader_id: int) -> bool:
    """Delete the reader's feed token; False when they had none."""
    found = session.execute(delete(FeedToken).where(FeedToken.user_id == reader_id))
    return bool(getattr(found, "rowcount", 0))


def feed_token_reader(session: Session, token: str) -> int | None:
    """The reader a feed token belongs to; None for unknown, malformed or revoked tokens."""
    prefix = tokens.prefix_of(token, tokens.FEED_TOKEN_SCHEME)
    if prefix is None:
        return None
    row = session.scalar(select(FeedToken).where(FeedToken.prefix == prefix))
    if row is None or not tokens.matches(token, row.secret_hash):
        return None
    return row.user_id


def set_tag_feeds(session: Session, reader_id: int, tag: str, feeds: bool) -> None:
    """Whether the reader's papers with ``tag`` feed the research feed (they do by default)."""
    session.execute(
        delete(FeedMutedTag).where(FeedMutedTag.user_id == reader_id, FeedMutedTag.tag == tag)
    )
    if not feeds:
        session.add(FeedMutedTag(user_id=reader_id, tag=tag))
    session.flush()


def muted_tags(session: Session, reader_id: int) -> set[str]:
    """The reader's tags that do not feed the research feed."""
    return set(session.scalars(select(FeedMutedTag.tag).where(FeedMutedTag.user_id == reader_id)))
