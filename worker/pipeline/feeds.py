"""The research feeds' refresh: the papers new since the last refresh, ranked for each
reader who keeps a list by the reader's suggestions model, and put in front of their feed.

A paper is new when its store row comes after the newest one the last refresh took in.
The first refresh of an instance takes the newest papers of the catalogue. A reader's
feed learns from the saved papers whose tags feed it (see ``feeding_papers``), and leaves
out what the reader saved or dismissed; "more like this" steers the ranking as it steers
suggestions.
"""

from __future__ import annotations

import datetime as dt

from redis import Redis

from paperlens import feeds
from paperlens.schemas import FeedItem
from paperlens.store.db import Database
from paperlens.store.feed_settings import muted_tags
from paperlens.store.library import ProfilePaper, reader_profile, readers_with_lists
from paperlens.store.papers import newest_papers
from worker.pipeline.related import IndexedPaper, RelatedIndex
from worker.pipeline.suggestions import rank_papers

# Each refresh adds at most this many papers to a reader's feed, the best ranked.
FEED_NEW_PER_REFRESH = 50
# A refresh ranks at most this many new papers, the newest: an ingest of a whole archive
# puts its latest papers in the feeds, not a random sample of it.
FEED_CANDIDATES_MAX = 2_000


def refresh_feeds(db: Database, redis: Redis, index: RelatedIndex) -> int:
    """Rank the new papers for every reader with a list; returns how many papers were new."""
    after = feeds.last_paper(redis)
    with db.session() as session:
        new = newest_papers(session, after, FEED_CANDIDATES_MAX)
        readers = readers_with_lists(session)
        candidates = [IndexedPaper(p.paper_id, p.title, p.abstract) for p in new]
        details = {p.paper_id: (list(p.authors or []), p.published) for p in new}
    if not new:
        return 0
    now = dt.datetime.now(dt.UTC)
    for reader in readers:
        with db.session() as session:
            profile = reader_profile(session, reader)
            muted = muted_tags(session, reader)
        if profile is None:
            continue
        feeding = feeding_papers(profile.saved, muted)
        ranked = rank_papers(index, profile, feeding, candidates, FEED_NEW_PER_REFRESH)
        items = [
            FeedItem(
                paper_id=found.paper_id,
                title=found.title,
                authors=details[found.paper_id][0],
                published=details[found.paper_id][1],
                reason=found.reason,
                score=found.score,
                because=found.because,
                added_at=now,
            )
            for found in ranked
        ]
        feeds.add(redis, reader, items, profile.saved_ids | profile.dismissed, now)
    feeds.set_last_paper(redis, new[0].id)
    return len(new)


def feeding_papers(saved: list[ProfilePaper], muted: set[str]) -> list[ProfilePaper]:
    """The saved papers the feed learns from: all but those whose every tag the reader
    switched off (a paper with one tag that feeds still feeds; an untagged one always does)."""
    return [paper for paper in saved if not paper.tags or not set(paper.tags) <= muted]
