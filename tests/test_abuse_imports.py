"""Hostile import files: too large, too many entries, nested too deeply, malformed, or
carrying notes longer than the API allows. Each gets a clear 413 or 422 in the JSON error
shape (never a 500), and a refused file saves nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperlens.formats.bibtex import parse_bibtex
from paperlens.formats.limits import ImportRefused
from paperlens.schemas import NOTE_MAX_LENGTH
from paperlens.settings import Settings
from paperlens.store.db import Database
from server import create_app
from tests.readers import ReaderClient, error_code, make_reader

LIB = "/api/v1/me/library"
MAX_ITEMS = 5
MAX_BYTES = 64 * 1024


@pytest.fixture
def small_limits_client(settings: Settings) -> Iterator[FlaskClient]:
    """An instance that takes at most MAX_ITEMS items and MAX_BYTES bytes per import."""
    app = create_app(
        settings.model_copy(update={"import_max_items": MAX_ITEMS, "import_max_bytes": MAX_BYTES})
    )
    app.config["TESTING"] = True
    yield app.test_client()
    app.extensions["paperlens"].db.dispose()


@pytest.fixture
def alice(small_limits_client: FlaskClient, db: Database) -> ReaderClient:
    return ReaderClient(small_limits_client, make_reader(db, "alice"))


def entry(number: int, **fields: str) -> str:
    body = {"title": f"Paper number {number}", "eprint": f"2401.{number:05d}", **fields}
    lines = ",\n".join(f"  {name} = {{{value}}}" for name, value in body.items())
    return f"@article{{key{number},\n{lines}\n}}\n"


def nested(depth: int) -> str:
    return "{" * depth + "x" + "}" * depth


def import_bibtex(reader: ReaderClient, text: str) -> tuple[int, dict[str, object]]:
    response = reader.post(f"{LIB}/import?format=bibtex", data=text.encode())
    body = response.get_json()
    assert isinstance(body, dict)
    return response.status_code, body


def saved_ids(reader: ReaderClient) -> list[str]:
    return [item["saved_as"] for item in reader.get(f"{LIB}?limit=200").get_json()["items"]]


@pytest.mark.parametrize("field", ["title", "author", "journal", "keywords", "annote"])
@pytest.mark.parametrize("depth", [40, 2_000])
def test_deeply_nested_braces_in_bibtex_import_is_422_not_500(
    alice: ReaderClient, field: str, depth: int
) -> None:
    text = entry(1) + entry(2, **{field: nested(depth)})
    response = alice.post(f"{LIB}/import?format=bibtex", data=text.encode())
    assert response.status_code == 422 and error_code(response) == "too_deep"
    assert saved_ids(alice) == []  # the valid first entry is not saved either


@pytest.mark.parametrize(
    "markup",
    ["\\begin{a}" * 600, "\\textbf{" * 600 + "x" + "}" * 600],
)
def test_deeply_nested_latex_in_bibtex_import_is_422_not_500(
    alice: ReaderClient, markup: str
) -> None:
    response = alice.post(f"{LIB}/import?format=bibtex", data=entry(1, title=markup).encode())
    assert response.status_code == 422 and error_code(response) == "too_deep"
    assert saved_ids(alice) == []


def test_bibtex_import_over_entry_limit_stops_early(alice: ReaderClient) -> None:
    """Past the limit comes an entry that would be refused for its nesting if it were read:
    the answer names the limit, so reading stopped at the first entry too many."""
    text = "".join(entry(number) for number in range(MAX_ITEMS + 1)) + entry(99, title=nested(500))
    response = alice.post(f"{LIB}/import?format=bibtex", data=text.encode())
    assert response.status_code == 422 and error_code(response) == "too_many_items"
    assert saved_ids(alice) == []
    within = "".join(entry(number) for number in range(MAX_ITEMS))
    assert import_bibtex(alice, within)[0] == 200 and len(saved_ids(alice)) == MAX_ITEMS


def test_bibtex_parser_reads_no_entry_past_the_limit() -> None:
    """The parser itself stops: a file whose tail is not even BibTeX is refused for its count."""
    head = "".join(entry(number) for number in range(MAX_ITEMS + 1))
    with pytest.raises(ImportRefused) as refused:
        parse_bibtex(head + "@misc{tail, title={" + nested(100_000) + "}}", max_items=MAX_ITEMS)
    assert refused.value.code == "too_many_items"


def test_comment_blocks_count_toward_the_import_limit(alice: ReaderClient) -> None:
    text = entry(1) + "@comment{filler}\n" * (3 * MAX_ITEMS)
    response = alice.post(f"{LIB}/import?format=bibtex", data=text.encode())
    assert response.status_code == 422 and error_code(response) == "too_many_items"
    assert saved_ids(alice) == []


def test_bibtex_import_larger_than_the_import_limit_is_413_and_saves_nothing(
    alice: ReaderClient,
) -> None:
    text = entry(1, abstract="x" * MAX_BYTES)
    response = alice.post(f"{LIB}/import?format=bibtex", data=text.encode())
    assert response.status_code == 413 and error_code(response) == "too_large"
    assert saved_ids(alice) == []


def test_bibtex_import_of_a_note_over_the_api_limit_skips_that_entry(alice: ReaderClient) -> None:
    """A note the API would refuse on save is not saved through an import either."""
    long_note = "n" * (NOTE_MAX_LENGTH + 1)
    too_many_tags = ", ".join(f"tag{n}" for n in range(30)) + ", " + "t" * 65
    text = entry(1, annote=long_note) + entry(2, annote="fine", keywords=too_many_tags)
    status, body = import_bibtex(alice, text)
    assert status == 200
    items = body["items"]
    assert isinstance(items, list)
    assert [item["outcome"] for item in items] == ["skipped", "saved"]
    assert str(NOTE_MAX_LENGTH) in items[0]["reason"]
    assert saved_ids(alice) == ["arxiv:2401.00002"]
    kept = alice.get(f"{LIB}/arxiv:2401.00002").get_json()
    assert kept["note"] == "fine" and len(kept["tags"]) == 20
    assert all(len(tag) <= 64 for tag in kept["tags"])


def test_bibtex_import_of_only_broken_blocks_is_422(alice: ReaderClient) -> None:
    text = "@article{a, title = {unclosed\n@misc{b title = x}\n@book{c, title}\n"
    response = alice.post(f"{LIB}/import?format=bibtex", data=text.encode())
    assert response.status_code == 422 and error_code(response) == "not_bibtex"
    assert saved_ids(alice) == []


BIBTEX_PIECES = st.sampled_from(
    [
        "@article{",
        "@misc(",
        "@string{",
        "@preamble{",
        "@comment{",
        "{",
        "}",
        "(",
        ")",
        ",",
        "=",
        '"',
        "#",
        "\\",
        "\\'",
        "\\begin{x}",
        "\\end{x}",
        "$",
        "%",
        "\n",
        " and ",
        "author",
        "title",
        "eprint = {2401.00001}",
        "annote",
        "keywords",
        "doi",
        "10.1234/x",
        "url",
        "https://arxiv.org/abs/2401.00002",
        "month",
        "year = 2024",
        "Müller, Jr., J.",
    ]
)


@given(pieces=st.lists(st.one_of(BIBTEX_PIECES, st.text(max_size=5)), min_size=1, max_size=60))
@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_malformed_bibtex_import_is_never_a_server_error(
    client: FlaskClient, db: Database, pieces: list[str]
) -> None:
    reader = ReaderClient(client, make_reader(db, f"fuzz{next(_READERS)}"))
    text = "".join(pieces).replace("\x00", "")
    response = reader.post(f"{LIB}/import?format=bibtex", data=text.encode())
    assert response.status_code in (200, 422), response.get_data(as_text=True)[:300]
    if response.status_code == 422:
        error_code(response)
        assert saved_ids(reader) == []


_READERS = iter(range(1, 1_000_000))
