"""Research feeds in Redis: each reader's ranked new papers, written by the feed refresh
job after an ingest, read a page at a time by the API; and the row number of the newest
paper the feeds have taken in, which tells the next refresh what is new.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Sequence

import orjson
from pydantic import ValidationError
from redis import Redis
from redis.client import Pipeline

from paperlens import keys
from paperlens.schemas import FeedItem, FeedRefresh, StoredFeed
from paperlens.store.library import InvalidCursor

# A feed keeps its newest items up to this many; older ones fall off the end.
FEED_ITEMS_MAX = 500
# Feeds of readers who stop reading them expire; the next ingest starts them again.
FEED_TTL_SECONDS = 90 * 24 * 3600


def read(redis: Redis, user_id: int) -> StoredFeed | None:
    """The reader's feed, or None before its first computation (or after a shape change)."""
    raw = redis.get(keys.feed(user_id))
    return _parse(raw) if isinstance(raw, bytes) else None


def _parse(raw: bytes) -> StoredFeed | None:
    try:
        return StoredFeed.model_validate_json(raw)
    except ValidationError:
        return None


def add(
    redis: Redis,
    user_id: int,
    new: Sequence[FeedItem],
    settled: set[str],
    now: dt.datetime,
    papers_ranked: int,
) -> StoredFeed:
    """Put ``new`` in front of the reader's feed, leaving out what the reader ``settled``
    (saved or dismissed), and record that ``papers_ranked`` papers gave them. A paper
    already in the feed takes its new rank and reason but keeps the time the feed first
    took it in, so it is not new again to the reader.

    The refresh of all feeds and a reader's own refresh may write one feed at once: the
    write is a transaction that starts again when the feed changed after it was read."""
    key = keys.feed(user_id)
    written: list[StoredFeed] = []

    def write(pipe: Pipeline) -> None:
        raw = pipe.get(key)
        old = _parse(raw) if isinstance(raw, bytes) else None
        feed = _merged(old, new, settled, now, papers_ranked)
        pipe.multi()
        pipe.set(key, feed.model_dump_json(), ex=FEED_TTL_SECONDS)
        written[:] = [feed]

    redis.transaction(write, key)
    return written[0]


def _merged(
    old: StoredFeed | None,
    new: Sequence[FeedItem],
    settled: set[str],
    now: dt.datetime,
    papers_ranked: int,
) -> StoredFeed:
    taken_in = {item.paper_id: item.added_at for item in old.items} if old else {}
    fresh = [
        item.model_copy(update={"added_at": taken_in.get(item.paper_id, item.added_at)})
        for item in new
    ]
    fresh_ids = {item.paper_id for item in fresh}
    kept = [item for item in old.items if item.paper_id not in fresh_ids] if old else []
    items = [item for item in [*fresh, *kept] if item.paper_id not in settled]
    taken = sum(item.paper_id not in settled for item in fresh)
    return StoredFeed(
        computed_at=now,
        items=sorted(items, key=_order)[:FEED_ITEMS_MAX],
        last_refresh=FeedRefresh(papers_ranked=papers_ranked, papers_taken=taken),
    )


def page(
    feed: StoredFeed,
    settled: set[str],
    since: dt.datetime | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[FeedItem], str | None]:
    """One page of the feed (newest first, then best first) and the next page's cursor.

    What the reader saved or dismissed since the feed was computed is left out at once."""
    after = decode_cursor(cursor) if cursor is not None else None
    shown = [
        item
        for item in feed.items
        if item.paper_id not in settled
        and (since is None or item.added_at > _aware(since))
        and (after is None or _order(item) > after)
    ]
    shown.sort(key=_order)
    items = shown[:limit]
    more = len(shown) > limit
    return items, encode_cursor(items[-1]) if more else None


def last_paper(redis: Redis) -> int | None:
    """The row number of the newest paper the feeds took in; None before the first refresh."""
    raw = redis.get(keys.FEED_LAST_PAPER)
    return int(raw) if isinstance(raw, bytes) else None


def set_last_paper(redis: Redis, row: int) -> None:
    redis.set(keys.FEED_LAST_PAPER, row)


def delete(redis: Redis, user_id: int) -> None:
    redis.delete(keys.feed(user_id))


_Position = tuple[float, float, str]


def _order(item: FeedItem) -> _Position:
    """Newest first, then the best score, then by id so that the order is total."""
    return (-item.added_at.timestamp(), -item.score, item.paper_id)


def encode_cursor(item: FeedItem) -> str:
    raw = orjson.dumps(list(_order(item)))
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> _Position:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        added, score, paper_id = orjson.loads(raw)
        if not isinstance(paper_id, str):
            raise TypeError("the paper id is not text")
        return (float(added), float(score), paper_id)
    except (binascii.Error, orjson.JSONDecodeError, TypeError, ValueError) as error:
        raise InvalidCursor("the cursor is not one this API handed out") from error


def _aware(moment: dt.datetime) -> dt.datetime:
    """A time without a zone is read as UTC, as every time the API hands out is."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
