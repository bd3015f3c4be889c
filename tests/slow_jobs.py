"""A job that takes its time on the first attempt, so tests can interrupt a worker mid-job."""

from __future__ import annotations

import time

from worker.context import get_context
from worker.jobs import enrich_paper


def slow_enrich(paper_id: str, seconds: float, marker: str) -> bool:
    redis = get_context().redis
    attempt = redis.rpush(marker, "started")
    if attempt == 1:
        time.sleep(seconds)
    done = enrich_paper(paper_id)
    redis.rpush(marker, "finished")
    return done
