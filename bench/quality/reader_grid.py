"""``python -m bench.quality.reader_grid``: the suggestion model's fusion grid on fold1_dev.

Scores each cell over six seeded draws of which half of a query's best papers a reader saved
(seeds 1-5 and 7, the last being ``bench.quality``'s table), since one draw of fold1_dev's 21
readers moves a cell by several points. Each reader's classifiers are fitted once, by the
served code (``worker.pipeline.suggestions.reader_model``), and every cell is a weighted sum
of the parts it scores: the lexical and dense margins z-scored on the negatives, and a
nearest-saved-paper term (``readers.nearest_saved``). A cell's difference from the served
setting is taken draw by draw, so the spread of that difference is the noise a choice has to
beat. Reads fold1_dev only; fold1_test is left to ``bench.quality``'s table.
"""

from __future__ import annotations

import itertools
import logging
import sys

import numpy as np

from bench import machine
from bench.quality import csfcube, readers
from paperlens.store.library import ProfilePaper, ReaderProfile
from worker.pipeline import suggestions
from worker.pipeline.rankers.choose import make_ranker
from worker.pipeline.related import RelatedIndex

SEEDS = (1, 2, 3, 4, 5, 7)
SPLIT = "fold1_dev"
DENSE_WEIGHTS = (0.3, 0.4, 0.5)
TERM_WEIGHTS = (0.0, 0.5, 0.75, 1.0, 1.5)
# Nearest-saved terms: the mean of the k highest cosines (0: of all the saved papers).
TERMS = {"max cosine": 1, "mean of top 2": 2, "mean of top 3": 3, "mean cosine": 0}


def main(argv: list[str] | None = None) -> int:
    loaded = hybrid_cube("python -m bench.quality.reader_grid", argv)
    if loaded is None:
        return 2
    cube, index, no_record = loaded
    recalls, draws = _cell_recalls(cube, index)
    table = _table(recalls, draws)
    print(f"\n{table}")
    machine.record("Quality", table, wanted=not no_record)
    return 0


def hybrid_cube(
    prog: str, argv: list[str] | None
) -> tuple[csfcube.CsfCube, RelatedIndex, bool] | None:
    """CSFCube, the served hybrid's index of its papers and whether ``--no-record`` was given;
    None (said on stderr) when the dataset is missing."""
    logging.getLogger().setLevel(logging.ERROR)
    cube, no_record = csfcube.from_command_line(prog, argv)
    if cube is None:
        return None
    return cube, RelatedIndex.build(cube.papers, make_ranker("hybrid")), no_record


Cell = tuple[float, str, float]


def _cell_recalls(
    cube: csfcube.CsfCube, index: RelatedIndex
) -> tuple[dict[Cell, list[float]], np.ndarray]:
    """Each cell's capped recall@20 per reader, and each reader's draw (its seed)."""
    cells = list(itertools.product(DENSE_WEIGHTS, TERMS, TERM_WEIGHTS))
    recalls: dict[Cell, list[float]] = {cell: [] for cell in cells}
    draws: list[int] = []
    row_of = {paper_id: row for row, paper_id in enumerate(index.paper_ids)}
    titles = [" ".join(title.lower().split()) for title in index.titles]
    for seed in SEEDS:
        for saved_ids, sought_ids in readers.reading_lists(cube, SPLIT, seed):
            rows = [row_of[paper_id] for paper_id in saved_ids]
            lexical, dense, vectors = served_parts(index, rows)
            terms = {name: readers.nearest_saved(vectors, rows, k) for name, k in TERMS.items()}
            saved_titles = {titles[row] for row in rows}
            left_out = [row for row, title in enumerate(titles) if title in saved_titles]
            sought = {row_of[paper_id] for paper_id in sought_ids}
            for weight, term, term_weight in cells:
                scores = (1 - weight) * lexical + weight * dense + term_weight * terms[term]
                scores[left_out] = -np.inf
                top = np.argsort(-scores, kind="stable")[: readers.SUGGESTIONS_K]
                found = len(sought.intersection(top.tolist()))
                recalls[(weight, term, term_weight)].append(
                    found / min(readers.SUGGESTIONS_K, len(sought))
                )
            draws.append(seed)
        print(f"draw {seed}: {len(draws)} readers so far", flush=True)
    return recalls, np.array(draws)


def served_parts(index: RelatedIndex, rows: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The served classifiers' z-scored margins over every row, lexical then dense, and the
    unit dense vectors they read, for a reader who saved ``rows``."""
    saved = [
        ProfilePaper(index.paper_ids[row], index.titles[row], "", [])  # held rows: no text read
        for row in rows
    ]
    profile = ReaderProfile.of_saved(saved)
    model = suggestions.reader_model(index, profile, saved)
    if model is None or model.dense is None or len(model.spaces) < 2:
        raise ValueError("the grid needs the hybrid index's dense vectors")
    everything = np.arange(len(index))
    lexical_space, dense_space = model.spaces
    vectors = model.dense_features(everything)
    lexical = lexical_space.scaled(model.lexical.rows(everything)) / lexical_space.weight
    dense = dense_space.scaled(vectors) / dense_space.weight
    return np.asarray(lexical), np.asarray(dense), vectors


def _table(recalls: dict[Cell, list[float]], draws: np.ndarray) -> str:
    served = (suggestions.DENSE_WEIGHT, next(iter(TERMS)), 0.0)
    per_draw = {
        cell: np.array([100 * np.mean(np.array(values)[draws == seed]) for seed in SEEDS])
        for cell, values in recalls.items()
    }
    lines = [
        f"Suggestion fusion grid on {SPLIT}: recall@{readers.SUGGESTIONS_K}, mean of "
        f"{len(SEEDS)} draws (seeds {', '.join(map(str, SEEDS))}; {len(draws)} reader-draws), "
        "and the difference from the served setting taken draw by draw (mean, spread, "
        "worst draw). `python -m bench.quality.reader_grid`.",
        "",
        "| dense weight | nearest-saved term | term weight | recall@20 | per draw "
        "| vs served | spread | worst |",
        "| ---: | --- | ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    for (weight, term, term_weight), figures in per_draw.items():
        if term_weight == 0.0 and term != next(iter(TERMS)):
            continue  # the same cell as the first term's
        difference = figures - per_draw[served]
        label = "none" if term_weight == 0.0 else term
        lines.append(
            f"| {weight:g} | {label} | {term_weight:g} | {figures.mean():.1f}% "
            f"| {' '.join(f'{value:.1f}' for value in figures)} "
            f"| {difference.mean():+.2f} | {difference.std(ddof=1):.2f} "
            f"| {difference.min():+.1f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
