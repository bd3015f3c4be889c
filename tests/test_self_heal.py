"""`paperlens run` heals itself: parts killed with SIGKILL come back, the rest keeps serving,
jobs of a killed worker finish, a part that keeps dying is reported, and a stop leaves nothing.

Each test starts the real runner as a subprocess, with its own data folder and port and
short restart pauses, and kills its parts the way the OOM killer or a crash would.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest
from flask.testing import FlaskClient
from redis import Redis
from rq import Worker

from cli.supervisor import Part, Supervisor, restart_pause
from paperlens import job_metrics, keys, parts_state, precompute
from paperlens.embedded_redis import free_port
from paperlens.parts_state import PartsState, PartState
from paperlens.settings import Settings
from tests.support import (
    DEMO_CORPUS,
    eventually,
    fresh_environment,
    get_json,
    run_paperlens,
    start_paperlens,
)

MRL = "arxiv:2205.13147"
STARTUP_SECONDS = 90.0
# A fresh data folder exports the sentence encoder and builds the index before the first
# chunk of a precompute: minutes on a busy two-core machine.
FIRST_CHUNK_SECONDS = 300.0
FAST_RESTARTS = {
    "PAPERLENS_RESTART_BACKOFF_INITIAL_SECONDS": "0.2",
    "PAPERLENS_RESTART_BACKOFF_MAX_SECONDS": "1",
    "PAPERLENS_CRASH_LOOP_RETRY_SECONDS": "30",
    "PAPERLENS_REDIS_WAIT_MAX_SECONDS": "0.5",
    "PAPERLENS_WEB_WORKERS": "1",
    # Offline: papers are ready from the catalogue alone, and no test reaches the internet.
    "PAPERLENS_SOURCES": "none",
}


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> None:
    """A part still starting refuses connections or answers half: that counts as not yet."""
    eventually(condition, timeout, what, interval=0.2, ignoring=(OSError, ValueError, KeyError))


@dataclass
class RunningStack:
    """One `paperlens run` and everything it has started so far."""

    process: subprocess.Popen[str]
    data: Path
    base: str
    lines: list[str] = field(default_factory=list)
    seen: set[int] = field(default_factory=set)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def parts(self) -> dict[str, dict[str, Any]]:
        state = json.loads((self.data / "run" / "parts.json").read_text())
        return {part["name"]: part for part in state["parts"]}

    def pid(self, name: str) -> int | None:
        pid: int | None = self.parts()[name]["pid"]
        return pid

    def remember_processes(self) -> None:
        """Every process ever started under the runner, to check none outlives it."""
        with contextlib.suppress(psutil.NoSuchProcess):
            for child in psutil.Process(self.process.pid).children(recursive=True):
                self.seen.add(child.pid)

    def redis(self) -> Redis:
        return Redis(unix_socket_path=str(self.data / "redis" / "redis.sock"), socket_timeout=2)

    def kill_part(self, name: str) -> int:
        """SIGKILL a part and whatever it started (an RQ worker's scheduler, gunicorn's workers)."""
        pid = self.pid(name)
        assert pid is not None, f"{name} is not running"
        self.remember_processes()
        os.killpg(pid, signal.SIGKILL)
        return pid

    def running_again(self, name: str, old_pid: int) -> Callable[[], bool]:
        def check() -> bool:
            part = self.parts()[name]
            return bool(part["phase"] == "running" and part["pid"] not in (None, old_pid))

        return check

    def stop(self, signum: int = signal.SIGTERM) -> int:
        self.remember_processes()
        self.process.send_signal(signum)
        code = self.process.wait(timeout=60)
        time.sleep(0.5)
        return code

    def leftovers(self) -> list[int]:
        alive = []
        for pid in self.seen:
            with contextlib.suppress(psutil.NoSuchProcess):
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
        return alive


def _read_output(stack: RunningStack) -> None:
    assert stack.process.stdout is not None
    for line in stack.process.stdout:
        stack.lines.append(line.rstrip())


@contextlib.contextmanager
def running_stack(**settings: str) -> Iterator[RunningStack]:
    # A short folder: the embedded Redis's unix socket path must stay under ~100 characters.
    data = Path(tempfile.mkdtemp(prefix="plheal-"))
    port = free_port()
    paths = {"PAPERLENS_DATA_DIR": str(data / "var"), "PAPERLENS_PORT": str(port)}
    process = start_paperlens(["run"], fresh_environment(FAST_RESTARTS | settings | paths))
    stack = RunningStack(process, data / "var", f"http://127.0.0.1:{port}")
    reader = threading.Thread(target=_read_output, args=(stack,), daemon=True)
    reader.start()
    try:
        wait_for(
            lambda: process.poll() is None and get_json(f"{stack.base}/healthz")[0] == 200,
            STARTUP_SECONDS,
            "the API answers",
        )
        stack.remember_processes()
        yield stack
    finally:
        if process.poll() is None:
            stack.stop()
        reader.join(timeout=10)
        leftovers = stack.leftovers()
        for pid in leftovers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(data, ignore_errors=True)
        assert not leftovers, f"processes left behind: {leftovers}\n{stack.output[-3000:]}"


def paper_ready(stack: RunningStack, paper_id: str = MRL) -> bool:
    status, body = get_json(f"{stack.base}/api/v1/papers/{paper_id}")
    return status == 200 and body.get("status") == "ready"


def test_kill_9_of_the_embedded_redis_is_healed_and_nothing_else_stops() -> None:
    with running_stack() as stack:
        wait_for(lambda: paper_ready(stack), STARTUP_SECONDS, "the demo is precomputed")
        others = {name: stack.pid(name) for name in ("worker 1", "scheduler", "api")}
        time.sleep(1.5)  # the append-only file is flushed every second

        old_redis = stack.kill_part("redis")
        killed_at = time.monotonic()
        wait_for(lambda: get_json(f"{stack.base}/readyz")[0] == 200, 30, "/readyz is ok again")
        wait_for(stack.running_again("redis", old_redis), 30, "redis runs again")
        assert time.monotonic() - killed_at < 30

        # Workers and the scheduler waited for Redis instead of exiting; the API kept its pid.
        time.sleep(3)
        parts = stack.parts()
        assert {name: parts[name]["pid"] for name in others} == others, stack.output[-3000:]
        assert all(part["phase"] == "running" for part in parts.values())
        assert parts["redis"]["restarts"] == 1
        assert parts["redis"]["last_exit"] == "killed by SIGKILL"
        # The restarted server read the same append-only file: precomputed papers are served
        # from Redis again, not degraded from the catalogue.
        status, paper = get_json(f"{stack.base}/api/v1/papers/{MRL}")
        assert status == 200 and paper["status"] == "ready" and paper["related"]
        assert "redis exited (killed by SIGKILL)" in stack.output
        assert stack.stop(signal.SIGINT) == 0  # Ctrl-C
    assert "Stopped: API, workers and Redis are down." in stack.output


def synthetic_corpus(path: Path, count: int) -> None:
    """``count`` papers whose titles and abstracts mix the demo corpus's words."""
    with DEMO_CORPUS.open(encoding="utf-8") as lines:
        words = re.findall(r"[a-z]{4,}", " ".join(json.loads(line)["abstract"] for line in lines))
    rng = random.Random(7)
    with path.open("w", encoding="utf-8") as out:
        for number in range(count):
            record = {
                "id": f"arxiv:2401.{number + 1:05d}",
                "title": " ".join(rng.choices(words, k=8)).capitalize(),
                "abstract": " ".join(rng.choices(words, k=120)),
            }
            out.write(json.dumps(record) + "\n")


def runs_a_job(redis: Redis, pid: int | None) -> bool:
    """Whether the RQ worker that is process ``pid`` is in the middle of a job."""
    return any(
        worker.pid == pid and worker.get_current_job_id() is not None
        for worker in Worker.all(connection=redis)
    )


def test_kill_9_of_a_worker_mid_precompute_the_next_worker_finishes_it_once() -> None:
    papers = 1_200  # 6 chunks of enrichment: the worker is killed after the first
    chunks = -(-papers // 200)
    corpus = Path(tempfile.mkdtemp(prefix="plcorpus-")) / "papers.jsonl"
    synthetic_corpus(corpus, papers)
    try:
        with running_stack(PAPERLENS_DEMO_CORPUS=str(corpus)) as stack:
            redis = stack.redis()

            def enriched_chunks() -> int:
                figures = {f.job: f for f in job_metrics.read_all(redis)}
                done = figures.get("enrich_papers")
                return 0 if done is None else done.count

            # Killed while it runs a chunk: between two jobs it would hold none to hand over.
            wait_for(
                lambda: enriched_chunks() >= 1 and runs_a_job(redis, stack.pid("worker 1")),
                FIRST_CHUNK_SECONDS,
                "a first chunk is done and worker 1 runs another",
            )
            old_worker = stack.kill_part("worker 1")
            assert enriched_chunks() < chunks, "the precompute finished before the kill"

            wait_for(stack.running_again("worker 1", old_worker), 30, "a new worker runs")
            wait_for(lambda: enriched_chunks() >= chunks, 180, "every chunk is enriched")
            time.sleep(2)  # anything queued twice would run now

            figures = {f.job: f for f in job_metrics.read_all(redis)}
            (run,) = [
                key.decode().removeprefix(keys.precompute_progress(""))
                for key in redis.scan_iter(keys.precompute_progress("*"))
                if not key.endswith(b":phases")
            ]
            progress = precompute.read_progress(redis, run)
            # Each paper counted once. The killed attempt never finished, unless the worker
            # died between its chunk's end and RQ's record of it: then the chunk was handed
            # on and found itself done.
            assert (progress.enriched, progress.to_enrich) == (papers, papers)
            assert figures["enrich_papers"].count == chunks + progress.repeated
            assert figures["enrich_papers"].failures == 0
            assert figures["precompute_all"].count == 1
            stored = redis.keys(keys.enrichment("*"))
            assert len(stored) == papers
            assert paper_ready(stack, "arxiv:2401.01200")
            assert "worker 1 exited (killed by SIGKILL)" in stack.output
            assert "jobs of dead workers handed to RQ as abandoned" in stack.output
    finally:
        shutil.rmtree(corpus.parent, ignore_errors=True)


def back_or_reported(stack: RunningStack, old_pid: int) -> Callable[[], bool]:
    def check() -> bool:
        part = stack.parts()["scheduler"]
        return bool(part["crash_looping"] or part["pid"] not in (None, old_pid))

    return check


def test_a_part_killed_five_times_is_reported_as_crash_looping_while_the_api_answers() -> None:
    with running_stack() as stack:
        wait_for(lambda: paper_ready(stack), STARTUP_SECONDS, "the demo is precomputed")
        api_pid = stack.pid("api")
        for _ in range(5):
            old = stack.kill_part("scheduler")
            wait_for(back_or_reported(stack, old), 30, "the scheduler restarts or is reported")
            assert paper_ready(stack)  # the API keeps answering throughout

        wait_for(lambda: stack.parts()["scheduler"]["crash_looping"], 10, "crash loop noted")
        status, ready = get_json(f"{stack.base}/readyz")
        assert status == 200  # the API itself is fine: it still answers
        assert ready["crash_looping"] == ["scheduler"]
        scheduler = ready["parts"]["scheduler"]
        assert scheduler["crash_looping"] is True
        assert scheduler["last_exit"] == "killed by SIGKILL"
        assert scheduler["log_tail"]  # asked from this machine: the lines are included
        assert ready["parts"]["api"]["crash_looping"] is False
        assert stack.pid("api") == api_pid

        report = run_paperlens(["status"], {**os.environ, "PAPERLENS_DATA_DIR": str(stack.data)})
        assert report.returncode == 1, report.stdout + report.stderr
        assert "crash-looping: scheduler" in report.stdout
        assert re.search(r"scheduler\s+CRASH-LOOPING", report.stdout), report.stdout
        assert "killed by SIGKILL" in report.stdout
        assert "scheduler is crash-looping: it exited 5 times" in stack.output
        assert paper_ready(stack)
    assert "Stopped: API, workers and Redis are down." in stack.output


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_stops_every_part_even_one_waiting_to_restart(signum: int) -> None:
    with running_stack(PAPERLENS_RESTART_BACKOFF_INITIAL_SECONDS="30") as stack:
        stack.kill_part("worker 1")  # now waiting 30 s to restart
        wait_for(lambda: stack.parts()["worker 1"]["phase"] == "waiting to restart", 10, "noted")
        assert stack.stop(signum) == 0
        assert not (stack.data / "run" / "parts.json").exists()
        assert not (stack.data / "redis" / "redis.sock").exists()
    # running_stack checks that no process it ever saw is left


def test_readyz_shows_crash_loops_to_all_but_log_lines_only_to_this_machine(
    settings: Settings, client: FlaskClient
) -> None:
    secret_looking = "worker 1 failed on arxiv:2205.13147 in /home/someone/paperlens"
    parts_state.write(
        settings.parts_state_file,
        PartsState(
            supervisor_pid=os.getpid(),
            updated_at=time.time(),
            parts=[
                PartState(name="api", phase="running", pid=os.getpid()),
                PartState(
                    name="worker 1",
                    phase="waiting to restart",
                    restarts=5,
                    crash_looping=True,
                    last_exit="exit code 1",
                    log_tail=[secret_looking],
                ),
            ],
        ),
    )
    far = client.get("/readyz", environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert far.status_code == 200  # a crash-looping worker does not make the API unready
    body = far.get_json()
    assert body["crash_looping"] == ["worker 1"]
    # Beside the parts, the work as `paperlens status` shows it.
    assert body["index"]["ranker"] is None and body["last_ingest"] is None
    assert body["queues"]["bulk"] == {"queued": 0, "running": 0, "deferred": 0, "failed": 0}
    assert body["parts"]["worker 1"] == {
        "phase": "waiting to restart",
        "restarts": 5,
        "crash_looping": True,
        "last_exit": "exit code 1",
    }
    assert secret_looking not in far.get_data(as_text=True)

    near = client.get("/readyz").get_json()  # from 127.0.0.1
    assert near["parts"]["worker 1"]["log_tail"] == [secret_looking]

    # A state left by a supervisor that is gone is not reported as current.
    parts_state.write(
        settings.parts_state_file,
        PartsState(supervisor_pid=os.getpid(), updated_at=time.time() - 3600, parts=[]),
    )
    assert "parts" not in client.get("/readyz").get_json()


def test_status_shows_the_parts_then_the_work_and_fails_only_for_a_part_not_running(
    settings: Settings, redis: Redis
) -> None:
    """One `paperlens status`: the supervised parts, then the index, queues and last ingest;
    exit status 1 for a crash-looping part, 0 when all run or no `paperlens run` is there."""
    unsupervised = run_paperlens(["status"])
    assert unsupervised.returncode == 0, unsupervised.stdout + unsupervised.stderr
    assert "No `paperlens run` is running with the data folder" in unsupervised.stdout
    assert "queues:       interactive 0 queued" in unsupervised.stdout

    running = [
        PartState(name="redis", phase="running", pid=os.getpid()),
        PartState(name="worker 1", phase="running", pid=os.getpid()),
    ]
    parts_state.write(
        settings.parts_state_file,
        PartsState(supervisor_pid=os.getpid(), updated_at=time.time(), parts=running),
    )
    well = run_paperlens(["status"])
    assert well.returncode == 0, well.stdout + well.stderr
    assert "every part is supervised" in well.stdout
    assert re.search(r"worker 1\s+running", well.stdout), well.stdout
    assert "index:        none built yet" in well.stdout
    assert "last ingest:  none recorded" in well.stdout

    looping = PartState(
        name="worker 1",
        phase="waiting to restart",
        restarts=5,
        crash_looping=True,
        last_exit="exit code 1",
        last_exit_at=time.time(),
        log_tail=["ImportError: no module named paperlens_missing"],
    )
    parts_state.write(
        settings.parts_state_file,
        PartsState(supervisor_pid=os.getpid(), updated_at=time.time(), parts=[running[0], looping]),
    )
    ill = run_paperlens(["status"])
    assert ill.returncode == 1, ill.stdout + ill.stderr
    assert "crash-looping: worker 1" in ill.stdout
    assert "  ImportError: no module named paperlens_missing" in ill.stdout
    assert "queues:       interactive 0 queued" in ill.stdout


def test_restart_pauses_double_up_to_the_longest_and_slow_down_in_a_crash_loop() -> None:
    settings = Settings(
        restart_backoff_initial_seconds=0.5,
        restart_backoff_max_seconds=10,
        crash_loop_exits=5,
        crash_loop_window_seconds=60,
        crash_loop_retry_seconds=60,
    )
    assert [restart_pause(settings, n, False) for n in range(1, 8)] == [0.5, 1, 2, 4, 8, 10, 10]
    assert restart_pause(settings, 2, True) == 60


def ticking(supervisor: Supervisor, condition: Callable[[], bool]) -> Callable[[], bool]:
    def check() -> bool:
        supervisor.tick()
        return condition()

    return check


def test_a_part_that_keeps_failing_is_reported_with_its_exit_and_lines_then_recovers(
    tmp_path: Path,
) -> None:
    """The supervisor alone, on real processes: one that fails at once until a file appears."""
    healthy = tmp_path / "healthy"
    script = (
        "import pathlib, sys, time\n"
        f"if not pathlib.Path({str(healthy)!r}).exists():\n"
        "    print('cannot open the index', flush=True); sys.exit(3)\n"
        "time.sleep(60)\n"
    )
    messages: list[str] = []
    settings = Settings(
        data_dir=tmp_path,
        restart_backoff_initial_seconds=0.05,
        restart_backoff_max_seconds=0.1,
        crash_loop_exits=3,
        crash_loop_window_seconds=2,
        crash_loop_retry_seconds=0.5,
    )
    supervisor = Supervisor(settings, echo=messages.append)
    part = Part(
        "flaky",
        lambda: subprocess.Popen(
            [sys.executable, "-c", script], stdout=subprocess.PIPE, start_new_session=True
        ),
    )
    supervisor.start(part)
    try:
        wait_for(ticking(supervisor, lambda: part.crash_looping), 20, "crash loop noted")
        state = parts_state.read(settings.parts_state_file)
        assert state is not None and state.crash_looping == ["flaky"]
        assert state.parts[0].last_exit == "exit code 3"
        assert "cannot open the index" in state.parts[0].log_tail
        report = next(m for m in messages if "crash-looping" in m)
        assert "exit code 3" in report and "cannot open the index" in report

        healthy.touch()  # the next (slow) retry stays up, and after a window it is healthy
        wait_for(ticking(supervisor, lambda: not part.crash_looping), 20, "recovered")
        assert part.phase == "running" and "no longer crash-looping" in messages[-1]
    finally:
        supervisor.stop()
    assert part.process is not None and part.process.poll() is not None
    assert not settings.parts_state_file.exists()
