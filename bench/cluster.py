"""The production topology on one machine, under a precompute, with parts killed mid-run.

Two API processes (`paperlens api`, gunicorn), three RQ workers (`paperlens worker`) and the
scheduler (`paperlens scheduler`), each a separate process with its own data folder as if on
its own machine, share only what production shares: a PostgreSQL database, a Redis database
and one index folder (``PAPERLENS_SHARED_INDEX_DIR``). A synthetic corpus (``bench.corpus``)
is ingested and ``paperlens precompute`` runs with the ranker ``make run`` serves. While the
papers are being enriched, the worker running a chunk and one API process are killed with
SIGKILL; the API is started again, as a process manager would, and the workers left finish
the run. The run then has to show every paper enriched exactly once, no job lost or failed,
every surviving process still running, and the same bytes from both APIs.

The services are the caller's: the Redis database is flushed before and after the run (db 0
is refused), the PostgreSQL database's ``public`` schema is dropped and created again.
``tests/test_cluster.py`` runs this at a small size; ``make bench-cluster`` at 20,000 papers,
recording the figures in bench/RESULTS.md:

    python -m bench.cluster --papers 20000 \\
        --database-url postgresql://postgres@127.0.0.1:5432/pl_cluster \\
        --redis-url redis://127.0.0.1:6379/7
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests
from redis import Redis
from rq.registry import StartedJobRegistry
from rq.utils import parse_composite_key
from sqlalchemy import create_engine, text

from bench.corpus import cached
from bench.machine import append_result
from paperlens import job_metrics, keys
from paperlens.embedded_redis import free_port
from paperlens.precompute import index_info
from paperlens.settings import Settings
from worker.jobs import PRECOMPUTE_CHUNK

ROOT = Path(__file__).resolve().parent.parent
PAPERLENS = [sys.executable, "-m", "cli.main"]
APIS = 2
WORKERS = 3
# Workers look for dead workers' jobs this often (RQ maintenance), instead of every minute.
MAINTENANCE_SECONDS = 5
STARTUP_SECONDS = 180.0
SAMPLE = 50
PRECOMPUTE_TIMEOUT_SECONDS = 3600
SAVED = 5


@dataclass
class Part:
    """One process of the topology, started in a session of its own so that a kill takes its
    children (gunicorn's workers, RQ's scheduler process) with it."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [*PAPERLENS, *self.args],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, signum: int) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signum)

    def stop(self) -> None:
        """SIGTERM (in-flight work finishes), then SIGKILL after 20 s."""
        if self.process is None:
            return
        self.signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=20)
        self.signal(signal.SIGKILL)  # whatever its session left behind
        self.process.wait()


@dataclass
class Outcome:
    """What one run measured and what it found wrong (``problems`` empty: it passed)."""

    papers: int
    seconds: float = 0.0
    enrich_seconds: float = 0.0
    ranker: str = ""
    killed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    compared: int = 0
    # Chunk jobs handed on after their work was done, which found it done (see ``exercise``).
    repeated: int = 0

    def check(self, ok: bool, problem: str) -> None:
        if not ok:
            self.problems.append(problem)


class Cluster:
    """The processes of one run and the services they share."""

    def __init__(self, work: Path, database_url: str, redis_url: str) -> None:
        redis_db = Redis.from_url(redis_url).connection_pool.connection_kwargs.get("db", 0)
        if int(redis_db) == 0:
            raise ValueError("the cluster run flushes its Redis database: name one other than 0")
        self.work = work
        self.database_url = Settings(database_url=database_url).sqlalchemy_url
        self.redis_url = redis_url
        self.redis = Redis.from_url(redis_url)
        self.apis: list[Part] = []
        self.workers: list[Part] = []
        self.scheduler: Part | None = None
        self.ports: list[int] = []

    def env(self, name: str, **extra: str) -> dict[str, str]:
        """The environment of one part: its own data folder, the shared services and index."""
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("PAPERLENS_")}
        data = self.work / name
        data.mkdir(parents=True, exist_ok=True)
        return inherited | {
            "PAPERLENS_DATA_DIR": str(data),
            "PAPERLENS_SHARED_INDEX_DIR": str(self.work / "index"),
            "PAPERLENS_DATABASE_URL": self.database_url,
            "PAPERLENS_REDIS_URL": self.redis_url,
            "PAPERLENS_SOURCES": "none",
            "PAPERLENS_LOG_FORMAT": "json",
            "PAPERLENS_RQ_MAINTENANCE_INTERVAL_SECONDS": str(MAINTENANCE_SECONDS),
            "PYTHONUNBUFFERED": "1",
            **extra,
        }

    def reset(self) -> None:
        """Empty services: the Redis database flushed, the SQL schema dropped and migrated."""
        self.clean()
        self.command(["migrate"])

    def command(self, args: list[str], timeout: float = 900) -> str:
        """A one-off `paperlens` command (as an operator runs it); its output."""
        done = subprocess.run(
            [*PAPERLENS, *args],
            cwd=ROOT,
            env=self.env("commands"),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(f"paperlens {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def start(self) -> None:
        logs = self.work / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        for number in range(1, APIS + 1):
            port = free_port()
            metrics = self.work / f"api{number}" / "metrics"
            metrics.mkdir(parents=True, exist_ok=True)
            env = self.env(f"api{number}", PAPERLENS_PORT=str(port))
            env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
            self.ports.append(port)
            self.apis.append(Part(f"api {number}", ["api"], env, logs / f"api{number}.log"))
        for number in range(1, WORKERS + 1):
            name = f"worker{number}"
            self.workers.append(
                Part(f"worker {number}", ["worker"], self.env(name), logs / f"{name}.log")
            )
        self.scheduler = Part(
            "scheduler", ["scheduler"], self.env("scheduler"), logs / "scheduler.log"
        )
        for part in self.parts():
            part.start()
        for port in self.ports:
            self.wait_healthy(port)

    def parts(self) -> list[Part]:
        return [*self.apis, *self.workers, *([self.scheduler] if self.scheduler else [])]

    def wait_healthy(self, port: int) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"the API on port {port} did not answer within {STARTUP_SECONDS:g} s")

    def stop(self) -> None:
        for part in self.parts():
            part.stop()

    def clean(self) -> None:
        """Leave the services empty: the Redis database flushed, the SQL schema dropped."""
        self.redis.flushdb()
        engine = create_engine(self.database_url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()

    def logs(self) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}"
            for log in sorted((self.work / "logs").glob("*.log"))
        )

    def busy_worker(self) -> Part | None:
        """A worker running a job now, found through RQ's registry of started jobs."""
        registry = StartedJobRegistry(keys.QUEUE_BULK, connection=self.redis)
        for entry in self.redis.zrange(registry.key, 0, -1):
            job_id, _execution = parse_composite_key(
                entry.decode() if isinstance(entry, bytes) else str(entry)
            )
            if "-chunk-" not in job_id:  # the run itself: killing it would rebuild the index
                continue
            worker_name = self.redis.hget(f"rq:job:{job_id}", "worker_name")
            if not worker_name:
                continue
            name = worker_name.decode() if isinstance(worker_name, bytes) else worker_name
            pid = self.redis.hget(f"rq:worker:{name}", "pid")
            for part in self.workers:
                if part.running() and pid and part.process and int(pid) == part.process.pid:
                    return part
        return None


def chunks_done(redis: Redis) -> tuple[int, int]:
    """Enrichment chunks finished, and those that failed, from the shared job metrics."""
    figures = {f.job: f for f in job_metrics.read_all(redis)}
    done = figures.get("enrich_papers")
    return (0, 0) if done is None else (done.count, done.failures)


def run(papers: int, database_url: str, redis_url: str, keep: Path | None = None) -> Outcome:
    """One run of the topology at ``papers`` papers; see the module's docstring."""
    corpus = cached(papers)
    work = keep or Path(tempfile.mkdtemp(prefix="plcluster-"))
    cluster = Cluster(work, database_url, redis_url)
    outcome = Outcome(papers)
    try:
        cluster.reset()
        cluster.command(["ingest", "arxiv-snapshot", str(corpus)])
        token = re.findall(r"pl_\S+", cluster.command(["users", "create", "reader"]))[-1]
        cluster.start()
        ids = [paper_id for paper_id in catalogue_ids(cluster)]
        saved = ids[:: max(1, len(ids) // SAVED)][:SAVED]
        save(cluster.ports[0], token, saved)
        exercise(cluster, outcome, papers)
        compare(cluster, outcome, random.Random(1).sample(ids, min(SAMPLE, len(ids))), token)
    except BaseException:
        print(cluster.logs(), file=sys.stderr)
        raise
    finally:
        cluster.stop()
        cluster.clean()
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return outcome


def catalogue_ids(cluster: Cluster) -> Iterator[str]:
    engine = create_engine(cluster.database_url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT paper_id FROM papers ORDER BY id")).all()
    engine.dispose()
    for (paper_id,) in rows:
        yield str(paper_id)


def save(port: int, token: str, papers: list[str]) -> None:
    """A reader's list, saved through one API."""
    for number, paper_id in enumerate(papers):
        answer = requests.put(
            f"http://127.0.0.1:{port}/api/v1/me/library/{paper_id}",
            json={"status": "to_read", "tags": [f"t{number % 2}"], "note": f"note {number}"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        answer.raise_for_status()


def exercise(cluster: Cluster, outcome: Outcome, papers: int) -> None:
    """The precompute, with a busy worker and an API killed once the enrichment is under way."""
    chunks = -(-papers // PRECOMPUTE_CHUNK)
    started = time.monotonic()
    with (cluster.work / "logs" / "precompute.log").open("w+") as out:
        precompute = subprocess.Popen(
            [*PAPERLENS, "precompute"],
            cwd=ROOT,
            env=cluster.env("commands"),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        victim = None
        while precompute.poll() is None and victim is None:
            time.sleep(0.05)
            if chunks_done(cluster.redis)[0] >= 1:
                victim = cluster.busy_worker()
        outcome.check(victim is not None, "the precompute ended before a worker could be killed")
        if victim is not None:
            victim.signal(signal.SIGKILL)
            # Reaped, as a process manager does: a zombie's process id would still look alive.
            victim.process.wait()  # type: ignore[union-attr]
            outcome.killed.append(f"{victim.name} mid-chunk after {chunks_done(cluster.redis)[0]}")
            api = cluster.apis[0]
            api.signal(signal.SIGKILL)
            outcome.killed.append(api.name)
            api.process.wait()  # type: ignore[union-attr]
            outcome.check(
                requests.get(f"http://127.0.0.1:{cluster.ports[1]}/healthz", timeout=5).ok,
                "the other API stopped answering when one was killed",
            )
            api.start()  # as a process manager would
            cluster.wait_healthy(cluster.ports[0])
        try:
            precompute.wait(timeout=PRECOMPUTE_TIMEOUT_SECONDS)
        finally:
            if precompute.poll() is None:
                precompute.kill()
                precompute.wait()
        outcome.seconds = time.monotonic() - started
        out.seek(0)
        report = out.read()
    summary = re.search(r"Enriched ([\d,]+) of ([\d,]+) papers in ([\d.]+) s", report)
    outcome.check(precompute.returncode == 0, f"paperlens precompute failed:\n{report[-2000:]}")
    if summary:
        outcome.enrich_seconds = float(summary.group(3))
    time.sleep(2 * MAINTENANCE_SECONDS)  # anything queued twice would run now
    done, failed = chunks_done(cluster.redis)
    figures = {f.job: f for f in job_metrics.read_all(cluster.redis)}
    precomputes = figures.get("precompute_all")
    outcome.check(failed == 0, f"{failed} enrichment chunks failed")
    outcome.check(
        precomputes is not None and precomputes.count == 1, "the precompute ran more than once"
    )
    progress = [
        cluster.redis.hgetall(key)
        for key in cluster.redis.scan_iter(keys.precompute_progress("*"))
        if not key.endswith(b":phases")
    ]
    enriched = [int(p.get(b"enriched", 0)) for p in progress]
    outcome.check(enriched == [papers], f"papers enriched by the run: {enriched}, not {papers}")
    marked = [
        len([name for name in p if isinstance(name, bytes) and name.startswith(b"done:")])
        for p in progress
    ]
    outcome.check(marked == [chunks], f"chunks the run counted as done: {marked}, not {chunks}")
    # A chunk whose worker died after its work, before RQ marked it finished, runs again
    # and finds itself done: a job more, no paper enriched twice.
    outcome.repeated = sum(int(p.get(b"repeated", 0)) for p in progress)
    outcome.check(
        done == chunks + outcome.repeated,
        f"{done} enrichment chunk jobs finished, not {chunks} and {outcome.repeated} repeated",
    )
    stored = sum(1 for _ in cluster.redis.scan_iter(keys.enrichment("*"), count=10_000))
    outcome.check(stored == papers, f"{stored} enrichments stored, not {papers}")
    outcome.ranker = index_info(cluster.redis).get("ranker", "")
    reclaimed = any(
        "jobs of dead workers handed to RQ as abandoned" in log.read_text(errors="replace")
        for log in (cluster.work / "logs").glob("worker*.log")
    )
    outcome.check(reclaimed, "no worker took over the killed worker's chunk")
    left = [part.name for part in cluster.parts() if not part.running()]
    killed = [name.split(" mid-")[0] for name in outcome.killed[:1]]
    outcome.check(left == killed, f"processes not running at the end: {left}")


def compare(cluster: Cluster, outcome: Outcome, sample: list[str], token: str) -> None:
    """The same request through both APIs: the same status and the same bytes."""
    auth = {"Authorization": f"Bearer {token}"}
    paths: list[tuple[str, dict[str, str]]] = [(f"/api/v1/papers/{p}", {}) for p in sample]
    paths.append(("/api/v1/me/library", auth))
    for path, headers in paths:
        answers = [
            requests.get(f"http://127.0.0.1:{port}{path}", headers=headers, timeout=10)
            for port in cluster.ports
        ]
        first, second = answers
        outcome.check(first.status_code == 200, f"{path} answered {first.status_code}")
        outcome.check(
            (first.status_code, first.content) == (second.status_code, second.content),
            f"{path} differs between the two APIs",
        )
        outcome.compared += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=20_000)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/pl_cluster")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/7")
    args = parser.parse_args()
    outcome = run(args.papers, args.database_url, args.redis_url)
    rate = outcome.papers / outcome.enrich_seconds if outcome.enrich_seconds else 0.0
    report = "\n".join(
        [
            f"{APIS} API processes (gunicorn), {WORKERS} RQ workers and the scheduler as separate "
            "processes on this machine, against its PostgreSQL and Redis, one shared index "
            f"folder; `paperlens precompute` of a synthetic corpus with the {outcome.ranker} "
            f"ranker; killed with SIGKILL mid-run: {', '.join(outcome.killed)}.",
            "",
            "| papers | precompute wall s | of which enrichment s | enriched papers/s | "
            "answers compared | result |",
            "| ---: | ---: | ---: | ---: | ---: | --- |",
            f"| {outcome.papers:,} | {outcome.seconds:,.0f} | {outcome.enrich_seconds:,.0f} | "
            f"{rate:,.0f} | {outcome.compared} | "
            + (
                "; ".join(outcome.problems)
                or "every paper enriched once, same bytes from both APIs"
                + (
                    f" ({outcome.repeated} finished chunk handed on, found done)"
                    if outcome.repeated
                    else ""
                )
            )
            + " |",
        ]
    )
    print(report)
    append_result("Cluster", report)
    if outcome.problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
