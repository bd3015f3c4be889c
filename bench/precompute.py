"""Precompute at scale: ingest rate, index build time and peak memory, enrichment throughput
for one worker and for two, and Redis memory per enriched paper.

Every step runs as the real command or job in its own process against a private Redis and a
SQLite store, on a synthetic corpus from `bench.corpus` (cached under var/bench/).

    python -m bench.precompute --sizes 10000,100000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from redis import Redis

from bench.corpus import generate
from bench.machine import append_result
from paperlens import keys
from paperlens.embedded_redis import EmbeddedRedis
from paperlens.migrations import upgrade

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "var" / "bench"
TARGET_INGEST_RATE = 5_000
TARGET_BYTES_PER_PAPER = 2_048

BUILD_INDEX = (
    "from worker.context import get_context\n"
    "from worker.pipeline.index_files import build_and_publish\n"
    "ctx = get_context(); build_and_publish(ctx.settings, ctx.db, ctx.redis)\n"
)
ENQUEUE = "from worker.jobs import enqueue_all_enrichments; enqueue_all_enrichments()\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000")
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args()
    rows = [
        "| papers | ingest papers/s | index build s | index peak MiB | workers | "
        "enrich papers/s | Redis bytes/paper |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size in (int(s) for s in args.sizes.split(",")):
        rows += measure(size, [int(w) for w in args.workers.split(",")])
        print("\n".join(rows))
    note = (
        f"Targets: ingest ≥ {TARGET_INGEST_RATE:,} papers/s; Redis ≤ {TARGET_BYTES_PER_PAPER:,} "
        "bytes per enriched paper. Related papers by the served lexical ranker, exact search."
    )
    append_result("Precompute", note + "\n\n" + "\n".join(rows))


def measure(size: int, worker_counts: list[int]) -> list[str]:
    corpus = CACHE / f"corpus-{size}.jsonl"
    if not corpus.exists():
        generate(size, corpus)
    work = Path(tempfile.mkdtemp(prefix="plprecompute-"))
    redis_server = EmbeddedRedis(work / "redis", socket=work / "redis" / "r.sock", persist=False)
    redis_server.start()
    env = {
        **os.environ,
        "PAPERLENS_DATA_DIR": str(work / "var"),
        "PAPERLENS_REDIS_URL": redis_server.url,
        "PAPERLENS_DATABASE_URL": f"sqlite:///{work / 'store.sqlite3'}",
        "PAPERLENS_LOG_LEVEL": "WARNING",
    }
    try:
        upgrade(env["PAPERLENS_DATABASE_URL"])
        me = [sys.executable, "-m", "paperlens.cli"]
        ingest_s, _ = timed([*me, "ingest", "arxiv-snapshot", str(corpus)], env)
        build_s, build_rss = timed([sys.executable, "-c", BUILD_INDEX], env)
        redis = Redis.from_url(redis_server.url)
        rows = []
        for workers in worker_counts:
            for key in redis.scan_iter(keys.enrichment("*"), count=10_000):
                redis.delete(key)
            before = int(redis.info("memory")["used_memory"])
            subprocess.run([sys.executable, "-c", ENQUEUE], env=env, cwd=ROOT, check=True)
            started = time.perf_counter()
            pool = [
                subprocess.Popen(
                    [*me, "worker", "--burst"], env=env, cwd=ROOT, stderr=subprocess.DEVNULL
                )
                for _ in range(workers)
            ]
            for process in pool:
                process.wait()
            enrich_s = time.perf_counter() - started
            per_paper = (int(redis.info("memory")["used_memory"]) - before) / size
            rows.append(
                f"| {size:,} | {size / ingest_s:,.0f} | {build_s:.1f} | {build_rss:,.0f} | "
                f"{workers} | {size / enrich_s:,.0f} | {per_paper:,.0f} |"
            )
        return rows
    finally:
        redis_server.stop()


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak resident MiB of one child process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise RuntimeError(f"{command} failed with status {status}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


if __name__ == "__main__":
    main()
