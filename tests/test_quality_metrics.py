"""The benchmark's metrics and data reading, checked on numbers worked out by hand."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from bench.quality import csfcube, evaluate, feed_floor, readers
from bench.quality.metrics import capped_recall_at_k, dcg, ndcg_at_k
from worker.pipeline.related import RelatedIndex


def test_ndcg_uses_linear_gains_and_log2_discounts() -> None:
    grades = {"a": 3, "b": 2, "c": 0, "d": 1}
    # Ranked b, a, x: 2/1 + 3/log2(3); ideal a, b, d: 3 + 2/log2(3) + 1/2.
    got = ndcg_at_k(["b", "a", "x"], grades, 3)
    assert got == pytest.approx((2 + 3 / math.log2(3)) / (3 + 2 / math.log2(3) + 0.5))
    assert ndcg_at_k(["a", "b", "d"], grades, 3) == pytest.approx(1.0)
    assert ndcg_at_k(["c", "x"], grades, 2) == 0.0
    assert ndcg_at_k(["a"], {"a": 0}, 5) == 0.0
    assert dcg([1, 1]) == pytest.approx(1 + 1 / math.log2(3))


def test_recall_is_capped_by_the_list_length() -> None:
    relevant = {f"p{i}" for i in range(15)}
    ranked = ["p0", "p1", "x", "p2"] + [f"y{i}" for i in range(6)]
    assert capped_recall_at_k(ranked, relevant, 10) == pytest.approx(3 / 10)
    assert capped_recall_at_k(ranked, {"p0", "p2", "z"}, 10) == pytest.approx(2 / 3)
    assert capped_recall_at_k(ranked, set(), 10) == 0.0


def write_tiny_cube(folder: Path) -> None:
    """Three query papers on distinct topics, a few candidates each, in CSFCube's formats."""
    topics = {
        "1": ("Parsing with neural networks", "dependency parsing neural parser treebank"),
        "2": ("Machine translation", "neural machine translation attention encoder decoder"),
        "3": ("Argument mining", "argumentation debate forum claims premises"),
    }
    papers = []
    for qid, (title, words) in topics.items():
        papers.append({"paper_id": qid, "year": "2017", "title": title, "abstract": words})
        for j in range(4):
            papers.append(
                {
                    "paper_id": f"{qid}{j}",
                    "year": "2015",
                    "title": f"{title} study {j}",
                    "abstract": " ".join(words.split()[: 4 - j]) + f" filler{j} other{qid}",
                }
            )
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps(p) for p in papers) + "\n")
    pools = {q: {"cands": [f"{q}{j}" for j in range(4)] + ["99999"]} for q in topics}
    pools["1"]["cands"] += ["20", "30"]
    (folder / "test-pid2pool-csfcube.json").write_text(json.dumps(pools))
    qrels = []
    for q in topics:
        for j, grade in enumerate([3, 2, 1, 0]):
            qrels.append(
                {"query_pid": q, "facet": "method", "cand_pid": f"{q}{j}", "relevance": grade}
            )
    (folder / "qrels.jsonl").write_text("\n".join(json.dumps(r) for r in qrels) + "\n")
    splits = {"all": {"fold1_dev": ["1_method"], "fold1_test": ["2_method", "3_method"]}}
    (folder / "evaluation_splits.json").write_text(json.dumps(splits))
    edges = "citing_pid\tcited_pid\n1\t10\n1\t13\n2\t20\n"
    (folder / "citation_edges_query_cites_cand.tsv").write_text(edges)


def test_csfcube_reading_and_scoring_on_a_tiny_cube(tmp_path: Path) -> None:
    write_tiny_cube(tmp_path)
    cube = csfcube.load(tmp_path)
    assert len(cube.papers) == 15
    assert cube.papers[0].paper_id == "corpusid:1"
    # The unjudged candidate missing from the corpus is dropped from the pool.
    assert "corpusid:99999" not in cube.pools["corpusid:1"]
    assert cube.cited["corpusid:1"] == {"corpusid:10", "corpusid:13"}
    assert cube.best_grades("corpusid:2")["corpusid:20"] == 3

    index = RelatedIndex.build(cube.papers, "tfidf")
    result = evaluate.quality(cube, index)
    # Candidates repeat fewer of the query's words as j grows, so TF-IDF orders them by grade.
    assert result.pool_test == pytest.approx(100.0)
    assert result.pool_dev == pytest.approx(100.0)
    assert 0 < result.cited_recall <= 100


def test_missing_dataset_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="PAPERLENS_CSFCUBE_DIR"):
        csfcube.load(tmp_path)


def test_reader_suggestions_find_the_held_out_half(tmp_path: Path) -> None:
    write_tiny_cube(tmp_path)
    cube = csfcube.load(tmp_path)
    # Grade every paper of a topic as highly relevant, so each query has four to split.
    for query in cube.grades:
        for cand in cube.grades[query]:
            cube.grades[query][cand] = 3
    index = RelatedIndex.build(cube.papers, "tfidf")
    vectors = index.explainer.tfidf.matrix
    centroid = readers.reader_recall(cube, index.paper_ids, readers.centroid_model(vectors))
    assert centroid == pytest.approx(100.0)
    # The product's own suggestions, fed the same saved half, find the same papers.
    served = readers.served_model(index, cube.papers)
    assert readers.reader_recall(cube, index.paper_ids, served) == pytest.approx(100.0)


def test_reading_lists_draw_halves_by_seed(tmp_path: Path) -> None:
    write_tiny_cube(tmp_path)
    cube = csfcube.load(tmp_path)
    for query in cube.grades:
        for cand in cube.grades[query]:
            cube.grades[query][cand] = 3
    draws = [readers.reading_lists(cube, "fold1_dev", seed) for seed in (1, 2, 3, 4, 5, 7)]
    # The same readers in every draw, each list split into halves that cover its good papers.
    assert len({len(lists) for lists in draws}) == 1
    for lists in draws:
        for saved, sought in lists:
            assert len(saved) == len(sought) and not set(saved) & sought
    # Different seeds save different halves of some list.
    assert len({tuple(tuple(saved) for saved, _ in lists) for lists in draws}) > 1
    assert readers.reading_lists(cube, "fold1_dev") == draws[-1]


def test_nearest_saved_term_ranks_papers_near_a_saved_one_first() -> None:
    rows = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9], [-1.0, 0.2]])
    vectors = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    term = readers.nearest_saved(vectors, [0], 1)
    others = np.array([1, 2, 3, 4])
    # z-scored over the rows not saved, and highest for the row closest to the saved one.
    assert term[others].mean() == pytest.approx(0.0, abs=1e-9)
    assert term[others].std() == pytest.approx(1.0)
    assert int(others[np.argmax(term[others])]) == 1
    # With two saved papers, the max cosine favours a row close to either of them.
    both = readers.nearest_saved(vectors, [0, 2], 1)
    assert both[3] > both[4] and both[1] > both[4]


def test_the_feed_floor_is_the_highest_step_keeping_the_share_of_sought_papers() -> None:
    # 20 sought papers: one below 1.0, one more below 1.5, the rest at 2.0 and above.
    sought = np.array([0.2, 1.2] + [2.0] * 10 + [3.7] * 8)
    measured = feed_floor.Standings(sought, np.array([0.0, 1.0, 3.0]), np.array([2.0]))
    # 95% kept at 1.0 (19 of 20), 90% at 1.5: the floor stays at 1.0.
    assert feed_floor.chosen_floor(measured) == 1.0
    assert measured.shares(1.0) == pytest.approx((95.0, 200 / 3, 100.0))
    assert feed_floor.chosen_floor(feed_floor.Standings(sought[2:], sought, sought)) == 2.0
