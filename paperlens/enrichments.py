"""Enrichment documents in Redis: written whole by workers, served as bytes by the API.

Documents are stored gzip-compressed: a third of the memory per paper, and the API hands
the stored bytes to any client that accepts gzip (every browser does) without touching them.
The gzip member is written so that a batch answer can also reuse its compressed data as it
is (see ``deflate_part``): its deflate data ends byte-aligned (a sync flush) before an empty
final block, and the header's extra field carries the document's Adler-32.
"""

from __future__ import annotations

import datetime as dt
import gzip
import struct
import zlib
from collections.abc import Callable, Sequence
from typing import NamedTuple, cast

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
# RFC 1952 header: deflate, FLG.FEXTRA, no mtime, unknown OS; then an extra field of one
# subfield "PL" holding the JSON's Adler-32 (big-endian, as zlib streams carry it).
_HEADER = GZIP_MAGIC + b"\x08\x04\x00\x00\x00\x00\x00\xff" + struct.pack("<H2sH", 8, b"PL", 4)
_HEADER_BYTES = len(_HEADER) + 4
# An empty final block with fixed codes: what ends the deflate data after the sync flush.
FINAL_BLOCK = b"\x03\x00"
_TRAILER_BYTES = 8


def encode(document_json: bytes) -> bytes:
    """What is stored for a document: gzip when that pays, the JSON itself otherwise."""
    if len(document_json) < COMPRESS_FROM_BYTES:
        return document_json
    compressor = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    return b"".join(
        (
            _HEADER,
            struct.pack(">I", zlib.adler32(document_json)),
            compressor.compress(document_json),
            compressor.flush(zlib.Z_SYNC_FLUSH),
            FINAL_BLOCK,
            struct.pack("<II", zlib.crc32(document_json), len(document_json) & 0xFFFFFFFF),
        )
    )


def is_gzip(stored: bytes) -> bool:
    return stored.startswith(GZIP_MAGIC)


def as_json(stored: bytes) -> bytes:
    """The JSON of a stored document, compressed or not."""
    return gzip.decompress(stored) if is_gzip(stored) else stored


class DeflatePart(NamedTuple):
    """A stored document's deflate data, byte-aligned and not final, so that it can be
    placed as it is inside a longer deflate stream, with what that stream's check needs.
    A named tuple: a batch makes one per document, and a tuple is the cheapest to build."""

    data: memoryview
    adler32: int
    length: int


def deflate_part(stored: bytes) -> DeflatePart | None:
    """The reusable deflate data of a document ``encode`` compressed; None for plain JSON and
    for gzip written before documents carried their Adler-32 (those must be inflated)."""
    if not stored.startswith(_HEADER):
        return None
    view = memoryview(stored)
    (adler,) = struct.unpack_from(">I", stored, len(_HEADER))
    (length,) = struct.unpack_from("<I", stored, len(stored) - 4)
    data = view[_HEADER_BYTES : len(stored) - _TRAILER_BYTES - len(FINAL_BLOCK)]
    return DeflatePart(data, adler, length)


def badges(paper: EnrichedPaper) -> Badges:
    """The marks a listing page shows beside the paper, and the code its badge links to.

    ``paper.code`` is already in reading order (official first), so the first link is the one
    a reader who clicks the badge wants.
    """
    code = [link for link in paper.code if link.kind != "project_page"]
    return Badges(
        code=bool(code),
        official_code=any(link.official for link in code),
        code_url=code[0].url if code else None,
    )


# Writers of one document at once are rare: a few rounds settle who writes last.
UPDATE_ATTEMPTS = 5


def write(redis: Redis, paper: EnrichedPaper, cutoff: bytes = b"") -> None:
    """Store the document, its badges and its list's cutoff in one MSET, so readers see all
    or nothing. ``cutoff`` is what a new paper must score to enter the document's related
    list (``worker.pipeline.gains.Cutoff``); empty when unknown, as for any document whose
    list was not just made by this index."""
    redis.mset(
        {
            keys.enrichment(paper.paper_id): encode(paper.model_dump_json().encode()),
            keys.badges(paper.paper_id): badges(paper).model_dump_json(),
            keys.list_cutoff(paper.paper_id): cutoff,
        }
    )


def write_many(
    redis: Redis,
    papers: Sequence[EnrichedPaper],
    due: Sequence[float],
    cutoffs: Sequence[bytes],
) -> None:
    """``write`` and ``schedule_refresh`` for many papers in one round trip (a pipeline)."""
    pipe = redis.pipeline(transaction=False)
    for paper, at, cutoff in zip(papers, due, cutoffs, strict=True):
        write(pipe, paper, cutoff)
        schedule_refresh(pipe, paper.paper_id, at)
    pipe.execute()


class Revision(NamedTuple):
    """A document as changed by ``update_many``'s caller, with its list's new cutoff."""

    document: EnrichedPaper
    cutoff: bytes


# Stores each document key KEYS[i] (of the first half of KEYS) its new document ARGV[3i - 1]
# and its cutoff key (the same position in the second half) ARGV[3i] if the document key
# still holds ARGV[3i - 2] (what the writer read), in one atomic step; answers the positions
# (from 1) that held something else.
_REPLACE_IF_UNCHANGED = """
local changed = {}
local documents = #KEYS / 2
for i = 1, documents do
  if redis.call('GET', KEYS[i]) == ARGV[3 * i - 2] then
    redis.call('SET', KEYS[i], ARGV[3 * i - 1])
    redis.call('SET', KEYS[documents + i], ARGV[3 * i])
  else
    changed[#changed + 1] = i
  end
end
return changed
"""


def update_many(
    redis: Redis,
    paper_ids: Sequence[str],
    change: Callable[[Sequence[EnrichedPaper]], Sequence[Revision | None]],
) -> int:
    """Replace each stored document (and its list's cutoff) by what ``change`` makes of it
    (None: nothing to change), unless another writer stores one meanwhile, in which case
    ``change`` is applied to theirs; how many were stored. Papers without a document are
    left alone.

    One read (MGET) and one compare-and-set script per round, so a batch costs two round
    trips whatever its size; only the documents written meanwhile go round again. The
    badges are not rewritten: they follow the code links, which a change of ``related``
    (its only use) leaves as they were.
    """
    stored = 0
    pending = list(paper_ids)
    for _ in range(UPDATE_ATTEMPTS):
        if not pending:
            break
        raws = read_many_raw(redis, pending)
        present = [(paper_id, raw) for paper_id, raw in zip(pending, raws, strict=True) if raw]
        documents = [EnrichedPaper.model_validate_json(as_json(raw)) for _, raw in present]
        writes = [
            (paper_id, raw, encode(changed.document.model_dump_json().encode()), changed.cutoff)
            for (paper_id, raw), changed in zip(present, change(documents), strict=True)
            if changed is not None
        ]
        if not writes:
            break
        ids = [paper_id for paper_id, _, _, _ in writes]
        refused = cast(
            "list[int]",
            redis.eval(
                _REPLACE_IF_UNCHANGED,
                2 * len(writes),
                *keys.enrichment.many(ids),
                *keys.list_cutoff.many(ids),
                *[value for _, old, new, cutoff in writes for value in (old, new, cutoff)],
            ),
        )
        stored += len(writes) - len(refused)
        pending = [writes[i - 1][0] for i in refused]
    return stored


def read_raw(redis: Redis, paper_id: str) -> bytes | None:
    """The stored bytes exactly as written (see ``as_json``); the API sends them on."""
    value = redis.get(keys.enrichment(paper_id))
    return value if isinstance(value, bytes) else None


def read_many_raw(redis: Redis, paper_ids: Sequence[str]) -> list[bytes | None]:
    """Many documents in one round trip (``MGET``); ``redis`` answers bytes (see
    ``redis_client.connect``), so its list is returned as it is."""
    if not paper_ids:
        return []
    return cast("list[bytes | None]", redis.mget(keys.enrichment.many(paper_ids)))


def read_cutoffs(redis: Redis, paper_ids: Sequence[str]) -> list[bytes | None]:
    """Many documents' list cutoffs (see ``write``) in one round trip; None where none is
    stored."""
    if not paper_ids:
        return []
    return cast("list[bytes | None]", redis.mget(keys.list_cutoff.many(paper_ids)))


def read_many_badges(redis: Redis, paper_ids: Sequence[str]) -> list[bytes | None]:
    """Many papers' badges (JSON) in one round trip.

    A document written before badges existed has none of its own; its badges are derived
    from the document, which costs a second round trip for those papers only.
    """
    if not paper_ids:
        return []
    found = cast("list[bytes | None]", redis.mget(keys.badges.many(paper_ids)))
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
