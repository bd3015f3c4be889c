"""Rebuild data/demo/papers.jsonl from the seed file described in data/demo/README.md.

Usage: python data/demo/build_demo_corpus.py ../shared/data/seed_papers.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "papers.jsonl"


def main(seed_path: str) -> None:
    seeds = json.loads(Path(seed_path).read_text(encoding="utf-8"))
    with OUT.open("w", encoding="utf-8") as out:
        for seed in seeds:
            record: dict[str, object] = {
                "title": seed["title"],
                "abstract": seed["abstract"],
                "published": seed["published"],
                "extra": {
                    "n_authors": seed["n_authors"],
                    "hf_upvotes": seed["upvotes"],
                    "listed_on": "Hugging Face Daily Papers, page dated Dec 8 2025",
                },
            }
            if seed["arxiv_id"]:
                record = {"id": f"arxiv:{seed['arxiv_id']}", **record}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
