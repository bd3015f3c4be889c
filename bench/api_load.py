"""API under load: cache-hit GET and 100-id batch against a one-Redis-GET baseline.

Starts a private Redis, a SQLite store with the demo corpus plus synthetic papers, runs
the precompute with a real worker, then serves the real app and the baseline app under
identical gunicorn settings and drives each with wrk (throughput) and hey (latency at a
fixed rate), all on loopback. Prints the figures beside their targets and records them.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.machine import append_result
from cli.runner import API_APP, gunicorn_command, worker_command
from paperlens.embedded_redis import free_port
from paperlens.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DURATION = os.environ.get("BENCH_DURATION", "10s")
CONNECTIONS = 16
BATCH_SIZE = 100
# What browsers send; the extension's requests come from one.
ACCEPT = "Accept-Encoding: gzip, deflate, br"
TARGET_SHARE = 0.85
# Alternating rounds of baseline and API; more of them steady the medians on a busy machine.
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
# gunicorn's sizes for both apps: ``paperlens run``'s defaults unless the run measures others.
WEB_WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", str(Settings().web_workers)))
WEB_THREADS = int(os.environ.get("BENCH_WEB_THREADS", str(Settings().web_threads)))
TARGET_P99_MS = 10.0
TARGET_BATCH_P99_MS = 20.0


def main() -> None:
    for tool in ("wrk", "hey"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing: apt-get install wrk hey")
    work = Path(tempfile.mkdtemp(prefix="plbench-"))
    env = prepare(work)
    with timing_lock():
        load_before = _load()
        report = measure(env, work)
        report += f"\n\nLoad average (1, 5, 15 min) before timing {load_before}, after {_load()}."
    print(report)
    append_result("API under load", report)


def measure(env: dict[str, str], work: Path) -> str:
    """Serve both apps and time them (see ``run_all`` and ``in_process``)."""
    api_port, base_port = free_port(), free_port()
    api = subprocess.Popen(served(api_port), env=env, cwd=ROOT)
    base = subprocess.Popen(served(base_port, "bench.baseline_app:create_app()"), env=env, cwd=ROOT)
    try:
        api_url = f"http://127.0.0.1:{api_port}"
        base_url = f"http://127.0.0.1:{base_port}"
        wait_ready(f"{api_url}/healthz")
        wait_ready(f"{base_url}/baseline")
        ids = json.loads(env["BENCH_IDS"])
        report = run_all(
            base_url + "/baseline",
            f"{api_url}/api/v1/papers/arxiv:2205.13147",
            f"{api_url}/api/v1/papers/batch",
            ids[:BATCH_SIZE],
            work,
            (base, api),
        )
        print(report, flush=True)  # the rates stand even if the in-process part fails
        report += "\n\n" + in_process(env, ids[:BATCH_SIZE])
    finally:
        for process in (api, base):
            process.terminate()
            process.wait()
        stop_redis(env)
    return report


@contextlib.contextmanager
def timing_lock() -> Iterator[None]:
    """Hold the file ``BENCH_LOCK`` names, if any, while timing: benchmarks sharing a machine
    then time one at a time, and preparing the store (minutes) does not hold the others up."""
    path = os.environ.get("BENCH_LOCK")
    if not path:
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _load() -> str:
    return ", ".join(f"{value:.1f}" for value in os.getloadavg())


def served(port: int, app: str = API_APP) -> list[str]:
    """The gunicorn command of ``paperlens run`` with the benchmark's fixed sizes, for any app."""
    settings = Settings(
        web_workers=WEB_WORKERS, web_threads=WEB_THREADS, host="127.0.0.1", port=port
    )
    return gunicorn_command(settings.model_copy(update={"log_level": "WARNING"}), app)


def prepare(work: Path) -> dict[str, str]:
    """A store with enough papers for a 100-id batch, every one enriched by a real worker."""
    from paperlens.embedded_redis import EmbeddedRedis
    from paperlens.migrations import upgrade

    redis_server = EmbeddedRedis(work / "redis", socket=work / "redis" / "r.sock", persist=False)
    redis_server.start()
    env = dict(os.environ)
    env.update(
        {
            "PAPERLENS_DATA_DIR": str(work / "var"),
            "PAPERLENS_REDIS_URL": redis_server.url,
            "PAPERLENS_DATABASE_URL": f"sqlite:///{work / 'store.sqlite3'}",
            "PAPERLENS_LOG_LEVEL": "WARNING",
            "BENCH_REDIS_PID": str(redis_server.process.pid if redis_server.process else ""),
        }
    )
    os.environ.update(env)
    upgrade(env["PAPERLENS_DATABASE_URL"])
    corpus = work / "corpus.jsonl"
    write_corpus(corpus)
    subprocess.run(
        [sys.executable, "-m", "cli.main", "ingest", "jsonl", str(corpus)],
        env=env,
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run(
        [sys.executable, "-m", "cli.main", "precompute", "--no-wait"],
        env=env,
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run(
        [*worker_command(), "--burst"],
        env=env,
        check=True,
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
    )
    from redis import Redis

    from paperlens import keys

    redis = Redis.from_url(redis_server.url)
    ids = sorted(key.decode().split(":", 3)[3] for key in redis.scan_iter(keys.enrichment("*")))
    env["BENCH_IDS"] = json.dumps(ids)
    env["BASELINE_KEY"] = keys.enrichment("arxiv:2205.13147")
    return env


def write_corpus(path: Path) -> None:
    demo = (ROOT / "data" / "demo" / "papers.jsonl").read_text()
    words = re.findall(r"[a-z]{4,}", demo.lower())
    lines = [demo.rstrip("\n")]
    for number in range(1, 201):
        picked = [words[(number * 7919 + i * 104729) % len(words)] for i in range(160)]
        lines.append(
            json.dumps(
                {
                    "id": f"corpusid:{number}",
                    "title": " ".join(picked[:8]).capitalize(),
                    "abstract": " ".join(picked[8:]),
                }
            )
        )
    path.write_text("\n".join(lines) + "\n")


def stop_redis(env: dict[str, str]) -> None:
    pid = env.get("BENCH_REDIS_PID")
    if pid:
        subprocess.run(["kill", pid], check=False)


def wait_ready(url: str) -> None:
    for _ in range(200):
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def wrk(url: str, script: Path | None = None) -> tuple[float, float, float]:
    """Requests/s, p50 ms and p99 ms at saturation."""
    args = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency", "-H", ACCEPT, url]
    if script is not None:
        args[1:1] = ["-s", str(script)]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return rate, _wrk_percentile(out, "50%"), _wrk_percentile(out, "99%")


def wrk_spread(url: str, server: subprocess.Popen[bytes]) -> tuple[tuple[float, float, float], str]:
    """``wrk`` at saturation, and how its connections sat on the server's workers, counted
    once a second into the run (a worker holding them all serves them alone: kept-alive
    connections never move)."""
    port = int(url.split(":")[2].split("/")[0])
    counts: list[int] = []
    sampler = threading.Timer(1.0, lambda: counts.extend(connections_per_worker(server, port)))
    sampler.start()
    try:
        figures = wrk(url)
    finally:
        sampler.join()
    return figures, "/".join(str(count) for count in counts)


def connections_per_worker(server: subprocess.Popen[bytes], port: int) -> list[int]:
    """Established connections on ``port`` held by each of the gunicorn master's workers."""
    import psutil

    workers = psutil.Process(server.pid).children()
    return [
        sum(
            1
            for conn in worker.net_connections(kind="tcp")
            if conn.status == psutil.CONN_ESTABLISHED and conn.laddr.port == port
        )
        for worker in workers
    ]


def _wrk_percentile(out: str, label: str) -> float:
    value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def hey(url: str, rate: float, body: Path | None = None) -> tuple[float, float, float]:
    """Requests/s achieved, p50 ms and p99 ms at a fixed offered rate."""
    workers = 8
    args = ["hey", "-z", DURATION, "-c", str(workers), "-q", f"{max(rate / workers, 1):.0f}"]
    args += ["-H", ACCEPT]
    if body is not None:
        args += ["-m", "POST", "-T", "application/json", "-D", str(body)]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    achieved = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = float(re.search(r"50%+ in ([\d.]+) secs", out).group(1)) * 1000  # type: ignore[union-attr]
    p99 = float(re.search(r"99%+ in ([\d.]+) secs", out).group(1)) * 1000  # type: ignore[union-attr]
    if any(code[0] in "45" for code in re.findall(r"\[(\d{3})\]\s+\d+ responses", out)):
        raise RuntimeError(f"non-2xx answers under load:\n{out}")
    return achieved, p50, p99


def run_all(
    base: str,
    paper: str,
    batch: str,
    ids: list[str],
    work: Path,
    servers: tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]],
) -> str:
    """Baseline and API alternate, round by round, so that a change in the machine's load
    hits both alike; each row is the median of its rounds, and a target is met only if every
    round meets it. ``servers`` are the baseline's gunicorn and the API's."""
    base_server, api_server = servers
    body, script = _post(work, "batch", {"ids": ids})
    badges_body, badges_script = _post(work, "badges", {"ids": ids, "view": "badges"})
    wrk(base)  # warm both apps up before measuring
    wrk(paper)
    saturated = [
        (wrk_spread(base, base_server), wrk_spread(paper, api_server)) for _ in range(ROUNDS)
    ]
    base_max = _median([b for (b, _), _ in saturated])
    api_max = _median([a for _, (a, _) in saturated])
    shares = [a[0] / b[0] for (b, _), (a, _) in saturated]
    share = sorted(shares)[len(shares) // 2]
    half = base_max[0] / 2
    fixed = [(hey(base, half), hey(paper, half)) for _ in range(ROUNDS)]
    fixed_base, fixed_api = _median([b for b, _ in fixed]), _median([a for _, a in fixed])
    batch_rounds = [_batch_round(batch, script, body) for _ in range(ROUNDS)]
    badges_rounds = [_batch_round(batch, badges_script, badges_body) for _ in range(ROUNDS)]
    batch_max, fixed_batch = (_median(list(column)) for column in zip(*batch_rounds, strict=True))
    badges_max, fixed_badges = (
        _median(list(column)) for column in zip(*badges_rounds, strict=True)
    )
    batch_p99s = [fixed[2] for _, fixed in batch_rounds]
    badges_p99s = [fixed[2] for _, fixed in badges_rounds]
    in_order = ", ".join(f"{value:.0%}" for value in shares)
    rows = [
        "| measurement | req/s | p50 ms | p99 ms | target |",
        "| --- | ---: | ---: | ---: | --- |",
        _row("baseline (one Redis GET), saturated", base_max),
        _row(
            "GET paper (cache hit), saturated",
            api_max,
            _verdict(
                f"≥ {TARGET_SHARE:.0%} of baseline in every round: median {share:.0%}, "
                f"lowest {min(shares):.0%} (rounds in time order {in_order})",
                min(shares) >= TARGET_SHARE,
            ),
        ),
        _row(f"baseline at {half:.0f} req/s offered", fixed_base),
        _row(
            f"GET paper at {half:.0f} req/s offered",
            fixed_api,
            _verdict(f"p99 < {TARGET_P99_MS:.0f} ms", fixed_api[2] < TARGET_P99_MS),
        ),
        _row(f"batch of {len(ids)}, full documents, saturated", batch_max),
        _row(f"batch of {len(ids)}, badges view, saturated", badges_max),
        _row(
            f"batch, full documents, at half its saturated rate ({_rates(batch_rounds)})",
            fixed_batch,
            _verdict(
                f"p99 < {TARGET_BATCH_P99_MS:.0f} ms in every round ({_ms(batch_p99s)})",
                max(batch_p99s) < TARGET_BATCH_P99_MS,
            ),
        ),
        _row(
            f"batch, badges view (listing pages), at half its saturated rate "
            f"({_rates(badges_rounds)})",
            fixed_badges,
            _verdict(
                f"p99 < {TARGET_BATCH_P99_MS:.0f} ms in every round ({_ms(badges_p99s)})",
                max(badges_p99s) < TARGET_BATCH_P99_MS,
            ),
        ),
    ]
    spread = "; ".join(
        f"round {number}: baseline {b_spread}, API {a_spread}"
        for number, ((_, b_spread), (_, a_spread)) in enumerate(saturated, start=1)
    )
    setup = (
        f"gunicorn gthread, {WEB_WORKERS} workers x {WEB_THREADS} threads for both apps; "
        f"wrk -t2 -c{CONNECTIONS} "
        f"-d{DURATION}; hey -c 8 at a fixed rate for {DURATION}; all on loopback, same run; "
        f"baseline and GET alternate over {ROUNDS} rounds, then each batch view runs "
        f"{ROUNDS} rounds of saturated then half that rate (medians shown)."
    )
    return (
        setup
        + "\n\n"
        + "\n".join(rows)
        + f"\n\nwrk's {CONNECTIONS} connections per gunicorn worker, one second into each "
        + f"saturated GET run: {spread}."
    )


def _batch_round(
    url: str, script: Path, body: Path
) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """One round of a batch view: saturated, then at half the rate it reached."""
    saturated = wrk(url, script)
    return saturated, hey(url, saturated[0] / 2, body)


def _rates(rounds: list[tuple[tuple[float, float, float], tuple[float, float, float]]]) -> str:
    """Offered and achieved requests/s of each round's fixed-rate run."""
    return "offered/achieved req/s " + ", ".join(
        f"{saturated[0] / 2:.0f}/{fixed[0]:.0f}" for saturated, fixed in rounds
    )


def _ms(values: list[float]) -> str:
    return "rounds " + ", ".join(f"{value:.1f}" for value in values) + " ms"


# Calls per measurement and rounds of the in-process comparison.
IN_PROCESS_CALLS = 2000
IN_PROCESS_BATCH_CALLS = 100


def in_process(env: dict[str, str], ids: list[str]) -> str:
    """CPU per request with no server or client around the apps: each app is called as WSGI
    in this process, baseline and API alternating, and ``process_time`` counts only this
    process's CPU, so other work on the machine distorts it far less than the rates above."""
    from bench.baseline_app import create_app as baseline_app
    from server import create_app

    os.environ.update(env)  # both apps read their settings from the environment
    api, base = create_app(), baseline_app()
    paper = "/api/v1/papers/arxiv:2205.13147"
    body = json.dumps({"ids": ids}).encode()
    rows: dict[str, list[float]] = {"baseline": [], "get": [], "plain": [], "deflate": []}
    for _ in range(ROUNDS):
        rows["baseline"].append(_cpu_us(base, "GET", "/baseline", IN_PROCESS_CALLS))
        rows["get"].append(_cpu_us(api, "GET", paper, IN_PROCESS_CALLS))
        rows["plain"].append(
            _cpu_us(api, "POST", "/api/v1/papers/batch", IN_PROCESS_BATCH_CALLS, body, "gzip")
        )
        rows["deflate"].append(
            _cpu_us(api, "POST", "/api/v1/papers/batch", IN_PROCESS_BATCH_CALLS, body)
        )
    baseline, get, plain, deflate = (sorted(v)[len(v) // 2] for v in rows.values())
    return "\n".join(
        [
            f"CPU per request in one process (WSGI calls, medians of {ROUNDS} rounds):",
            "",
            "| measurement | CPU µs per request | ratio |",
            "| --- | ---: | --- |",
            f"| baseline (one Redis GET) | {baseline:.0f} | |",
            f"| GET paper (cache hit) | {get:.0f} | baseline / GET: {baseline / get:.0%} |",
            f"| batch of {len(ids)}, full documents, plain JSON (no deflate) | {plain:.0f} | |",
            f"| batch of {len(ids)}, full documents, spliced deflate | {deflate:.0f} "
            f"| deflate / plain: {deflate / plain:.0%} |",
        ]
    )


def _cpu_us(
    app: Any, method: str, path: str, calls: int, body: bytes = b"", accept: str = ""
) -> float:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_ACCEPT_ENCODING": accept or ACCEPT.split(": ", 1)[1],
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }

    def start_response(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> None:
        if not status.startswith("200"):
            raise RuntimeError(f"{method} {path} answered {status}")

    def call() -> None:
        b"".join(app({**environ, "wsgi.input": io.BytesIO(body)}, start_response))

    call()
    started = time.process_time()
    for _ in range(calls):
        call()
    return (time.process_time() - started) / calls * 1e6


def _median(runs: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    """Each figure's median over rounds."""
    middle = len(runs) // 2
    rate, p50, p99 = (sorted(column)[middle] for column in zip(*runs, strict=True))
    return rate, p50, p99


def _post(work: Path, name: str, payload: object) -> tuple[Path, Path]:
    """A POST body for hey and the same request as a wrk script."""
    body = work / f"{name}.json"
    body.write_text(json.dumps(payload))
    script = work / f"{name}.lua"
    script.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = [[{body.read_text()}]]\n"
    )
    return body, script


def _row(label: str, figures: tuple[float, float, float], target: str = "") -> str:
    rate, p50, p99 = figures
    return f"| {label} | {rate:.0f} | {p50:.2f} | {p99:.2f} | {target} |"


def _verdict(goal: str, met: bool) -> str:
    return f"{goal}: {'met' if met else 'MISSED'}"


if __name__ == "__main__":
    main()
