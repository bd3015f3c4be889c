"""Soak: mixed traffic at a steady rate for minutes, watching for errors and for growth.

Runs the real API under gunicorn (same settings as `bench.api_load`) against a private Redis
and SQLite store, offers a fixed mix of requests with `hey` (several processes, one per kind
of request, summing to the target rate), samples the API's resident memory, open file
descriptors and Redis client connections every few seconds, and reports errors, p99 and
growth between the first and the last fifth of the run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

import psutil
from redis import Redis

from bench.api_load import ROOT, prepare, served, stop_redis, wait_ready
from bench.machine import append_result
from paperlens.embedded_redis import free_port

RATE = float(os.environ.get("BENCH_SOAK_RATE", "300"))
SECONDS = int(os.environ.get("BENCH_SOAK_SECONDS", "600"))
SAMPLE_EVERY = 5.0
TARGET_P99_MS = 10.0
# Share of the offered rate per kind of request: what an extension user's day looks like.
MIX = {"paper": 0.6, "batch": 0.1, "resolve": 0.15, "unknown": 0.1, "health": 0.05}


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="plsoak-"))
    env = prepare(work)
    port = free_port()
    api = subprocess.Popen(served(port), env={**env, "PAPERLENS_LOG_LEVEL": "WARNING"}, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{base}/healthz")
        report = soak(base, json.loads(env["BENCH_IDS"]), env["PAPERLENS_REDIS_URL"], api, work)
    finally:
        api.terminate()
        api.wait()
        stop_redis(env)
    print(report)
    append_result("Soak", report)


def soak(
    base: str, ids: list[str], redis_url: str, api: subprocess.Popen[bytes], work: Path
) -> str:
    body = work / "batch.json"
    body.write_text(json.dumps({"ids": ids[:50], "view": "badges"}))  # as the extension asks
    targets = {
        "paper": (f"{base}/api/v1/papers/arxiv:2205.13147", []),
        "batch": (
            f"{base}/api/v1/papers/batch",
            ["-m", "POST", "-T", "application/json", "-D", str(body)],
        ),
        "resolve": (f"{base}/api/v1/resolve?url=https://arxiv.org/abs/2205.13147v2", []),
        "unknown": (f"{base}/api/v1/papers/arxiv:1501.00001", []),
        "health": (f"{base}/healthz", []),
    }
    loads = {}
    for kind, (url, extra) in targets.items():
        rate = RATE * MIX[kind]
        workers = max(1, round(rate / 25))
        command = [
            "hey",
            "-z",
            f"{SECONDS}s",
            "-c",
            str(workers),
            "-q",
            f"{rate / workers:.2f}",
            *extra,
            url,
        ]
        loads[kind] = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    samples = sample_until_done(api, Redis.from_url(redis_url), loads)
    outputs = {kind: process.communicate()[0] for kind, process in loads.items()}
    return summarise(outputs, samples)


def sample_until_done(
    api: subprocess.Popen[bytes], redis: Redis, loads: dict[str, subprocess.Popen[str]]
) -> list[tuple[float, float, int, int]]:
    """(seconds, API RSS MiB, API open fds, Redis clients) every few seconds."""
    started = time.monotonic()
    samples = []
    while any(process.poll() is None for process in loads.values()):
        processes = [psutil.Process(api.pid), *psutil.Process(api.pid).children(recursive=True)]
        rss = sum(p.memory_info().rss for p in processes) / 2**20
        fds = sum(p.num_fds() for p in processes)
        clients = int(redis.info("clients")["connected_clients"])
        samples.append((time.monotonic() - started, rss, fds, clients))
        time.sleep(SAMPLE_EVERY)
    return samples


def summarise(outputs: dict[str, str], samples: list[tuple[float, float, int, int]]) -> str:
    rows = [
        "| request | answered | req/s | p99 ms | status codes |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    server_errors = 0
    worst_p99 = 0.0
    for kind, out in outputs.items():
        codes = dict(re.findall(r"\[(\d{3})\]\s+(\d+) responses", out))
        server_errors += sum(int(n) for code, n in codes.items() if code.startswith("5"))
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
        p99 = float(re.search(r"99%+ in ([\d.]+) secs", out).group(1)) * 1000  # type: ignore[union-attr]
        worst_p99 = max(worst_p99, p99)
        answered = sum(int(n) for n in codes.values())
        rows.append(f"| {kind} | {answered} | {rate:.1f} | {p99:.2f} | {codes} |")
    fifth = max(1, len(samples) // 5)
    first, last = samples[:fifth], samples[-fifth:]

    def mean(values: list[float]) -> float:
        return sum(values) / len(values)

    def change(column: int, unit: str = "") -> str:
        before = mean([sample[column] for sample in first])
        after = mean([sample[column] for sample in last])
        return f"{before:.1f} → {after:.1f}{unit}"

    growth = (
        f"API resident memory {change(1, ' MiB')}, open fds {change(2)}, "
        f"Redis clients {change(3)} (mean of the first fifth → mean of the last fifth of the run)"
    )
    verdict = (
        f"Offered {RATE:.0f} req/s for {SECONDS} s. 5xx answers: {server_errors} "
        f"({'met' if server_errors == 0 else 'MISSED'}: none allowed). "
        f"Worst p99: {worst_p99:.2f} ms "
        f"({'met' if worst_p99 < TARGET_P99_MS else 'MISSED'}: < {TARGET_P99_MS:.0f} ms)."
    )
    return "\n".join([verdict, growth, "", *rows])


if __name__ == "__main__":
    main()
