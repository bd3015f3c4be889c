"""A worker's jobs run with one BLAS thread: workers scale out as processes, one per core."""

from __future__ import annotations

import numpy as np
from redis import Redis
from threadpoolctl import threadpool_info, threadpool_limits

from paperlens import keys
from paperlens.job_queue import queue
from tests.support import run_workers

# What each job saw, read by the test that ran it.
_seen: list[int] = []


def blas_threads() -> int:
    """The most threads any loaded BLAS would use for a product now."""
    np.ones((2, 2)) @ np.ones((2, 2))  # BLAS loaded, as in any pipeline job
    most = max(int(info["num_threads"]) for info in threadpool_info() if info["user_api"] == "blas")
    _seen.append(most)
    return most


def test_a_job_runs_with_one_blas_thread_and_the_process_keeps_its_own(redis: Redis) -> None:
    _seen.clear()
    with threadpool_limits(limits=2, user_api="blas"):
        queue(redis, keys.QUEUE_DEFAULT).enqueue(f"{__name__}.blas_threads")

        run_workers(redis)

        assert _seen == [1]
        assert blas_threads() == 2
