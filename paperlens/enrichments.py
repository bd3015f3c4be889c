"""Enrichment documents in Redis: written whole by workers, served as bytes by the API.

Documents are stored gzip-compressed: a third of the memory per paper, and the API hands
the stored bytes to any client that accepts gzip (every browser does) without touching them.
"""

from __future__ import annotations

import datetime as dt
import gzip
from collections.abc import Sequence

from redis import Redis

from paperlens import keys
from paperlens.schemas import (
    Badges,
    CodeLink,
    EnrichedPaper,
    EnrichmentStatus,
    PublishedVersion,
    RelatedPaper,
)
from paperlens.store.models import Paper


def document(
    paper: Paper,
    status: EnrichmentStatus,
    code: Sequence[CodeLink] = (),
    related: Sequence[RelatedPaper] = (),
) -> EnrichedPaper:
    """The served document of ``paper``: its catalogue metadata plus what a worker found."""
    return EnrichedPaper(
        paper_id=paper.paper_id,
        ids=paper.ids,
        title=paper.title,
        authors=list(paper.authors or []),
        published=paper.published,
        abstract=paper.abstract,
        categories=list(paper.categories or []),
        venue=paper.venue,
        code=list(code),
        related=list(related),
        status=status,
        computed_at=dt.datetime.now(dt.UTC),
        schema_version=keys.ENRICHMENT_SCHEMA_VERSION,
    )


GZIP_MAGIC = b"\x1f\x8b"
# Smaller documents are stored as plain JSON: the gzip header would eat the saving.
COMPRESS_FROM_BYTES = 512
COMPRESS_LEVEL = 6


def encode(document_json: bytes) -> bytes:
    """What is stored for a document: gzip when that pays, the JSON itself otherwise."""
    if len(document_json) < COMPRESS_FROM_BYTES:
        return document_json
    return gzip.compress(document_json, compresslevel=COMPRESS_LEVEL, mtime=0)


def is_gzip(stored: bytes) -> bool:
    return stored.startswith(GZIP_MAGIC)


def as_json(stored: bytes) -> bytes:
    """The JSON of a stored document, compressed or not."""
    return gzip.decompress(stored) if is_gzip(stored) else stored


def badges(paper: EnrichedPaper) -> Badges:
    """The marks a listing page shows beside the paper."""
    code = [link for link in paper.code if link.kind != "project_page"]
    return Badges(code=bool(code), official_code=any(link.official for link in code))


def write(redis: Redis, paper: EnrichedPaper) -> None:
    """Store the document and its badges in one MSET, so readers see all or nothing."""
    redis.mset(
        {
            keys.enrichment(paper.paper_id): encode(paper.model_dump_json().encode()),
            keys.badges(paper.paper_id): badges(paper).model_dump_json(),
        }
    )


def write_many(redis: Redis, papers: Sequence[EnrichedPaper], due: Sequence[float]) -> None:
    """``write`` and ``schedule_refresh`` for many papers in one round trip (a pipeline)."""
    pipe = redis.pipeline(transaction=False)
    for paper, at in zip(papers, due, strict=True):
        write(pipe, paper)
        schedule_refresh(pipe, paper.paper_id, at)
    pipe.execute()


def read_raw(redis: Redis, paper_id: str) -> bytes | None:
    """The stored bytes exactly as written (see ``as_json``); the API sends them on."""
    value = redis.get(keys.enrichment(paper_id))
    return value if isinstance(value, bytes) else None


def read_many_raw(redis: Redis, paper_ids: Sequence[str]) -> list[bytes | None]:
    """Many documents in one round trip (``MGET``)."""
    if not paper_ids:
        return []
    values = redis.mget([keys.enrichment(paper_id) for paper_id in paper_ids])
    return [value if isinstance(value, bytes) else None for value in values]


def read_many_badges(redis: Redis, paper_ids: Sequence[str]) -> list[bytes | None]:
    """Many papers' badges (JSON) in one round trip.

    A document written before badges existed has none of its own; its badges are derived
    from the document, which costs a second round trip for those papers only.
    """
    if not paper_ids:
        return []
    values = redis.mget([keys.badges(paper_id) for paper_id in paper_ids])
    found = [value if isinstance(value, bytes) else None for value in values]
    older = [paper_id for paper_id, value in zip(paper_ids, found, strict=True) if value is None]
    derived = {
        paper_id: badges(EnrichedPaper.model_validate_json(as_json(raw))).model_dump_json().encode()
        for paper_id, raw in zip(older, read_many_raw(redis, older), strict=True)
        if raw is not None
    }
    return [
        value if value is not None else derived.get(paper_id)
        for paper_id, value in zip(paper_ids, found, strict=True)
    ]


# Documents read per MGET when a whole reading list is exported.
READ_CHUNK = 500


def read_published_versions(redis: Redis, paper_ids: Sequence[str]) -> dict[str, PublishedVersion]:
    """The published version each paper's document names, for the papers that have one."""
    found: dict[str, PublishedVersion] = {}
    for start in range(0, len(paper_ids), READ_CHUNK):
        chunk = paper_ids[start : start + READ_CHUNK]
        for paper_id, raw in zip(chunk, read_many_raw(redis, chunk), strict=True):
            version = (
                EnrichedPaper.model_validate_json(as_json(raw)).published_version if raw else None
            )
            if version is not None:
                found[paper_id] = version
    return found


def read(redis: Redis, paper_id: str) -> EnrichedPaper | None:
    raw = read_raw(redis, paper_id)
    return EnrichedPaper.model_validate_json(as_json(raw)) if raw is not None else None


def schedule_refresh(redis: Redis, paper_id: str, at: float) -> None:
    """Remember when the paper's enrichment should be computed again (Unix time)."""
    redis.zadd(keys.ENRICHMENT_DUE, {paper_id: at})


def due_for_refresh(redis: Redis, now: float, limit: int) -> list[str]:
    """The papers whose enrichment is due, oldest first."""
    found = redis.zrangebyscore(keys.ENRICHMENT_DUE, "-inf", now, start=0, num=limit)
    return [value.decode() if isinstance(value, bytes) else str(value) for value in found]


def mark_stale(redis: Redis, paper_id: str) -> bool:
    """Keep serving the document, marked ``stale``, while its refresh runs; False if none."""
    document = read(redis, paper_id)
    if document is None:
        return False
    write(redis, document.model_copy(update={"status": "stale"}))
    return True
