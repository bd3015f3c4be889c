"""The HNSW graphs propose the nearest papers while keeping a byte per dimension on disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from worker.pipeline.neighbours import AnnParams, Neighbours

DIMS = 64
PARAMS = AnnParams(candidates=10, ef_search=128, links=16, ef_construction=64)


def clustered_vectors(count: int, seed: int) -> np.ndarray:
    """Unit vectors around 30 topics, as papers' embeddings cluster."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((30, DIMS))
    vectors = centres[rng.integers(30, size=count)] + 0.4 * rng.standard_normal((count, DIMS))
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(unit, dtype=np.float32)


def recall_at_10(graph: Neighbours, vectors: np.ndarray, queries: np.ndarray) -> float:
    """How much of each query's exact ten the graph's first twenty hold: the graph proposes
    candidates that the ranker then scores exactly, so it may order near ties loosely."""
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    found = graph.search(queries, 20)
    return float(np.mean([len(set(a) & set(e)) / 10 for a, e in zip(found, exact, strict=True)]))


def test_a_saved_graph_is_a_byte_per_dimension_and_finds_the_nearest(tmp_path: Path) -> None:
    vectors = clustered_vectors(3_000, seed=1)
    built = Neighbours.of_vectors(vectors, PARAMS)
    path = tmp_path / "graph.faiss"
    built.save_graph(path)

    # float32 vectors alone would take DIMS * 4 bytes each, before the graph's links.
    assert path.stat().st_size < len(vectors) * (DIMS + PARAMS.links * 2 * 4 + 64)
    assert path.stat().st_size < len(vectors) * DIMS * 4
    mapped = Neighbours(None, PARAMS)
    mapped.load_graph(path)
    queries = clustered_vectors(200, seed=2)
    assert recall_at_10(mapped, vectors, queries) >= 0.95
    assert recall_at_10(built, vectors, queries) == recall_at_10(mapped, vectors, queries)


def test_papers_added_after_the_build_are_found(tmp_path: Path) -> None:
    first = clustered_vectors(1_000, seed=3)
    later = clustered_vectors(300, seed=4)
    graph = Neighbours.of_vectors(first, PARAMS)
    graph.add(later)

    nearest = graph.search(later, 1)[:, 0]

    assert list(nearest) == list(range(len(first), len(first) + len(later)))
    assert recall_at_10(graph, np.vstack([first, later]), later) >= 0.95


def test_the_stored_vectors_read_back_close_to_those_added_and_as_faiss_decodes_them(
    tmp_path: Path,
) -> None:
    vectors = clustered_vectors(2_000, seed=5)
    later = clustered_vectors(100, seed=6)
    graph = Neighbours.of_vectors(vectors, PARAMS)
    graph.add(later)
    path = tmp_path / "graph.faiss"
    graph.save_graph(path)
    mapped = Neighbours(None, PARAMS)
    mapped.load_graph(path)
    rows = np.array([0, 1_999, 7, 2_050, 7])

    read = mapped.vectors(rows)

    everything = np.vstack([vectors, later])
    assert read.dtype == np.float32 and read.shape == (5, DIMS)
    # A byte per dimension: each value within half a step of the dimension's range.
    assert np.abs(read - everything[rows]).max() < 0.01
    similarity = np.sum(read * everything[rows], axis=1)
    np.testing.assert_allclose(similarity, 1.0, atol=2e-3)
    np.testing.assert_array_equal(read, graph.vectors(rows))
    np.testing.assert_allclose(read, mapped._graph.reconstruct_batch(rows), atol=1e-6)
    # The leading dimensions alone (the text's part of the hybrid's vectors), decoded alike.
    np.testing.assert_array_equal(mapped.vectors(rows, DIMS // 2), read[:, : DIMS // 2])
