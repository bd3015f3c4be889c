"""Candidate neighbours for large corpora: FAISS HNSW graphs over TF-IDF reduced by a truncated
SVD, or over the dense ranker's embeddings as they are.

Exact related papers compare every paper with every other one, which grows with the
square of the corpus; above ``PAPERLENS_RELATED_ANN_FROM`` papers the index instead asks
an approximate nearest-neighbour graph for a few hundred candidates per paper, and the
ranker's own score re-ranks them exactly (see ``RelatedIndex`` and ``hybrid_search``).
FAISS was chosen over hnswlib and usearch by ``bench/ann.py``. A graph is saved in a file
of its own, read memory-mapped, so workers on one machine share its vectors through the
page cache. The graph keeps its vectors as 8-bit codes (FAISS's scalar quantizer, one range
per dimension), a quarter of their float32 size. A graph over reduced TF-IDF only proposes
candidates, which TF-IDF then scores. The graph over the dense embeddings is also where the
dense ranker reads them at scale (``vectors``, ``DenseRanker.keep_in``): one copy of the
largest array instead of two, at the price of a rounding that moves a similarity by about
4e-4 on average (``bench/hybrid_ann.py`` measures what it does to the lists).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from scipy import sparse
from sklearn.decomposition import TruncatedSVD

from paperlens.settings import Settings

# The SVD is fitted on a sample of rows: the directions of a few hundred thousand papers
# describe the corpus as well as those of all, at a fraction of the time and memory.
SVD_SAMPLE = 200_000
# Papers are projected and added to the graph this many at a time, to bound memory.
_BLOCK = 50_000
# The quantizer's range for each dimension is learnt from at most this many vectors, spread
# over the corpus, and widened by this share of its width on either side: papers added later
# (``add``) fall outside the sample's range now and then, and are clipped to it.
QUANTIZER_SAMPLE = 100_000
QUANTIZER_MARGIN = 0.1


@dataclass(frozen=True)
class AnnParams:
    """How the reduced space and the graph are built and searched (see docs/performance.md)."""

    dims: int = 256
    candidates: int = 200
    ef_search: int = 256
    # The hybrid's candidates from its lexical stage, beside the graph's (see hybrid_search).
    lexical_candidates: int = 200
    links: int = 32
    ef_construction: int = 200
    # The papers whose cosines give the spread of the hybrid's lexical scores, and, on
    # larger corpora, the inverted-list entries its lexical stage reads per paper, rarest
    # term first (see hybrid_search).
    statistics_sample: int = 100_000
    lexical_postings: int = 500_000

    @classmethod
    def of(cls, settings: Settings) -> AnnParams:
        """The parameters an index built under ``settings`` gets."""
        return cls(
            dims=settings.related_ann_dims,
            candidates=settings.related_ann_candidates,
            ef_search=settings.related_ann_ef_search,
            lexical_candidates=settings.related_ann_lexical_candidates,
            lexical_postings=settings.related_ann_lexical_postings,
            statistics_sample=settings.related_ann_statistics_sample,
        )

    def searching_as(self, wanted: AnnParams) -> AnnParams:
        """These parameters with ``wanted``'s for searching: how many candidates each stage
        proposes, the graph's breadth and the lexical stage's reading budget can change for
        an index already built, while the space, the links and the sample are built in."""
        return replace(
            self,
            candidates=wanted.candidates,
            ef_search=wanted.ef_search,
            lexical_candidates=wanted.lexical_candidates,
            lexical_postings=wanted.lexical_postings,
        )


class Neighbours:
    """Rows of a fitted lexical matrix projected to ``dims`` (``build``), or dense vectors as
    they are (``of_vectors``), held in an HNSW graph searched by inner product."""

    def __init__(self, projection: np.ndarray | None, params: AnnParams) -> None:
        # terms x dims, float32, C order: rows @ projection; None for dense vectors.
        self.projection = projection
        self.params = params
        self._graph: Any = None

    @classmethod
    def build(cls, matrix: sparse.csr_matrix, params: AnnParams) -> Neighbours:
        picked = np.random.default_rng(0).choice(
            matrix.shape[0], min(SVD_SAMPLE, matrix.shape[0]), replace=False
        )
        dims = min(params.dims, len(picked) - 1, matrix.shape[1] - 1)
        svd = TruncatedSVD(dims, algorithm="randomized", n_iter=4, random_state=0)
        svd.fit(matrix[np.sort(picked)])
        found = cls(np.ascontiguousarray(svd.components_.T, dtype=np.float32), params)
        found._add_all(matrix, dims)
        return found

    @classmethod
    def of_vectors(cls, vectors: np.ndarray, params: AnnParams) -> Neighbours:
        """A graph over ``vectors`` unchanged: inner products in it are the dense ranker's
        similarities, so its nearest are that ranker's best."""
        found = cls(None, params)
        found._add_all(vectors, vectors.shape[1])
        return found

    def _add_all(self, rows: sparse.csr_matrix | np.ndarray, dims: int) -> None:
        graph = faiss.IndexHNSWSQ(
            dims,
            faiss.ScalarQuantizer.QT_8bit,  # type: ignore[arg-type]  # the stubs want an object
            self.params.links,
            faiss.METRIC_INNER_PRODUCT,
        )
        graph.hnsw.efConstruction = self.params.ef_construction
        storage: Any = faiss.downcast_index(graph.storage)  # an IndexScalarQuantizer
        storage.sq.rangestat_arg = QUANTIZER_MARGIN
        step = max(1, rows.shape[0] // QUANTIZER_SAMPLE)
        graph.train(self.project(rows[::step]))
        self._graph = graph
        self.add(rows)

    def add(self, rows: sparse.csr_matrix | np.ndarray) -> None:
        """Insert ``rows`` after those in the graph (they take the next row numbers), in the
        space the graph was built in: the projection stays as fitted. Needs a graph held in
        memory, not one loaded mapped (see ``load_graph``)."""
        # On every core this process may use: a build runs alone, unlike searches.
        faiss.omp_set_num_threads(len(os.sched_getaffinity(0)))
        for start in range(0, rows.shape[0], _BLOCK):
            self._graph.add(self.project(rows[start : start + _BLOCK]))

    def vectors(self, rows: Sequence[int] | np.ndarray, dims: int | None = None) -> np.ndarray:
        """The stored vectors of ``rows`` (in the graph's space), decoded to float32; only
        their first ``dims`` dimensions when given.

        Decoded here rather than by FAISS's ``reconstruct``: a vectorised decode of the
        gathered codes took half the time on the hybrid's candidates (60,000 rows), which
        every chunk of related lists reads. Each code is ``vmin + (code + 0.5) / 255 * vdiff``
        per dimension, FAISS's 8-bit quantizer's own rule (a test holds the two equal),
        computed in place: a reader's candidates are thousands of rows.
        """
        storage: Any = faiss.downcast_index(self._graph.storage)
        codes = faiss.rev_swig_ptr(storage.codes.data(), storage.code_size * self._graph.ntotal)
        # A view of the graph's own codes, taken afresh on each call: ``add`` may move them.
        kept = slice(0, storage.d if dims is None else dims)
        gathered = codes.reshape(-1, storage.code_size)[np.asarray(rows, dtype=np.int64), kept]
        trained = faiss.vector_to_array(storage.sq.trained)
        low, width = trained[: storage.d][kept], trained[storage.d :][kept]
        decoded = gathered.astype(np.float32)
        decoded += np.float32(0.5)
        decoded *= width / 255
        decoded += low
        return decoded

    def project(self, rows: sparse.csr_matrix | np.ndarray) -> np.ndarray:
        """Rows in the graph's space as FAISS wants them: reduced to unit length, or dense
        vectors as float32 in C order."""
        if self.projection is None:
            return np.ascontiguousarray(rows, dtype=np.float32)
        reduced = np.asarray(rows @ self.projection, dtype=np.float32)
        norms = np.linalg.norm(reduced, axis=1, keepdims=True)
        return np.ascontiguousarray(reduced / np.maximum(norms, 1e-12))

    def search(self, rows: sparse.csr_matrix | np.ndarray, depth: int) -> np.ndarray:
        """The ``depth`` nearest indexed rows of each query row (-1 pads a short answer)."""
        self._graph.hnsw.efSearch = max(self.params.ef_search, depth)
        # One thread: workers scale out as processes, and FAISS's OpenMP threads spinning
        # against another worker's on the same cores cost more than they bring.
        faiss.omp_set_num_threads(1)
        _, found = self._graph.search(self.project(rows), depth)
        return np.asarray(found)

    def __len__(self) -> int:
        return int(self._graph.ntotal) if self._graph is not None else 0

    @property
    def width(self) -> int:
        """The dimensions of the graph's vectors, which a query must have."""
        return int(self._graph.d)

    def save_graph(self, path: Path) -> None:
        faiss.write_index(self._graph, str(path))

    def load_graph(self, path: Path, writable: bool = False) -> None:
        """Read the graph with its vectors memory-mapped rather than copied; ``writable``
        reads it into memory instead, for ``add``."""
        flags = 0 if writable else faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY
        self._graph = faiss.read_index(str(path), flags)

    def __getstate__(self) -> dict[str, Any]:
        """The graph is not pickled: it lives in its own file (``save_graph``)."""
        return {"projection": self.projection, "params": self.params, "_graph": None}
