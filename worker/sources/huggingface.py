"""Hugging Face: a paper page by arXiv id, daily papers by date, and the models,
datasets and Spaces that cite a paper (their ``arxiv:<id>`` tag).

Plain HTTP through the shared session: the ``huggingface_hub`` client offers no paper
lookup by id for every field used here, and this keeps one place for rate limits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from paperlens.identifiers import parse_paper_id
from paperlens.schemas import PaperRecord
from worker.sources.http import MalformedResponse, SourceSession

SOURCE = "huggingface"
# Enough citing repositories for an overlay; the most liked come first.
HUB_LIMIT = 20
HUB_KINDS = ("models", "datasets", "spaces")


@dataclass
class HubPaper:
    arxiv_id: str
    title: str
    summary: str
    github_repo: str | None = None
    project_page: str | None = None
    upvotes: int = 0
    authors: list[str] = field(default_factory=list)
    published: dt.date | None = None


@dataclass
class HubRepo:
    repo_id: str
    kind: str  # "model", "dataset" or "space"
    likes: int = 0
    downloads: int = 0

    @property
    def url(self) -> str:
        prefix = {"model": "", "dataset": "datasets/", "space": "spaces/"}[self.kind]
        return f"https://huggingface.co/{prefix}{self.repo_id}"


def paper(session: SourceSession, arxiv_id: str) -> HubPaper | None:
    """The paper page's facts, or None when Hugging Face has no page for it."""
    body = session.get_json(SOURCE, ["api", "papers", *arxiv_id.split("/")])
    if body is None:
        return None
    return _hub_paper(body)


def daily_papers(session: SourceSession, day: dt.date) -> list[HubPaper]:
    """The papers featured on one day's Daily Papers page."""
    body = session.get_json(
        SOURCE, ["api", "daily_papers"], {"date": day.isoformat(), "limit": 100}
    )
    if body is None:
        return []
    if not isinstance(body, list):
        raise MalformedResponse("huggingface daily papers: expected a list")
    return [_hub_paper(entry.get("paper", entry)) for entry in body if isinstance(entry, dict)]


def citing_repos(session: SourceSession, arxiv_id: str, kind: str) -> list[HubRepo]:
    """Models, datasets or Spaces (``kind`` as in the API path) tagged with the paper."""
    params = {"filter": f"arxiv:{arxiv_id}", "sort": "likes", "direction": -1, "limit": HUB_LIMIT}
    body = session.get_json(SOURCE, ["api", kind], params)
    if body is None:
        return []
    if not isinstance(body, list):
        raise MalformedResponse(f"huggingface {kind}: expected a list")
    singular = kind.removesuffix("s")
    repos = []
    for entry in body:
        repo_id = entry.get("id") if isinstance(entry, dict) else None
        if isinstance(repo_id, str) and "/" in repo_id:
            repos.append(
                HubRepo(
                    repo_id=repo_id,
                    kind=singular,
                    likes=_int(entry.get("likes")),
                    downloads=_int(entry.get("downloads")),
                )
            )
    return repos


def to_record(hub: HubPaper) -> PaperRecord | None:
    ref = parse_paper_id(hub.arxiv_id)
    if ref is None or not hub.title:
        return None
    return PaperRecord(
        ids=[ref.paper_id],
        title=hub.title,
        abstract=hub.summary,
        authors=hub.authors,
        published=hub.published,
    )


def _hub_paper(body: Any) -> HubPaper:
    if not isinstance(body, dict) or not isinstance(body.get("id"), str):
        raise MalformedResponse("huggingface paper: expected an object with an 'id'")
    authors = [a.get("name") for a in body.get("authors") or [] if isinstance(a, dict)]
    return HubPaper(
        arxiv_id=body["id"],
        title=" ".join(str(body.get("title") or "").split()),
        summary=" ".join(str(body.get("summary") or "").split()),
        github_repo=_text(body.get("githubRepo")),
        project_page=_text(body.get("projectPage")),
        upvotes=_int(body.get("upvotes")),
        authors=[name for name in authors if isinstance(name, str) and name],
        published=_date(body.get("publishedAt")),
    )


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _date(value: Any) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        return None
