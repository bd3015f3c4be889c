"""``python -m bench.encode``: papers per second of the served encoder, beside its baseline.

The shared machine's speed drifts with other people's work, so one figure alone says
little: every configuration here is timed in the same run, on the same CSFCube papers, in
interleaved rounds (each keeps its best round, so a burst of load hurts all alike). A paper
is encoded as the served ranker encodes it (whole text and title, ``DenseRanker.embed``),
one text per ONNX run, on one thread and on ``PAPERLENS_ENCODE_THREADS`` threads. The
baseline is the same int8 graph at ``BASELINE_TOKENS`` tokens, the budget served before the
token budget was cut (see docs/quality.md); ``--tokens`` adds other budgets to compare.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence

import numpy as np

from bench import machine
from bench.quality import csfcube
from paperlens.settings import Settings
from worker.pipeline.rankers.base import IndexedPaper
from worker.pipeline.rankers.dense import (
    DEFAULT_TITLE_WEIGHT,
    SERVED_MAX_TOKENS,
    DenseRanker,
    register_encoder,
)

TARGET_PAPERS_PER_SECOND = 250.0
BASELINE_TOKENS = 96
SAMPLE = 256
ROUNDS = 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.encode")
    parser.add_argument("--no-record", action="store_true", help="print only; leave RESULTS.md")
    parser.add_argument(
        "--tokens", type=int, nargs="*", default=[], help="more token budgets to time"
    )
    csfcube.add_folder_option(parser)
    args = parser.parse_args(argv)
    try:
        cube = csfcube.load(args.csfcube)
    except FileNotFoundError as error:
        print(error)
        return 2
    rng = np.random.default_rng(0)
    sample = [cube.papers[i] for i in rng.choice(len(cube.papers), SAMPLE, replace=False)]
    threads = Settings().encoder_threads
    budgets = sorted({BASELINE_TOKENS, SERVED_MAX_TOKENS, *args.tokens}, reverse=True)
    runs: dict[tuple[int, int], Callable[[], object]] = {}
    for tokens in budgets:
        for count in sorted({1, threads}):
            runs[(tokens, count)] = _embedding(sample, tokens, count)
    speeds = _best_speeds(runs, len(sample))
    report = _table(speeds, threads)
    print(report)
    if not args.no_record:
        machine.append_result("Encoding", report)
        print(f"\nRecorded in {machine.RESULTS}")
    return 0


def _embedding(papers: Sequence[IndexedPaper], tokens: int, threads: int) -> Callable[[], object]:
    """The served ranker's ``embed`` of ``papers`` with an int8 encoder of this budget."""
    from worker.pipeline.rankers.onnx_encoder import OnnxMiniLmEncoder

    name = f"bench-int8-{tokens}-{threads}"
    register_encoder(name, lambda: OnnxMiniLmEncoder(name, True, tokens, threads))
    ranker = DenseRanker(name, DEFAULT_TITLE_WEIGHT)
    ranker.embed(papers[:8])  # load and warm up
    return lambda: ranker.embed(papers)


def _best_speeds(
    runs: dict[tuple[int, int], Callable[[], object]], papers: int
) -> dict[tuple[int, int], float]:
    speeds = dict.fromkeys(runs, 0.0)
    for _ in range(ROUNDS):
        for key, run in runs.items():
            start = time.perf_counter()
            run()
            speeds[key] = max(speeds[key], papers / (time.perf_counter() - start))
    return speeds


def _table(speeds: dict[tuple[int, int], float], threads: int) -> str:
    baseline = speeds[(BASELINE_TOKENS, threads)]
    rows = [
        "| encoder (int8, one text per run, title and text) | threads | papers/s "
        "| times the baseline | target |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for (tokens, count), speed in speeds.items():
        label = f"{tokens} tokens" + (" (served)" if tokens == SERVED_MAX_TOKENS else "")
        if tokens == BASELINE_TOKENS:
            label += " (baseline)"
        target = ""
        if tokens == SERVED_MAX_TOKENS and count == threads:
            met = speed >= TARGET_PAPERS_PER_SECOND
            target = f"≥ {TARGET_PAPERS_PER_SECOND:.0f}: {'met' if met else 'MISSED'}"
        rows.append(f"| {label} | {count} | {speed:.0f} | {speed / baseline:.2f} | {target} |")
    note = (
        f"\n\n{SAMPLE} CSFCube papers, best of {ROUNDS} interleaved rounds per row, all rows "
        "in the same run; the baseline is the same graph at "
        f"{BASELINE_TOKENS} tokens on {threads} threads."
    )
    return "\n".join(rows) + note


if __name__ == "__main__":
    raise SystemExit(main())
