"""The earlier lists an index update's new papers may enter, as its chunks found them, kept in
Redis until one job per partition inserts the papers into those lists, once per list
(``worker.jobs.insert_new_papers``).

A chunk enriches its new papers and finds, among each one's candidates, the earlier papers
whose lists it may enter (``gains.near_earlier``). Reading, refitting and writing those lists
right there would do it once for every chunk holding one of their candidates: an earlier
paper was read by five to eight chunks of a day's update, and most of its rewrites were
undone by the next chunk's. So a chunk records its findings here, spread over partitions by
earlier paper, and after the last chunk each partition's lists are read once with all their
candidates.

A chunk also records the reasons its new papers' own lists give for the earlier papers they
hold. Both are written from the new paper's side (its phrases, its sentence closest to the
other paper), as an inserted entry's reason is, so the insertion takes them as they are
instead of encoding the new paper's sentences again in another process.

Papers are named by id, not by row, so that a record stays true whatever index reads it.
"""

from __future__ import annotations

import json
import zlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

from redis import Redis

from paperlens import keys
from paperlens.precompute import PRECOMPUTE_PROGRESS_TTL_SECONDS

# An update's records are spread over at most this many partitions, each inserted by a job
# of its own: enough for every worker of a large deployment to take a share, few enough that
# each job reads its lists in full batches (``enrichments.READ_CHUNK``).
PARTITIONS_MAX = 16


@dataclass
class Candidates:
    """One partition's findings: the new papers each earlier paper's list may take in, and
    the reasons already written for some of those (earlier id, new id) pairs."""

    near: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    reasons: dict[tuple[str, str], str] = field(default_factory=dict)


def partitions_for(chunks: int) -> int:
    """How many partitions an update queued in ``chunks`` chunks spreads its records over."""
    return max(1, min(PARTITIONS_MAX, chunks))


def partition_of(paper_id: str, partitions: int) -> int:
    """The partition an earlier paper's list belongs to: the same in every chunk."""
    return zlib.crc32(paper_id.encode()) % partitions


def record(
    redis: Redis,
    run: str,
    chunk: str,
    partitions: int,
    near: Mapping[str, Sequence[str]],
    reasons: Mapping[tuple[str, str], str],
) -> None:
    """Keep what chunk ``chunk`` of update ``run`` found: ``near`` maps each earlier paper to
    the chunk's new papers it may gain, ``reasons`` the reasons the new papers' own lists
    give for (earlier, new) pairs. A chunk run again replaces its own record."""
    shares: list[dict[str, dict[str, object]]] = [{} for _ in range(partitions)]
    for earlier, new in near.items():
        shares[partition_of(earlier, partitions)][earlier] = {
            "new": list(new),
            "reasons": {n: reasons[(earlier, n)] for n in new if (earlier, n) in reasons},
        }
    with redis.pipeline(transaction=False) as pipe:
        for partition, share in enumerate(shares):
            if not share:
                continue
            key = keys.gain_candidates(run, partition)
            pipe.hset(key, chunk, zlib.compress(json.dumps(share).encode()))
            pipe.expire(key, PRECOMPUTE_PROGRESS_TTL_SECONDS)
        pipe.execute()


def recorded(redis: Redis, run: str, partition: int) -> Candidates:
    """Everything the update's chunks recorded for one partition, merged."""
    found = Candidates()
    # Workers' connections return bytes (``redis_client.connect``).
    for raw in cast("list[bytes]", redis.hvals(keys.gain_candidates(run, partition))):
        share = json.loads(zlib.decompress(raw))
        for earlier, entry in share.items():
            found.near[earlier].update(entry["new"])
            for new, reason in entry["reasons"].items():
                found.reasons[(earlier, new)] = reason
    return found


def forget(redis: Redis, run: str, partition: int) -> None:
    """Drop a partition's records once its lists took their new papers in."""
    redis.delete(keys.gain_candidates(run, partition))
