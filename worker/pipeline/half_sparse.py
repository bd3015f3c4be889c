"""Sparse TF-IDF matrices kept with half-precision values, read a slice at a time.

At scale the index's TF-IDF matrices (the ranker's by rows and by columns, the explainer's by
rows) are most of what every worker maps once the embeddings live in the graph, and their
values are half of those bytes. TF-IDF values lie in [0, 1] (rows have unit length), where
float16 keeps three significant digits: a cosine moves by at most 3e-4 (CSFCube, 1,000
papers against its 4,205), and the hybrid's top 10 of those papers did not change.

SciPy computes in no half-precision type, so the values are never used as they are kept: the
rows (or columns) a computation needs are gathered and widened to float32 first, which costs
in proportion to their stored entries, as slicing a float32 matrix does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse


@dataclass
class HalfSparse:
    """A CSR (``by_rows``) or CSC matrix with float16 values; ``major`` reads rows of the
    former and columns of the latter, as float32 SciPy matrices of the same layout."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    shape: tuple[int, int]
    by_rows: bool

    @classmethod
    def of(cls, matrix: sparse.csr_matrix | sparse.csc_matrix) -> HalfSparse:
        """``matrix`` (CSR or CSC, any float type) with its values rounded to float16."""
        by_rows = sparse.isspmatrix_csr(matrix)
        if not by_rows and not sparse.isspmatrix_csc(matrix):
            raise TypeError("a half-precision matrix is made from a CSR or CSC matrix")
        return cls(
            np.asarray(matrix.data, dtype=np.float16),
            np.asarray(matrix.indices, dtype=np.int32),
            np.asarray(matrix.indptr, dtype=np.int64),
            (int(matrix.shape[0]), int(matrix.shape[1])),
            by_rows,
        )

    def major(self, picked: int | slice | np.ndarray | list[int]) -> sparse.spmatrix:
        """The rows (CSR) or columns (CSC) ``picked``, in that order, repeats kept, with
        float32 values: a CSR matrix of those rows, or a CSC matrix of those columns."""
        positions = _positions(picked, len(self.indptr) - 1)
        starts = self.indptr[positions]
        lengths = self.indptr[positions + 1] - starts
        indptr = np.zeros(len(positions) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        # Where each gathered entry sits in the stored arrays: its row's start, plus its
        # offset within the row.
        entries = np.repeat(starts - indptr[:-1], lengths) + np.arange(indptr[-1])
        data = np.asarray(self.data[entries], dtype=np.float32)
        indices = np.asarray(self.indices[entries])
        if self.by_rows:
            return sparse.csr_matrix((data, indices, indptr), (len(positions), self.shape[1]))
        return sparse.csc_matrix((data, indices, indptr), (self.shape[0], len(positions)))

    def whole(self) -> sparse.spmatrix:
        """Every row (CSR) or column (CSC) with float32 values: a copy as large as the
        matrix, for building and extending an index, not for serving."""
        return self.major(slice(None))

    @property
    def nbytes(self) -> int:
        return int(self.data.nbytes + self.indices.nbytes + self.indptr.nbytes)


def _positions(picked: int | slice | np.ndarray | list[int], count: int) -> np.ndarray:
    if isinstance(picked, slice):
        return np.arange(count, dtype=np.int64)[picked]
    positions = np.atleast_1d(np.asarray(picked, dtype=np.int64))
    if positions.size and (positions.min() < -count or positions.max() >= count):
        raise IndexError(f"index out of range for {count} rows or columns")
    return np.where(positions < 0, positions + count, positions)
