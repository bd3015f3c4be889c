"""Export to and import from reference managers: BibTeX, CSL-JSON, RIS, CSV and id lists."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import rispy
from bibtexparser import middlewares
from bibtexparser.entrypoint import parse_string
from bibtexparser.library import Library
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue

from paperlens import keys
from paperlens.job_queue import SERIALIZER
from paperlens.schemas import PaperRecord
from paperlens.store.db import Database
from paperlens.store.papers import upsert_papers
from tests.readers import ReaderClient, error_code, make_reader

LIB = "/api/v1/me/library"
ZOTERO = Path(__file__).parent / "fixtures" / "zotero_export.bib"

TRICKY = PaperRecord(
    ids=["arxiv:2402.00002", "doi:10.5555/tricky.2024"],
    title="Mixture-of-Experts & {Routing}: 50% of $x_i$ #1 — “quoted”",
    authors=["José Müller", "Anna van der Berg", "Kevin O'Neil"],
    abstract="We route tokens to experts.",
    categories=["cs.LG", "cs.AI"],
    published="2024-02-03",  # type: ignore[arg-type]
)
TWIN = PaperRecord(
    ids=["arxiv:2402.00003"],
    title="Mixture of experts, again",
    authors=["José Müller"],
    categories=["cs.CL"],
    published="2024-05-01",  # type: ignore[arg-type]
)


@pytest.fixture
def alice(client: FlaskClient, demo: Database) -> ReaderClient:
    with demo.session() as session:
        upsert_papers(session, [TRICKY, TWIN])
    return ReaderClient(client, make_reader(demo, "alice"))


@pytest.fixture
def bob(client: FlaskClient, demo: Database) -> ReaderClient:
    return ReaderClient(client, make_reader(demo, "bob"))


def _fill(reader: ReaderClient) -> None:
    entries = {
        "arxiv:2402.00002": {
            "tags": ["moe", "to cite"],
            "note": "50% & {braces} — ü",
            "status": "done",
        },
        "arxiv:2402.00003": {"tags": ["moe"]},
        "arxiv:2205.13147": {"tags": ["embeddings"], "note": "Matryoshka"},
        "doi:10.1145/3447548.3467000": {},  # not in the catalogue
    }
    for paper_id, body in entries.items():
        assert reader.put(f"{LIB}/{paper_id}", json=body).status_code == 201


def _parse_bibtex(text: str) -> Library:
    library = parse_string(
        text,
        append_middleware=[middlewares.LatexDecodingMiddleware(), middlewares.SeparateCoAuthors()],
    )
    assert not library.failed_blocks
    return library


def test_bibtex_export_parses_back_losslessly(alice: ReaderClient) -> None:
    _fill(alice)
    response = alice.get(f"{LIB}/export?format=bibtex")
    assert response.status_code == 200
    assert response.content_type.startswith("application/x-bibtex")
    assert "attachment" in response.headers["Content-Disposition"]
    library = _parse_bibtex(response.get_data(as_text=True))

    keys_ = [entry.key for entry in library.entries]
    assert len(keys_) == 4 and len(set(keys_)) == 4
    assert all(key.isascii() and key.isalnum() for key in keys_)
    by_eprint = {
        entry.fields_dict["eprint"].value: entry for entry in library.entries if "eprint" in entry
    }
    tricky = by_eprint["2402.00002"]
    assert tricky.entry_type == "misc"
    assert tricky["title"] == TRICKY.title
    assert tricky["author"] == TRICKY.authors
    assert tricky["archivePrefix"] == "arXiv" and tricky["primaryClass"] == "cs.LG"
    assert tricky["doi"] == "10.5555/tricky.2024"
    assert tricky["year"] == "2024" and tricky["url"] == "https://arxiv.org/abs/2402.00002"
    assert tricky["keywords"] == "moe, to cite"
    assert tricky["annote"] == "50% & {braces} — ü"
    assert tricky.key.startswith("muller2024")
    assert by_eprint["2402.00003"].key.startswith("muller2024")
    assert by_eprint["2205.13147"]["title"] == "Matryoshka Representation Learning"
    unknown = next(e for e in library.entries if "eprint" not in e)
    assert unknown["doi"] == "10.1145/3447548.3467000"
    assert unknown["url"] == "https://doi.org/10.1145/3447548.3467000"


def test_bibtex_export_imports_back_into_another_readers_list(
    alice: ReaderClient, bob: ReaderClient
) -> None:
    _fill(alice)
    exported = alice.get(f"{LIB}/export?format=bibtex").get_data()
    report = bob.post(f"{LIB}/import?format=bibtex", data=exported)
    assert report.status_code == 200
    assert report.get_json()["saved"] == 4 and report.get_json()["skipped"] == 0

    def summary(reader: ReaderClient) -> dict[str, tuple[list[str], str]]:
        items = reader.get(f"{LIB}?limit=200").get_json()["items"]
        return {item["paper_id"]: (item["tags"], item["note"]) for item in items}

    assert summary(bob) == summary(alice)


def test_export_of_one_tag(alice: ReaderClient) -> None:
    _fill(alice)
    text = alice.get(f"{LIB}/export?format=bibtex&tag=moe").get_data(as_text=True)
    eprints = sorted(e["eprint"] for e in _parse_bibtex(text).entries)
    assert eprints == ["2402.00002", "2402.00003"]
    assert alice.get(f"{LIB}/export?format=bibtex&tag=none").get_data(as_text=True) == ""


def test_export_of_a_selection(alice: ReaderClient) -> None:
    _fill(alice)
    picked = {"ids": ["arxiv:2402.00003", "https://arxiv.org/abs/2402.00002", "arxiv:2501.99999"]}
    response = alice.post(f"{LIB}/export?format=bibtex", json=picked)
    assert response.status_code == 200
    assert "paperlens-selection.bib" in response.headers["Content-Disposition"]
    eprints = sorted(e["eprint"] for e in _parse_bibtex(response.get_data(as_text=True)).entries)
    assert eprints == ["2402.00002", "2402.00003"]  # an id not on the list is left out
    csv_text = alice.post(f"{LIB}/export?format=csv", json=picked).get_data(as_text=True)
    assert len(list(csv.DictReader(io.StringIO(csv_text)))) == 2


@pytest.mark.parametrize(
    "body", [{}, {"ids": []}, {"ids": ["not an id"]}, {"ids": ["arxiv:2402.00002"], "x": 1}]
)
def test_a_bad_selection_is_refused(alice: ReaderClient, body: dict[str, object]) -> None:
    _fill(alice)
    response = alice.post(f"{LIB}/export?format=bibtex", json=body)
    assert response.status_code == 422
    error_code(response)


def test_csljson_export(alice: ReaderClient) -> None:
    _fill(alice)
    response = alice.get(f"{LIB}/export?format=csljson")
    assert response.status_code == 200
    items = json.loads(response.get_data())
    tricky = next(item for item in items if item.get("number") == "arXiv:2402.00002")
    assert tricky["title"] == TRICKY.title and tricky["type"] == "article"
    assert tricky["author"][0] == {"family": "Müller", "given": "José"}
    assert tricky["author"][1] == {"family": "van der Berg", "given": "Anna"}
    assert tricky["issued"] == {"date-parts": [[2024, 2, 3]]}
    assert tricky["DOI"] == "10.5555/tricky.2024" and tricky["publisher"] == "arXiv"
    assert tricky["keyword"] == "moe, to cite" and tricky["note"] == "50% & {braces} — ü"
    assert len({item["id"] for item in items}) == len(items) == 4


def test_ris_export(alice: ReaderClient) -> None:
    _fill(alice)
    response = alice.get(f"{LIB}/export?format=ris")
    assert response.status_code == 200
    references = rispy.loads(response.get_data(as_text=True))
    assert len(references) == 4
    tricky = next(ref for ref in references if ref.get("doi") == "10.5555/tricky.2024")
    assert tricky["title"] == TRICKY.title
    assert tricky["authors"] == ["Müller, José", "van der Berg, Anna", "O'Neil, Kevin"]
    assert tricky["year"] == "2024" and tricky["keywords"] == ["moe", "to cite"]
    assert tricky["urls"] == ["https://arxiv.org/abs/2402.00002"]
    assert tricky["notes"] == ["50% & {braces} — ü"]


def test_csv_export(alice: ReaderClient) -> None:
    _fill(alice)
    alice.put(f"{LIB}/arxiv:2310.01334", json={"note": '=HYPERLINK("x")'})
    response = alice.get(f"{LIB}/export?format=csv")
    assert response.content_type.startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 5
    tricky = next(row for row in rows if row["paper_id"] == "arxiv:2402.00002")
    assert tricky["title"] == TRICKY.title and tricky["doi"] == "10.5555/tricky.2024"
    assert tricky["tags"] == "moe; to cite" and tricky["status"] == "done"
    assert tricky["authors"] == "José Müller; Anna van der Berg; Kevin O'Neil"
    formula = next(row for row in rows if row["paper_id"] == "arxiv:2310.01334")
    assert formula["note"] == '\'=HYPERLINK("x")'  # a spreadsheet shows it, never runs it


def test_zotero_bibtex_import(fetching_enabled: None, alice: ReaderClient, redis: Redis) -> None:
    alice.put(
        f"{LIB}/arxiv:2310.01334", json={"tags": ["mine"], "note": "my note", "status": "done"}
    )
    report = alice.post(f"{LIB}/import?format=bibtex&tag=zotero", data=ZOTERO.read_bytes())
    assert report.status_code == 200, report.get_json()
    body = report.get_json()
    outcome = {item["input"]: (item["outcome"], item["paper_id"]) for item in body["items"]}
    assert outcome["kusupati_matryoshka_2024"] == ("saved", "arxiv:2205.13147")
    assert outcome["li_merge_2023"] == ("merged", "arxiv:2310.01334")
    assert outcome["muller_sparse_2021"] == ("saved", "doi:10.1145/3447548.3467000")
    assert outcome["vaswani_attention_2017"] == ("saved", "arxiv:1706.03762")
    book_outcome, book_id = outcome["goodfellow_deep_2016"]
    assert book_outcome == "saved" and book_id.startswith("pl:")
    assert outcome["untitled_2020"][0] == "skipped"
    skipped = [item for item in body["items"] if item["outcome"] == "skipped"]
    assert len(skipped) == 2 and all(item["reason"] for item in skipped)
    assert (body["saved"], body["merged"], body["skipped"]) == (4, 1, 2)

    matryoshka = alice.get(f"{LIB}/arxiv:2205.13147").get_json()
    assert matryoshka["tags"] == ["Computer Science - Machine Learning", "embeddings", "zotero"]
    assert matryoshka["note"] == "Comment: nested dims; see §3 for the 50% cost claim"
    merged = alice.get(f"{LIB}/arxiv:2310.01334").get_json()
    assert merged["tags"] == ["mine", "moe", "zotero"]
    assert merged["note"] == "my note" and merged["status"] == "done"  # the reader's own stay
    sparse = alice.get(f"{LIB}/doi:10.1145/3447548.3467000").get_json()
    assert sparse["known"] is False
    assert sparse["title"] == "Sparse Routing for Graph Learning & Beyond"
    assert sparse["authors"] == ["Jörg Müller", "Anna van der Berg", "Kevin O'Neil"]
    assert sparse["published"] == "2021-08-01"
    assert sparse["tags"] == ["graphs", "routing", "zotero"]
    book = alice.get(f"{LIB}/{book_id}").get_json()
    assert book["title"] == "Deep Learning" and book["authors"][0] == "Ian Goodfellow"

    fetches = {
        job.args[0]
        for job in Queue(keys.QUEUE_INTERACTIVE, connection=redis, serializer=SERIALIZER).jobs
    }
    assert fetches == {"doi:10.1145/3447548.3467000", "arxiv:1706.03762"}
    assert all(
        job.func_name == keys.JOB_FETCH_PAPER
        for job in Queue(keys.QUEUE_INTERACTIVE, connection=redis, serializer=SERIALIZER).jobs
    )

    again = alice.post(f"{LIB}/import?format=bibtex&tag=zotero", data=ZOTERO.read_bytes())
    assert again.get_json()["saved"] == 0 and again.get_json()["merged"] == 5


def test_import_of_ids_and_urls(alice: ReaderClient) -> None:
    lines = "\n".join(
        [
            "# papers from the reading group",
            "2205.13147v2",
            "https://arxiv.org/pdf/2310.01334v1.pdf",
            "",
            "doi:10.1145/3447548.3467000",
            "https://huggingface.co/papers/2507.23279",
            "arXiv:2205.13147",
            "https://example.com/not-a-paper",
            "hello world",
        ]
    )
    report = alice.post(f"{LIB}/import?format=ids&tag=reading group", data=lines)
    assert report.status_code == 200
    items = report.get_json()["items"]
    assert [(i["outcome"], i["paper_id"]) for i in items] == [
        ("saved", "arxiv:2205.13147"),
        ("saved", "arxiv:2310.01334"),
        ("saved", "doi:10.1145/3447548.3467000"),
        ("saved", "arxiv:2507.23279"),
        ("merged", "arxiv:2205.13147"),
        ("skipped", None),
        ("skipped", None),
    ]
    assert items[-1]["reason"] == "not an arXiv id, DOI or paper URL"
    tags = alice.get("/api/v1/me/tags").get_json()["items"]
    assert tags == [{"tag": "reading group", "count": 4}]


@pytest.mark.parametrize(
    ("query", "data", "status"),
    [
        ("format=ids", b"", 422),
        ("format=ids", b"\n# only a comment\n", 422),
        ("format=endnote", b"2205.13147", 422),
        ("", b"2205.13147", 422),
        ("format=ids&tag=" + "t" * 65, b"2205.13147", 422),
        ("format=ids", "2205.13147\n".encode("utf-16"), 422),
        ("format=bibtex", b"@article{a, title={NUL \x00 inside}, eprint={2205.13147}}", 422),
        ("format=ids", b"2205.13147\n" * 2001, 422),
        ("format=ids", b"x" * (1024 * 1024 + 1), 413),
    ],
)
def test_bad_imports_are_refused_and_save_nothing(
    alice: ReaderClient, query: str, data: bytes, status: int
) -> None:
    response = alice.post(f"{LIB}/import?{query}", data=data)
    assert response.status_code == status
    error_code(response)
    assert alice.get(LIB).get_json()["items"] == []


def test_bad_export_format(alice: ReaderClient) -> None:
    assert alice.get(f"{LIB}/export?format=docx").status_code == 422
