"""Ingest rate of ``paperlens ingest arxiv-snapshot`` on a generated snapshot file.

Runs the real command on a fresh store (SQLite in a temporary data folder, or the
server named by ``PAPERLENS_BENCH_DATABASE_URL``): once into an empty catalogue, once
again over the same file (every record then an update), and records both rates.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.machine import append_result
from bench.make_snapshot import write_snapshot

RATE = re.compile(r"([\d,]+) new, ([\d,]+) updated.*?([\d.]+) s, ([\d,]+) papers/s")


def run(command: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Seconds and papers/s from the command's summary line."""
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    match = RATE.search(done.stdout)
    assert match, done.stdout + done.stderr
    return float(match[3]), int(match[4].replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="plbench-") as folder:
        snapshot = Path(folder) / "snapshot.jsonl"
        write_snapshot(snapshot, args.lines)
        size = snapshot.stat().st_size
        env = {**os.environ, "PAPERLENS_DATA_DIR": str(Path(folder) / "var")}
        if os.environ.get("PAPERLENS_BENCH_DATABASE_URL"):
            env["PAPERLENS_DATABASE_URL"] = os.environ["PAPERLENS_BENCH_DATABASE_URL"]
        else:
            env.pop("PAPERLENS_DATABASE_URL", None)
        me = [sys.executable, "-m", "cli.main"]
        subprocess.run([*me, "migrate"], env=env, check=True, capture_output=True)
        ingest = [*me, "ingest", "arxiv-snapshot", str(snapshot), "--restart"]
        first_seconds, first_rate = run(ingest, env)
        again_seconds, again_rate = run(ingest, env)
    store = "PostgreSQL" if os.environ.get("PAPERLENS_BENCH_DATABASE_URL") else "SQLite"
    body = (
        f"`python -m bench.ingest --lines {args.lines}` ({store}, "
        f"{size:,} bytes; load average {os.getloadavg()[0]:.1f})\n\n"
        "| run | seconds | papers/s |\n| --- | --- | --- |\n"
        f"| into an empty catalogue | {first_seconds:.1f} | {first_rate:,} |\n"
        f"| the same file again (all updates) | {again_seconds:.1f} | {again_rate:,} |\n"
    )
    print(body)
    append_result("Ingest", body)


if __name__ == "__main__":
    main()
