"""Appending a dated run to ``bench/RESULTS.md`` under its ``## Quality`` section."""

from __future__ import annotations

from pathlib import Path

SECTION = "## Quality"
HEADER = "# Benchmark results\n\nEvery run of `make bench-*` is appended here, newest last.\n"


def append_run(path: Path, machine: str, *tables: str) -> None:
    """Add one run at the end of the Quality section, creating file and section as needed."""
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    run = f"\n### Run of {machine}\n\n" + "\n\n".join(tables) + "\n"
    start = text.find(f"\n{SECTION}\n")
    if start == -1:
        text = text.rstrip("\n") + f"\n\n{SECTION}\n" + run
    else:
        following = text.find("\n## ", start + len(SECTION) + 2)
        end = len(text) if following == -1 else following
        text = text[:end].rstrip("\n") + "\n" + run + text[end:]
    path.write_text(text, encoding="utf-8")
