"""The daily increment: new papers ingested, added to the published hybrid index (encoded,
into its graph and the moments), enriched, and the lists of the papers that gain them
computed again, measured end to end with real workers.

A store of ``--base`` synthetic papers (`bench.corpus`) with the served hybrid's index over
them (its vectors encoded once into var/bench and read from there by later runs) and a
document per paper; then ``paperlens ingest arxiv-snapshot`` brings ``--new`` papers while
``--workers`` real ``paperlens worker`` processes wait, and the clock runs until every
queue is empty and no job runs. Beside it, in the same run: fitting a new index over all
the papers instead (their vectors given, so without encoding), the way the papers would
join without updates.

    python -m bench.increment --base 100000 --new 20000
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from redis import Redis
from rq import Queue
from rq.registry import StartedJobRegistry

from bench.corpus import CACHE, cached
from bench.hybrid_ann import CachedDense, cached_vectors
from bench.machine import append_result
from bench.private_stack import PrivateStack, private_stack
from cli.runner import worker_command
from paperlens import enrichments, job_metrics, job_queue, keys, precompute
from paperlens.job_queue import SERIALIZER
from paperlens.schemas import EnrichedPaper
from paperlens.settings import Settings
from paperlens.store.db import Database
from paperlens.store.papers import iter_papers
from worker.jobs import PRECOMPUTE_CHUNK
from worker.pipeline.neighbours import AnnParams
from worker.pipeline.rankers.choose import HYBRID_DENSE_WEIGHT
from worker.pipeline.rankers.dense import DEFAULT_ENCODER, DenseRanker
from worker.pipeline.rankers.floors import floor_for
from worker.pipeline.rankers.hybrid import HybridRanker
from worker.pipeline.rankers.tfidf import TfidfRanker
from worker.pipeline.related import IndexedPaper, RelatedIndex

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 600
# The sizes the target is for (a day of arXiv into a catalogue of this size); smaller runs
# (profiles, experiments) report their time without a verdict.
TARGET_BASE = 100_000
TARGET_NEW = 20_000
# Papers indexed before whose lists are checked for the new papers they should now hold.
GAIN_SAMPLE = 500
# How often the queues are looked at, and for how long they must stay idle to count as done.
POLL_SECONDS = 0.5
IDLE_POLLS = 4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    report = measure(args.base, args.new, args.workers)
    print(report, flush=True)
    append_result("Daily increment", report)


def measure(base: int, new: int, workers: int) -> str:
    corpus = cached(base + new)
    with private_stack(
        "plincrement-",
        PAPERLENS_SOURCES="",
        PAPERLENS_RELATED_RANKER="hybrid",
        # The index of the base has the graphs that a catalogue of a million papers has.
        PAPERLENS_RELATED_ANN_FROM=str(min(base, 100_000)),
    ) as stack:
        return _measure_on(stack, corpus, base, new, workers)


def _measure_on(stack: PrivateStack, corpus: Path, base: int, new: int, workers: int) -> str:
    """``measure`` on the private stack."""
    work, env = stack.work, stack.env
    lines = corpus.read_text(encoding="utf-8").splitlines(keepends=True)
    (work / "base.jsonl").write_text("".join(lines[:base]), encoding="utf-8")
    (work / "new.jsonl").write_text("".join(lines[base:]), encoding="utf-8")
    settings = Settings(
        data_dir=work / "var",
        redis_url=stack.redis_url,
        database_url=stack.database_url,
        related_ann_from=min(base, 100_000),
        sources=[],
    )
    processes: list[subprocess.Popen[bytes]] = []
    try:
        me = [sys.executable, "-m", "cli.main"]
        subprocess.run(
            [*me, "ingest", "arxiv-snapshot", str(work / "base.jsonl")], env=env, check=True
        )
        redis = Redis.from_url(stack.redis_url)
        redis.flushdb()  # the update that ingest asked for: the base index is built below
        db = Database(env["PAPERLENS_DATABASE_URL"])
        base_papers = _base_papers(db)
        index, build_note = _base_index(base_papers, corpus, settings)
        name = "related-20000101T000000000000.joblib"
        index.save(settings.index_dir / name)
        precompute.publish_index(redis, name, "hybrid", len(index))
        del index
        # The served model as ``make run`` made it: exported once per data folder, not per day.
        (work / "var" / "models").symlink_to(ROOT / "var" / "models")
        processes = [
            subprocess.Popen(worker_command(), env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
            for _ in range(workers)
        ]
        enriching = time.perf_counter()
        _enrich(redis, settings, [paper.paper_id for paper in base_papers])
        _wait_idle(redis)
        print(
            f"base of {base:,} papers ready ({build_note}; enriched in "
            f"{time.perf_counter() - enriching:.0f} s)",
            flush=True,
        )
        before = _lists(redis, [paper.paper_id for paper in base_papers])
        for job in redis.smembers(keys.JOB_METRICS_INDEX):  # the base's enrichment
            redis.delete(keys.job_metrics(job.decode() if isinstance(job, bytes) else job))

        started = time.perf_counter()
        subprocess.run(
            [*me, "ingest", "arxiv-snapshot", str(work / "new.jsonl")], env=env, check=True
        )
        ingested = time.perf_counter() - started
        _wait_idle(redis)
        total = time.perf_counter() - started
        figures = {f.job: f for f in job_metrics.read_all(redis)}
        final = RelatedIndex.load(settings.index_dir / _pointer(redis))
        assert final.added_rows_from == base, "the update fitted a new index instead"
        after = _lists(redis, list(before))
        changed = sum(after[paper_id] != listed for paper_id, listed in before.items())
        every = _papers_of(final, settings)
        check = _check(every, final, base, after)
        refit_seconds = _refit(final, every, settings)
        return _report(
            base=base,
            new=new,
            workers=workers,
            ingested=ingested,
            total=total,
            figures=figures,
            changed=changed,
            check=check,
            refit_seconds=refit_seconds,
            build_note=build_note,
            size=len(final),
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def _base_papers(db: Database) -> list[IndexedPaper]:
    with db.session() as session:
        return [IndexedPaper(row.paper_id, row.title, row.abstract) for row in iter_papers(session)]


def _base_index(
    papers: list[IndexedPaper], corpus: Path, settings: Settings
) -> tuple[RelatedIndex, str]:
    """The served hybrid over ``papers`` with its graphs, as ``build_and_publish`` makes it,
    the vectors read from the cache (by corpus: the first papers of two corpora differ)."""
    vectors = cached_vectors(
        papers,
        DEFAULT_ENCODER,
        CACHE / f"increment-vectors-{corpus.stem}-{len(papers)}-{DEFAULT_ENCODER}.npy",
    )
    started = time.perf_counter()
    index = _hybrid(papers, np.asarray(vectors), settings)
    return index, f"index built in {time.perf_counter() - started:.0f} s without encoding"


def _hybrid(papers: list[IndexedPaper], vectors: np.ndarray, settings: Settings) -> RelatedIndex:
    cached = CachedDense(vectors)
    ranker = HybridRanker(TfidfRanker(), cached, HYBRID_DENSE_WEIGHT)
    index = RelatedIndex.build(papers, ranker, settings.related_diversity, floor_for("hybrid"))
    ranker.dense = cached.served()
    index.add_neighbours(AnnParams.of(settings))
    return index


def _enrich(redis: Redis, settings: Settings, paper_ids: list[str]) -> None:
    """Every base paper's document, by the workers, in the chunks a precompute queues."""
    for start in range(0, len(paper_ids), PRECOMPUTE_CHUNK):
        job_queue.enqueue(
            redis,
            settings,
            keys.QUEUE_BULK,
            keys.JOB_ENRICH_PAPERS,
            paper_ids[start : start + PRECOMPUTE_CHUNK],
        )


def _lists(redis: Redis, paper_ids: list[str]) -> dict[str, tuple[str, ...]]:
    """Each paper's stored related list (ids, in order)."""
    found = {}
    for start in range(0, len(paper_ids), enrichments.READ_CHUNK):
        chunk = paper_ids[start : start + enrichments.READ_CHUNK]
        for paper_id, raw in zip(chunk, enrichments.read_many_raw(redis, chunk), strict=True):
            assert raw is not None, paper_id
            document = EnrichedPaper.model_validate_json(enrichments.as_json(raw))
            found[paper_id] = tuple(related.paper_id for related in document.related)
    return found


def _wait_idle(redis: Redis) -> None:
    """Until no job waits or runs on any queue, several looks in a row."""
    queues = [
        Queue(name, connection=redis, serializer=SERIALIZER) for name in keys.QUEUES_BY_URGENCY
    ]
    idle = 0
    while idle < IDLE_POLLS:
        time.sleep(POLL_SECONDS)
        busy = sum(q.count + StartedJobRegistry(queue=q).count for q in queues)
        idle = idle + 1 if busy == 0 else 0


def _pointer(redis: Redis) -> str:
    pointer = precompute.index_pointer(redis)
    assert pointer is not None
    return pointer


@dataclass(frozen=True)
class Check:
    """Stored lists of sampled earlier papers against the lists the final index serves."""

    sampled: int
    gaining: int  # papers whose served list holds a new paper
    new_served: int  # new papers in those served lists
    new_stored: int  # of them, in the stored lists too
    overlap: float  # share of all served entries that the stored lists hold


def _check(
    every: list[IndexedPaper], index: RelatedIndex, base: int, stored: dict[str, tuple[str, ...]]
) -> Check:
    rows = np.random.default_rng(0).choice(base, min(GAIN_SAMPLE, base), replace=False)
    papers = [every[int(row)] for row in rows]
    gaining = new_served = new_stored = shared = served_total = 0
    for start in range(0, len(papers), 100):
        chunk = papers[start : start + 100]
        for paper, related in zip(chunk, index.related_many(chunk, 10), strict=True):
            served = [r.paper_id for r in related]
            kept = set(stored[paper.paper_id])
            new = [p for p in served if (index.row_of(p) or 0) >= base]
            gaining += bool(new)
            new_served += len(new)
            new_stored += sum(p in kept for p in new)
            shared += sum(p in kept for p in served)
            served_total += len(served)
    return Check(len(papers), gaining, new_served, new_stored, shared / max(1, served_total))


def _refit(index: RelatedIndex, papers: list[IndexedPaper], settings: Settings) -> float:
    """Seconds to fit a new index over every paper instead (vectors given: no encoding)."""
    assert isinstance(index.ranker, HybridRanker) and isinstance(index.ranker.dense, DenseRanker)
    vectors = index.ranker.dense.vectors(np.arange(len(index)))
    started = time.perf_counter()
    _hybrid(papers, vectors, settings)
    return time.perf_counter() - started


def _papers_of(index: RelatedIndex, settings: Settings) -> list[IndexedPaper]:
    db = Database(settings.sqlalchemy_url)
    with db.session() as session:
        found = {row.paper_id: row for row in iter_papers(session)}
    return [
        IndexedPaper(paper_id, found[paper_id].title, found[paper_id].abstract)
        for paper_id in index.paper_ids
    ]


def _report(
    *,
    base: int,
    new: int,
    workers: int,
    ingested: float,
    total: float,
    figures: dict[str, job_metrics.JobFigures],
    changed: int,
    check: Check,
    refit_seconds: float,
    build_note: str,
    size: int,
) -> str:
    def seconds(job: str) -> str:
        found = figures.get(job)
        return f"{found.total_seconds:,.0f} s in {found.count:,} jobs" if found else "none ran"

    if base < TARGET_BASE or new < TARGET_NEW:
        verdict = f"not judged: the target is for {TARGET_NEW:,} into {TARGET_BASE:,}"
    else:
        verdict = "met" if total <= TARGET_SECONDS else "MISSED"
    recall = check.new_stored / check.new_served if check.new_served else float("nan")
    return "\n".join(
        [
            f"{base:,} papers indexed (served hybrid, graphs as at scale; {build_note}) and "
            f"enriched; {new:,} new papers from `paperlens ingest arxiv-snapshot`; {workers} real "
            f"`paperlens worker` processes; no external source, no reader.",
            "",
            "| step | time | target |",
            "| --- | ---: | --- |",
            f"| increment end to end (ingest to every queue idle) | **{total:,.0f} s** | "
            f"≤ {TARGET_SECONDS} s: {verdict} |",
            f"| ingest of the new papers (command) | {ingested:,.0f} s | |",
            f"| index update (find, encode, add, save, publish) | {seconds('update_index')} | |",
            f"| enrichment of the new papers, with their insertion into earlier lists | "
            f"{seconds('enrich_papers')} | |",
            f"| research feeds | {seconds('refresh_feeds')} | |",
            f"| baseline: a new fit over all {size:,} papers instead (vectors given, "
            f"before any enrichment) | {refit_seconds:,.0f} s | |",
            "",
            "Job times are each job's wall time, summed over the workers.",
            "",
            f"Earlier papers whose stored list changed: {changed:,} of {base:,}. Against the "
            f"lists the final index serves, for {check.sampled} sampled earlier papers: "
            f"{check.gaining} serve a new paper, {check.new_served} new papers in all, of which "
            f"{check.new_stored} are in the stored lists (recall {recall:.2f}); the stored lists "
            f"hold {check.overlap:.1%} of all served entries.",
        ]
    )


if __name__ == "__main__":
    main()
