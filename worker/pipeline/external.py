"""What the external sources say about one paper, merged into its enrichment with
provenance on every item.

Each source is asked on its own; one that fails is recorded as ``failed`` in the
document's ``sources`` and the rest still count, so a slow or broken source degrades
an enrichment but never fails it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from redis import Redis
from sqlalchemy.orm import Session

from paperlens.identifiers import parse_paper_id
from paperlens.schemas import (
    CodeLink,
    EnrichedPaper,
    HubRepo,
    PaperRecord,
    RelatedPaper,
    SourcedCount,
    SourcedLink,
    SourcedText,
    SourceErrorCode,
    SourceStatus,
)
from paperlens.settings import Settings
from paperlens.store.papers import canonical_ids, upsert_papers
from worker.ingest import pwc
from worker.pipeline import citations, published
from worker.pipeline.links import classify, order_links, web_url
from worker.sources import crossref, dblp, github, huggingface, openalex, semantic_scholar
from worker.sources.http import SourceError, SourcePaused, SourceSession

log = logging.getLogger(__name__)

T = TypeVar("T")

# Repositories whose facts are looked up per paper: enough for any real paper's links.
GITHUB_LOOKUPS = 10
# A lower bound on the score of an external suggestion, below any corpus neighbour's reason.
EXTERNAL_SCORE_STEP = 0.05
PWC = "pwc"


@dataclass
class Findings:
    """Everything the sources returned for one paper, before merging."""

    statuses: dict[str, SourceStatus] = field(default_factory=dict)
    hub: huggingface.HubPaper | None = None
    hub_repos: dict[str, list[huggingface.HubRepo]] = field(default_factory=dict)
    scholar: semantic_scholar.ScholarPaper | None = None
    recommendations: list[semantic_scholar.ScholarPaper] = field(default_factory=list)
    work: openalex.Work | None = None
    related_works: list[openalex.Work] = field(default_factory=list)
    pwc_links: list[pwc.PwcLink] = field(default_factory=list)
    dblp_record: dblp.DblpRecord | None = None
    crossref_venue: crossref.Venue | None = None


def gather(
    http: SourceSession, redis: Redis, settings: Settings, document: EnrichedPaper
) -> Findings:
    """Ask every enabled source about the paper ``document`` describes."""
    found = Findings()
    paper_ids = document.ids
    enabled = set(settings.sources)
    arxiv_id = next((i.removeprefix("arxiv:") for i in paper_ids if i.startswith("arxiv:")), None)
    lookup = next((i for i in paper_ids if i.startswith(("arxiv:", "doi:"))), None)

    def ask(source: str, wanted: bool, call: Callable[[], T]) -> T | None:
        if source not in enabled:
            return None
        if not wanted:
            found.statuses[source] = SourceStatus(status="skipped")
            return None
        now = dt.datetime.now(dt.UTC)
        try:
            result = call()
        except SourceError as error:
            # The message names the source and what went wrong, never a URL or a key. A paused
            # source was logged when it was paused, not again for every paper.
            level = logging.DEBUG if isinstance(error, SourcePaused) else logging.WARNING
            log.log(level, "%s failed for %s: %s (%s)", source, paper_ids[0], error.code, error)
            found.statuses[source] = SourceStatus(status="failed", fetched_at=now, error=error.code)
            return None
        empty = result is None or result == [] or result == {}
        found.statuses[source] = SourceStatus(status="empty" if empty else "ok", fetched_at=now)
        return result

    if arxiv_id is not None:
        found.hub = ask("huggingface", True, lambda: _hub(http, arxiv_id, found))
    else:
        ask("huggingface", False, lambda: None)
    if lookup is not None:
        found.scholar = ask("semantic_scholar", True, lambda: _scholar(http, lookup, found))
        found.work = ask("openalex", True, lambda: _openalex(http, lookup, found))
    else:
        ask("semantic_scholar", False, lambda: None)
        ask("openalex", False, lambda: None)
    if arxiv_id is not None:
        found.pwc_links = pwc.links_for(redis, f"arxiv:{arxiv_id}")
    # The published version of a preprint; Crossref only when DBLP knows none (see published).
    title, authors = document.title, document.authors
    found.dblp_record = ask(
        "dblp", arxiv_id is not None, lambda: dblp.published_version(http, title, authors)
    )
    said = published.said_dois(found.scholar, found.work)
    if arxiv_id is not None and found.dblp_record is None and said:
        doi = said[0].removeprefix("doi:")
        found.crossref_venue = ask("crossref", True, lambda: crossref.venue(http, doi))
    return found


def _hub(http: SourceSession, arxiv_id: str, found: Findings) -> huggingface.HubPaper | None:
    hub = huggingface.paper(http, arxiv_id)
    for kind in huggingface.HUB_KINDS:
        found.hub_repos[kind] = huggingface.citing_repos(http, arxiv_id, kind)
    return hub


def _scholar(
    http: SourceSession, lookup: str, found: Findings
) -> semantic_scholar.ScholarPaper | None:
    paper = semantic_scholar.paper(http, lookup)
    if paper is not None:
        found.recommendations = semantic_scholar.recommendations(http, paper.paper_id)
    return paper


def _openalex(http: SourceSession, lookup: str, found: Findings) -> openalex.Work | None:
    work = openalex.work(http, lookup)
    if work is not None and work.related_works:
        found.related_works = openalex.works_by_id(http, work.related_works)
    return work


def merge(
    document: EnrichedPaper,
    found: Findings,
    *,
    http: SourceSession,
    settings: Settings,
    session: Session,
    redis: Redis,
) -> EnrichedPaper:
    """The document with every source's contribution added, each item naming its source."""
    if found.work is not None:
        citations.remember(redis, document.paper_id, found.work)
    ids = join_ids(session, document, published.said_dois(found.scholar, found.work))
    version = published.choose(found.dblp_record, found.crossref_venue, found.scholar, found.work)
    code = merge_code(document.code, found)
    statuses = dict(found.statuses)
    if "github" in settings.sources:
        statuses["github"] = add_repository_facts(http, code)
    own_page = next((link for link in code if link.kind == "project_page" and link.official), None)
    project_page = SourcedLink(url=own_page.url, source=own_page.source) if own_page else None
    hub_page = web_url(found.hub.project_page) if found.hub is not None else None
    if project_page is None and hub_page is not None:
        project_page = SourcedLink(url=hub_page, source="huggingface")
    oa_url = web_url(found.work.oa_url) if found.work is not None else None
    failed = any(status.status == "failed" for status in statuses.values())
    external = related_external(document, found, session)
    own = citations.with_citations(redis, document.paper_id, document.related)
    return document.model_copy(
        update={
            "ids": ids,
            "published_version": version if document.paper_id.startswith("arxiv:") else None,
            "code": code,
            "project_page": project_page,
            "models": _hub_items(found, "models"),
            "datasets": _hub_items(found, "datasets"),
            "spaces": _hub_items(found, "spaces"),
            "citation_count": _citations(found),
            "tldr": (
                SourcedText(text=found.scholar.tldr, source="semantic_scholar")
                if found.scholar is not None and found.scholar.tldr
                else None
            ),
            "open_access": SourcedLink(url=oa_url, source="openalex") if oa_url else None,
            "related": filled(own, external, settings.related_k),
            "related_external": external,
            "sources": statuses,
            "status": "degraded" if failed else document.status,
        }
    )


def join_ids(session: Session, document: EnrichedPaper, dois: list[str]) -> list[str]:
    """The paper's ids with the DOIs its sources' records name for it, stored as aliases.

    Only a preprint is joined to DOIs this way (a DOI paper already is its DOI). The store's
    upsert files the DOI under the paper and, when the DOI was a paper of its own, merges
    the two as any record naming two known ids does.
    """
    new = [doi for doi in dois if doi not in document.ids]
    if not new or not document.paper_id.startswith("arxiv:"):
        return document.ids
    upsert_papers(session, [PaperRecord(ids=[document.paper_id, *new], title=document.title)])
    return [document.paper_id, *sorted({*document.ids[1:], *new} - {document.paper_id})]


def merge_code(own: list[CodeLink], found: Findings) -> list[CodeLink]:
    """Official links first (the paper's own, its Hugging Face page, the dump's official
    flag), then community implementations; one entry per repository, every source named."""
    merged: dict[str, CodeLink] = {}

    def add(link: CodeLink | None) -> None:
        if link is None:
            return
        key = link.url.lower()
        known = merged.get(key)
        if known is None:
            merged[key] = link.model_copy(update={"found_in": [link.source]})
            return
        sources = (
            known.found_in if link.source in known.found_in else [*known.found_in, link.source]
        )
        merged[key] = known.model_copy(
            update={"official": known.official or link.official, "found_in": sources}
        )

    for link in own:
        add(link)
    if found.hub is not None and found.hub.github_repo:
        add(classify(found.hub.github_repo, source="huggingface", official=True))
    for pwc_link in sorted(found.pwc_links, key=lambda link: not link.official):
        add(classify(pwc_link.repo_url, source=PWC, official=pwc_link.official))
    return order_links(merged.values())


def add_repository_facts(http: SourceSession, code: list[CodeLink]) -> SourceStatus:
    """Mark each GitHub repository with whether it exists, its stars, archive state and licence."""
    now = dt.datetime.now(dt.UTC)
    asked = 0
    errors: list[SourceErrorCode] = []
    for index, link in enumerate(code):
        path = github.repo_path(link.url) if link.kind == "repository" else None
        if path is None or asked == GITHUB_LOOKUPS:
            continue
        asked += 1
        try:
            facts = github.repo_facts(http, *path)
        except SourceError as error:
            level = logging.DEBUG if isinstance(error, SourcePaused) else logging.WARNING
            log.log(level, "github failed for %s: %s (%s)", link.url, error.code, error)
            errors.append(error.code)
            continue
        code[index] = link.model_copy(
            update={
                "exists": facts.exists,
                "archived": facts.archived if facts.exists else None,
                "stars": facts.stars,
                "license": facts.license,
                "last_push": facts.pushed_at,
            }
        )
    if errors:
        return SourceStatus(status="failed", fetched_at=now, error=errors[0])
    return SourceStatus(status="ok" if asked else "empty", fetched_at=now)


def _hub_items(found: Findings, kind: str) -> list[HubRepo]:
    return [
        HubRepo(url=repo.url, name=repo.repo_id, likes=repo.likes, downloads=repo.downloads)
        for repo in found.hub_repos.get(kind, [])
    ]


def _citations(found: Findings) -> SourcedCount | None:
    if found.scholar is not None and found.scholar.citation_count is not None:
        return SourcedCount(count=found.scholar.citation_count, source="semantic_scholar")
    if found.work is not None and found.work.cited_by_count is not None:
        return SourcedCount(count=found.work.cited_by_count, source="openalex")
    return None


def related_external(
    document: EnrichedPaper, found: Findings, session: Session
) -> list[RelatedPaper]:
    """Suggestions of Semantic Scholar and OpenAlex, each marked with whether we hold it."""
    candidates: list[tuple[str, str, str, str]] = []
    for paper in found.recommendations:
        paper_id = _scholar_id(paper)
        if paper_id and paper.title:
            candidates.append(
                (paper_id, paper.title, "semantic_scholar", "Recommended by Semantic Scholar")
            )
    for work in found.related_works:
        ref = parse_paper_id(f"arxiv:{work.arxiv_id}" if work.arxiv_id else f"doi:{work.doi}")
        paper_id = ref.paper_id if ref is not None and (work.arxiv_id or work.doi) else None
        if paper_id and work.title:
            candidates.append((paper_id, work.title, "openalex", "Related work in OpenAlex"))
    known = canonical_ids(session, [paper_id for paper_id, *_ in candidates])
    own = set(document.ids)
    seen: set[str] = set()
    related: list[RelatedPaper] = []
    for rank, (paper_id, title, source, reason) in enumerate(candidates):
        canonical = known.get(paper_id, paper_id)
        if canonical in own or canonical in seen:
            continue
        seen.add(canonical)
        related.append(
            RelatedPaper(
                paper_id=canonical,
                title=title,
                score=round(max(0.0, 1.0 - EXTERNAL_SCORE_STEP * rank), 4),
                reason=reason,
                in_corpus=paper_id in known,
                source=source,
            )
        )
    return related


def filled(own: list[RelatedPaper], external: list[RelatedPaper], k: int) -> list[RelatedPaper]:
    """The catalogue's neighbours (those above the similarity floor), then the sources'
    suggestions in their order up to ``k``: each keeps its ``source``, so a reader sees who
    proposed it. A small catalogue thus shows what the sources know instead of nothing."""
    listed = {related.paper_id for related in own}
    extra = [related for related in external if related.paper_id not in listed]
    return [*own, *extra[: max(0, k - len(own))]]


def _scholar_id(paper: semantic_scholar.ScholarPaper) -> str | None:
    """The PaperLens id of a Semantic Scholar paper: arXiv first, then DOI, then its own ids."""
    ids = paper.external_ids
    for scheme, name in (("arxiv", "ArXiv"), ("doi", "DOI"), ("corpusid", "CorpusId")):
        ref = parse_paper_id(f"{scheme}:{ids[name]}") if ids.get(name) else None
        if ref is not None:
            return ref.paper_id
    ref = parse_paper_id(f"s2:{paper.paper_id}")
    return ref.paper_id if ref is not None else None
