"""The freshness schedule, run by RQ's cron scheduler (``paperlens scheduler``).

RQ 3's ``CronScheduler`` enqueues registered functions on cron expressions; it keeps
no state of its own beyond Redis heartbeats, so one scheduler per deployment suffices
and ``paperlens run`` starts it beside the workers.
"""

from __future__ import annotations

from redis import Redis
from rq.cron import CronScheduler

from paperlens import keys
from paperlens.settings import Settings
from worker import jobs


def build_scheduler(redis: Redis, settings: Settings) -> CronScheduler:
    scheduler = CronScheduler(connection=redis, logging_level=settings.log_level)
    scheduler.register(
        jobs.ingest_new_submissions,
        keys.QUEUE_BULK,
        cron=settings.daily_ingest_cron,
        job_timeout=settings.job_timeout_seconds * 6,
        result_ttl=86_400,
        name="daily arXiv submissions",
    )
    scheduler.register(
        jobs.refresh_stale,
        keys.QUEUE_BULK,
        cron=settings.refresh_cron,
        job_timeout=settings.job_timeout_seconds,
        result_ttl=3_600,
        name="refresh stale enrichments",
    )
    return scheduler
