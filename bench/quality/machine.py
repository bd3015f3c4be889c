"""What a benchmark ran on, so that figures from different machines are not compared blindly."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path


def describe(project_root: Path) -> str:
    """One line: date, commit, cores, CPU model and memory."""
    return (
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, commit {_commit(project_root)}, "
        f"{os.cpu_count()} cores ({_cpu_model()}), {_memory_gib():.0f} GiB RAM"
    )


def _commit(root: Path) -> str:
    try:
        found = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    dirty = subprocess.run(
        ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return found.stdout.strip() + ("+changes" if dirty else "")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def _memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return 0.0
