"""Choosing the approximate nearest-neighbour engine by measurement.

For a synthetic corpus: TF-IDF, then a truncated SVD to a few hundred dimensions, then each
candidate engine (hnswlib, usearch, FAISS HNSW) builds an index and answers the ten nearest
neighbours of every paper. Recall@10 is measured on a sample against exact search in the
same space; build and query times are wall seconds on this machine.

    python -m bench.ann --size 100000

hnswlib, measured when FAISS was chosen, has no wheel (pip compiles it from C++), so no lock
installs it: ``pip install hnswlib==0.8.0`` then ``--engines hnswlib,usearch,faiss`` repeats
that comparison.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from bench.corpus import cached
from bench.machine import append_result

ROOT = Path(__file__).resolve().parent.parent
K = 10
SAMPLE = 1_000


def load_texts(size: int) -> list[str]:
    path = cached(size)
    texts = []
    with path.open() as handle:
        for line in handle:
            record = json.loads(line)
            texts.append(f"{record['title']}. {record['abstract']}")
    return texts


def exact(vectors: np.ndarray, queries: np.ndarray) -> np.ndarray:
    scores = vectors[queries] @ vectors.T
    scores[np.arange(len(queries)), queries] = -np.inf
    return np.argsort(-scores, axis=1)[:, :K]


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    hits = sum(len(set(f) & set(t)) for f, t in zip(found, truth, strict=True))
    return hits / truth.size


def without_self(labels: np.ndarray, rows: np.ndarray) -> np.ndarray:
    cleaned = []
    for row, found in zip(rows, labels, strict=True):
        cleaned.append([label for label in found if label != row][:K])
    return np.array(cleaned)


def hnswlib_engine(vectors: np.ndarray) -> tuple[float, Callable[[np.ndarray], np.ndarray]]:
    import hnswlib

    started = time.perf_counter()
    index = hnswlib.Index(space="ip", dim=vectors.shape[1])
    index.init_index(max_elements=len(vectors), ef_construction=100, M=16)
    index.add_items(vectors, num_threads=2)
    index.set_ef(64)
    build = time.perf_counter() - started
    return build, lambda q: index.knn_query(q, k=K + 1, num_threads=2)[0]


def usearch_engine(vectors: np.ndarray) -> tuple[float, Callable[[np.ndarray], np.ndarray]]:
    from usearch.index import Index

    started = time.perf_counter()
    index = Index(
        ndim=vectors.shape[1],
        metric="ip",
        dtype="f32",
        connectivity=16,
        expansion_add=100,
        expansion_search=64,
    )
    index.add(np.arange(len(vectors)), vectors, threads=2)
    build = time.perf_counter() - started
    return build, lambda q: index.search(q, K + 1, threads=2).keys


def faiss_engine(vectors: np.ndarray) -> tuple[float, Callable[[np.ndarray], np.ndarray]]:
    import faiss

    faiss.omp_set_num_threads(2)
    started = time.perf_counter()
    index = faiss.IndexHNSWFlat(vectors.shape[1], 16, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 100
    index.add(vectors)
    index.hnsw.efSearch = 64
    build = time.perf_counter() - started
    return build, lambda q: index.search(q, K + 1)[1]


ENGINES = {"hnswlib": hnswlib_engine, "usearch": usearch_engine, "faiss": faiss_engine}
# The engines the dev lock installs.
DEFAULT_ENGINES = ("usearch", "faiss")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--dims", type=int, default=256)
    parser.add_argument("--engines", default=",".join(DEFAULT_ENGINES))
    parser.add_argument("--rerank", type=int, default=100, help="candidates re-ranked by TF-IDF")
    args = parser.parse_args()
    texts = load_texts(args.size)
    started = time.perf_counter()
    tfidf = TfidfVectorizer(sublinear_tf=True, stop_words="english", min_df=2, dtype=np.float32)
    matrix = tfidf.fit_transform(texts)
    tfidf_s = time.perf_counter() - started
    started = time.perf_counter()
    svd = TruncatedSVD(n_components=args.dims, algorithm="randomized", n_iter=4, random_state=0)
    vectors = normalize(svd.fit_transform(matrix)).astype(np.float32)
    svd_s = time.perf_counter() - started
    rng = np.random.default_rng(0)
    sample = rng.choice(len(vectors), size=min(SAMPLE, len(vectors)), replace=False)
    truth = exact(vectors, sample)
    lexical = exact_sparse(matrix, sample)
    rows = [
        f"{args.size:,} synthetic papers; TF-IDF {tfidf_s:.1f} s ({matrix.shape[1]:,} terms), "
        f"SVD to {args.dims} dims {svd_s:.1f} s. Recall@10 on {len(sample):,} sampled papers "
        "against exact search in the same space; 'vs TF-IDF' against exact TF-IDF cosine.",
        "",
        "| engine | build s | query all s | papers/s | recall@10 | recall@10 vs TF-IDF |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    rows.append(f"| exact SVD space | | | | 1.000 | {recall(truth, lexical):.3f} |")
    for name in args.engines.split(","):
        build, query = ENGINES[name](vectors)
        started = time.perf_counter()
        labels = query(vectors)
        query_s = time.perf_counter() - started
        found = without_self(np.asarray(labels)[sample], sample)
        rows.append(
            f"| {name} | {build:.1f} | {query_s:.1f} | {len(vectors) / query_s:,.0f} | "
            f"{recall(found, truth):.3f} | {recall(found, lexical):.3f} |"
        )
        print(rows[-1], flush=True)
    rows.append(rerank_row(vectors, matrix, sample, lexical, args.rerank))
    report = "\n".join(rows)
    print(report)
    append_result("Nearest-neighbour engines", report)


def rerank_row(
    vectors: np.ndarray, matrix: object, sample: np.ndarray, lexical: np.ndarray, depth: int
) -> str:
    """Two stages: FAISS proposes ``depth`` candidates, exact TF-IDF cosine orders them."""
    import faiss

    index = faiss.IndexHNSWFlat(vectors.shape[1], 16, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 100
    index.add(vectors)
    index.hnsw.efSearch = max(64, depth)
    started = time.perf_counter()
    _, candidates = index.search(vectors[sample], depth + 1)
    found = []
    for row, proposed in zip(sample, candidates, strict=True):
        proposed = proposed[proposed != row]
        exact_scores = (matrix[proposed] @ matrix[row].T).toarray().ravel()  # type: ignore[index]
        found.append(proposed[np.argsort(-exact_scores)[:K]])
    seconds = (time.perf_counter() - started) / len(sample)
    return (
        f"| faiss top-{depth}, re-ranked by TF-IDF | | | {1 / seconds:,.0f} | | "
        f"{recall(np.array(found), lexical):.3f} |"
    )


def exact_sparse(matrix: object, sample: np.ndarray) -> np.ndarray:
    scores = (matrix[sample] @ matrix.T).toarray()  # type: ignore[index,attr-defined]
    scores[np.arange(len(sample)), sample] = -np.inf
    return np.argsort(-scores, axis=1)[:, :K]


if __name__ == "__main__":
    main()
