"""One BibTeX entry, one paper id: the catalogue's ingest and a reading list's import read
the file alike, so the paper they name is the same one."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient

from paperlens.formats.bibtex import parse_bibtex
from paperlens.settings import Settings
from paperlens.store.db import Database
from paperlens.store.papers import find_paper
from tests.readers import ReaderClient, make_reader
from worker.ingest import runs

LIB = "/api/v1/me/library"
# Google Scholar's export names an arXiv preprint only in its journal field.
SCHOLAR_ENTRY = (
    "@article{kusupati2022matryoshka,\n"
    "  title={Matryoshka representation learning},\n"
    "  author={Kusupati, Aditya and Bhatt, Gantavya and Rege, Aniket},\n"
    "  journal={arXiv preprint arXiv:2205.13147},\n"
    "  year={2022}\n"
    "}\n"
)


def test_an_arxiv_id_in_the_journal_field_names_the_paper_in_both_paths(
    db: Database, settings: Settings, client: FlaskClient, tmp_path: Path
) -> None:
    path = tmp_path / "scholar.bib"
    path.write_text(SCHOLAR_ENTRY)
    report = runs.paper_file(settings, db, "bibtex", path)
    assert (report.created, report.bad) == (1, 0)
    with db.session() as session:
        paper = find_paper(session, "arxiv:2205.13147")
        assert paper is not None and paper.paper_id == "arxiv:2205.13147"
        assert paper.authors == ["Aditya Kusupati", "Gantavya Bhatt", "Aniket Rege"]
        assert paper.venue is None  # "arXiv preprint ..." names no venue

    [candidate] = parse_bibtex(SCHOLAR_ENTRY, max_items=10)
    assert candidate.paper_id == "arxiv:2205.13147"
    alice = ReaderClient(client, make_reader(db, "alice"))
    response = alice.post(f"{LIB}/import?format=bibtex", data=SCHOLAR_ENTRY.encode())
    assert response.status_code == 200, response.get_json()
    [item] = response.get_json()["items"]
    assert (item["outcome"], item["paper_id"]) == ("saved", "arxiv:2205.13147")
    listed = alice.get(LIB).get_json()["items"]
    assert [(entry["paper_id"], entry["known"]) for entry in listed] == [("arxiv:2205.13147", True)]
