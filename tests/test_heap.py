"""A worker gives the memory its jobs freed back to the system once each job is over."""

from __future__ import annotations

import os

from redis import Redis

from paperlens import keys
from paperlens.heap import release_free_memory
from paperlens.job_queue import queue
from tests.support import run_workers

BLOCK = 64 * 1024  # below glibc's mmap threshold: each block is carved from the heap
BLOCKS = 2_000  # 125 MiB, of which every other block is freed
# Kept between a job and the test that looks at the process after it.
_kept: list[bytes] = []
_resident_after_job: list[int] = []


def resident_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def fragment_the_heap() -> int:
    """Fill the heap, then free every other block: the holes stay resident until trimmed,
    since a block still in use follows each of them."""
    blocks = [b"x" * BLOCK for _ in range(BLOCKS)]
    _kept[:] = blocks[1::2]
    del blocks
    _resident_after_job.append(resident_bytes())
    return len(_kept)


def test_free_holes_in_the_heap_are_given_back() -> None:
    fragment_the_heap()
    before = resident_bytes()

    assert release_free_memory()

    assert before - resident_bytes() > 40 * 2**20
    _kept.clear()


def test_a_worker_gives_back_what_its_job_freed(redis: Redis) -> None:
    queue(redis, keys.QUEUE_DEFAULT).enqueue(f"{__name__}.fragment_the_heap")

    run_workers(redis)

    assert len(_kept) == BLOCKS // 2  # the job ran
    assert _resident_after_job[-1] - resident_bytes() > 40 * 2**20
    _kept.clear()
