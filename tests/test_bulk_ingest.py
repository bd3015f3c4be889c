"""Bulk ingest of the arXiv snapshot: bad lines reported by number, filters, gzip,
and an interrupted run resumed without duplicates."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import signal
import subprocess
from pathlib import Path

from click.testing import CliRunner

from cli.main import main
from paperlens.settings import Settings
from paperlens.store.db import Database
from paperlens.store.papers import count_papers, find_paper
from tests.support import PAPERLENS, eventually
from worker.ingest.arxiv_snapshot import SnapshotFilter, ingest_snapshot

SNAPSHOT_HEAD = (
    Path(__file__).parent / "fixtures" / "arxiv-snapshot" / "arxiv-metadata-oai-snapshot.head.jsonl"
)
REAL_RECORD = {
    "id": "0704.0001",
    "submitter": "Pavel Nadolsky",
    "authors": "C. Bal\\'azs, E. L. Berger, P. M. Nadolsky, C.-P. Yuan",
    "title": "Calculation of prompt diphoton production cross sections at Tevatron and\n"
    "  LHC energies",
    "comments": "37 pages, 15 figures; published version",
    "journal-ref": "Phys.Rev.D76:013009,2007",
    "doi": "10.1103/PhysRevD.76.013009",
    "categories": "hep-ph",
    "abstract": "  A fully differential calculation in perturbative quantum chromodynamics\n"
    "is presented.\n",
    "versions": [{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}],
    "update_date": "2008-11-13",
    "authors_parsed": [["Balázs", "C.", ""], ["Berger", "E. L.", ""], ["Nadolsky", "P. M.", ""]],
}


def snapshot_lines(count: int, broken_every: int = 0) -> list[str]:
    """``count`` lines in the snapshot's format; every ``broken_every``-th one is broken."""
    lines = []
    for number in range(1, count + 1):
        if broken_every and number % broken_every == 0:
            lines.append('{"id": "2101.' + f"{number:05d}" + '", "title": ')
            continue
        record = dict(REAL_RECORD)
        record["id"] = f"2101.{number:05d}"
        record["doi"] = f"10.1000/bench.{number}"
        record["categories"] = "cs.CL cs.LG" if number % 2 else "math.CO"
        record["update_date"] = "2021-01-15" if number % 3 else "2019-06-01"
        lines.append(json.dumps(record))
    return lines


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def test_real_snapshot_head_lands_with_its_fields(db: Database, settings: Settings) -> None:
    report = ingest_snapshot(
        db, SNAPSHOT_HEAD, SnapshotFilter(), checkpoint_dir=settings.ingest_checkpoint_dir
    )
    assert (report.read, report.created, report.bad) == (200, 200, 0)
    with db.session() as session:
        paper = find_paper(session, "doi:10.1103/physrevd.76.013009")
        assert paper is not None and paper.paper_id == "arxiv:0704.0001"
        assert paper.title.startswith("Calculation of prompt diphoton production")
        assert paper.authors[:2] == ["C. Balázs", "E. L. Berger"]
        assert paper.categories == ["hep-ph"]
        assert str(paper.published) == "2007-04-02" and str(paper.updated) == "2008-11-26"
        assert paper.venue == "Phys.Rev.D76:013009,2007"


def test_broken_lines_are_reported_with_their_numbers(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    lines = snapshot_lines(30, broken_every=7)
    lines[1] = json.dumps({"id": "not an id", "title": "x"})
    lines[2] = json.dumps({"id": "2101.99999", "title": ""})
    lines[4] = "[1, 2]"
    path = write_lines(tmp_path / "snap.jsonl", lines)
    report = ingest_snapshot(
        db, path, SnapshotFilter(), checkpoint_dir=settings.ingest_checkpoint_dir
    )
    assert [number for number, _ in report.bad_records] == [2, 3, 5, 7, 14, 21, 28]
    assert report.created == 23
    assert "not an arXiv id" in report.bad_records[0][1]
    assert "title" in report.bad_records[1][1]
    with db.session() as session:
        assert count_papers(session) == 23


def test_filters_by_category_pattern_and_date(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    path = write_lines(tmp_path / "snap.jsonl", snapshot_lines(30))
    keep = SnapshotFilter(categories=["cs.*"], since=dt.date(2020, 1, 1))
    report = ingest_snapshot(db, path, keep, checkpoint_dir=settings.ingest_checkpoint_dir)
    expected = [n for n in range(1, 31) if n % 2 and n % 3]
    assert report.created == len(expected) and report.filtered == 30 - len(expected)
    with db.session() as session:
        assert find_paper(session, f"arxiv:2101.{expected[0]:05d}") is not None
        assert find_paper(session, "arxiv:2101.00002") is None


def test_gzip_snapshot_through_the_command(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "snap.jsonl.gz"
    with gzip.open(path, "wt") as handle:
        handle.write("\n".join(snapshot_lines(40, broken_every=10)) + "\n")
    result = CliRunner().invoke(
        main, ["ingest", "arxiv-snapshot", str(path), "--categories", "cs.*"]
    )
    assert result.exit_code == 0, result.output
    assert "skipped line 10" in result.output and "skipped line 40" in result.output
    assert "20 new" in result.output and "16 filtered out, 4 bad" in result.output
    with db.session() as session:
        assert count_papers(session) == 20


def test_reingesting_changes_nothing(db: Database, settings: Settings, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "snap.jsonl", snapshot_lines(50))
    ingest_snapshot(db, path, SnapshotFilter(), checkpoint_dir=settings.ingest_checkpoint_dir)
    again = ingest_snapshot(
        db, path, SnapshotFilter(), checkpoint_dir=settings.ingest_checkpoint_dir
    )
    assert (again.created, again.updated) == (0, 50)
    with db.session() as session:
        assert count_papers(session) == 50


def test_interrupted_ingest_resumes_without_duplicates(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    lines = snapshot_lines(12_000, broken_every=1_000)
    path = write_lines(tmp_path / "big.jsonl", lines)
    command = [*PAPERLENS, "ingest", "arxiv-snapshot", str(path)]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    checkpoints = settings.ingest_checkpoint_dir

    def checkpointed() -> bool:
        assert first.poll() is None, "the run ended before it could be interrupted"
        return bool(list(checkpoints.glob("arxiv-snapshot-*.json")))

    eventually(checkpointed, 60, "the run wrote no checkpoint", interval=0.02)
    first.send_signal(signal.SIGKILL)
    first.wait()
    with db.session() as session:
        landed = count_papers(session)
    assert 0 < landed < 12_000 - 12

    second = subprocess.run(command, capture_output=True, text=True, check=True)
    assert "resumed after line" in second.stdout
    with db.session() as session:
        assert count_papers(session) == 12_000 - 12
    assert not list(checkpoints.glob("arxiv-snapshot-*.json"))


def test_progress_prints_plain_lines_without_a_terminal(tmp_path: Path) -> None:
    from worker.ingest.progress import Progress

    stream = io.StringIO()
    progress = Progress("test", 100, stream=stream, interactive=False)
    progress._last_line -= 60
    progress.advance(50, 1234)
    progress.close()
    assert "test: 1,234 papers" in stream.getvalue() and "(50%)" in stream.getvalue()
