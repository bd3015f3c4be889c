"""``python -m bench.quality.negatives``: the served suggestion model against fewer negatives.

A reader's classifiers are fitted against a fixed random sample of the index
(``worker.pipeline.suggestions.NEGATIVES`` papers, seeded by ``NEGATIVES_SEED``), and the fits,
most of a reader's time, cost in proportion to it. CSFCube holds 4,205 papers, so the most
it can compare is a sample with every paper as a negative. Each size is scored with several
sample seeds, over the six draws of ``bench.quality.reader_grid`` (which half of a query's
papers a reader saved), with the served fusion; the first row, every paper, reproduces that
grid's served cell. Reads fold1_dev only, as the grid does.
"""

from __future__ import annotations

import sys

import numpy as np

from bench import machine
from bench.quality import csfcube, readers
from bench.quality.reader_grid import SEEDS, SPLIT, hybrid_cube, served_parts
from worker.pipeline import suggestions
from worker.pipeline.related import RelatedIndex

# Sample sizes, each with these sample seeds; a size at least the corpus's is every paper.
SIZES = (5_000, 3_000, 2_500, 2_000, 1_500)
SAMPLE_SEEDS = (0, 1, 2)


def main(argv: list[str] | None = None) -> int:
    loaded = hybrid_cube("python -m bench.quality.negatives", argv)
    if loaded is None:
        return 2
    cube, index, no_record = loaded
    lines = [
        f"Suggestions against fewer negatives on {SPLIT} ({len(index):,} papers): the served "
        f"fusion's recall@{readers.SUGGESTIONS_K}, mean of {len(SEEDS)} draws (seeds "
        f"{', '.join(map(str, SEEDS))}), per sample seed. `python -m bench.quality.negatives`.",
        "",
        "| negatives | sample seed | recall@20 | per draw |",
        "| ---: | ---: | ---: | --- |",
    ]
    served = suggestions.NEGATIVES, suggestions.NEGATIVES_SEED
    try:
        for size in SIZES:
            for seed in SAMPLE_SEEDS if size < len(index) else SAMPLE_SEEDS[:1]:
                suggestions.NEGATIVES, suggestions.NEGATIVES_SEED = size, seed
                per_draw = _per_draw(cube, index)
                label = f"{size:,}" if size < len(index) else f"every paper ({len(index):,})"
                lines.append(
                    f"| {label} | {seed} | {np.mean(per_draw):.1f}% "
                    f"| {' '.join(f'{value:.1f}' for value in per_draw)} |"
                )
                print(lines[-1], flush=True)
    finally:
        suggestions.NEGATIVES, suggestions.NEGATIVES_SEED = served
    table = "\n".join(lines)
    print(f"\n{table}")
    machine.record("Quality", table, wanted=not no_record)
    return 0


def _per_draw(cube: csfcube.CsfCube, index: RelatedIndex) -> list[float]:
    """The served fusion's capped recall@20 on each draw, as a percentage."""
    row_of = {paper_id: row for row, paper_id in enumerate(index.paper_ids)}
    titles = [" ".join(title.lower().split()) for title in index.titles]
    weight = suggestions.DENSE_WEIGHT
    found: list[float] = []
    for draw in SEEDS:
        recalls = []
        for saved_ids, sought_ids in readers.reading_lists(cube, SPLIT, draw):
            rows = [row_of[paper_id] for paper_id in saved_ids]
            lexical, dense, _ = served_parts(index, rows)
            scores = (1 - weight) * lexical + weight * dense
            saved_titles = {titles[row] for row in rows}
            scores[[row for row, title in enumerate(titles) if title in saved_titles]] = -np.inf
            top = np.argsort(-scores, kind="stable")[: readers.SUGGESTIONS_K]
            sought = {row_of[paper_id] for paper_id in sought_ids}
            recalls.append(
                len(sought.intersection(top.tolist())) / min(readers.SUGGESTIONS_K, len(sought))
            )
        found.append(100 * float(np.mean(recalls)))
    return found


if __name__ == "__main__":
    sys.exit(main())
