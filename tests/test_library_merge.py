"""One reading-list entry per paper: a reader who saved a preprint and its DOI apart keeps
one entry holding everything once the ids are joined, by an ingest, a source answer or an
import, and exports it once."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any, get_args

import pytest
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import select

from paperlens.schemas import ReadingStatus
from paperlens.settings import Settings
from paperlens.store.db import Database
from paperlens.store.library import feedback_signals, library_revision
from paperlens.store.merging import STATUS_PROGRESS
from paperlens.store.models import User
from paperlens.store.papers import find_paper, join_ids
from tests.readers import ReaderClient, make_reader
from tests.source_server import SourceFleet
from worker.context import get_context
from worker.ingest.jsonl import ingest_jsonl
from worker.pipeline.freshness import ingest_recent

LIB = "/api/v1/me/library"
# In the arXiv fixture listing of cs.SE, with its DOI in <arxiv:doi>.
PREPRINT = "arxiv:2405.13786"
PUBLISHED = "doi:10.1109/icstw58534.2023.00023"  # DOIs are kept lower-cased
MRL = "arxiv:2205.13147"


@pytest.fixture
def alice(client: FlaskClient, db: Database) -> ReaderClient:
    return ReaderClient(client, make_reader(db, "alice"))


@pytest.fixture
def bob(client: FlaskClient, db: Database) -> ReaderClient:
    return ReaderClient(client, make_reader(db, "bob"))


def items(reader: ReaderClient) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = reader.get(f"{LIB}?limit=200").get_json()["items"]
    return listed


def save_apart(reader: ReaderClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """The preprint read halfway, then the published version finished, each with its own
    tags and note."""
    preprint = reader.put(
        f"{LIB}/{PREPRINT}",
        json={"status": "reading", "tags": ["ranking", "to cite"], "note": "preprint: see §3"},
    )
    published = reader.put(
        f"{LIB}/{PUBLISHED}",
        json={"status": "done", "tags": ["icst", "to cite"], "note": "the published version"},
    )
    assert preprint.status_code == published.status_code == 201
    assert len(items(reader)) == 2
    return preprint.get_json(), published.get_json()


def test_status_order_covers_every_status() -> None:
    assert set(STATUS_PROGRESS) == set(get_args(ReadingStatus))


def test_a_daily_ingest_joining_two_saved_ids_leaves_one_entry_with_everything(
    source_fleet: SourceFleet,
    alice: ReaderClient,
    bob: ReaderClient,
    db: Database,
    redis: Redis,
    settings: Settings,
) -> None:
    preprint, published = save_apart(alice)
    assert bob.put(f"{LIB}/{PUBLISHED}", json={"note": "bob's own"}).status_code == 201
    revision_before = _revision(db, "alice")

    categories = settings.model_copy(update={"arxiv_daily_categories": ["cs.SE"]})
    ingest_recent(get_context().http, db, redis, categories, today=dt.date(2024, 5, 23))
    with db.session() as session:
        paper = find_paper(session, PUBLISHED)
        assert paper is not None and paper.ids == [PREPRINT, PUBLISHED]

    [entry] = items(alice)
    assert entry["paper_id"] == PREPRINT and entry["saved_as"] == PREPRINT
    assert entry["known"] is True
    assert entry["title"] == (
        "Towards Explainable Test Case Prioritisation with Learning-to-Rank Models"
    )
    assert entry["status"] == "done"  # the furthest the reader got
    assert entry["tags"] == ["icst", "ranking", "to cite"]
    assert entry["note"] == (
        f"preprint: see §3\n\n--- note saved under {PUBLISHED} ---\nthe published version"
    )
    assert entry["saved_at"] == preprint["saved_at"]  # the first save
    assert entry["updated_at"] == published["updated_at"]  # the latest change
    assert alice.get(f"{LIB}/{PUBLISHED}").get_json() == entry
    assert _revision(db, "alice") > revision_before  # suggestions are recomputed
    tags = alice.get("/api/v1/me/tags").get_json()["items"]
    assert {tag["tag"]: tag["count"] for tag in tags} == {"icst": 1, "ranking": 1, "to cite": 1}

    rows = list(csv.DictReader(io.StringIO(alice.get(f"{LIB}/export?format=csv").get_data(True))))
    assert [row["paper_id"] for row in rows] == [PREPRINT]
    assert rows[0]["status"] == "done" and "the published version" in rows[0]["note"]
    bibtex = alice.get(f"{LIB}/export?format=bibtex").get_data(as_text=True)
    assert bibtex.count("@") == 1
    csljson = json.loads(alice.get(f"{LIB}/export?format=csljson").get_data(as_text=True))
    assert len(csljson) == 1

    # Another reader's entry is theirs alone, and nothing else of it changes.
    [own] = items(bob)
    assert own["note"] == "bob's own" and own["saved_as"] == PUBLISHED
    # The joined entry is changed like any other, under either id.
    changed = alice.patch(f"{LIB}/{PUBLISHED}", json={"tags": ["icst"]})
    assert changed.status_code == 200 and changed.get_json()["tags"] == ["icst"]
    assert alice.delete(f"{LIB}/{PUBLISHED}").status_code == 204
    assert items(alice) == []


def test_an_ingest_joining_two_known_papers_merges_their_entries(
    alice: ReaderClient, db: Database, tmp_path: Path
) -> None:
    apart = tmp_path / "apart.jsonl"
    apart.write_text(
        "\n".join(
            json.dumps(record)
            for record in [
                {"ids": [PREPRINT], "title": "Explainable TCP", "published": "2024-05-22"},
                {"ids": [PUBLISHED], "title": "Explainable TCP (ICSTW)"},
            ]
        )
    )
    ingest_jsonl(db, apart)
    alice.put(f"{LIB}/{PUBLISHED}", json={"tags": ["icst"], "note": "published"})
    alice.put(f"{LIB}/{PREPRINT}", json={"status": "reading", "note": "preprint"})
    assert [item["known"] for item in items(alice)] == [True, True]

    joined = tmp_path / "joined.jsonl"
    joined.write_text(json.dumps({"ids": [PREPRINT, PUBLISHED], "title": "Explainable TCP"}))
    assert ingest_jsonl(db, joined).updated == 1

    [entry] = items(alice)
    assert entry["paper_id"] == PREPRINT and entry["saved_as"] == PUBLISHED  # the first save
    assert entry["status"] == "reading" and entry["tags"] == ["icst"]
    assert entry["note"] == f"published\n\n--- note saved under {PREPRINT} ---\npreprint"


def test_a_source_answer_joining_ids_goes_through_the_same_merge(
    alice: ReaderClient, db: Database, tmp_path: Path
) -> None:
    with db.session() as session:
        assert join_ids(session, [PREPRINT, PUBLISHED]) is None  # neither is known yet
    alice.put(f"{LIB}/{PUBLISHED}", json={"tags": ["b"], "note": "same note"})
    alice.put(f"{LIB}/{PREPRINT}", json={"tags": ["a"], "note": "same note"})
    feedback = {"paper_id": PREPRINT, "signal": "dismiss"}
    assert alice.post("/api/v1/me/feedback", json=feedback).status_code == 200
    feedback = {"paper_id": PUBLISHED, "signal": "more_like_this"}
    assert alice.post("/api/v1/me/feedback", json=feedback).status_code == 200
    jsonl = tmp_path / "one.jsonl"
    jsonl.write_text(json.dumps({"ids": [PUBLISHED], "title": "Explainable TCP"}))
    ingest_jsonl(db, jsonl)

    with db.session() as session:
        paper = join_ids(session, [PUBLISHED, PREPRINT])
        assert paper is not None and paper.ids == [PREPRINT, PUBLISHED]

    [entry] = items(alice)
    assert entry["saved_as"] == PUBLISHED and entry["paper_id"] == PREPRINT
    assert entry["tags"] == ["a", "b"] and entry["note"] == "same note"  # said once
    # One signal, the latest, kept where a new signal about the paper is looked for.
    with db.session() as session:
        reader_id = _reader_id(db, "alice")
        assert feedback_signals(session, reader_id) == {PREPRINT: "more_like_this"}
    feedback = {"paper_id": PUBLISHED, "signal": "dismiss"}
    assert alice.post("/api/v1/me/feedback", json=feedback).get_json()["paper_id"] == PREPRINT
    with db.session() as session:
        assert feedback_signals(session, reader_id) == {PREPRINT: "dismiss"}
    assert alice.delete(f"/api/v1/me/feedback/{PUBLISHED}").status_code == 204
    assert alice.delete(f"/api/v1/me/feedback/{PREPRINT}").status_code == 404


def _bib(key: str, **fields: str) -> str:
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields.items())
    return f"@article{{{key},\n{body}\n}}\n"


def test_import_merges_by_any_id_an_entry_names(alice: ReaderClient) -> None:
    alice.put(f"{LIB}/{PUBLISHED}", json={"status": "reading", "note": "mine"})
    alice.put(f"{LIB}/arxiv:2401.00001", json={"tags": ["x"]})
    alice.put(f"{LIB}/doi:10.5555/twin", json={"tags": ["y"], "note": "twin"})
    text = _bib(
        "ramirez2024",
        title="Towards Explainable Test Case Prioritisation",
        eprint="2405.13786",
        archivePrefix="arXiv",
        doi="10.1109/ICSTW58534.2023.00023",
        keywords="tcp",
        annote="from the file",
    ) + _bib("twins2024", title="Twins", eprint="2401.00001", doi="10.5555/twin")
    report = alice.post(f"{LIB}/import?format=bibtex", data=text.encode()).get_json()
    assert (report["saved"], report["merged"], report["skipped"]) == (0, 2, 0)
    first, second = report["items"]
    assert first["outcome"] == "merged" and first["matched_by"] == "id"
    assert first["paper_id"] == PUBLISHED and first["imported_id"] == PREPRINT
    assert second["outcome"] == "merged" and second["matched_by"] == "id"
    assert second["paper_id"] == "arxiv:2401.00001" and second["imported_id"] == "arxiv:2401.00001"

    listed = {item["saved_as"]: item for item in items(alice)}
    assert set(listed) == {PUBLISHED, "arxiv:2401.00001"}  # the file said the twins are one
    assert listed[PUBLISHED]["status"] == "reading" and listed[PUBLISHED]["note"] == "mine"
    assert listed[PUBLISHED]["tags"] == ["tcp"]
    assert listed["arxiv:2401.00001"]["tags"] == ["x", "y"]
    assert listed["arxiv:2401.00001"]["note"] == "twin"


def test_import_merges_by_title_and_year_when_no_id_is_shared(
    alice: ReaderClient, db: Database, tmp_path: Path
) -> None:
    catalogue = tmp_path / "mrl.jsonl"
    catalogue.write_text(
        json.dumps(
            {"ids": [MRL], "title": "Matryoshka Representation Learning", "published": "2022-05-26"}
        )
    )
    ingest_jsonl(db, catalogue)
    alice.put(f"{LIB}/{MRL}", json={"tags": ["embeddings"]})
    alice.post(f"{LIB}/import?format=bibtex", data=_bib("book", title="Deep Learning", year="2016"))
    text = (
        _bib("same", title="{MATRYOSHKA} Representation-Learning.", year="2022", doi="10.5555/mrl")
        + _bib("later", title="Matryoshka Representation Learning", year="2023", doi="10.5555/x")
        + _bib("untimed", title="Matryoshka Representation Learning", doi="10.5555/y")
        + _bib("book_again", title="Deep learning.", year="2016", keywords="classic")
    )
    report = alice.post(f"{LIB}/import?format=bibtex", data=text.encode()).get_json()
    outcomes = {item["input"]: item for item in report["items"]}
    assert (report["saved"], report["merged"]) == (2, 2)
    same = outcomes["same"]
    assert same["outcome"] == "merged" and same["matched_by"] == "title"
    assert same["paper_id"] == MRL and same["imported_id"] == "doi:10.5555/mrl"
    assert outcomes["later"]["outcome"] == "saved"  # another year is another paper
    assert outcomes["untimed"]["outcome"] == "saved"  # no year: the title alone is not enough
    assert outcomes["book_again"]["outcome"] == "merged"
    assert outcomes["book_again"]["matched_by"] == "title"
    assert len(items(alice)) == 4
    assert alice.get(f"{LIB}/{MRL}").get_json()["tags"] == ["embeddings"]


def _reader_id(db: Database, name: str) -> int:
    with db.session() as session:
        found = session.scalar(select(User.id).where(User.name == name))
        assert found is not None
        return found


def _revision(db: Database, name: str) -> int:
    with db.session() as session:
        return library_revision(session, _reader_id(db, name))
