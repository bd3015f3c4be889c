"""What an instance is doing: its published index, its queues and its last ingest.

``collect`` returns plain data (``/readyz`` serves it as JSON), ``render`` the lines that
``paperlens status`` prints; other parts of the status (processes, say) add their own
keys to the same mapping and their own lines to the same printer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.registry import DeferredJobRegistry, FailedJobRegistry, StartedJobRegistry

from paperlens import keys
from paperlens.jobs import SERIALIZER
from paperlens.precompute import rebuild_pending


def collect(redis: Redis) -> dict[str, Any]:
    """The index, queue and ingest parts of the status; ``{"error": ...}`` parts when
    Redis cannot be read, so that a status never fails for want of one dependency."""
    try:
        return {
            "index": index_status(redis),
            "queues": queue_depths(redis),
            "last_ingest": last_ingest(redis),
        }
    except RedisError as error:
        unreachable = {"error": f"Redis unreachable ({type(error).__name__})"}
        return {"index": unreachable, "queues": unreachable, "last_ingest": unreachable}


def index_status(redis: Redis) -> dict[str, Any]:
    """The published index (ranker, papers, build time) and whether a rebuild is pending."""
    info = _strings(redis.hgetall(keys.INDEX_INFO))
    ranker = redis.get(keys.INDEX_RANKER)
    return {
        "ranker": ranker.decode() if isinstance(ranker, bytes) else None,
        "papers": int(info["papers"]) if "papers" in info else None,
        "built_at": info.get("built_at"),
        "file": info.get("name"),
        "rebuild_pending": rebuild_pending(redis) is not None,
    }


def queue_depths(redis: Redis) -> dict[str, dict[str, int]]:
    """Per queue, in the order workers drain them: jobs waiting, running, waiting for
    another job (an enrichment waiting for the index being rebuilt) and failed."""
    depths = {}
    for name in keys.QUEUES_BY_URGENCY:
        queue = Queue(name, connection=redis, serializer=SERIALIZER)
        depths[name] = {
            "queued": queue.count,
            "running": StartedJobRegistry(queue=queue).count,
            "deferred": DeferredJobRegistry(queue=queue).count,
            "failed": FailedJobRegistry(queue=queue).count,
        }
    return depths


def last_ingest(redis: Redis) -> dict[str, Any] | None:
    """What last brought papers into the catalogue, when, and how many; None before any."""
    found = _strings(redis.hgetall(keys.LAST_INGEST))
    if not found:
        return None
    return {
        "what": found.get("what"),
        "at": found.get("at"),
        "created": int(found.get("created", 0)),
        "updated": int(found.get("updated", 0)),
    }


def render(status: dict[str, Any]) -> str:
    """The status as a person reads it."""
    return "\n".join(
        [
            *_index_lines(status["index"]),
            *_queue_lines(status["queues"]),
            *_ingest_lines(status["last_ingest"]),
        ]
    )


def _strings(found: dict[bytes | str, bytes | str]) -> dict[str, str]:
    return {_text(key): _text(value) for key, value in found.items()}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _index_lines(index: dict[str, Any]) -> list[str]:
    if "error" in index:
        return [f"index:        {index['error']}"]
    if index["ranker"] is None:
        line = "index:        none built yet (`paperlens precompute` builds it)"
    else:
        papers = f"{index['papers']:,} papers" if index["papers"] is not None else "size unknown"
        built = f", built {_when(index['built_at'])}" if index["built_at"] else ""
        line = f"index:        {index['ranker']}, {papers}{built}"
    pending = ["              a rebuild is pending"] if index["rebuild_pending"] else []
    return [line, *pending]


def _queue_lines(queues: dict[str, Any]) -> list[str]:
    if "error" in queues:
        return [f"queues:       {queues['error']}"]
    return [
        f"{'queues:' if position == 0 else '':<14}{name:<12}{depth['queued']:,} queued, "
        f"{depth['running']:,} running, {depth['deferred']:,} deferred, {depth['failed']:,} failed"
        for position, (name, depth) in enumerate(queues.items())
    ]


def _ingest_lines(ingest: dict[str, Any] | None) -> list[str]:
    if ingest is None:
        return ["last ingest:  none recorded"]
    if "error" in ingest:
        return [f"last ingest:  {ingest['error']}"]
    return [
        f"last ingest:  {_when(ingest['at'])}, {ingest['what']}: {ingest['created']:,} new, "
        f"{ingest['updated']:,} updated"
    ]


def _when(iso: str) -> str:
    """An ISO time as a person reads it, in UTC."""
    try:
        moment = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"
