"""The RQ worker class PaperLens runs, and how it takes over the jobs of a worker that died.

RQ finds a job abandoned when the lease of its execution runs out. For a ``SimpleWorker`` the
lease is the job's timeout plus a minute (an hour for a precompute), and it is only looked at
during maintenance. A worker that died on this machine is known to be dead much sooner: its
process is gone. So at start and at each maintenance this worker ends the lease of every
execution whose worker is provably dead, then lets RQ's own abandoned-job handling
(``StartedJobRegistry.cleanup``: ``AbandonedJobError`` to the failure callbacks, then the job's
``Retry`` policy, or the failed registry when no retry is left) do the rest.
"""

from __future__ import annotations

import logging
import os
import socket
from types import FrameType

from redis import Redis
from rq import Queue, SimpleWorker
from rq.job import Job
from rq.registry import StartedJobRegistry
from rq.utils import parse_composite_key
from threadpoolctl import threadpool_limits

from paperlens.heap import release_free_memory

log = logging.getLogger(__name__)


class PaperLensWorker(SimpleWorker):
    """A ``SimpleWorker`` (jobs run in this process, so the related-papers index stays loaded)
    that reclaims dead workers' jobs whenever it runs maintenance, first of all at start."""

    # Set when SIGTERM or Ctrl-C asked this worker to stop: its work loop then ended on
    # purpose, not because it lost Redis.
    stop_asked = False

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stop_asked = True
        super().request_stop(signum, frame)  # type: ignore[no-untyped-call]

    def execute_job(self, job: Job, queue: Queue) -> None:
        """Run ``job`` with one BLAS thread, then give the heap's free memory back
        (``paperlens.heap``): a worker otherwise holds on to its largest job's transient
        arrays.

        Workers scale out as processes, one per core. A BLAS that spreads each small
        product over every core finds them taken by the other workers, and its threads
        wait on one another: a 768-wide vector-matrix product took 7 ms instead of 0.17
        with another process busy on the two cores (docs/performance.md).
        """
        try:
            with threadpool_limits(limits=1, user_api="blas"):
                super().execute_job(job, queue)
        finally:
            release_free_memory()

    def run_maintenance_tasks(self) -> None:
        reclaim_abandoned(self.connection, self.queues, own_name=self.name)
        super().run_maintenance_tasks()  # type: ignore[no-untyped-call]


def reclaim_abandoned(redis: Redis, queues: list[Queue], own_name: str = "") -> list[str]:
    """Hand the running jobs of dead workers to RQ's abandoned-job handling now.

    Returns the ids of the jobs so handed over (requeued when their ``Retry`` allows it).
    """
    reclaimed: list[str] = []
    for queue in queues:
        registry = StartedJobRegistry(queue=queue)
        expired = []
        for entry in redis.zrange(registry.key, 0, -1):
            composite = entry.decode() if isinstance(entry, bytes) else str(entry)
            job_id, _execution = parse_composite_key(composite)
            job = queue.fetch_job(job_id)
            if job is None or not job.worker_name or job.worker_name == own_name:
                continue
            if worker_is_gone(redis, job.worker_name):
                expired.append(composite)
                reclaimed.append(job_id)
        if expired:
            # A lease that ended long ago: the cleanup below takes exactly these as abandoned.
            redis.zadd(registry.key, dict.fromkeys(expired, 0), xx=True)
            log.warning("jobs of dead workers handed to RQ as abandoned: %s", ", ".join(reclaimed))
            registry.cleanup()
    return reclaimed


def worker_is_gone(redis: Redis, name: str) -> bool:
    """Whether the worker ``name`` is certainly not running any more.

    Sure signs: its registration expired or records its death, or it ran on this host under a
    process id that no longer exists (or that is now this very process: a restarted container).
    A worker on another host is left to its lease.
    """
    key = SimpleWorker.redis_worker_namespace_prefix + name
    death, hostname, pid_text = (
        value.decode() if isinstance(value, bytes) else value
        for value in redis.hmget(key, ["death", "hostname", "pid"])
    )
    if death or (hostname is None and pid_text is None):  # died, or its registration expired
        return True
    if hostname != socket.gethostname() or not pid_text:
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # a process of another user holds that id now: not ours to judge
        return False
    return False
