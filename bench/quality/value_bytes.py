"""What keeping a TF-IDF matrix's values in one byte instead of two changes, on CSFCube.

At scale an index keeps its TF-IDF matrices compact (``worker.pipeline.half_sparse``): one-byte
codes of 256 levels evenly spaced in the logarithm, served, or two-byte floats. For each space
(the explainer's words and phrases, the ranker's words) the report compares the two on every
CSFCube paper: how far a weight moves, how many of a paper's ten closest papers by cosine stay,
whether the near-duplicate pairs (``NEAR_DUPLICATE``) stay; for the explainer, how many reasons
of papers with their ten closest change, and a few of the changes to read; and the served
ranker's quality (``bench.quality.evaluate``) with its TF-IDF rows kept either way. Run
``python -m bench.quality.value_bytes`` from the project root; ``--no-record`` prints without
appending to ``bench/RESULTS.md``.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from bench import machine
from bench.quality import csfcube, evaluate
from bench.quality.csfcube import CsfCube
from worker.pipeline.half_sparse import HalfSparse
from worker.pipeline.rankers.choose import embeddings_available
from worker.pipeline.rankers.explain import Explainer
from worker.pipeline.rankers.hybrid import HybridRanker
from worker.pipeline.rankers.tfidf import TfidfRanker
from worker.pipeline.related import NEAR_DUPLICATE, RelatedIndex

QUERIES = 1_000
CLOSEST = 10
EXPLAINED = 300
CHANGES_SHOWN = 6


def compared(matrix: sparse.csr_matrix, queries: np.ndarray) -> tuple[str, np.ndarray]:
    """A table row comparing two-byte and one-byte values of ``matrix``, and the closest
    papers of ``queries`` by the two-byte values."""
    two = HalfSparse.of(matrix, 2).whole()
    one = HalfSparse.of(matrix, 1).whole()
    error = np.abs(one.data - two.data) / two.data
    near_two = (two[queries] @ two.T).toarray()
    near_one = (one[queries] @ one.T).toarray()
    near_two[np.arange(len(queries)), queries] = -1
    near_one[np.arange(len(queries)), queries] = -1
    closest_two = np.argsort(-near_two, axis=1)[:, :CLOSEST]
    closest_one = np.argsort(-near_one, axis=1)[:, :CLOSEST]
    kept = np.mean([len(set(a) & set(b)) for a, b in zip(closest_two, closest_one, strict=True)])
    copies_two, copies_one = near_two >= NEAR_DUPLICATE, near_one >= NEAR_DUPLICATE
    differ = int((copies_two ^ copies_one).sum())
    row = (
        f"{100 * error.max():.2f}% | {100 * error.mean():.2f}% | {kept / CLOSEST:.4f} | "
        f"{int(copies_two.sum())} | {int(copies_one.sum())} | {differ}"
    )
    return row, closest_two


def report(cube: CsfCube) -> str:
    papers = cube.papers
    queries = np.sort(np.random.default_rng(0).choice(len(papers), QUERIES, replace=False))
    explainer = Explainer()
    explainer.fit(papers)
    words = TfidfRanker()
    words.fit(papers)
    explainer_row, closest = compared(explainer.tfidf.matrix, queries)
    words_row, _ = compared(words.matrix, queries)

    asked = [papers[int(row)] for row in queries[:EXPLAINED]]
    pairs = [(i, int(other)) for i in range(EXPLAINED) for other in closest[i]]
    matrix = explainer.tfidf.matrix
    reasons = {}
    for value_bytes in (2, 1):
        explainer.tfidf.half = HalfSparse.of(matrix, value_bytes)
        explainer.tfidf.matrix = sparse.csr_matrix((0, matrix.shape[1]), dtype=np.float32)
        rows = explainer.tfidf.rows(queries[:EXPLAINED])
        reasons[value_bytes] = explainer.reasons_many(asked, rows, pairs)
    changes = [(a, b) for a, b in zip(reasons[2], reasons[1], strict=True) if a != b]
    return "\n".join(
        [
            f"{len(papers):,} CSFCube papers; {QUERIES:,} sampled papers' {CLOSEST} closest by "
            "cosine among all; copies are pairs at or above the near-duplicate cosine "
            f"({NEAR_DUPLICATE}).",
            "",
            "| space | largest change of a weight | mean change | closest kept | copies, 2 bytes "
            "| copies, 1 byte | copies that differ |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
            f"| explainer (words and two-word phrases) | {explainer_row} |",
            f"| ranker's TF-IDF (words) | {words_row} |",
            "",
            f"Reasons (TF-IDF sentence scoring) of {EXPLAINED} papers with their {CLOSEST} "
            f"closest: {len(changes)} of {len(pairs):,} differ with one-byte values."
            + "".join(f"\n- “{a}” becomes “{b}”" for a, b in changes[:CHANGES_SHOWN]),
            "",
            *served_quality(cube),
        ]
    )


def served_quality(cube: CsfCube) -> list[str]:
    """The served ranker's CSFCube figures with its TF-IDF rows as fitted, and kept in two
    bytes and in one per value (the explainer as fitted throughout)."""
    ranker = "hybrid" if embeddings_available() else "tfidf"
    index = RelatedIndex.build(cube.papers, ranker)
    lexical = index.ranker.lexical if isinstance(index.ranker, HybridRanker) else index.ranker
    assert isinstance(lexical, TfidfRanker)
    matrix = lexical.matrix
    lines = [
        f"The served ranker ({ranker}), in percent:",
        "",
        "| TF-IDF values | pool NDCG@20 fold1_dev | fold1_test | corpus NDCG@10 "
        "| cited recall@10 |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label, value_bytes in (("float32, as fitted", 0), ("2 bytes", 2), ("1 byte (served)", 1)):
        if value_bytes:
            lexical.half = HalfSparse.of(matrix, value_bytes)
            lexical.matrix = sparse.csr_matrix((0, matrix.shape[1]), dtype=np.float32)
        found = evaluate.quality(cube, index)
        lines.append(
            f"| {label} | {found.pool_dev:.2f} | {found.pool_test:.2f} | "
            f"{found.corpus_ndcg:.2f} | {found.cited_recall:.2f} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    cube, no_record = csfcube.from_command_line("python -m bench.quality.value_bytes", argv)
    if cube is None:
        return 2
    body = report(cube)
    print(body, flush=True)
    machine.record("Stored value precision", body, wanted=not no_record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
