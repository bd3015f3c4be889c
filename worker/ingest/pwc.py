"""Papers with Code archive dumps: ``links-between-papers-and-code.json.gz`` (paper to
code links with their ``is_official`` flags) and ``papers-with-abstracts.json.gz``.

Both dumps are one JSON array, so they are read item by item with ``ijson``: memory
stays flat however large the dump. Links are derived data the enrichment merges, kept
in Redis per paper (a re-import restores them); papers go to the catalogue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, TypeVar

import ijson
import orjson
from redis import Redis

from paperlens import keys
from paperlens.identifiers import parse_paper_id
from paperlens.schemas import PaperRecord
from worker.ingest.bulk import Parsed, Parser, Writer, WriteStats
from worker.ingest.files import InputFile

T = TypeVar("T")


@dataclass(frozen=True)
class PwcLink:
    paper_id: str
    repo_url: str
    official: bool
    mentioned_in_paper: bool
    framework: str | None


def items(stream: BinaryIO, skip: int = 0) -> Iterator[tuple[int, Any]]:
    """``(item number, item)`` of a top-level JSON array, after the first ``skip`` items."""
    for number, item in enumerate(ijson.items(stream, "item", use_float=True), start=1):
        if number > skip:
            yield number, item


def dump_items(to_value: Callable[[Any], T | None]) -> Parser[T]:
    """The parser of a dump: each item turned into a value by ``to_value``, which returns
    None for an item the catalogue has no use for and raises ValueError for a bad one.
    Items are numbered from 1, and a resumed run skips the items done."""

    def parse(source: InputFile, _position: int, done: int) -> Iterator[Parsed[T]]:
        try:
            for number, raw in items(source.stream, done):
                try:
                    value = to_value(raw)
                except ValueError as error:  # pydantic's ValidationError is one
                    yield Parsed(number, number, error=str(error).splitlines()[0])
                    continue
                yield Parsed(number, number, value)
        except ijson.JSONError as error:
            yield Parsed(-1, -1, error=f"the dump is not a JSON array: {error}")

    return parse


def to_link(raw: Any) -> PwcLink | None:
    """A link of a paper the catalogue can name (an arXiv id), None for the others."""
    if not isinstance(raw, dict):
        raise ValueError("an item must be a JSON object")
    repo_url = raw.get("repo_url")
    if not isinstance(repo_url, str) or not repo_url.startswith(("https://", "http://")):
        raise ValueError(f"repo_url {repo_url!r} is not a web address")
    official = raw.get("is_official")
    if not isinstance(official, bool):
        raise ValueError(f"is_official {official!r} is not true or false")
    arxiv_id = raw.get("paper_arxiv_id")
    ref = parse_paper_id(str(arxiv_id)) if arxiv_id else None
    if ref is None or not ref.paper_id.startswith("arxiv:"):
        return None
    framework = raw.get("framework")
    return PwcLink(
        paper_id=ref.paper_id,
        repo_url=repo_url.rstrip("/"),
        official=official,
        mentioned_in_paper=raw.get("mentioned_in_paper") is True,
        framework=framework if isinstance(framework, str) and framework != "none" else None,
    )


def link_writer(redis: Redis) -> Writer[PwcLink]:
    """Each paper's links in one Redis hash keyed by repository, so a re-import is idempotent."""

    def write(batch: list[PwcLink]) -> WriteStats:
        pipe = redis.pipeline(transaction=False)
        for link in batch:
            value = {
                "official": link.official,
                "mentioned_in_paper": link.mentioned_in_paper,
                "framework": link.framework,
            }
            pipe.hset(keys.pwc_links(link.paper_id), link.repo_url, orjson.dumps(value))
        created = sum(1 for added in pipe.execute() if added)
        return WriteStats(created=created, updated=len(batch) - created)

    return write


def links_for(redis: Redis, paper_id: str) -> list[PwcLink]:
    """What the dump says about one paper's code."""
    stored = redis.hgetall(keys.pwc_links(paper_id))
    found = []
    for url, raw in sorted(stored.items()):
        value = orjson.loads(raw)
        found.append(
            PwcLink(
                paper_id=paper_id,
                repo_url=url.decode() if isinstance(url, bytes) else str(url),
                official=bool(value.get("official")),
                mentioned_in_paper=bool(value.get("mentioned_in_paper")),
                framework=value.get("framework"),
            )
        )
    return found


def to_record(raw: Any) -> PaperRecord | None:
    """A record of ``papers-with-abstracts``; papers without an arXiv id are left out."""
    if not isinstance(raw, dict):
        raise ValueError("an item must be a JSON object")
    ref = parse_paper_id(str(raw.get("arxiv_id") or ""))
    if ref is None or not ref.paper_id.startswith("arxiv:"):
        return None
    authors = raw.get("authors") or []
    published = None
    if isinstance(raw.get("date"), str):
        try:
            published = dt.date.fromisoformat(raw["date"][:10])
        except ValueError:
            published = None
    return PaperRecord(
        ids=[ref.paper_id],
        title=" ".join(str(raw.get("title") or "").split()),
        abstract=" ".join(str(raw.get("abstract") or "").split()),
        authors=[str(a) for a in authors if a] if isinstance(authors, list) else [],
        published=published,
        venue=raw.get("proceeding") if isinstance(raw.get("proceeding"), str) else None,
    )


parse_links = dump_items(to_link)
parse_papers = dump_items(to_record)
