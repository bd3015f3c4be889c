"""Prometheus metrics of the API, plus figures read from Redis at scrape time.

Under gunicorn each worker process counts on its own; ``PROMETHEUS_MULTIPROC_DIR``
(set by ``paperlens run``) lets one scrape add them up. Queue depths and job
figures live in Redis, so every replica reports the same values for them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from redis import Redis
from redis.exceptions import RedisError

from paperlens import fetch_state, job_metrics, job_queue, keys

REQUEST_SECONDS = Histogram(
    "paperlens_http_request_duration_seconds",
    "Time to answer an HTTP request, by endpoint.",
    ["method", "endpoint", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
ENRICHMENT_LOOKUPS = Counter(
    "paperlens_enrichment_lookups",
    "Enrichment documents looked up in Redis, by result (hit or miss).",
    ["result"],
)
# Bound once: ``labels`` takes a lock and checks its values on every call.
LOOKUP_HITS = ENRICHMENT_LOOKUPS.labels("hit")
LOOKUP_MISSES = ENRICHMENT_LOOKUPS.labels("miss")


class RedisFigures(Collector):
    """Queue depths, failed jobs and job durations, read from Redis when scraped."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "paperlens_queue_depth", "Jobs waiting in each RQ queue.", labels=["queue"]
        )
        failed = GaugeMetricFamily(
            "paperlens_queue_failed_jobs", "Jobs in each queue's failed registry.", labels=["queue"]
        )
        durations = HistogramMetricFamily(
            "paperlens_job_duration_seconds", "Time a job took, by job.", labels=["job"]
        )
        fetch_depth = GaugeMetricFamily(
            "paperlens_fetch_queue_depth",
            "Jobs waiting in the queue fetches of unknown papers use (bounded by "
            "PAPERLENS_FETCH_QUEUE_MAX_JOBS).",
        )
        deferred = GaugeMetricFamily(
            "paperlens_fetches_deferred", "Fetches of saved papers waiting for room in the queue."
        )
        failures = CounterMetricFamily(
            "paperlens_job_failures", "Job runs that raised, by job.", labels=["job"]
        )
        try:
            for name in keys.QUEUES_BY_URGENCY:
                queue = job_queue.queue(self.redis, name)
                depth.add_metric([name], queue.count)
                failed.add_metric([name], queue.failed_job_registry.count)
                if name == keys.QUEUE_INTERACTIVE:
                    fetch_depth.add_metric([], queue.count)
            deferred.add_metric([], fetch_state.deferred_count(self.redis))
            for figures in job_metrics.read_all(self.redis):
                buckets = [(str(bound), count) for bound, count in figures.buckets]
                buckets.append(("+Inf", figures.count))
                durations.add_metric([figures.job], buckets, figures.total_seconds)
                failures.add_metric([figures.job], figures.failures)
        except RedisError:
            return  # Redis down: /readyz says so; the API's own metrics still report
        yield from (depth, failed, fetch_depth, deferred, durations, failures)


def render(redis: Redis) -> bytes:
    """The text exposition of every metric, merged across gunicorn workers when needed."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        from prometheus_client import REGISTRY

        registry = REGISTRY
    scrape = CollectorRegistry()
    scrape.register(_Merged(registry))
    scrape.register(RedisFigures(redis))
    return generate_latest(scrape)


class _Merged(Collector):
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Metric]:
        yield from self.registry.collect()
