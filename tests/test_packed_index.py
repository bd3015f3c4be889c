"""A saved index maps its ids, titles, terms and vocabularies, and serves what it served
when they were Python lists and dicts."""

from __future__ import annotations

import copy
from pathlib import Path

import joblib
import numpy as np
import pytest

from tests.test_related import demo_papers
from worker.pipeline.packed import PackedStrings, PackedVocabulary
from worker.pipeline.related import IndexedPaper, RelatedIndex

NEWCOMER = IndexedPaper(
    "arxiv:9999.00001",
    "Sparse mixture of experts routing",
    "We study expert routing in sparse mixture-of-experts language models.",
)


def test_packed_strings_read_back_as_written(tmp_path: Path) -> None:
    written = ["arxiv:2205.13147", "", "Über “quotes” — 数学", "doi:10.1/x", "arxiv:2205.1314"]
    packed = PackedStrings(written, lookup=True)
    joblib.dump(packed, tmp_path / "p.joblib")
    for strings in (packed, joblib.load(tmp_path / "p.joblib", mmap_mode="r")):
        assert list(strings) == written and len(strings) == len(written)
        assert strings[-1] == written[-1] and strings[np.int32(2)] == written[2]
        assert strings[1:4] == written[1:4]
        assert [strings.find(text) for text in written] == list(range(len(written)))
        assert strings.find("arxiv:2205.131") is None and strings.find("missing") is None
        with pytest.raises(IndexError):
            strings[len(written)]


def test_a_string_held_twice_is_found_where_a_dict_would_put_it() -> None:
    written = ["a", "b", "a", "c", "b", "a"]
    packed = PackedStrings(written, lookup=True)
    as_dict = {text: position for position, text in enumerate(written)}
    assert {text: packed.find(text) for text in written} == as_dict


def test_lookups_hold_in_a_crowded_table() -> None:
    """Thousands of strings: probes run past each other's slots and still find each one."""
    written = [f"arxiv:{n:05d}" for n in range(5_000)]
    packed = PackedStrings(written, lookup=True)
    assert all(packed.find(text) == position for position, text in enumerate(written))
    assert packed.find("arxiv:5000") is None


def test_a_packed_vocabulary_transforms_as_the_dict_did() -> None:
    index = RelatedIndex.build(demo_papers())
    vectorizer = index.vectorizer
    assert isinstance(vectorizer.vocabulary_, PackedVocabulary)
    with_dict = copy.deepcopy(vectorizer)
    with_dict.vocabulary_ = dict(vectorizer.vocabulary_.items())
    texts = [paper.text for paper in demo_papers()] + [NEWCOMER.text, "no known words zzzq"]
    packed, plain = vectorizer.transform(texts), with_dict.transform(texts)
    assert (packed != plain).nnz == 0 and packed.shape == plain.shape
    assert list(index.explainer.terms) == list(with_dict.get_feature_names_out())


def test_a_saved_index_maps_its_strings_instead_of_unpickling_them(tmp_path: Path) -> None:
    index = RelatedIndex.build(demo_papers())
    index.save(tmp_path / "i.joblib")
    loaded = RelatedIndex.load(tmp_path / "i.joblib")
    vocabularies = [loaded.vectorizer.vocabulary_, loaded.ranker.vectorizer.vocabulary_]  # type: ignore[attr-defined]
    for packed in (
        loaded.paper_ids,
        loaded.titles,
        loaded.explainer.terms,
        *(vocabulary.terms for vocabulary in vocabularies),
    ):
        assert isinstance(packed, PackedStrings)
        assert isinstance(packed.data, np.memmap) and isinstance(packed.offsets, np.memmap)
    assert isinstance(loaded.paper_ids.slots, np.memmap)
    assert loaded.explainer.terms is loaded.vectorizer.vocabulary_.terms


def test_a_loaded_index_serves_what_the_built_one_serves(tmp_path: Path) -> None:
    papers = demo_papers()
    index = RelatedIndex.build(papers)
    index.save(tmp_path / "i.joblib")
    loaded = RelatedIndex.load(tmp_path / "i.joblib")
    assert loaded.related_many([*papers, NEWCOMER], 10) == index.related_many(
        [*papers, NEWCOMER], 10
    )
    rows = {paper.paper_id: row for row, paper in enumerate(papers)}
    assert {paper_id: loaded.row_of(paper_id) for paper_id in rows} == rows
    assert loaded.row_of(NEWCOMER.paper_id) is None
    assert list(loaded.titles) == [paper.title for paper in papers]
