"""Precompute at scale: ingest rate, index build time and peak memory, enrichment throughput
for one worker and for two, worker memory, Redis memory per enriched paper, and (where the
approximate path is used) its recall.

Every step runs as the real command or job in its own process against a private Redis and a
SQLite store, on a synthetic corpus from `bench.corpus` (cached under var/bench/). Workers
are real `paperlens worker --burst` processes. ``--limit`` stops the enrichment after that
many seconds and reports the rate measured so far (the total is then an extrapolation, and
the table says so).

    python -m bench.precompute --sizes 10000,100000 --baseline-sizes 10000
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from redis import Redis
from rq import Queue

from bench.corpus import cached
from bench.machine import append_result
from bench.private_stack import private_stack
from cli.runner import worker_command
from paperlens import enrichments, keys
from paperlens.job_queue import SERIALIZER
from paperlens.settings import get_settings
from paperlens.store.db import Database
from paperlens.store.papers import find_paper
from worker.context import get_context
from worker.jobs import PRECOMPUTE_CHUNK, next_refresh
from worker.pipeline.enrich import enrich
from worker.pipeline.index_files import current_index
from worker.pipeline.rankers.tfidf import TfidfRanker
from worker.pipeline.related import IndexedPaper, RelatedIndex

ROOT = Path(__file__).resolve().parent.parent
TARGET_INGEST_RATE = 5_000
TARGET_BYTES_PER_PAPER = 2_048
TARGET_RECALL = 0.95
TARGET_1M_MINUTES = 60
TARGET_RESIDENT_GIB = 8
RECALL_SAMPLE = 1_000
K = 10

BUILD_INDEX = (
    "from worker.context import get_context\n"
    "from worker.pipeline.index_files import build_and_publish\n"
    "ctx = get_context(); build_and_publish(ctx.settings, ctx.db, ctx.redis)\n"
)
ENQUEUE = "from worker.jobs import enqueue_all_enrichments; enqueue_all_enrichments()\n"
ENQUEUE_ONE_BY_ONE = "from bench.precompute import enqueue_one_by_one; enqueue_one_by_one()\n"


def enrich_one_by_one(paper_ids: list[str]) -> int:
    """The job as it was before chunks were enriched in bulk: a query, the related list
    and a Redis write per paper. Kept here as the benchmark's baseline."""
    ctx = get_context()
    index = current_index(ctx.settings, ctx.db, ctx.redis)
    with ctx.db.session() as session:
        for paper_id in paper_ids:
            paper = find_paper(session, paper_id)
            assert paper is not None
            document = enrich(paper, index, ctx.settings.related_k)
            enrichments.write(ctx.redis, document)
            enrichments.schedule_refresh(ctx.redis, paper_id, next_refresh(ctx, document))
    return len(paper_ids)


def enqueue_one_by_one() -> None:
    ctx = get_context()
    bulk = Queue(keys.QUEUE_BULK, connection=ctx.redis, serializer=SERIALIZER)
    ids = [
        row.decode() if isinstance(row, bytes) else row
        for row in ctx.redis.lrange("bench:ids", 0, -1)
    ]
    for start in range(0, len(ids), PRECOMPUTE_CHUNK):
        bulk.enqueue(enrich_one_by_one, ids[start : start + PRECOMPUTE_CHUNK], result_ttl=0)


@dataclass
class Memory:
    """Peak resident and proportional (shared pages split between sharers) MiB of workers."""

    rss: float = 0.0
    pss: float = 0.0
    pids: list[int] = field(default_factory=list)

    def sample(self) -> None:
        for pid in self.pids:
            try:
                text = Path(f"/proc/{pid}/smaps_rollup").read_text()
            except OSError:
                continue
            values = {
                line.split(":")[0]: int(line.split()[1]) / 1024
                for line in text.splitlines()[1:]
                if line.endswith("kB")
            }
            self.rss = max(self.rss, values.get("Rss", 0.0))
            self.pss = max(self.pss, values.get("Pss", 0.0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000")
    parser.add_argument("--workers", default="1,2", help="worker counts to run; 0: build only")
    parser.add_argument(
        "--baseline-sizes", default="10000", help="sizes also run with the one-by-one job"
    )
    parser.add_argument("--limit", type=float, default=0, help="stop enrichment after s")
    parser.add_argument("--limit-from", type=int, default=500_000, help="papers --limit is for")
    args = parser.parse_args()
    settings = get_settings()
    header = [
        f"Related papers by the served lexical ranker (TF-IDF); the approximate path "
        f"(SVD to {settings.related_ann_dims} dims + FAISS HNSW, "
        f"{settings.related_ann_candidates} candidates re-ranked by exact TF-IDF cosine) from "
        f"{settings.related_ann_from:,} papers. Worker RSS counts pages shared through the "
        "memory-mapped index in each worker; PSS splits them between the workers.",
        "",
        "| papers | ingest papers/s | index build s | build peak MiB | index on disk MiB | "
        "job | workers | enrich papers/s | worker RSS MiB | worker PSS MiB | "
        "Redis bytes/paper | all papers, min |",
        "| ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    targets = (
        f"Targets: ingest ≥ {TARGET_INGEST_RATE:,} papers/s; Redis ≤ {TARGET_BYTES_PER_PAPER:,} "
        f"bytes per enriched paper; ANN recall@10 ≥ {TARGET_RECALL}; related papers of 1M "
        f"papers ≤ {TARGET_1M_MINUTES} min with ≤ {TARGET_RESIDENT_GIB} GB resident."
    )
    baseline = {int(s) for s in args.baseline_sizes.split(",") if s}
    for size in (int(s) for s in args.sizes.split(",")):
        limit = args.limit if size >= args.limit_from else 0
        rows, notes = measure(
            size, [int(w) for w in args.workers.split(",")], size in baseline, limit
        )
        report = "\n".join([targets, "", *header, *rows, "", *notes])
        print(report, flush=True)
        append_result("Precompute", report)  # size by size: a long run keeps what it measured


def measure(
    size: int, worker_counts: list[int], with_baseline: bool, limit: float
) -> tuple[list[str], list[str]]:
    corpus = cached(size)
    with private_stack("plprecompute-", PAPERLENS_RELATED_RANKER="tfidf") as stack:
        work, env = stack.work, stack.env
        me = [sys.executable, "-m", "cli.main"]
        ingest_s, _ = timed([*me, "ingest", "arxiv-snapshot", str(corpus)], env)
        print(f"{size:,}: ingest {ingest_s:.0f} s", flush=True)
        store = (work / "store.sqlite3").stat().st_size / size
        build_s, build_rss = timed([sys.executable, "-c", BUILD_INDEX], env)
        redis = Redis.from_url(stack.redis_url)
        pointer = redis.get(keys.INDEX_POINTER)
        assert isinstance(pointer, bytes)
        index_path = work / "var" / "index" / pointer.decode()
        on_disk = sum(p.stat().st_size for p in index_path.parent.iterdir()) / 2**20
        print(f"{size:,}: index build {build_s:.0f} s, {build_rss:,.0f} MiB peak", flush=True)
        runs = [("one by one", 1)] if with_baseline else []
        runs += [("chunked", workers) for workers in worker_counts if workers > 0]
        rows = []
        if not runs:  # --workers 0: ingest and build only
            rows.append(
                f"| {size:,} | {size / ingest_s:,.0f} | {build_s:,.0f} | {build_rss:,.0f} | "
                f"{on_disk:,.0f} | (build only) | 0 |  |  |  |  |  |"
            )
        for job, workers in runs:
            rate, memory, per_paper, partial = enrich_all(
                redis, env, workers, job == "one by one", size, limit
            )
            total = "" if job == "one by one" else f"{(build_s + size / rate) / 60:,.1f}"
            rows.append(
                f"| {size:,} | {size / ingest_s:,.0f} | {build_s:,.0f} | {build_rss:,.0f} | "
                f"{on_disk:,.0f} | {job} | {workers} | {rate:,.0f}{partial} | {memory.rss:,.0f} | "
                f"{memory.pss:,.0f} | {per_paper:,.0f} | {total}{partial} |"
            )
            print(rows[-1], flush=True)
        notes = [f"{size:,} papers: SQLite store {store:,.0f} bytes per paper after ingest."]
        notes += accuracy(size, RelatedIndex.load(index_path))
        if any(row.count("*") for row in rows):
            notes.append(
                f"\\* enrichment stopped after {limit:,.0f} s: the rate is the one measured "
                "until then and the total is extrapolated from it."
            )
        return rows, notes


def enrich_all(
    redis: Redis, env: dict[str, str], workers: int, one_by_one: bool, size: int, limit: float
) -> tuple[float, Memory, float, str]:
    """Papers enriched per second, worker memory, Redis bytes per paper, and "*" if cut."""
    for key in redis.scan_iter(keys.enrichment("*"), count=10_000):
        redis.delete(key)
    bulk = Queue(keys.QUEUE_BULK, connection=redis, serializer=SERIALIZER)
    bulk.empty()  # type: ignore[no-untyped-call]
    redis.delete(keys.ENRICHMENT_DUE)
    if one_by_one:
        load_ids(redis, env)
    before = int(redis.info("memory")["used_memory"])
    enqueue = ENQUEUE_ONE_BY_ONE if one_by_one else ENQUEUE
    subprocess.run([sys.executable, "-c", enqueue], env=env, cwd=ROOT, check=True)
    me = [*worker_command(), "--burst"]
    started = time.perf_counter()
    pool = [
        subprocess.Popen(me, env=env, cwd=ROOT, stderr=subprocess.DEVNULL) for _ in range(workers)
    ]
    memory = Memory(pids=[process.pid for process in pool])
    stop = threading.Event()
    sampler = threading.Thread(target=sample_until, args=(memory, stop), daemon=True)
    sampler.start()
    partial = ""
    while any(process.poll() is None for process in pool):
        time.sleep(0.5)
        if limit and time.perf_counter() - started > limit:
            for process in pool:
                process.send_signal(signal.SIGKILL)
            partial = "*"
    elapsed = time.perf_counter() - started
    stop.set()
    sampler.join()
    written = int(redis.zcard(keys.ENRICHMENT_DUE))
    # What a stopped run left queued is not the documents' memory.
    bulk.empty()  # type: ignore[no-untyped-call]
    used = int(redis.info("memory")["used_memory"]) - before
    return written / elapsed, memory, used / max(written, 1), partial


def sample_until(memory: Memory, stop: threading.Event) -> None:
    while not stop.is_set():
        memory.sample()
        stop.wait(1.0)


def load_ids(redis: Redis, env: dict[str, str]) -> None:
    database = Database(env["PAPERLENS_DATABASE_URL"])
    with database.session() as session:
        from paperlens.store.models import Paper

        ids = [paper_id for (paper_id,) in session.query(Paper.paper_id).order_by(Paper.id)]
    database.dispose()
    redis.delete("bench:ids")
    for start in range(0, len(ids), 10_000):
        redis.rpush("bench:ids", *ids[start : start + 10_000])


def accuracy(size: int, index: RelatedIndex) -> list[str]:
    """How close the served lists are to exact search, when the approximate path served."""
    vocabulary = f"explainer vocabulary {len(index.vectorizer.vocabulary_):,} terms"
    if index.neighbours is None:
        return [f"{size:,} papers: exact search; {vocabulary}."]
    rng = np.random.default_rng(1)
    sample = np.sort(rng.choice(len(index), min(RECALL_SAMPLE, len(index)), replace=False))
    papers = [IndexedPaper(index.paper_ids[row], index.titles[row], "") for row in sample]
    lexical = index.ranker
    assert isinstance(lexical, TfidfRanker)
    reduced = np.vstack(
        [
            index.neighbours.project(lexical.rows(slice(s, s + 50_000)))
            for s in range(0, len(index), 50_000)
        ]
    )
    truth = np.vstack([exact_top(reduced, sample[s : s + 50]) for s in range(0, len(sample), 50)])
    proposed = index.neighbours.search(lexical.rows(sample), K + 1)
    found = [
        [r for r in row.tolist() if r != own][:K] for row, own in zip(proposed, sample, strict=True)
    ]
    approximate = index.related_many(papers, K)
    neighbours, index.neighbours = index.neighbours, None
    exact = index.related_many(papers, K)
    index.neighbours = neighbours
    agree = sum(
        len({r.paper_id for r in a} & {r.paper_id for r in e})
        for a, e in zip(approximate, exact, strict=True)
    ) / max(1, sum(len(e) for e in exact))
    cosine = np.mean([r.score for a in approximate for r in a]) / np.mean(
        [r.score for e in exact for r in e]
    )
    return [
        f"{size:,} papers, approximate path ({vocabulary}): FAISS HNSW recall@10 against exact "
        f"search in the same {reduced.shape[1]}-dim space {overlap(found, truth):.3f} "
        f"(target ≥ {TARGET_RECALL}); the served lists share {agree:.1%} of their papers with "
        f"exact TF-IDF lists; their mean TF-IDF cosine is {cosine:.1%} of the exact lists' "
        f"({len(sample):,} sampled papers)."
    ]


def exact_top(vectors: np.ndarray, rows: np.ndarray) -> np.ndarray:
    scores = vectors[rows] @ vectors.T
    scores[np.arange(len(rows)), rows] = -np.inf
    top = np.argpartition(-scores, K, axis=1)[:, :K]
    return np.asarray(top)


def overlap(found: list[list[int]], truth: np.ndarray) -> float:
    hits = sum(len(set(f) & set(t.tolist())) for f, t in zip(found, truth, strict=True))
    return hits / truth.size


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
