"""Sparse TF-IDF matrices kept in a fraction of their bytes, read a slice at a time.

At scale the index's TF-IDF matrices (the ranker's by rows and by columns, the explainer's by
rows) are most of what every worker maps once the embeddings live in the graph. SciPy keeps
eight bytes per entry: a float32 value and a four-byte column (or row) number.

Values lie in (0, 1] (rows have unit length) and matter by their ratios, so each keeps one
byte: the code of the nearest of ``VALUE_LEVELS`` levels spaced evenly in the logarithm
between the matrix's smallest and largest value, which keeps every value to under one per
cent of itself. On CSFCube that moved the served hybrid's quality by less than a tenth of a
point and kept 99% of a paper's ten closest papers in either TF-IDF space, the others near
ties (``python -m bench.quality.value_bytes``). Two-byte floats (float16, three significant
digits) remain for comparison.

The entries' column (or row) numbers keep their low two bytes, and a few numbers per row (or
column) give the rest (``HalfSparse``).

SciPy computes in no one-byte or half-precision type, so the values are never used as they are
kept: the rows (or columns) a computation needs are gathered, their numbers completed and
their values decoded to float32 first, which costs in proportion to their stored entries, as
slicing a float32 matrix does.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy import sparse

# Entries' minor indices (a row's columns, a column's rows) are kept as their low 16 bits.
_LOW_BITS = 16
# Values kept in one byte are the codes of this many levels.
VALUE_LEVELS = 256
# Entries ``HalfSparse.of`` converts at a time (a few hundred MiB of working memory).
_BLOCK_ENTRIES = 8_000_000


@dataclass
class HalfSparse:
    """A CSR (``by_rows``) or CSC matrix in three eighths of its bytes; ``major`` reads rows
    of the former and columns of the latter, as float32 SciPy matrices of the same layout.

    Values are one-byte codes of ``levels`` (float16 without them). Each entry's minor
    index (its column in a CSR row, its row in a CSC column) keeps only its low 16 bits
    (``low``): a line's entries are sorted by index, so the high part only grows along the
    line, and ``steps[line, h - 1]`` says at which offset of the line it reaches ``h``, a few
    numbers per line instead of two bytes per entry.
    """

    data: np.ndarray
    low: np.ndarray
    steps: np.ndarray
    indptr: np.ndarray
    shape: tuple[int, int]
    by_rows: bool
    levels: np.ndarray | None = None

    @classmethod
    def of(cls, matrix: sparse.csr_matrix | sparse.csc_matrix, value_bytes: int = 1) -> HalfSparse:
        """``matrix`` (CSR or CSC, any float type of positive values) with its values coded
        as one of ``VALUE_LEVELS`` levels (``value_bytes`` 1) or rounded to float16 (2).

        Made a block of lines at a time (``_BLOCK_ENTRIES``): whole, the 64-bit numbers
        and codes worked out on the way would take several times the matrix's own bytes
        (6 GB beside a million papers' index, ``bench.build_memory``)."""
        if value_bytes not in (1, 2):
            raise ValueError("values are kept in one or two bytes")
        by_rows = sparse.isspmatrix_csr(matrix)
        if not by_rows and not sparse.isspmatrix_csc(matrix):
            raise TypeError("a compact matrix is made from a CSR or CSC matrix")
        if not matrix.has_sorted_indices:
            matrix = matrix.sorted_indices()
        indptr = np.asarray(matrix.indptr, dtype=np.int64)
        lines = len(indptr) - 1
        minor = matrix.shape[1] if by_rows else matrix.shape[0]
        spans = max(1, -(-int(minor) >> _LOW_BITS))
        longest = int(np.diff(indptr).max()) if lines > 0 else 0
        steps = np.zeros((lines, spans - 1), np.uint16 if longest < 2**16 else np.uint32)
        low = np.empty(matrix.nnz, dtype=np.uint16)
        coding = _Levels.of(matrix.data) if value_bytes == 1 else None
        data = np.empty(matrix.nnz, dtype=np.uint8 if coding is not None else np.float16)
        for first, last in _blocks(indptr):
            begin, end = int(indptr[first]), int(indptr[last])
            bounds = indptr[first : last + 1] - begin
            indices = np.asarray(matrix.indices[begin:end], dtype=np.int64)
            low[begin:end] = indices & (2**_LOW_BITS - 1)
            high = indices >> _LOW_BITS
            for h in range(1, spans):
                below = np.concatenate([[0], np.cumsum(high < h)])
                steps[first:last, h - 1] = below[bounds[1:]] - below[bounds[:-1]]
            values = matrix.data[begin:end]
            data[begin:end] = coding.codes(values) if coding is not None else values
        return cls(
            data,
            low,
            steps,
            indptr,
            (int(matrix.shape[0]), int(matrix.shape[1])),
            by_rows,
            coding.levels if coding is not None else None,
        )

    def major(self, picked: int | slice | np.ndarray | list[int]) -> sparse.spmatrix:
        """The rows (CSR) or columns (CSC) ``picked``, in that order, repeats kept, with
        float32 values: a CSR matrix of those rows, or a CSC matrix of those columns."""
        positions = _positions(picked, len(self.indptr) - 1)
        starts = self.indptr[positions]
        ends = self.indptr[positions + 1]
        lengths = ends - starts
        indptr = np.zeros(len(positions) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        # Plain views of the arrays a loaded index maps from its file: a slice of NumPy's
        # memmap goes through Python (about 2 microseconds), and a gather slices each line.
        kept = _runs(self.data.view(np.ndarray), starts, ends)
        if self.levels is not None:
            data = np.take(self.levels.view(np.ndarray), kept)  # a lookup: faster than indexing
        else:
            data = kept.astype(np.float32)
        indices = np.asarray(_runs(self.low.view(np.ndarray), starts, ends), dtype=np.int32)
        if self.steps.shape[1] and len(indices):
            indices |= _high_parts(self.steps[positions], lengths)
        if self.by_rows:
            return sparse.csr_matrix((data, indices, indptr), (len(positions), self.shape[1]))
        return sparse.csc_matrix((data, indices, indptr), (self.shape[0], len(positions)))

    def whole(self) -> sparse.spmatrix:
        """Every row (CSR) or column (CSC) with float32 values: a copy as large as the
        matrix, for building and extending an index, not for serving."""
        return self.major(slice(None))

    @property
    def nbytes(self) -> int:
        levels = self.levels.nbytes if self.levels is not None else 0
        return int(
            self.data.nbytes + self.low.nbytes + self.steps.nbytes + self.indptr.nbytes + levels
        )


@dataclass(frozen=True)
class _Levels:
    """One-byte codes of positive values and the float32 levels they stand for: levels
    evenly spaced in the logarithm from the smallest value to the largest, each value coded
    as the nearest level (in the logarithm), so the error is relative, the same for small
    weights as for large ones."""

    low: float
    step: float
    levels: np.ndarray

    @classmethod
    def of(cls, values: np.ndarray) -> _Levels:
        if values.size == 0:
            return cls(0.0, 1.0, np.ones(VALUE_LEVELS, np.float32))
        smallest, largest = float(values.min()), float(values.max())
        if smallest <= 0:
            raise ValueError("one-byte values are kept for positive values only")
        low, high = np.log(smallest), np.log(largest)
        step = (high - low) / (VALUE_LEVELS - 1) or 1.0
        levels = np.exp(low + step * np.arange(VALUE_LEVELS)).astype(np.float32)
        return cls(float(low), float(step), levels)

    def codes(self, values: np.ndarray) -> np.ndarray:
        wide = np.asarray(values, dtype=np.float64)
        return np.rint((np.log(wide) - self.low) / self.step).astype(np.uint8)


def _blocks(indptr: np.ndarray) -> list[tuple[int, int]]:
    """Consecutive lines (first, past the last) holding about ``_BLOCK_ENTRIES`` entries
    each; a longer line is a block of its own."""
    cuts = np.searchsorted(indptr, np.arange(_BLOCK_ENTRIES, int(indptr[-1]), _BLOCK_ENTRIES))
    bounds = sorted({0, len(indptr) - 1, *(int(c) for c in cuts)})
    return [(a, b) for a, b in itertools.pairwise(bounds) if b > a]


def _positions(picked: int | slice | np.ndarray | list[int], count: int) -> np.ndarray:
    if isinstance(picked, slice):
        return np.arange(count, dtype=np.int64)[picked]
    positions = np.atleast_1d(np.asarray(picked, dtype=np.int64))
    if positions.size and (positions.min() < -count or positions.max() >= count):
        raise IndexError(f"index out of range for {count} rows or columns")
    return np.where(positions < 0, positions + count, positions)


# A gather copies lines one slice at a time when they average at least this many entries
# (a slice costs about a microsecond of Python, whatever its length), and element by element
# otherwise.
_SLICED_LINE_ENTRIES = 32


def _runs(array: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """``array[starts[i]:ends[i]]`` for every i, end to end."""
    count = len(starts)
    total = int((ends - starts).sum())
    if count == 0 or total == 0:
        return array[:0]
    if ends[-1] - starts[0] == total and np.array_equal(starts[1:], ends[:-1]):
        return array[starts[0] : ends[-1]]  # consecutive lines: one slice
    if total >= _SLICED_LINE_ENTRIES * count:
        pairs = zip(starts.tolist(), ends.tolist(), strict=True)
        return np.concatenate([array[start:end] for start, end in pairs])
    lengths = ends - starts
    offsets = np.zeros(count, dtype=np.int64)
    np.cumsum(lengths[:-1], out=offsets[1:])
    gathered: np.ndarray = array[np.repeat(starts - offsets, lengths) + np.arange(total)]
    return gathered


def _high_parts(steps: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The high bits of the gathered lines' entries (lines of ``lengths`` entries whose
    ``steps`` say where each next high part begins), shifted into place: each line splits
    into one piece per high part, and a piece's entries all share it."""
    count, spans = len(lengths), steps.shape[1] + 1
    bounds = np.empty((count, spans + 1), dtype=np.int64)
    bounds[:, 0] = 0
    bounds[:, 1:spans] = steps
    bounds[:, spans] = lengths
    pieces = np.diff(bounds, axis=1).ravel()
    highs = np.tile(np.arange(spans, dtype=np.int32) << _LOW_BITS, count)
    return np.repeat(highs, pieces)
