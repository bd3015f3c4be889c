"""The research feed's relevance floor, chosen on CSFCube's fold1_dev readers and checked on
fold1_test.

A feed ranks whatever an ingest brought, so a floor decides which new papers are worth a
reader's attention at all. Each reader of ``bench.quality.readers`` (half of a query's highly
relevant papers saved) gets the served model (``worker.pipeline.suggestions.reader_model``),
and every corpus paper gets the standing the feed reads: its lexical margin in spreads above
the negatives' mean. Set beside each other are the share of the reader's sought papers (the
other half) a floor keeps and the share of unrelated papers (never judged for that query, so
no system found them close) it lets through; papers judged and found not relevant are shown
too. The rule: the highest floor, in steps of ``STEP``, that keeps ``SOUGHT_KEPT`` of the dev
readers' sought papers. Run ``python -m bench.quality.feed_floor`` from the project root;
``--no-record`` prints without appending to ``bench/RESULTS.md``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from bench import machine
from bench.quality import csfcube, readers
from bench.quality.csfcube import CsfCube
from paperlens.store.library import ProfilePaper, ReaderProfile
from worker.pipeline import suggestions
from worker.pipeline.rankers.choose import embeddings_available
from worker.pipeline.related import RelatedIndex

DEV = "fold1_dev"
TEST = "fold1_test"
SOUGHT_KEPT = 0.95
STEP = 0.5
SHOWN = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0)


@dataclass
class Standings:
    """The standing of every sought, unrelated and judged-not-relevant paper, over readers."""

    sought: np.ndarray
    unrelated: np.ndarray
    not_relevant: np.ndarray

    def shares(self, floor: float) -> tuple[float, float, float]:
        """Percent of each kind at or above ``floor``."""
        return (
            100 * float(np.mean(self.sought >= floor)),
            100 * float(np.mean(self.unrelated >= floor)),
            100 * float(np.mean(self.not_relevant >= floor)),
        )


def standings(cube: CsfCube, index: RelatedIndex, split: str) -> tuple[Standings, int]:
    """The papers' standings for every reader of ``split``, and how many readers there were."""
    row = {paper_id: i for i, paper_id in enumerate(index.paper_ids)}
    by_id = {paper.paper_id: paper for paper in cube.papers}
    every_row = None
    sought: list[np.ndarray] = []
    unrelated: list[np.ndarray] = []
    not_relevant: list[np.ndarray] = []
    found = readers.readers_of(cube, split)
    for query, saved_ids, sought_ids in found:
        saved = [
            ProfilePaper(i, by_id[i].title, by_id[i].abstract, []) for i in saved_ids if i in row
        ]
        model = suggestions.reader_model(index, ReaderProfile.of_saved(saved), saved)
        if model is None:
            raise ValueError(f"no model for the reader of {query}")
        if every_row is None:  # the same lexical space for every reader
            every_row = model.lexical.rows(np.arange(len(index)))
        standing = model.spaces[0].standardised(every_row)
        judged = set(cube.grades[query]) | {query.paper_id} | set(saved_ids)
        sought.append(standing[[row[i] for i in sought_ids if i in row]])
        unrelated.append(standing[[r for i, r in row.items() if i not in judged]])
        graded_low = [row[i] for i, g in cube.grades[query].items() if g < 2 and i in row]
        not_relevant.append(standing[graded_low])
    return Standings(*(np.concatenate(parts) for parts in (sought, unrelated, not_relevant))), len(
        found
    )


def chosen_floor(dev: Standings) -> float:
    """The highest floor on the ``STEP`` grid keeping ``SOUGHT_KEPT`` of the sought papers."""
    floor = 0.0
    while np.mean(dev.sought >= floor + STEP) >= SOUGHT_KEPT:
        floor += STEP
    return floor


def report(cube: CsfCube, ranker: str) -> str:
    index = RelatedIndex.build(cube.papers, ranker, floor=None)
    dev, dev_readers = standings(cube, index, DEV)
    test, test_readers = standings(cube, index, TEST)
    floor = chosen_floor(dev)
    lines = [
        f"**{ranker}**: {dev_readers} {DEV} readers ({len(dev.sought)} sought papers, "
        f"{len(dev.unrelated):,} unrelated), {test_readers} {TEST} readers "
        f"({len(test.sought)} sought, {len(test.unrelated):,} unrelated). Chosen on {DEV}: "
        f"**{floor:.1f}**; served: {suggestions.FEED_FLOOR:.1f}.",
        "",
        "| floor | dev sought kept | dev unrelated through | dev judged, not relevant, "
        "through | test sought kept | test unrelated through |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for shown in sorted({*SHOWN, floor, suggestions.FEED_FLOOR}):
        kept, through, judged = dev.shares(shown)
        test_kept, test_through, _ = test.shares(shown)
        lines.append(
            f"| {shown:.1f} | {kept:.1f}% | {through:.2f}% | {judged:.1f}% | "
            f"{test_kept:.1f}% | {test_through:.2f}% |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    cube, no_record = csfcube.from_command_line("python -m bench.quality.feed_floor", argv)
    if cube is None:
        return 2
    # The feed reads the lexical classifier alone, the same for either ranker's index.
    ranker = "hybrid" if embeddings_available() else "tfidf"
    body = (
        f"Rule: the highest floor (steps of {STEP}) on the lexical standing that keeps "
        f"{SOUGHT_KEPT:.0%} of the papers {DEV}'s readers sought.\n\n{report(cube, ranker)}"
    )
    print(body, flush=True)
    machine.record("Feed floor", body, wanted=not no_record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
