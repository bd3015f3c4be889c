"""Run paperlens.identifiers against the shared vectors the extension is also tested with."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

from paperlens import identifiers
from paperlens.identifiers import SCHEMES, PaperRef, local_paper_id, parse_paper_id, resolve_url

VECTORS_PATH = Path(__file__).parent / "vectors" / "identifiers.json"
VECTORS: dict[str, Any] = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))


def _label(index: int, text: str) -> str:
    """Readable pytest ids: the vector's position and (the start of) its input."""
    shown = text if len(text) <= 90 else text[:87] + "..."
    return f"{index}:{shown!r}"


def _expected(expect: dict[str, Any] | None) -> PaperRef | None:
    return None if expect is None else PaperRef(expect["paper_id"], expect["version"])


def _positive_ids() -> list[str]:
    return [
        vector["expect"]["paper_id"]
        for section in ("resolve_url", "parse_paper_id")
        for vector in VECTORS[section]
        if vector["expect"] is not None
    ]


@pytest.mark.parametrize(
    "vector",
    VECTORS["resolve_url"],
    ids=[_label(i, v["url"]) for i, v in enumerate(VECTORS["resolve_url"])],
)
def test_resolve_url(vector: dict[str, Any]) -> None:
    assert resolve_url(vector["url"], vector.get("meta")) == _expected(vector["expect"]), vector[
        "note"
    ]


@pytest.mark.parametrize(
    "vector",
    VECTORS["parse_paper_id"],
    ids=[_label(i, v["input"]) for i, v in enumerate(VECTORS["parse_paper_id"])],
)
def test_parse_paper_id(vector: dict[str, Any]) -> None:
    assert parse_paper_id(vector["input"]) == _expected(vector["expect"]), vector["note"]


@pytest.mark.parametrize(
    "vector",
    VECTORS["local_paper_id"],
    ids=[_label(i, v["title"]) for i, v in enumerate(VECTORS["local_paper_id"])],
)
def test_local_paper_id(vector: dict[str, Any]) -> None:
    assert local_paper_id(vector["title"]) == vector["expect"]


def test_vector_counts() -> None:
    assert len(VECTORS["resolve_url"]) >= 100
    assert len(VECTORS["parse_paper_id"]) >= 20
    assert VECTORS["local_paper_id"]


def test_publisher_addresses_cover_publishers_and_pages_that_name_nothing() -> None:
    """Publisher vectors (tagged with their publisher) pin down DOIs in article addresses
    and, as firmly, the listing, search, issue and contents pages that must name nothing."""
    tagged = [vector for vector in VECTORS["resolve_url"] if "publisher" in vector]
    assert len(tagged) >= 150
    assert sum(vector["expect"] is None for vector in tagged) >= 40
    assert len({vector["publisher"] for vector in tagged}) >= 20
    for vector in tagged:
        assert vector["publisher"] and isinstance(vector["publisher"], str), vector


def test_vectors_are_well_formed() -> None:
    """Every vector explains itself, and expectations are canonical ids of known schemes."""
    for section in ("resolve_url", "parse_paper_id"):
        for vector in VECTORS[section]:
            assert vector["note"], vector
            expect = vector["expect"]
            if expect is not None:
                assert set(expect) == {"paper_id", "version"}, vector
                assert expect["paper_id"].split(":", 1)[0] in SCHEMES, vector


def test_every_scheme_has_a_positive_vector() -> None:
    covered = {paper_id.split(":", 1)[0] for paper_id in _positive_ids()}
    assert covered >= SCHEMES, sorted(SCHEMES - covered)


def test_both_outcomes_covered_per_section() -> None:
    for section in ("resolve_url", "parse_paper_id"):
        outcomes = {vector["expect"] is None for vector in VECTORS[section]}
        assert outcomes == {True, False}, section


@pytest.mark.parametrize("paper_id", sorted(set(_positive_ids())))
def test_canonical_ids_round_trip(paper_id: str) -> None:
    """A canonical id is a fixed point: parsing it gives it back, without a version."""
    assert parse_paper_id(paper_id) == PaperRef(paper_id)


def test_local_ids_round_trip() -> None:
    for vector in VECTORS["local_paper_id"]:
        assert parse_paper_id(vector["expect"]) == PaperRef(vector["expect"])


def test_length_limit_is_2048_characters() -> None:
    url = "https://arxiv.org/abs/2205.13147?q="
    assert resolve_url(url + "x" * (2048 - len(url))) == PaperRef("arxiv:2205.13147")
    assert resolve_url(url + "x" * (2049 - len(url))) is None
    assert parse_paper_id("10.1145/" + "x" * 2041) is None
    long_meta = {"citation_doi": "10.1145/" + "x" * 2041}
    assert resolve_url("https://example.com/", long_meta) is None


def test_meta_values_of_the_wrong_type_are_ignored() -> None:
    meta: Any = {"citation_arxiv_id": ["2205.13147"], "citation_doi": None}
    assert resolve_url("https://example.com/", meta) is None


def test_lone_surrogates_do_not_crash_local_ids() -> None:
    assert local_paper_id("a\ud800b") == local_paper_id("a\ufffdb")


def test_paper_ref_is_frozen_and_hashable() -> None:
    ref = PaperRef("arxiv:2205.13147", 2)
    assert {ref: 1}[PaperRef("arxiv:2205.13147", 2)] == 1
    with pytest.raises(AttributeError):
        ref.version = 3  # type: ignore[misc]


def test_module_imports_nothing_that_does_io() -> None:
    """The module must only parse; a network or file import here would be a design bug."""
    tree = ast.parse(Path(identifiers.__file__).read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    allowed = {"__future__", "hashlib", "re", "collections.abc", "dataclasses", "urllib.parse"}
    assert imported <= allowed, imported - allowed
