"""``paperlens ingest jsonl``: good lines land, bad lines are reported by number."""

from __future__ import annotations

import json
from pathlib import Path

from paperlens.store.db import Database
from paperlens.store.papers import count_papers, find_paper
from worker.ingest.jsonl import ingest_jsonl


def test_bad_lines_are_skipped_with_their_numbers(db: Database, tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "corpusid:10010426", "title": "A paper", "abstract": "Text."}),
        "{not json",
        json.dumps({"id": "nonsense id", "title": "Bad id"}),
        json.dumps({"id": "arxiv:2205.13147"}),
        json.dumps(["a list"]),
        json.dumps({"title": "No id at all", "published": "2020-01-02"}),
    ]
    path = tmp_path / "papers.jsonl"
    path.write_text("\n".join(lines) + "\n")
    report = ingest_jsonl(db, path)
    assert report.created == 2
    assert [line for line, _ in report.bad_records] == [2, 3, 4, 5]
    with db.session() as session:
        assert count_papers(session) == 2
        assert find_paper(session, "corpusid:10010426") is not None


def test_ingest_twice_changes_nothing(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps({"id": "arXiv:2205.13147v2", "title": "MRL"}) + "\n")
    ingest_jsonl(db, path)
    second = ingest_jsonl(db, path)
    assert (second.created, second.updated) == (0, 1)
    with db.session() as session:
        assert count_papers(session) == 1
        assert find_paper(session, "arxiv:2205.13147") is not None
