"""TF-IDF matrices kept compact (one byte per value, two per index) read back as the float32
rows and columns they were made from, each value to under one per cent."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from tests.test_related import demo_papers
from worker.pipeline import half_sparse
from worker.pipeline.half_sparse import HalfSparse
from worker.pipeline.rankers.tfidf import TfidfRanker


@pytest.fixture(scope="module")
def matrix() -> sparse.csr_matrix:
    ranker = TfidfRanker(ngram_max=2)
    ranker.fit(demo_papers())
    return ranker.matrix


def test_rows_come_back_in_the_order_asked_with_their_values_to_a_per_cent(
    matrix: sparse.csr_matrix,
) -> None:
    half = HalfSparse.of(matrix)
    picked = [7, 0, 58, 7, -1]

    rows = half.major(picked)

    assert sparse.isspmatrix_csr(rows) and rows.dtype == np.float32
    assert rows.shape == (5, matrix.shape[1])
    expected = matrix[picked].toarray()
    np.testing.assert_allclose(rows.toarray(), expected, rtol=0.01, atol=1e-6)
    assert (rows.toarray() != 0).sum() == (expected != 0).sum()
    # One row for an int, every row for a slice, none for an empty list.
    np.testing.assert_allclose(half.major(3).toarray(), matrix[3].toarray(), rtol=0.01)
    assert half.major(slice(None)).shape == matrix.shape
    assert half.major([]).shape == (0, matrix.shape[1])
    with pytest.raises(IndexError):
        half.major([len(demo_papers())])


def test_columns_read_back_from_the_matrix_by_columns(matrix: sparse.csr_matrix) -> None:
    columns = matrix.tocsc()
    half = HalfSparse.of(columns)
    picked = np.array([int(matrix.indices[0]), 5, int(matrix.indices[-1])])

    read = half.major(picked)

    assert sparse.isspmatrix_csc(read) and read.shape == (matrix.shape[0], 3)
    np.testing.assert_allclose(read.toarray(), columns[:, picked].toarray(), rtol=0.01)


def test_two_byte_values_take_half_the_bytes_and_cosines_move_by_under_a_thousandth(
    matrix: sparse.csr_matrix,
) -> None:
    half = HalfSparse.of(matrix, value_bytes=2)

    assert half.data.dtype == np.float16 and half.data.nbytes * 2 == matrix.data.nbytes
    assert half.low.nbytes * 2 == matrix.indices.nbytes
    exact = (matrix @ matrix.T).toarray()
    rounded = half.whole()
    np.testing.assert_allclose((rounded @ rounded.T).toarray(), exact, atol=1e-3)


def test_one_byte_values_keep_each_weight_to_a_per_cent_and_every_entry(
    matrix: sparse.csr_matrix,
) -> None:
    coded = HalfSparse.of(matrix)

    assert coded.data.dtype == np.uint8 and coded.data.nbytes * 4 == matrix.data.nbytes
    read = coded.whole()
    assert read.dtype == np.float32
    np.testing.assert_array_equal(read.indices, matrix.sorted_indices().indices)
    relative = np.abs(read.data - matrix.sorted_indices().data) / matrix.sorted_indices().data
    assert relative.max() < 0.01
    # The smallest and the largest weight are levels themselves, kept to float32's rounding.
    assert np.isclose(read.data.min(), matrix.data.min(), rtol=1e-6)
    assert np.isclose(read.data.max(), matrix.data.max(), rtol=1e-6)
    # Each paper's closest other papers stay the same but for near ties.
    exact = (matrix @ matrix.T).toarray()
    approximate = (read @ read.T).toarray()
    np.fill_diagonal(exact, -1)
    np.fill_diagonal(approximate, -1)
    closest = np.argsort(-exact, axis=1)[:, :5]
    kept = np.argsort(-approximate, axis=1)[:, :5]
    overlap = np.mean([len(set(a) & set(b)) / 5 for a, b in zip(closest, kept, strict=True)])
    assert overlap >= 0.95
    with pytest.raises(ValueError):
        HalfSparse.of(matrix, value_bytes=4)


def test_a_compacted_ranker_reads_and_extends_as_before() -> None:
    papers = demo_papers()
    full = TfidfRanker()
    full.fit(papers[:50])
    compact = TfidfRanker()
    compact.fit(papers[:50])

    compact.compact()
    compact.extend(papers[50:])
    full.extend(papers[50:])

    assert compact.half is not None and len(compact) == len(full) == len(papers)
    assert compact.matrix.shape[0] == 0  # the float32 copy is gone
    assert compact.half.data.dtype == np.uint8  # compact again after the extension
    for row in (0, 49, 50, len(papers) - 1):
        np.testing.assert_allclose(
            compact.rows(row).toarray(), full.rows(row).toarray(), rtol=0.01, atol=1e-6
        )
    np.testing.assert_allclose(compact.whole().toarray(), full.whole().toarray(), rtol=0.01)
    np.testing.assert_allclose(compact.scores(papers[3], 3), full.scores(papers[3], 3), atol=0.01)


@pytest.mark.parametrize("layout", ["csr", "csc"])
def test_indices_past_two_bytes_come_back_whole(layout: str) -> None:
    # 300,000 columns (rows for CSC): indices span five 65,536-wide ranges, and some lines
    # hold entries of the first range only, or of the last, or none at all.
    wide = sparse.random(40, 300_000, density=2e-4, format="csr", dtype=np.float32, random_state=3)
    wide = sparse.vstack(
        [
            wide,
            sparse.csr_matrix(([0.5, 0.25], [3, 70_000], [0, 0, 1, 2]), shape=(3, 300_000)),
            sparse.csr_matrix(([0.125], [299_999], [0, 1]), shape=(1, 300_000)),
        ],
        format="csr",
    )
    matrix = wide if layout == "csr" else wide.T.tocsc()
    half = HalfSparse.of(matrix, value_bytes=2)  # exact enough to compare values to 1e-3
    lines = matrix.shape[0] if layout == "csr" else matrix.shape[1]
    picked = [lines - 1, 0, lines - 3, lines - 4, lines - 2, *range(1, lines - 4)]

    read = half.major(picked)

    expected = matrix[picked] if layout == "csr" else matrix[:, picked]
    assert half.steps.shape == (lines, 4)
    np.testing.assert_allclose(read.toarray(), expected.toarray(), rtol=1e-3)
    assert (read != 0).sum() == (expected != 0).sum()
    np.testing.assert_array_equal(half.whole().toarray() != 0, matrix.toarray() != 0)


@pytest.mark.parametrize("value_bytes", [1, 2])
@pytest.mark.parametrize("layout", ["csr", "csc"])
def test_a_matrix_made_compact_a_block_at_a_time_is_the_same_as_made_whole(
    monkeypatch: pytest.MonkeyPatch, value_bytes: int, layout: str
) -> None:
    """Large matrices are converted in blocks of lines; the blocks' seams must not show,
    also where a line's entries pass column 65,536 (its high parts)."""
    wide = sparse.random(300, 200_000, density=0.002, format=layout, random_state=4)
    wide.data = np.abs(wide.data).astype(np.float32) + np.float32(1e-4)
    whole = HalfSparse.of(wide, value_bytes)
    monkeypatch.setattr(half_sparse, "_BLOCK_ENTRIES", 997)
    blocked = HalfSparse.of(wide, value_bytes)
    for part in ("data", "low", "steps", "indptr"):
        assert np.array_equal(getattr(blocked, part), getattr(whole, part))
    assert np.array_equal(blocked.whole().toarray(), whole.whole().toarray())
    assert np.allclose(blocked.whole().toarray(), wide.toarray(), rtol=0.02)
