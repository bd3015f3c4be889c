"""Chaos soak of ``make run``: mixed traffic while a random part is killed every 30 to 60 s.

It starts ``paperlens run`` (its own data folder and port, default restart settings),
measures the cache-hit capacity of ``GET /api/v1/papers/<id>``, then sends half of that as
mixed traffic from a few readers (reads, batch reads, saves and tag edits, open loop: a
latency counts from when the request was due, so a stall is not hidden), and meanwhile kills
one of the embedded Redis, the RQ worker, the scheduler or a gunicorn worker with SIGKILL.

It reports availability (2xx answers, which include the documented degraded answers, out of
every request), p99 latency, acknowledged writes lost (each reader's list compared with what
the answers acknowledged; a write without an answer may be there or not), the time each part
took to recover, and the processes left after the stop. Traffic goes to 127.0.0.1 only.

    python -m bench.chaos --seconds 600      # make bench-chaos
"""

from __future__ import annotations

import argparse
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import requests

from bench.machine import append_result
from paperlens.embedded_redis import free_port

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo" / "papers.jsonl"
TOKEN = re.compile(r"pl_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")
PARTS = ("redis", "worker 1", "scheduler", "gunicorn worker")
RECOVERY_LIMIT_SECONDS = 60.0
MIX = (("read", 50), ("batch", 20), ("save", 15), ("tag", 15))
State = tuple[str, tuple[str, ...]]


@dataclass
class Reader:
    token: str
    papers: list[str]
    state: dict[str, State] = field(default_factory=dict)
    uncertain: set[str] = field(default_factory=set)  # written without an answer
    acknowledged: int = 0


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: list[float] = field(default_factory=list)  # from when the request was due
    service: list[float] = field(default_factory=list)  # from when it was sent
    statuses: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: str, late: float, service: float) -> None:
        with self.lock:
            self.latencies.append(late)
            self.service.append(service)
            self.statuses[outcome] = self.statuses.get(outcome, 0) + 1


@dataclass
class Kill:
    part: str
    at: float
    recovered_after: float | None


def demo_ids() -> list[str]:
    with DEMO.open(encoding="utf-8") as lines:
        return [paper for paper in (json.loads(line).get("id") for line in lines) if paper]


class Stack:
    """One ``paperlens run`` on a free port, with its own data folder."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="plchaos-"))
        self.data = self.folder / "var"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERLENS_")}
        self.env |= {"PAPERLENS_DATA_DIR": str(self.data), "PAPERLENS_PORT": str(self.port)}
        self.env["PAPERLENS_LOG_LEVEL"] = "WARNING"
        self.log = (self.folder / "run.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "run"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.seen: set[int] = set()

    def parts(self) -> dict[str, dict[str, Any]]:
        state = json.loads((self.data / "run" / "parts.json").read_text())
        return {part["name"]: part for part in state["parts"]}

    def remember(self) -> None:
        with contextlib.suppress(psutil.NoSuchProcess):
            self.seen.update(c.pid for c in psutil.Process(self.process.pid).children(True))

    def gunicorn_workers(self) -> set[int]:
        api = self.parts()["api"]["pid"]
        if api is None:
            return set()
        with contextlib.suppress(psutil.NoSuchProcess):
            return {child.pid for child in psutil.Process(api).children()}
        return set()

    def reader_token(self, name: str) -> str:
        made = subprocess.run(
            [sys.executable, "-m", "cli.main", "users", "create", name],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        found = TOKEN.search(made.stdout)
        assert found is not None, "no token printed"
        return found.group(0)

    def stop(self) -> tuple[int, list[int]]:
        self.remember()
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=90)
        time.sleep(1)
        left = []
        for pid in self.seen:
            with contextlib.suppress(psutil.NoSuchProcess):
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    left.append(pid)
        return code, left

    def cleanup(self) -> None:
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def wait_until_ready(stack: Stack, paper: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            answer = requests.get(f"{stack.base}/api/v1/papers/{paper}", timeout=2)
            if answer.status_code == 200 and answer.json().get("status") == "ready":
                return
        time.sleep(0.5)
    raise SystemExit("paperlens run did not serve the demo in time")


def capacity(base: str, ids: list[str], seconds: float = 10.0, threads: int = 8) -> float:
    """Cache hits answered per second by a closed loop of ``threads`` clients."""
    done = [0] * threads
    stop = time.monotonic() + seconds

    def hammer(slot: int) -> None:
        session = requests.Session()
        rng = random.Random(slot)
        while time.monotonic() < stop:
            answer = session.get(f"{base}/api/v1/papers/{rng.choice(ids)}", timeout=10)
            done[slot] += answer.status_code == 200

    pool = [threading.Thread(target=hammer, args=(slot,)) for slot in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return sum(done) / seconds


def one_request(
    session: requests.Session, base: str, reader: Reader, ids: list[str], rng: random.Random
) -> str:
    """Send one request of the mix; returns how it ended ("2xx", "503", "no answer", ...)."""
    kind = rng.choices([k for k, _ in MIX], weights=[w for _, w in MIX])[0]
    paper = rng.choice(reader.papers)
    tags = sorted({f"t{rng.randrange(5)}" for _ in range(rng.randrange(1, 4))})
    auth = {"Authorization": f"Bearer {reader.token}"}
    try:
        if kind == "read":
            answer = session.get(f"{base}/api/v1/papers/{rng.choice(ids)}", timeout=15)
        elif kind == "batch":
            body = {"ids": rng.sample(ids, 20), "view": "badges"}
            answer = session.post(f"{base}/api/v1/papers/batch", json=body, timeout=15)
        elif kind == "save" or paper not in reader.state:
            status = rng.choice(["to_read", "reading", "done"])
            answer = session.put(
                f"{base}/api/v1/me/library/{paper}",
                json={"status": status, "tags": tags},
                headers=auth,
                timeout=15,
            )
        else:
            answer = session.patch(
                f"{base}/api/v1/me/library/{paper}", json={"tags": tags}, headers=auth, timeout=15
            )
    except requests.RequestException:
        if kind in ("save", "tag"):
            reader.uncertain.add(paper)
        return "no answer"
    if kind in ("save", "tag"):
        if answer.status_code in (200, 201):
            item = answer.json()
            reader.state[paper] = (item["status"], tuple(item["tags"]))
            reader.acknowledged += 1
        elif answer.status_code >= 500:
            reader.uncertain.add(paper)
    return f"{answer.status_code // 100}xx" if answer.status_code != 503 else "503"


def traffic(
    base: str, reader: Reader, ids: list[str], rate: float, stop: threading.Event, tally: Tally
) -> None:
    """Open loop at ``rate`` requests per second; latency counts from when a request was due."""
    session = requests.Session()
    rng = random.Random(reader.token)
    due = time.monotonic()
    while not stop.is_set():
        due += 1.0 / rate
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        sent = time.monotonic()
        outcome = one_request(session, base, reader, ids, rng)
        answered = time.monotonic()
        tally.add(outcome, answered - due, answered - sent)


def kill(stack: Stack, part: str, rng: random.Random) -> Kill:
    """SIGKILL one part, then time how long until it serves again."""
    stack.remember()
    started = time.monotonic()
    if part == "gunicorn worker":
        before = stack.gunicorn_workers()
        victim = rng.choice(sorted(before))
        os.kill(victim, signal.SIGKILL)

        def recovered() -> bool:
            return len(stack.gunicorn_workers() - {victim}) >= len(before)

    else:
        old = stack.parts()[part]["pid"]
        os.killpg(old, signal.SIGKILL)

        def recovered() -> bool:
            now = stack.parts()[part]
            if now["phase"] != "running" or now["pid"] in (None, old):
                return False
            if part != "redis":
                return True
            return requests.get(f"{stack.base}/readyz", timeout=2).status_code == 200

    while time.monotonic() - started < RECOVERY_LIMIT_SECONDS:
        with contextlib.suppress(OSError, ValueError, KeyError, requests.RequestException):
            if recovered():
                return Kill(part, started, time.monotonic() - started)
        time.sleep(0.1)
    return Kill(part, started, None)


def lost_writes(base: str, readers: list[Reader]) -> tuple[int, int]:
    """Acknowledged entries missing or different on the server, and how many were checked."""
    lost = checked = 0
    for reader in readers:
        answer = requests.get(
            f"{base}/api/v1/me/library?limit=100",
            headers={"Authorization": f"Bearer {reader.token}"},
            timeout=15,
        )
        answer.raise_for_status()
        stored = {
            item["saved_as"]: (item["status"], tuple(item["tags"]))
            for item in answer.json()["items"]
        }
        for paper, state in reader.state.items():
            if paper in reader.uncertain:
                continue
            checked += 1
            lost += stored.get(paper) != state
    return lost, checked


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def soak(seconds: float, readers_count: int, seed: int) -> str:
    rng = random.Random(seed)
    ids = demo_ids()
    stack = Stack()
    try:
        wait_until_ready(stack, ids[-1])
        time.sleep(3)  # the rest of the precompute
        measured = capacity(stack.base, ids)
        rate = measured / 2
        readers = [
            Reader(stack.reader_token(f"chaos{n}"), rng.sample(ids, 15))
            for n in range(readers_count)
        ]
        tally, stop = Tally(), threading.Event()
        pool = [
            threading.Thread(
                target=traffic, args=(stack.base, r, ids, rate / readers_count, stop, tally)
            )
            for r in readers
        ]
        started = time.monotonic()
        for thread in pool:
            thread.start()
        kills: list[Kill] = []
        while time.monotonic() - started < seconds:
            pause = rng.uniform(30, 60)
            if time.monotonic() - started + pause > seconds:
                time.sleep(max(0.0, seconds - (time.monotonic() - started)))
                break
            time.sleep(pause)
            kills.append(kill(stack, rng.choice(PARTS), rng))
            print(f"killed {kills[-1].part}: recovered after {kills[-1].recovered_after}")
        stop.set()
        for thread in pool:
            thread.join()
        elapsed = time.monotonic() - started
        lost, checked = lost_writes(stack.base, readers)
        code, left = stack.stop()
    finally:
        if stack.process.poll() is None:
            stack.stop()
        stack.cleanup()
    return report(elapsed, measured, rate, readers, tally, kills, lost, checked, code, left)


def report(
    elapsed: float,
    measured: float,
    rate: float,
    readers: list[Reader],
    tally: Tally,
    kills: list[Kill],
    lost: int,
    checked: int,
    code: int,
    left: list[int],
) -> str:
    total = sum(tally.statuses.values())
    good = tally.statuses.get("2xx", 0)
    recoveries = [k.recovered_after for k in kills if k.recovered_after is not None]
    outcomes = ", ".join(f"{kind}: {count}" for kind, count in sorted(tally.statuses.items()))
    lines = [
        f"`make bench-chaos`: {elapsed:.0f} s of mixed traffic (reads 50%, badge batches of 20 "
        f"ids 20%, saves 15%, tag edits 15%) from {len(readers)} readers at {rate:.0f} "
        f"requests/s, half the measured cache-hit capacity ({measured:.0f}/s, closed loop of 8 "
        "clients); one random part killed with SIGKILL every 30-60 s.",
        "",
        "| figure | value |",
        "| --- | --- |",
        f"| requests | {total} ({outcomes}) |",
        f"| availability (2xx, degraded answers included) | {100 * good / max(total, 1):.2f}% |",
        f"| p50 / p99 latency from when sent | {1000 * percentile(tally.service, 0.5):.0f} ms"
        f" / {1000 * percentile(tally.service, 0.99):.0f} ms |",
        f"| p50 / p99 latency from when due (adds the load generator's own backlog) | "
        f"{1000 * percentile(tally.latencies, 0.5):.0f} ms"
        f" / {1000 * percentile(tally.latencies, 0.99):.0f} ms |",
        f"| acknowledged writes lost | {lost} of {checked} entries checked "
        f"({sum(r.acknowledged for r in readers)} writes acknowledged) |",
        f"| kills | {len(kills)}; recovered within {RECOVERY_LIMIT_SECONDS:g} s: "
        f"{len(recoveries)}; slowest {max(recoveries, default=0):.1f} s |",
        f"| processes left after the stop | {len(left)} (runner exit status {code}) |",
        "",
        "| kill | part | recovered after |",
        "| --- | --- | --- |",
    ]
    for number, item in enumerate(kills, 1):
        after = f"{item.recovered_after:.1f} s" if item.recovered_after is not None else "no"
        lines.append(f"| {number} | {item.part} | {after} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--readers", type=int, default=8, help="one client thread each")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--note", default="", help="a sentence recorded with the run")
    parser.add_argument("--no-record", action="store_true", help="print, do not append")
    args = parser.parse_args()
    body = soak(args.seconds, args.readers, args.seed)
    if args.note:
        body = f"{args.note}\n\n{body}"
    print(body)
    if not args.no_record:
        append_result("Chaos soak of make run", body)


if __name__ == "__main__":
    main()
