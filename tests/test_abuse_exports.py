"""Hostile text through import and export: every export format, read back with a real
parser for that format, gives exactly the entries and fields the reading list holds.

The strings come from hypothesis, built from the pieces that end a field or a record in
one format or another (braces, backslashes, '@preamble', 'ER  -' lines, line breaks,
formula characters, NUL and other controls) mixed with arbitrary Unicode text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import re
from typing import Any
from urllib.parse import unquote

import rispy
from bibtexparser.entrypoint import parse_string
from bibtexparser.middlewares.names import split_multiple_persons_names
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db
from pylatexenc.latexencode import UnicodeToLatexEncoder
from sqlalchemy import select

from paperlens.formats.bibtex import to_bibtex
from paperlens.formats.csljson import to_csljson
from paperlens.formats.csv_table import to_csv
from paperlens.formats.records import ExportRecord, citation_key, export_records, split_name
from paperlens.formats.ris import to_ris
from paperlens.schemas import PaperRecord, PublishedVersion
from paperlens.store import library
from paperlens.store.db import Database
from paperlens.store.models import User
from paperlens.store.papers import upsert_papers
from tests.readers import ReaderClient, make_reader

LIB = "/api/v1/me/library"

PIECES = [
    "{",
    "}",
    "\\",
    "\\}",
    "{\\}",
    "@",
    "%",
    "#",
    "$",
    "~",
    "^",
    "_",
    "&",
    '"',
    ",",
    ";",
    "=",
    "+",
    "-",
    "--",
    "``",
    "''",
    "\t",
    "\n",
    "\r",
    "\r\n",
    "\x00",
    "\x01",
    "\x1b",
    "\x0b",
    "\x85",
    "\u2028",
    " and ",
    "ER  - ",
    "\nER  - \nTY  - JOUR\nTI  - injected\n",
    '\n@preamble{"\\immediate\\write18{id}"}\n',
    "}, note = {injected",
    '\n@string{x = "injected"}\n',
    '=HYPERLINK("http://evil.example")',
    "é",
    "ü",
    "e\u0301",
    "ﬁ",
    "中文",
    "😀",
    "\u200f",
    "\xa0",
]
hostile = st.lists(
    st.one_of(st.sampled_from(PIECES), st.text(max_size=6)), min_size=1, max_size=8
).map("".join)

# --- what each format can carry, as its own rules define it -----------------------------

_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_URL_CHARACTERS = re.compile(r"[A-Za-z0-9!#$&'()*+,/:;=?@\[\]~\-._%]*")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def bibtex_text(text: str) -> str:
    """LaTeX reads any run of white space and control characters as one space."""
    return re.sub(" +", " ", _CONTROLS.sub(" ", text)).strip(" ")


def ris_text(text: str) -> str:
    """RIS holds one line per value; readers strip its ends."""
    return _CONTROLS.sub(" ", text).strip()


def spreadsheet_cell(text: str) -> str:
    """A cell a spreadsheet would run as a formula is shown as text after an apostrophe."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


# Text macros of the LaTeX kernel that pylatexenc's reader lacks (or reads as another character).
_KERNEL_TEXT_MACROS = {"textbraceleft": "{", "textbraceright": "}", "textasciicircum": "^"}


def _latex_reader() -> LatexNodes2Text:
    """pylatexenc, knowing the LaTeX kernel's text macros for braces and the caret as well."""
    context = get_default_latex_context_db()
    kernel = [MacroTextSpec(name, simplify_repl=text) for name, text in _KERNEL_TEXT_MACROS.items()]
    context.add_context_category("kernel-text", prepend=True, macros=kernel)
    return LatexNodes2Text(latex_context=context, math_mode="verbatim", strict_latex_spaces=True)


LATEX = _latex_reader()


# --- reading each export back --------------------------------------------------------


def check_bibtex(text: str, records: list[ExportRecord]) -> None:
    parsed = parse_string(text)
    assert not parsed.failed_blocks, [block.error for block in parsed.failed_blocks]
    assert not parsed.strings and not parsed.preambles and not parsed.comments
    assert [entry.key for entry in parsed.entries] == [record.key for record in records]
    for entry, record in zip(parsed.entries, records, strict=True):
        fields = {field.key: field.value for field in entry.fields}
        expected = _bibtex_fields(record)
        assert set(fields) == set(expected)
        for name, value in fields.items():
            if name == "author":
                names = [LATEX.latex_to_text(n) for n in split_multiple_persons_names(value)]
                assert names == expected[name]
            elif name in ("doi", "eprint", "primaryClass"):
                assert _URL_CHARACTERS.fullmatch(value) and unquote(value) == expected[name]
            elif name == "url":
                assert _URL_CHARACTERS.fullmatch(value)
                assert unquote(value) == unquote(expected[name])
            else:
                assert LATEX.latex_to_text(value) == expected[name], name


def _bibtex_fields(record: ExportRecord) -> dict[str, Any]:
    authors = [bibtex_text(name) for name in record.authors if bibtex_text(name)]
    values: dict[str, Any] = {
        "title": bibtex_text(record.title),
        "author": authors,
        "year": str(record.year) if record.year else "",
        "month": record.published.strftime("%b").lower() if record.published else "",
        "doi": record.doi,
        "url": record.url,
        "abstract": bibtex_text(record.abstract),
        "keywords": ", ".join(bibtex_text(tag) for tag in record.tags),
        "annote": bibtex_text(record.note),
    }
    if record.arxiv_id is not None:
        values |= {
            "eprint": record.arxiv_id,
            "archivePrefix": "arXiv",
            "primaryClass": record.primary_class,
            "howpublished": bibtex_text(record.venue or ""),
        }
    else:
        values["journal"] = bibtex_text(record.venue or "")
    return {name: value for name, value in values.items() if value or name == "title"}


def check_ris(text: str, records: list[ExportRecord]) -> None:
    references = rispy.loads(text)
    assert [ref["id"] for ref in references] == [record.key for record in records]
    for reference, record in zip(references, records, strict=True):
        expected = _ris_fields(record)
        urls = reference.pop("urls", [])
        assert [unquote(url) for url in urls] == [unquote(url) for url in expected.pop("urls")]
        assert all(_URL_CHARACTERS.fullmatch(url) for url in urls)
        assert reference == expected


def _ris_fields(record: ExportRecord) -> dict[str, Any]:
    def name(display: str) -> str:
        family, given = split_name(display)
        return ris_text(f"{family}, {given}" if given else family)

    values: dict[str, Any] = {
        "type_of_reference": "JOUR" if record.venue and not record.arxiv_id else "GEN",
        "id": record.key,
        "title": ris_text(record.title),
        "authors": [name(author) for author in record.authors],
        "year": str(record.year) if record.year else None,
        "date": record.published.strftime("%Y/%m/%d") if record.published else None,
        "publisher": "arXiv" if record.arxiv_id else None,
        "note": ris_text(f"arXiv:{record.arxiv_id}") if record.arxiv_id else None,
        "journal_name": ris_text(record.venue or "") if record.venue else None,
        "doi": ris_text(record.doi or "") if record.doi else None,
        "abstract": ris_text(record.abstract) if record.abstract else None,
        "keywords": [ris_text(tag) for tag in record.tags] or None,
        "notes": [ris_text(record.note)] if record.note else None,
    }
    values = {key: value for key, value in values.items() if value is not None}
    if not values["authors"]:
        del values["authors"]
    values["urls"] = [record.url] if record.url else []
    return values


# The CSV header as documented: each column is named for the record field it holds.
CSV_COLUMNS = "paper_id title authors published venue doi arxiv_id url status tags note saved_at"


def csv_value(value: object) -> str:
    """A field as its CSV cell: a list joined by semicolons, a date or a time in ISO 8601,
    a missing value as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(value)
    if isinstance(value, dt.date):  # a datetime is a date too
        return value.isoformat()
    return str(value)


def check_csv(text: str, records: list[ExportRecord]) -> None:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    columns = CSV_COLUMNS.split()
    assert rows[0] == columns
    assert len(rows) == len(records) + 1
    for row, record in zip(rows[1:], records, strict=True):
        assert not any(cell.startswith(_FORMULA_STARTS) for cell in row)
        cells = dict(zip(columns, row, strict=True))
        for column, cell in cells.items():
            assert cell == spreadsheet_cell(csv_value(getattr(record, column))), column


def check_csljson(body: bytes, records: list[ExportRecord]) -> None:
    items = json.loads(body)
    assert [item["id"] for item in items] == [record.key for record in records]
    for item, record in zip(items, records, strict=True):
        assert item["title"] == record.title
        assert len(item["author"]) == len(record.authors)
        optional = {
            "container-title": record.venue,
            "DOI": record.doi,
            "URL": record.url,
            "abstract": record.abstract,
            "keyword": ", ".join(record.tags),
            "note": record.note,
        }
        for name, value in optional.items():
            assert item.get(name) == (value or None), name


def check_every_format(records: list[ExportRecord]) -> None:
    check_bibtex(to_bibtex(records), records)
    check_ris(to_ris(records), records)
    check_csv(to_csv(records), records)
    check_csljson(to_csljson(records), records)


# --- the tests -----------------------------------------------------------------------


@st.composite
def export_records_(draw: st.DrawFn) -> list[ExportRecord]:
    records = []
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        title = draw(hostile)
        authors = draw(st.lists(hostile, max_size=3))
        published = draw(st.one_of(st.none(), st.dates(dt.date(1900, 1, 1))))
        records.append(
            ExportRecord(
                paper_id=draw(hostile),
                key=citation_key(authors, published.year if published else None, title),
                title=title,
                authors=authors,
                published=published,
                year=published.year if published else None,
                abstract=draw(hostile),
                venue=draw(st.one_of(st.none(), hostile)),
                arxiv_id=draw(st.one_of(st.none(), hostile)),
                primary_class=draw(st.one_of(st.none(), hostile)),
                doi=draw(st.one_of(st.none(), hostile)),
                url=draw(st.one_of(st.none(), hostile)),
                status="to_read",
                tags=draw(st.lists(hostile, max_size=3)),
                note=draw(hostile),
                saved_at=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
            )
        )
    for index, record in enumerate(records):  # keys are unique within an export
        record.key = f"{record.key}{index}"
    return records


@given(records=export_records_())
@settings(max_examples=300, deadline=None)
def test_every_field_of_every_export_format_survives_hostile_text(
    records: list[ExportRecord],
) -> None:
    check_every_format(records)


@given(
    records=export_records_(),
    venue=hostile,
    pages=hostile,
    doi=hostile,
    inproceedings=st.booleans(),
)
@settings(max_examples=150, deadline=None)
def test_a_published_version_from_a_source_survives_hostile_text_in_every_format(
    records: list[ExportRecord], venue: str, pages: str, doi: str, inproceedings: bool
) -> None:
    """A source's venue, pages and DOI are untrusted text, like any field of the paper."""
    version = PublishedVersion(
        venue=venue,
        year=2022,
        doi=doi,
        pages=pages,
        entry_type="inproceedings" if inproceedings else "article",
        source="dblp",
    )
    for record in records:
        record.arxiv_id = record.arxiv_id or "2205.13147"
        record.published_version = version
    container = "booktitle" if inproceedings else "journal"

    parsed = parse_string(to_bibtex(records))
    assert not parsed.failed_blocks, [block.error for block in parsed.failed_blocks]
    assert not parsed.strings and not parsed.preambles and not parsed.comments
    assert [entry.key for entry in parsed.entries] == [record.key for record in records]
    for entry, record in zip(parsed.entries, records, strict=True):
        fields = {field.key: field.value for field in entry.fields}
        assert entry.entry_type == version.entry_type
        assert LATEX.latex_to_text(fields.get(container, "")) == bibtex_text(venue)
        assert LATEX.latex_to_text(fields["note"]) == bibtex_text(record.version_note or "")
        assert _URL_CHARACTERS.fullmatch(fields["eprint"])
        assert _URL_CHARACTERS.fullmatch(fields.get("pages", ""))

    references = rispy.loads(to_ris(records))
    assert [ref["id"] for ref in references] == [record.key for record in records]
    for reference, record in zip(references, records, strict=True):
        name = "secondary_title" if inproceedings else "journal_name"
        assert reference["type_of_reference"] == ("CONF" if inproceedings else "JOUR")
        assert reference.get(name, "") == ris_text(venue)
        assert reference["notes"][-1] == ris_text(record.version_note or "")

    items = json.loads(to_csljson(records))
    for item, record in zip(items, records, strict=True):
        assert item["id"] == record.key and item.get("container-title") == venue
        assert item["type"] == ("paper-conference" if inproceedings else "article-journal")


_NUMBERS = itertools.count(1)
_SAFE_LATEX = UnicodeToLatexEncoder(unknown_char_policy="keep", unknown_char_warning=False)


def _bib_text(text: str) -> str:
    """Hostile text as an attacker's BibTeX file would carry it to the importer."""
    return "{" + str(_SAFE_LATEX.unicode_to_latex(_CONTROLS.sub(" ", text))) + "}"


def _bib_raw(text: str) -> str:
    """Identifier fields are read without LaTeX decoding: braces and line breaks aside,
    whatever the file holds reaches the store."""
    return "{" + re.sub(r"[{}]", "", _CONTROLS.sub(" ", text)).rstrip("\\") + "}"


@given(
    title=hostile,
    authors=st.lists(hostile, min_size=1, max_size=3),
    venue=hostile,
    keywords=hostile,
    annote=hostile,
    link=hostile,
    doi=hostile,
    note=hostile,
    tags=st.lists(hostile, max_size=3),
    abstract=hostile,
)
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_hostile_values_imported_and_saved_export_back_unchanged_in_every_format(
    client: FlaskClient,
    db: Database,
    title: str,
    authors: list[str],
    venue: str,
    keywords: str,
    annote: str,
    link: str,
    doi: str,
    note: str,
    tags: list[str],
    abstract: str,
) -> None:
    number = next(_NUMBERS)
    name = f"reader{number}"
    reader = ReaderClient(client, make_reader(db, name))
    arxiv_id = f"2401.{number:05d}"
    bib = "\n".join(
        [
            f"@article{{first{number},",
            f"  title = {_bib_text(title)},",
            f"  author = {{{' and '.join(_bib_text(a) for a in authors)}}},",
            f"  journal = {_bib_text(venue)},",
            f"  eprint = {{{arxiv_id}}}, archivePrefix = {{arXiv}},",
            f"  keywords = {_bib_text(keywords)},",
            f"  annote = {_bib_text(annote)},",
            "}",
            f"@misc{{second{number},",
            f"  title = {{Second {number} {_bib_text(title)}}},",
            f"  url = {_bib_raw(link)},",
            f"  doi = {_bib_raw(doi)},",
            "}",
        ]
    )
    response = reader.post(f"{LIB}/import?format=bibtex", data=bib.encode())
    assert response.status_code == 200, response.get_json()

    # What a source may store in the catalogue (PostgreSQL's text holds no NUL), saved by the
    # reader with a note and tags.
    def stored(text: str) -> str:
        return text.replace("\x00", "")

    with db.session() as session:
        upsert_papers(
            session,
            [
                PaperRecord(
                    ids=[f"arxiv:2402.{number:05d}", f"doi:10.5555/{number}.{stored(doi)}"],
                    title=stored(title) or "=",
                    abstract=stored(abstract),
                    authors=[stored(author) for author in authors],
                    categories=[stored(venue)],
                    venue=stored(venue),
                )
            ],
        )
    saved = reader.put(f"{LIB}/arxiv:2402.{number:05d}", json={"note": stored(note)})
    assert saved.status_code == 201, saved.get_json()
    usable_tags = [tag for tag in tags if len(tag) <= 64 and not _CONTROLS.search(tag)]
    usable_tags = [tag.replace(",", " ").strip() for tag in usable_tags]
    tagged = reader.patch(
        f"{LIB}/arxiv:2402.{number:05d}", json={"tags": [t for t in usable_tags if t]}
    )
    assert tagged.status_code in (200, 422)

    with db.session() as session:
        reader_id = session.scalar(select(User.id).where(User.name == name))
        assert reader_id is not None
        records = export_records(library.all_entries(session, reader_id))
    assert len(records) >= 2

    exports = {
        fmt: reader.get(f"{LIB}/export?format={fmt}") for fmt in ("bibtex", "ris", "csv", "csljson")
    }
    assert all(response.status_code == 200 for response in exports.values())
    check_bibtex(exports["bibtex"].get_data(as_text=True), records)
    check_ris(exports["ris"].get_data(as_text=True), records)
    check_csv(exports["csv"].get_data(as_text=True), records)
    check_csljson(exports["csljson"].get_data(), records)
