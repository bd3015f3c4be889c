"""Job durations and failures, counted in Redis so that every worker on every machine adds
to the same figures and any API replica can report them on ``/metrics``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from redis import Redis

from paperlens import keys

# Upper bounds of the duration histogram, in seconds.
DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


def record(redis: Redis, job: str, seconds: float, failed: bool) -> None:
    """Add one finished (or failed) run of ``job`` to the shared counters."""
    key = keys.job_metrics(job)
    with redis.pipeline(transaction=False) as pipe:
        pipe.hincrby(key, "count", 1)
        pipe.hincrbyfloat(key, "sum", seconds)
        if failed:
            pipe.hincrby(key, "failures", 1)
        for bound in DURATION_BUCKETS:
            if seconds <= bound:
                pipe.hincrby(key, f"le:{bound}", 1)
        pipe.sadd(keys.JOB_METRICS_INDEX, job)
        pipe.execute()


@dataclass
class JobFigures:
    job: str
    count: int
    total_seconds: float
    failures: int
    buckets: list[tuple[float, int]]


def read_all(redis: Redis) -> Iterator[JobFigures]:
    members = redis.smembers(keys.JOB_METRICS_INDEX)
    for raw in sorted(members):
        job = raw.decode() if isinstance(raw, bytes) else str(raw)
        fields = {
            (k.decode() if isinstance(k, bytes) else str(k)): float(v)
            for k, v in redis.hgetall(keys.job_metrics(job)).items()
        }
        yield JobFigures(
            job=job,
            count=int(fields.get("count", 0)),
            total_seconds=fields.get("sum", 0.0),
            failures=int(fields.get("failures", 0)),
            buckets=[(b, int(fields.get(f"le:{b}", 0))) for b in DURATION_BUCKETS],
        )
