"""API tokens: random, shown once, stored only as a digest, compared in constant time.

A token reads ``pl_<prefix>_<secret>``. The prefix is public: it finds the stored row
and lets a reader tell their tokens apart in ``paperlens tokens list``. The secret
carries 256 bits from the operating system's generator; since it is that long and
random, a plain SHA-256 digest is as strong as a slow password hash would be.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

TOKEN_SCHEME = "pl"
# Atom feed tokens read ``plf_<prefix>_<secret>``: one look tells them from API tokens, and
# an API token is never taken for a feed token nor the other way round.
FEED_TOKEN_SCHEME = "plf"
PREFIX_BYTES = 4
SECRET_BYTES = 32
# Longest token a client could legitimately send; anything longer is refused unread.
MAX_TOKEN_LENGTH = 128


@dataclass(frozen=True)
class NewToken:
    prefix: str
    secret_hash: str
    token: str


def generate(scheme: str = TOKEN_SCHEME) -> NewToken:
    prefix = secrets.token_hex(PREFIX_BYTES)
    token = f"{scheme}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    return NewToken(prefix=prefix, secret_hash=digest(token), token=token)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def prefix_of(token: str, scheme: str = TOKEN_SCHEME) -> str | None:
    """The public prefix of a well-formed token of ``scheme``, or None for anything else."""
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    given, _, rest = token.partition("_")
    prefix, _, secret = rest.partition("_")
    if given != scheme or len(prefix) != PREFIX_BYTES * 2 or not secret:
        return None
    return prefix


def matches(token: str, secret_hash: str) -> bool:
    return hmac.compare_digest(digest(token), secret_hash)
