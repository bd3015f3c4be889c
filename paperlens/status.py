"""What ``paperlens status`` and ``/readyz`` report about the instance the environment names.

Two sources, read independently so that neither hides the other when it fails: Redis (the
published index, the queues, the last ingest) and the file ``paperlens run`` keeps of the
parts it supervises (a file, because Redis is one of those parts). ``collect`` gathers the
facts as data and ``render`` prints them for a person.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq.registry import DeferredJobRegistry, FailedJobRegistry, StartedJobRegistry

from paperlens import job_queue, keys, parts_state, precompute
from paperlens.parts_state import PartsState, PartState
from paperlens.settings import Settings

# Log lines shown under a part that is crash-looping.
SHOWN_LINES = 10


@dataclass(frozen=True)
class InstanceStatus:
    data_dir: Path
    # The index, queue and ingest sections as JSON values (``/readyz`` serves them as they
    # are); each is ``{"error": ...}`` when Redis could not be read.
    work: dict[str, Any]
    # What ``paperlens run`` last published for this data folder (None: nothing), and
    # whether a live supervisor published it lately.
    parts: PartsState | None
    supervised: bool

    @property
    def redis_readable(self) -> bool:
        return "error" not in self.work["queues"]

    @property
    def healthy(self) -> bool:
        """Redis answers and, when ``paperlens run`` runs (or ran) this instance, its
        supervisor is alive with every part running and none crash-looping. Without a
        ``paperlens run``, the parts are another process manager's to report."""
        if not self.redis_readable:
            return False
        if self.parts is None:
            return True
        return self.supervised and all(
            part.phase == "running" and not part.crash_looping for part in self.parts.parts
        )


def collect(redis: Redis, settings: Settings) -> InstanceStatus:
    """Everything ``paperlens status`` shows; never fails for want of Redis or of the file."""
    state = parts_state.read(settings.parts_state_file)
    return InstanceStatus(
        data_dir=settings.data_path,
        work=work_status(redis),
        parts=state,
        supervised=state is not None and state.current,
    )


def work_status(redis: Redis) -> dict[str, Any]:
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
    info = precompute.index_info(redis)
    return {
        "ranker": precompute.index_ranker(redis),
        "papers": int(info["papers"]) if "papers" in info else None,
        "built_at": info.get("built_at"),
        "file": info.get("name"),
        "rebuild_pending": precompute.rebuild_pending(redis) is not None,
    }


def queue_depths(redis: Redis) -> dict[str, dict[str, int]]:
    """Per queue, in the order workers drain them: jobs waiting, running, waiting for
    another job (an enrichment waiting for the index being rebuilt) and failed."""
    depths = {}
    for name in keys.QUEUES_BY_URGENCY:
        queue = job_queue.queue(redis, name)
        depths[name] = {
            "queued": queue.count,
            "running": StartedJobRegistry(queue=queue).count,
            "deferred": DeferredJobRegistry(queue=queue).count,
            "failed": FailedJobRegistry(queue=queue).count,
        }
    return depths


def last_ingest(redis: Redis) -> dict[str, Any] | None:
    """What last brought papers into the catalogue, when, and how many; None before any."""
    found = precompute.last_ingest(redis)
    if not found:
        return None
    return {
        "what": found.get("what"),
        "at": found.get("at"),
        "created": int(found.get("created", 0)),
        "updated": int(found.get("updated", 0)),
    }


def render(status: InstanceStatus) -> str:
    """The status as a person reads it: the supervised parts, then the work."""
    return "\n".join(
        [
            *_parts_lines(status),
            "",
            *_index_lines(status.work["index"]),
            *_queue_lines(status.work["queues"]),
            *_ingest_lines(status.work["last_ingest"]),
        ]
    )


def _parts_lines(status: InstanceStatus) -> list[str]:
    if status.parts is None:
        return [f"No `paperlens run` is running with the data folder {status.data_dir}."]
    lines = [_headline(status, status.parts), ""]
    lines.append(f"{'part':<12}{'state':<34}{'pid':>8}{'restarts':>10}  last exit")
    for part in status.parts.parts:
        lines.append(
            f"{part.name:<12}{_state(part):<34}{part.pid or '-':>8}{part.restarts:>10}  "
            f"{_last_exit(part)}"
        )
    for part in status.parts.parts:
        if part.crash_looping:
            lines += ["", f"{part.name}: last lines before it exited ({part.last_exit}):"]
            lines += [f"  {line}" for line in part.log_tail[-SHOWN_LINES:]] or ["  (no output)"]
    return lines


def _headline(status: InstanceStatus, parts: PartsState) -> str:
    if not status.supervised:
        return (
            f"`paperlens run` for {status.data_dir} is not running any more (state as of "
            f"{_clock(parts.updated_at)}):"
        )
    looping = parts.crash_looping
    summary = f"crash-looping: {', '.join(looping)}" if looping else "every part is supervised"
    return (
        f"PaperLens in {status.data_dir}, run by `paperlens run` (pid {parts.supervisor_pid}); "
        f"{summary}"
    )


def _state(part: PartState) -> str:
    phase: str = part.phase
    if part.next_start_in_seconds is not None:
        phase = f"{phase} ({part.next_start_in_seconds:g} s)"
    return f"CRASH-LOOPING, {phase}" if part.crash_looping else phase


def _last_exit(part: PartState) -> str:
    if part.last_exit is None or part.last_exit_at is None:
        return "-"
    return f"{part.last_exit} at {_clock(part.last_exit_at)}"


def _clock(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp).strftime("%H:%M:%S")


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
