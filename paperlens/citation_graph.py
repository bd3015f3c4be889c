"""The citation graph as OpenAlex reported it, in Redis: each paper's own OpenAlex work
number and the numbers of the works it cites. An enrichment that asked OpenAlex writes a
paper's entry; the reasons of related papers read the entries of a paper and its related.

Works are kept as the numbers of OpenAlex's ``W<number>`` ids: Redis then stores a
paper's references as a packed set of integers, 400 bytes for 40 references instead of
3,000 as strings (measured on the embedded Redis).
"""

from __future__ import annotations

from collections.abc import Sequence

from redis import Redis

from paperlens import keys


def write(redis: Redis, paper_id: str, work: int | None, cited: Sequence[int]) -> None:
    """Replace the paper's references (and record its own work number, when known)."""
    with redis.pipeline() as pipe:
        if work is not None:
            pipe.hset(keys.OPENALEX_IDS, paper_id, work)
        pipe.delete(keys.references(paper_id))
        if cited:
            pipe.sadd(keys.references(paper_id), *cited)
        pipe.execute()


def read(redis: Redis, paper_ids: Sequence[str]) -> list[tuple[bytes | None, set[bytes]]]:
    """Each paper's work number (None when unknown) and cited works, in one round trip."""
    with redis.pipeline(transaction=False) as pipe:
        pipe.hmget(keys.OPENALEX_IDS, paper_ids)
        for paper_id in paper_ids:
            pipe.smembers(keys.references(paper_id))
        works, *references = pipe.execute()
    return list(zip(works, references, strict=True))
