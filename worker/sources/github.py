"""GitHub REST: facts about a repository a paper links (exists, stars, archived,
licence, last push), so that dead or archived code is marked as such.

Plain HTTP through the shared session: one endpoint, and the token and rate limit
(5,000 requests an hour with a token, 60 without) live in the shared session.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from worker.sources.http import MalformedResponse, SourceSession

SOURCE = "github"
# The characters GitHub allows: an account is letters, digits and hyphens (not first), at
# most 39 characters; a repository is letters, digits, "-", "_" and ".", at most 100, and
# never "." or "..". Links are checked before any API call carries the instance's token.
_OWNER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}", re.ASCII)
_REPO = re.compile(r"[A-Za-z0-9._-]{1,100}", re.ASCII)


@dataclass
class RepoFacts:
    exists: bool
    stars: int | None = None
    archived: bool = False
    license: str | None = None
    pushed_at: dt.datetime | None = None


def repo_path(url: str) -> tuple[str, str] | None:
    """``(owner, repo)`` of a github.com repository URL; None for anything else, including
    names GitHub would not give an account or a repository."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if (parts.hostname or "").lower().removeprefix("www.") != "github.com":
        return None
    segments = [segment for segment in parts.path.split("/") if segment]
    if len(segments) < 2:
        return None
    owner, repo = segments[0], segments[1]
    if not _OWNER.fullmatch(owner) or not _REPO.fullmatch(repo) or repo in {".", ".."}:
        return None
    return owner, repo


def repo_facts(session: SourceSession, owner: str, repo: str) -> RepoFacts:
    body = session.get_json(SOURCE, ["repos", owner, repo])
    if body is None:
        return RepoFacts(exists=False)
    if not isinstance(body, dict) or "full_name" not in body:
        raise MalformedResponse("github: expected a repository object")
    licence = body.get("license") or {}
    stars = body.get("stargazers_count")
    return RepoFacts(
        exists=not body.get("disabled", False),
        stars=stars if isinstance(stars, int) else None,
        archived=bool(body.get("archived")),
        license=licence.get("spdx_id") if isinstance(licence, dict) else None,
        pushed_at=_datetime(body.get("pushed_at")),
    )


def _datetime(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
