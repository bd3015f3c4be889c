"""The research feeds' refresh: the papers new since the last refresh, ranked for each
reader who keeps a list by the reader's suggestions model, and put in front of their feed.

A paper is new when its store row comes after the newest one the last refresh took in.
The first refresh of an instance takes the newest papers of the catalogue. A reader's
feed learns from the saved papers whose tags feed it (see ``feeding_papers``), and leaves
out what the reader saved or dismissed; "more like this" papers are extra positives, and
a reader's feedback ranks their feed again over the papers the feeds took in lately
(``refresh_reader_feed``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from redis import Redis
from sqlalchemy.orm import Session

from paperlens import feeds
from paperlens.schemas import FeedItem
from paperlens.store.db import Database
from paperlens.store.feed_settings import muted_tags
from paperlens.store.library import ProfilePaper, reader_profile, readers_with_lists
from paperlens.store.models import Paper
from paperlens.store.papers import newest_papers, papers_by_ids
from worker.pipeline.related import IndexedPaper, RelatedIndex
from worker.pipeline.suggestions import ProjectedPapers, rank_papers

# Each refresh adds at most this many papers to a reader's feed, the best ranked.
FEED_NEW_PER_REFRESH = 50
# A refresh ranks at most this many new papers, the newest: an ingest of a whole archive
# puts its latest papers in the feeds, not a random sample of it. A reader's own refresh
# ranks again this many of the newest papers the feeds took in.
FEED_CANDIDATES_MAX = 2_000


class _Candidates:
    """Papers to rank for the feeds, as the ranking and the feed items need them, read from
    their store rows while the session is open."""

    def __init__(self, papers: Sequence[Paper]) -> None:
        self.indexed = [IndexedPaper(p.paper_id, p.title, p.abstract) for p in papers]
        self.details = {p.paper_id: (list(p.authors or []), p.published) for p in papers}
        self.projected: ProjectedPapers | None = None

    def projected_into(self, index: RelatedIndex) -> ProjectedPapers:
        """The papers in the index's spaces, projected on the first call only: a refresh
        ranks the same papers for every reader, who then share one projection."""
        if self.projected is None:
            self.projected = ProjectedPapers(index, self.indexed)
        return self.projected


def refresh_feeds(db: Database, redis: Redis, index: RelatedIndex) -> int:
    """Rank the new papers for every reader with a list; returns how many papers were new."""
    after = feeds.last_paper(redis)
    with db.session() as session:
        new = newest_papers(session, after, FEED_CANDIDATES_MAX)
        readers = readers_with_lists(session)
        candidates = _Candidates(new)
    if not new:
        return 0
    now = dt.datetime.now(dt.UTC)
    for reader in readers:
        _rank_for(db, redis, index, reader, candidates, now)
    feeds.set_last_paper(redis, new[0].id)
    return len(new)


def refresh_reader_feed(db: Database, redis: Redis, index: RelatedIndex, reader: int) -> int:
    """Rank the papers the feeds took in lately again for one reader, whose feedback changed
    their model: what ranks high now joins the feed, what they dismissed leaves it. Papers
    already in the feed keep the time it took them in. Returns how many items were ranked."""
    last = feeds.last_paper(redis)
    if last is None:
        return 0  # no feed has taken papers in yet; the first refresh ranks with the feedback
    with db.session() as session:
        recent = newest_papers(session, None, FEED_CANDIDATES_MAX)
        candidates = _Candidates([p for p in recent if p.id <= last])
    return _rank_for(db, redis, index, reader, candidates, dt.datetime.now(dt.UTC))


def _rank_for(
    db: Database,
    redis: Redis,
    index: RelatedIndex,
    reader: int,
    candidates: _Candidates,
    now: dt.datetime,
) -> int:
    """Rank ``candidates`` for one reader and put the best in front of their feed."""
    with db.session() as session:
        profile = reader_profile(session, reader)
        muted = muted_tags(session, reader)
        more = _more_like_this(session, profile.more_like_this if profile else set(), index)
    if profile is None:
        return 0
    feeding = feeding_papers(profile.saved, muted)
    projected = candidates.projected_into(index)
    ranked = rank_papers(
        index, profile, feeding, projected, FEED_NEW_PER_REFRESH, extra_positives=more
    )
    items = [
        FeedItem(
            paper_id=found.paper_id,
            title=found.title,
            authors=candidates.details[found.paper_id][0],
            published=candidates.details[found.paper_id][1],
            reason=found.reason,
            score=found.score,
            because=found.because,
            added_at=now,
        )
        for found in ranked
    ]
    if not feeding and feeds.read(redis, reader) is None:
        return 0  # a reader whose list feeds nothing keeps no feed: it stays "never computed"
    settled = profile.saved_ids | profile.dismissed
    feeds.add(redis, reader, items, settled, now, len(candidates.indexed))
    return len(items)


def _more_like_this(session: Session, wanted: set[str], index: RelatedIndex) -> list[ProfilePaper]:
    """The "more like this" papers the index does not hold yet (a feed's papers arrive before
    the index is rebuilt), with their text, so that the model learns from them too."""
    missing = [paper_id for paper_id in sorted(wanted) if index.row_of(paper_id) is None]
    if not missing:
        return []
    found = papers_by_ids(session, missing)
    return [
        ProfilePaper(paper.paper_id, paper.title, paper.abstract, [])
        for paper in {p.paper_id: p for p in found.values()}.values()
    ]


def feeding_papers(saved: list[ProfilePaper], muted: set[str]) -> list[ProfilePaper]:
    """The saved papers the feed learns from: all but those whose every tag the reader
    switched off (a paper with one tag that feeds still feeds; an untagged one always does)."""
    return [paper for paper in saved if not paper.tags or not set(paper.tags) <= muted]
