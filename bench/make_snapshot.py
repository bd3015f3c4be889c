"""Write an arXiv-snapshot-shaped JSON-lines file of N records for ingest benchmarks.

Records are the real ones of the test fixture (or any snapshot file given), repeated
with fresh new-style ids so that every line is a distinct paper.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

DEFAULT_SOURCE = (
    Path(__file__).resolve().parent.parent
    / "tests/fixtures/arxiv-snapshot/arxiv-metadata-oai-snapshot.head.jsonl"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    args = parser.parse_args()
    write_snapshot(args.out, args.lines, args.source)


def write_snapshot(path: Path, lines: int, source: Path = DEFAULT_SOURCE) -> None:
    seeds = [json.loads(line) for line in source.read_text().splitlines() if line.strip()]
    with path.open("w") as out:
        for number in range(lines):
            record = dict(seeds[number % len(seeds)])
            month = 1 + (number // 99_999) % 12
            record["id"] = (
                f"{20 + number // (99_999 * 12):02d}{month:02d}.{number % 99_999 + 1:05d}"
            )
            if record.get("doi"):
                record["doi"] = f"{record['doi'].split()[0]}.{number}"
            out.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
