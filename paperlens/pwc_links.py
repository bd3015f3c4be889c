"""Papers with Code links in Redis: one hash per paper, keyed by repository URL, so that
importing the archive dump again replaces each link instead of adding it twice. The
ingest writes them; the enrichment reads one paper's links.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from redis import Redis

from paperlens import keys

# One link: the paper's id, the repository's URL, and what the dump says about the link.
StoredLink = tuple[str, str, Mapping[str, Any]]


def write_many(redis: Redis, links: Sequence[StoredLink]) -> int:
    """Store ``links`` in one round trip; how many were new (the rest replaced their own)."""
    pipe = redis.pipeline(transaction=False)
    for paper_id, repo_url, value in links:
        pipe.hset(keys.pwc_links(paper_id), repo_url, orjson.dumps(value))
    return sum(1 for added in pipe.execute() if added)


def read(redis: Redis, paper_id: str) -> list[tuple[str, dict[str, Any]]]:
    """One paper's links as (repository URL, what the dump says), by URL."""
    stored = redis.hgetall(keys.pwc_links(paper_id))
    found = [
        (url.decode() if isinstance(url, bytes) else str(url), orjson.loads(raw))
        for url, raw in stored.items()
    ]
    return sorted(found, key=lambda link: link[0])
