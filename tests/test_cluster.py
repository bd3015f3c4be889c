"""The production topology on this machine's PostgreSQL and Redis: two APIs, three workers and
the scheduler as separate processes, a precompute with a worker and an API killed mid-run.

It needs the machine's services and several minutes, so it runs only when
PAPERLENS_TEST_CLUSTER_DATABASE_URL and PAPERLENS_TEST_CLUSTER_REDIS_URL name them (.ci/run sets
both). The database's schema is dropped and the Redis database flushed, before and after:
name ones that hold nothing else (never Redis db 0). ``make bench-cluster`` runs the same at
20,000 papers.
"""

from __future__ import annotations

import os

import pytest

from bench import cluster

DATABASE_URL = os.environ.get("PAPERLENS_TEST_CLUSTER_DATABASE_URL")
REDIS_URL = os.environ.get("PAPERLENS_TEST_CLUSTER_REDIS_URL")
# Enough chunks of enrichment that the kills land mid-run, little enough for CI.
PAPERS = 2_000

pytestmark = pytest.mark.skipif(
    not (DATABASE_URL and REDIS_URL),
    reason="set PAPERLENS_TEST_CLUSTER_DATABASE_URL and PAPERLENS_TEST_CLUSTER_REDIS_URL",
)


def test_a_precompute_survives_kill_9_of_a_worker_and_an_api_and_both_apis_agree() -> None:
    assert DATABASE_URL and REDIS_URL
    outcome = cluster.run(PAPERS, DATABASE_URL, REDIS_URL)
    print(
        f"{PAPERS:,} papers with the {outcome.ranker} ranker: precompute {outcome.seconds:.0f} s "
        f"(enrichment {outcome.enrich_seconds:.0f} s); killed: {', '.join(outcome.killed)}"
    )
    assert outcome.problems == []
    assert outcome.ranker == "hybrid"  # what `make run` serves
    assert len(outcome.killed) == 2  # a worker mid-chunk and an API
    assert outcome.compared == cluster.SAMPLE + 1
