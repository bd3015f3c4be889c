"""The description of the machine and commit that every recorded figure carries."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def describe() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory_gib:.0f} GiB, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}; "
        f"load average when recorded {load} (1, 5, 15 min: above 2 the figures shared the cores)"
    )


def commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True)
        return head + ("+changes" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def append_result(section: str, body: str) -> None:
    """Add one dated run under ``## section`` of RESULTS.md (creating either if missing)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    entry = f"\n### {stamp}, commit {commit()}\nMachine: {describe()}\n\n{body.strip()}\n"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    heading = f"## {section}\n"
    if heading not in text:
        text = text.rstrip() + f"\n\n{heading}"
    start = text.index(heading) + len(heading)
    following = text.find("\n## ", start)
    end = len(text) if following == -1 else following
    text = text[:end].rstrip() + "\n" + entry + text[end:]
    RESULTS.write_text(text)


def record(section: str, body: str, wanted: bool) -> None:
    """Append a run to RESULTS.md under ``section`` and say so, when ``wanted``: measuring
    commands take ``--no-record`` to print their report only."""
    if wanted:
        append_result(section, body)
        print(f"\nRecorded in {RESULTS}")
