"""arXiv API: metadata for ids (batched) and new submissions by category.

Uses the ``arxiv`` client library for query building and Atom parsing. Its own
retries and delay are switched off and its session replaced by ours, so that the
shared rate limit, cache and retries apply; its query URL is pointed at the base
URL from settings.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from typing import Any

import arxiv
import requests

from paperlens.identifiers import parse_paper_id
from paperlens.schemas import PaperRecord
from worker.sources.http import MalformedResponse, SourceError, SourceSession, status_code_name

SOURCE = "arxiv"
# The API answers at most this many ids per request comfortably.
ID_BATCH = 100
_ATOM_FEED = "{http://www.w3.org/2005/Atom}feed"


class _AtomSession(requests.Session):
    """Hands the library's requests to the shared session and refuses bodies that are not Atom.

    The library treats an unparseable body as an empty result; a reader would then be
    told the paper does not exist, so a malformed body must be an error instead.
    """

    def __init__(self, inner: SourceSession) -> None:
        super().__init__()
        self.inner = inner

    def get(self, url: str | bytes, **kwargs: Any) -> requests.Response:
        # The library sends its own User-Agent; ours names the deployment's contact.
        given = kwargs.pop("headers", None) or {}
        headers = {k: v for k, v in given.items() if k.lower() != "user-agent"}
        response = self.inner.get(str(url), headers=headers, **kwargs)
        if response.status_code == 200:
            try:
                root = ET.fromstring(response.content)
            except ET.ParseError:
                self.inner.forget(str(url))
                raise MalformedResponse("arxiv: the body is not XML") from None
            if root.tag != _ATOM_FEED:
                self.inner.forget(str(url))
                raise MalformedResponse("arxiv: the body is not an Atom feed")
        return response


def client(session: SourceSession) -> arxiv.Client:
    found = arxiv.Client(page_size=ID_BATCH, delay_seconds=0, num_retries=0)
    found.query_url_format = session.url(SOURCE, ["api", "query"]) + "?{}"
    found._session = _AtomSession(session)
    return found


def fetch_ids(session: SourceSession, arxiv_ids: Iterable[str]) -> list[PaperRecord]:
    """Records for the given bare arXiv ids (``2205.13147``); ids arXiv lacks are left out."""
    wanted = list(dict.fromkeys(arxiv_ids))
    records: list[PaperRecord] = []
    for start in range(0, len(wanted), ID_BATCH):
        chunk = wanted[start : start + ID_BATCH]
        search = arxiv.Search(id_list=chunk, max_results=len(chunk))
        records.extend(_run(session, search))
    return records


def new_submissions(
    session: SourceSession, category: str, since: dt.date, limit: int = 2_000
) -> list[PaperRecord]:
    """Papers submitted to ``category`` on or after ``since``, newest first."""
    search = arxiv.Search(
        query=f"cat:{category}",
        max_results=limit,
        sort_by=arxiv.SortCriterion.SubmittedDate,
        sort_order=arxiv.SortOrder.Descending,
    )
    found: list[PaperRecord] = []
    for record in _run(session, search):
        if record.published is not None and record.published < since:
            break
        found.append(record)
    return found


def _run(session: SourceSession, search: arxiv.Search) -> Iterator[PaperRecord]:
    try:
        for result in client(session).results(search):
            record = to_record(result)
            if record is not None:
                yield record
    except arxiv.HTTPError as error:
        # The library's message quotes the URL: keep to the status.
        code = status_code_name(error.status)
        raise SourceError(f"arxiv: HTTP {error.status}", code) from None
    except arxiv.ArxivError:
        raise MalformedResponse("arxiv: an unexpectedly empty page") from None


def to_record(result: arxiv.Result) -> PaperRecord | None:
    """A catalogue record from one Atom entry; None for the API's error entries."""
    ref = parse_paper_id(result.get_short_id())
    if ref is None or not result.title:
        return None
    ids = [ref.paper_id]
    if result.doi:
        doi = parse_paper_id(f"doi:{result.doi}")
        if doi is not None and doi.paper_id not in ids:
            ids.append(doi.paper_id)
    return PaperRecord(
        ids=ids,
        title=" ".join(result.title.split()),
        abstract=" ".join((result.summary or "").split()),
        authors=[author.name for author in result.authors],
        published=result.published.date() if result.published else None,
        updated=result.updated.date() if result.updated else None,
        categories=list(result.categories),
        venue=result.journal_ref or None,
        comments=result.comment or None,
    )
