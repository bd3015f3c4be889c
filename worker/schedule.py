"""The freshness schedule, run by RQ's cron scheduler (``paperlens scheduler``).

RQ 3's ``CronScheduler`` enqueues registered functions on cron expressions; it keeps
no state of its own beyond Redis heartbeats, so one scheduler per deployment suffices
and ``paperlens run`` starts it beside the workers. Its jobs are stored as JSON like every
other job (``paperlens.job_queue.SERIALIZER``); RQ's own cron jobs would use pickle.
"""

from __future__ import annotations

from typing import Any

from redis import Redis
from rq import cron_job_registry
from rq.cron import CronJob, CronScheduler
from rq.defaults import DEFAULT_CRON_JOB_HISTORY_LIMIT, DEFAULT_CRON_JOB_HISTORY_TTL
from rq.job import Job

from paperlens import job_queue, keys
from paperlens.settings import Settings
from worker import jobs

# The daily ingest lists and stores several categories: it may run this many job timeouts.
DAILY_INGEST_TIMEOUT_FACTOR = 6
# How long each scheduled run's job (and its result) is kept after it ends.
DAILY_INGEST_RESULT_TTL_SECONDS = 86_400
REFRESH_RESULT_TTL_SECONDS = 3_600


class JsonCronJob(CronJob):
    """A cron job that enqueues on a JSON queue, with RQ's bookkeeping of what it spawned."""

    def enqueue(self, connection: Redis) -> Job:
        if self.func is None:
            raise ValueError(f"cron job {self.name!r} has no function to enqueue")
        queue = job_queue.queue(connection, self.queue_name)
        with connection.pipeline() as pipeline:
            job = queue.enqueue(
                self.func, args=self.args, kwargs=self.kwargs, **self.job_options, pipeline=pipeline
            )
            enqueued = job.enqueued_at.timestamp() if job.enqueued_at else 0.0
            # The history of spawned jobs stays as short-lived and as short as RQ keeps it.
            pipeline.zadd(self.job_history_key, {job.id: enqueued})
            pipeline.zremrangebyrank(self.job_history_key, 0, -(DEFAULT_CRON_JOB_HISTORY_LIMIT + 1))
            pipeline.expire(self.job_history_key, DEFAULT_CRON_JOB_HISTORY_TTL)
            cron_job_registry.add(self.name, pipeline, enqueue_timestamp=enqueued)
            pipeline.execute()
        return job


class JsonCronScheduler(CronScheduler):
    """RQ's cron scheduler whose registered jobs enqueue as ``JsonCronJob``."""

    def register(self, *args: Any, **kwargs: Any) -> CronJob:
        cron_job = super().register(*args, **kwargs)
        cron_job.__class__ = JsonCronJob  # same fields; only how it enqueues differs
        return cron_job


def build_scheduler(redis: Redis, settings: Settings) -> CronScheduler:
    scheduler = JsonCronScheduler(connection=redis, logging_level=settings.log_level)
    scheduler.register(
        jobs.ingest_new_submissions,
        keys.QUEUE_BULK,
        cron=settings.daily_ingest_cron,
        job_timeout=settings.job_timeout_seconds * DAILY_INGEST_TIMEOUT_FACTOR,
        result_ttl=DAILY_INGEST_RESULT_TTL_SECONDS,
        name="daily arXiv submissions",
    )
    scheduler.register(
        jobs.refresh_stale,
        keys.QUEUE_BULK,
        cron=settings.refresh_cron,
        job_timeout=settings.job_timeout_seconds,
        result_ttl=REFRESH_RESULT_TTL_SECONDS,
        name="refresh stale enrichments",
    )
    scheduler.register(
        jobs.request_index_update,
        keys.QUEUE_BULK,
        cron=settings.index_update_cron,
        job_timeout=settings.job_timeout_seconds,
        result_ttl=REFRESH_RESULT_TTL_SECONDS,
        name="add new papers to the related-papers index",
    )
    return scheduler
