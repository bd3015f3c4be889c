"""Reading the TF-IDF inverted lists a chunk of related lists needs, as the index keeps them.

At scale the hybrid's lexical stage reads, for each block of a chunk's papers, the columns
of the TF-IDF matrix for the terms those papers use (``HybridSearch.candidates``). The index
keeps that matrix by columns in three eighths of its bytes (``worker.pipeline.half_sparse``),
so each read gathers the columns, completes their row numbers and decodes their values. This
measures those reads for ``--sample`` papers of a synthetic corpus (``bench.corpus``), in
the precompute's chunks and the search's blocks, against slicing the float32 matrix by
columns with SciPy (the baseline: what the index kept before, at more than twice the bytes), in one
run on the same papers, and checks that both give the same lists to a per cent of each value.

    python -m bench.inverted_lists --size 100000
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from scipy import sparse

from bench.hybrid_ann import load_papers
from bench.machine import record
from worker.jobs import PRECOMPUTE_CHUNK as CHUNK
from worker.pipeline.half_sparse import HalfSparse
from worker.pipeline.hybrid_search import block_of_queries
from worker.pipeline.rankers.tfidf import TfidfRanker

ROUNDS = 3  # each way is timed this many times; the fastest round is reported

Gather = Callable[[np.ndarray], sparse.spmatrix]


def blocks_of_terms(queries: sparse.csr_matrix, block: int) -> list[np.ndarray]:
    """The terms of each block of queries, chunk by chunk, as the search takes them."""
    found = []
    for chunk in range(0, queries.shape[0], CHUNK):
        rows = queries[chunk : chunk + CHUNK]
        for first in range(0, rows.shape[0], block):
            found.append(np.unique(rows[first : first + block].indices))
    return found


def fastest(gather: Gather, blocks: list[np.ndarray]) -> tuple[float, int]:
    """Seconds of the fastest round over every block, and the entries one round read."""
    best, entries = float("inf"), 0
    for _ in range(ROUNDS):
        started = time.perf_counter()
        entries = sum(gather(terms).nnz for terms in blocks)
        best = min(best, time.perf_counter() - started)
    return best, entries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inverted_lists")
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=1_000)
    parser.add_argument("--no-record", action="store_true", help="print only; leave RESULTS.md")
    args = parser.parse_args(argv)
    ranker = TfidfRanker()
    ranker.fit(load_papers(args.size))
    by_columns = ranker.matrix.tocsc()
    by_columns.sort_indices()
    half = HalfSparse.of(by_columns)
    rng = np.random.default_rng(0)
    picked = np.sort(rng.choice(args.size, min(args.sample, args.size), replace=False))
    block = min(block_of_queries(args.size), CHUNK)
    blocks = blocks_of_terms(ranker.matrix[picked], block)
    for terms in blocks[:3]:
        np.testing.assert_allclose(
            half.major(terms).toarray(), by_columns[:, terms].toarray(), rtol=0.01, atol=1e-6
        )
    served_s, entries = fastest(half.major, blocks)
    baseline_s, _ = fastest(lambda terms: by_columns[:, terms], blocks)
    per_paper = 1000 / len(picked)
    scipy_bytes = by_columns.data.nbytes + by_columns.indices.nbytes + by_columns.indptr.nbytes
    report = "\n".join(
        [
            f"{args.size:,} synthetic papers (`bench.corpus`), TF-IDF as the hybrid fits it; "
            f"the inverted lists of {len(picked):,} sampled papers' terms, read in chunks of "
            f"{CHUNK} and blocks of {block} papers as the search reads them: {len(blocks)} reads, "
            f"{entries:,} entries in all. Fastest of {ROUNDS} rounds each, in one run.",
            "",
            "| columns kept as | ms per paper | bytes per entry |",
            "| --- | ---: | ---: |",
            f"| one byte per value, two per index (`HalfSparse.major`, served at scale) | "
            f"{served_s * per_paper:.3f} | {half.nbytes / half.data.size:.1f} |",
            f"| float32 values, int32 rows (SciPy slicing; baseline) | "
            f"{baseline_s * per_paper:.3f} | "
            f"{scipy_bytes / by_columns.nnz:.1f} |",
        ]
    )
    print(report)
    record("Inverted lists", report, wanted=not args.no_record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
