"""Passwords inside connection URLs: hidden wherever a URL is shown, checked in production.

Database and Redis URLs carry their password in the user part (``redis://:pw@host``) or
in the query (``?password=pw``); both forms are understood by the drivers, so both are
handled here.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

HIDDEN = "***"
# Query parameters whose value is a credential, compared in lower case.
SECRET_PARAMETERS = frozenset({"password", "pass", "passwd", "sslpassword", "token", "secret"})
# Passwords that ship in examples and default configurations: as good as none.
KNOWN_DEFAULT_PASSWORDS = frozenset(
    {"paperlens", "postgres", "password", "redis", "changeme", "secret", "admin", "root"}
)


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``, fit for a terminal or a log line.

    Only the password's places are rewritten; the rest is left exactly as written (a
    round trip through ``urlunsplit`` would change ``unix:///path`` and ``sqlite:////path``).
    """
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if at and ":" in userinfo:
        hidden = f"{userinfo.partition(':')[0]}:{HIDDEN}@{hostport}"
        url = url.replace(parts.netloc, hidden, 1)
    if parts.query:
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        if any(key.lower() in SECRET_PARAMETERS for key, _ in pairs):
            query = urlencode(
                [(k, HIDDEN if k.lower() in SECRET_PARAMETERS else v) for k, v in pairs],
                safe="*/",
            )
            url = url.replace("?" + parts.query, "?" + query, 1)
    return url


def password_problem(url: str) -> str | None:
    """What is wrong with the password of a networked database or Redis URL, if anything.

    URLs without a host (SQLite files, unix sockets) rely on file permissions instead and
    pass. The answer never contains the password itself.
    """
    parts = urlsplit(url)
    if not parts.hostname:
        return None
    password = unquote(parts.password) if parts.password else None
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key.lower() == "password":
            password = value
    if not password:
        return "has no password"
    if password.lower() in KNOWN_DEFAULT_PASSWORDS:
        return "uses a well-known default password"
    return None
