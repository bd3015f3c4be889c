"""Readers and their API tokens."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from paperlens import tokens
from paperlens.store.models import ApiToken, User

# A token's last use is recorded at most this often, so reads do not all become writes.
LAST_USED_RESOLUTION = dt.timedelta(minutes=5)


class UserExists(Exception):
    pass


class UnknownUser(Exception):
    pass


@dataclass(frozen=True)
class Reader:
    """The authenticated reader of a request: enough to scope every query."""

    id: int
    name: str


def create_user(session: Session, name: str) -> User:
    if find_user(session, name) is not None:
        raise UserExists(name)
    user = User(name=name, library_revision=0)
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(User.name == name))


def require_user(session: Session, name: str) -> User:
    user = find_user(session, name)
    if user is None:
        raise UnknownUser(name)
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name)))


def create_token(session: Session, user: User, label: str = "") -> str:
    """A new token for ``user``; the clear text is returned here and nowhere else."""
    new = tokens.generate()
    session.add(
        ApiToken(user_id=user.id, prefix=new.prefix, secret_hash=new.secret_hash, label=label)
    )
    session.flush()
    return new.token


def list_tokens(session: Session, user: User | None = None) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.id)
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return list(session.scalars(query))


def revoke_token(session: Session, prefix: str) -> bool:
    """Revoke the token with this prefix; False when no live token has it."""
    token = session.scalar(
        select(ApiToken).where(ApiToken.prefix == prefix, ApiToken.revoked_at.is_(None))
    )
    if token is None:
        return False
    token.revoked_at = dt.datetime.now(dt.UTC)
    return True


def authenticate(session: Session, token: str) -> Reader | None:
    """The reader a bearer token belongs to, or None for unknown, malformed or revoked tokens."""
    prefix = tokens.prefix_of(token)
    if prefix is None:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.prefix == prefix))
    if row is None or not tokens.matches(token, row.secret_hash) or row.revoked_at is not None:
        return None
    now = dt.datetime.now(dt.UTC)
    last = row.last_used_at
    if last is None or _aware(last) < now - LAST_USED_RESOLUTION:
        session.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
    return Reader(id=row.user.id, name=row.user.name)


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite hands timestamps back without a zone; they were written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
