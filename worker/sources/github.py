"""GitHub REST: facts about a repository a paper links (exists, stars, archived,
licence, last push), so that dead or archived code is marked as such.

Plain HTTP through the shared session: one endpoint, and the token and rate limit
(5,000 requests an hour with a token, 60 without) live in the shared session.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from worker.sources.http import MalformedResponse, SourceSession

SOURCE = "github"


@dataclass
class RepoFacts:
    exists: bool
    stars: int | None = None
    archived: bool = False
    license: str | None = None
    pushed_at: dt.datetime | None = None


def repo_path(url: str) -> tuple[str, str] | None:
    """``(owner, repo)`` of a github.com repository URL; None for anything else."""
    parts = urlsplit(url)
    if (parts.hostname or "").lower().removeprefix("www.") != "github.com":
        return None
    segments = [segment for segment in parts.path.split("/") if segment]
    return (segments[0], segments[1]) if len(segments) >= 2 else None


def repo_facts(session: SourceSession, owner: str, repo: str) -> RepoFacts:
    body = session.get_json(SOURCE, f"/repos/{quote(owner)}/{quote(repo)}")
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
