"""Per-reader suggestions at scale: worker time per reader, and how close the candidate path
comes to scoring every paper.

The index is built as the product builds it at that size (``RelatedIndex.build``, plus
the graphs from ``related_ann_from`` papers on) over a synthetic corpus from
``bench.corpus``, for the TF-IDF ranker by default or the served hybrid with ``--ranker
hybrid``, whose embeddings take hours to encode at a million papers (the lexical classifier
the TF-IDF index measures is the one that proposes candidates in both). The last
``FEED_NEW`` papers of the corpus are left out of the index and play the new papers a feed
refresh ranks. As the refresh does, it projects them into the index's spaces once
(``ProjectedPapers``), timed on its own. Each reader saves ``--saved`` papers drawn from the
ranker's neighbourhoods of two seed papers (two interests, one tag each). Per reader it
times ``suggestion_sets`` (the whole list and each tag, as the worker's job computes them)
and ``rank_papers`` over the shared projection (the reader's share of the feed refresh), and
compares the whole-list top 20 with the same model's top 20 over every indexed paper. The
slowest readers then run again under cProfile, which says how their time splits among the
classifiers' fits, the graph's searches, the heaviest terms, scoring the candidates and the
reasons (``PHASES``).

With ``--keep-index`` the built index is saved under var/bench and a later run with the
same flag and size loads it instead of building it again (an hour at a million papers),
unless it is in an older index format; delete the file after any other change to how the
index is built. ``--index`` loads an index saved by another benchmark over the same papers
instead (``bench.hybrid_ann`` saves the served hybrid's, graphs included, and both draw the
same corpus and share its cached vectors).

    python -m bench.suggestions --size 100000
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.corpus import CACHE
from bench.hybrid_ann import CachedDense, cached_vectors, corpus_papers
from bench.machine import record
from paperlens.settings import Settings, get_settings
from paperlens.store.library import ProfilePaper, ReaderProfile
from worker.pipeline.feeds import FEED_NEW_PER_REFRESH
from worker.pipeline.neighbours import AnnParams
from worker.pipeline.rankers.choose import HYBRID_DENSE_WEIGHT
from worker.pipeline.rankers.dense import DEFAULT_ENCODER, DEFAULT_TITLE_WEIGHT
from worker.pipeline.rankers.floors import floor_for
from worker.pipeline.rankers.hybrid import HybridRanker
from worker.pipeline.rankers.tfidf import TfidfRanker
from worker.pipeline.related import IndexedPaper, RelatedIndex
from worker.pipeline.suggestions import (
    ProjectedPapers,
    candidate_rows,
    candidate_sources,
    rank_papers,
    reader_model,
    suggestion_sets,
    top_rows,
)

ROOT = Path(__file__).resolve().parent.parent
TOP = 20
NEIGHBOURHOOD = 300
TARGET_SECONDS = 2.0
TARGET_RECALL = 0.9
# Where a reader's time goes: the readers whose timed runs were slowest, this many, run again
# under cProfile, their time split among these parts of the worker's code (none calls another).
PROFILED_READERS = 3
PHASES = (
    ("classifier fits", "pipeline/suggestions.py", "_fit"),
    ("graph searches", "pipeline/neighbours.py", "search"),
    ("heaviest terms", "pipeline/suggestions.py", "best_by_terms"),
    ("scoring the candidates", "pipeline/suggestions.py", "top_rows"),
    ("reasons", "pipeline/suggestions.py", "explained"),
)


def built_index(
    papers: list[IndexedPaper],
    size: int,
    keep: bool,
    ranker: str = "tfidf",
    stand_in: bool = False,
) -> tuple[RelatedIndex, str]:
    """The index over ``papers`` as the product builds it at ``size`` papers for ``ranker``
    ("tfidf", or "hybrid" with the served encoder's vectors cached under var/bench, or with
    ``stand_in`` vectors), and how long that took (or that it was loaded); with ``keep``,
    saved and loaded under var/bench."""
    settings = get_settings()
    name = "" if ranker == "tfidf" else f"{ranker}-" + ("stand-in-" if stand_in else "")
    path = CACHE / f"suggestions-index-{name}{size}.joblib"
    if keep and path.exists():
        started = time.perf_counter()
        index = RelatedIndex.load(path)
        if index.up_to_date:
            return index, f"loaded from {path.name} in {time.perf_counter() - started:.0f} s"
        print(f"{path.name} is in an older format: building it again", flush=True)
    started = time.perf_counter()
    if ranker == "hybrid":
        index = hybrid_index(papers, settings, stand_in)
    else:
        index = RelatedIndex.build(papers, ranker)
    fitted = time.perf_counter() - started
    if size >= settings.related_ann_from:
        index.add_neighbours(
            AnnParams(
                dims=settings.related_ann_dims,
                candidates=settings.related_ann_candidates,
                ef_search=settings.related_ann_ef_search,
            )
        )
    built = f"built in {time.perf_counter() - started:.0f} s (TF-IDF {fitted:.0f} s)"
    if keep:
        index.save(path)
    return index, built


def hybrid_index(
    papers: list[IndexedPaper], settings: Settings, stand_in: bool = False
) -> RelatedIndex:
    """The served hybrid over ``papers``, its vectors encoded once into var/bench (minutes
    per ten thousand papers) and read from there by later runs; or, ``stand_in``, over
    random vectors of the same shape, for an index whose sizes and memory are the product's
    when encoding the corpus would take hours (nothing that depends on the vectors' values,
    recall or the readers' times, means anything on it)."""
    vectors = stand_in_vectors(len(papers)) if stand_in else cached_vectors(papers, DEFAULT_ENCODER)
    cached = CachedDense(vectors)
    ranker = HybridRanker(TfidfRanker(), cached, HYBRID_DENSE_WEIGHT)
    index = RelatedIndex.build(papers, ranker, settings.related_diversity, floor_for("hybrid"))
    ranker.dense = cached.served()
    return index


def stand_in_vectors(count: int) -> np.ndarray:
    """Random vectors shaped as the served dense ranker's: the text's unit vector beside the
    title's, scaled by the square root of the title's weight (``DenseRanker``)."""
    rng = np.random.default_rng(0)
    width = 384
    vectors = np.empty((count, 2 * width), dtype=np.float32)
    for start in range(0, count, 100_000):
        block = rng.standard_normal((min(100_000, count - start), 2, width), dtype=np.float32)
        block /= np.linalg.norm(block, axis=2, keepdims=True)
        block[:, 1] *= np.float32(np.sqrt(DEFAULT_TITLE_WEIGHT))
        vectors[start : start + len(block)] = block.reshape(len(block), 2 * width)
    return vectors


def make_reader(
    index: RelatedIndex, papers: list[IndexedPaper], saved: int, rng: np.random.Generator
) -> ReaderProfile:
    """A reader with two interests: half the list from each seed paper's neighbourhood."""
    chosen: list[ProfilePaper] = []
    for tag, count in (("first", saved // 2), ("second", saved - saved // 2)):
        seed = int(rng.integers(len(index)))
        found = index.ranker.scores(papers[seed], seed)
        near = np.argpartition(-found, NEIGHBOURHOOD)[:NEIGHBOURHOOD]
        for row in rng.choice(near, count, replace=False):
            paper = papers[int(row)]
            chosen.append(ProfilePaper(paper.paper_id, paper.title, paper.abstract, [tag]))
    return ReaderProfile.of_saved(chosen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000, help="indexed papers")
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument("--saved", type=int, default=50, help="papers each reader saved")
    parser.add_argument("--keep-index", action="store_true", help="save the index, or load it")
    parser.add_argument(
        "--index",
        type=Path,
        help="a saved index of --size papers of the same corpus to load instead, whatever its "
        "ranker (bench.hybrid_ann saves one under var/bench)",
    )
    parser.add_argument("--no-record", action="store_true", help="print only; leave RESULTS.md")
    parser.add_argument(
        "--ranker",
        choices=("tfidf", "hybrid"),
        default="tfidf",
        help="the index's ranker: hybrid encodes the corpus first (minutes per 10,000 papers)",
    )
    parser.add_argument(
        "--stand-in-vectors",
        action="store_true",
        help="build and keep a hybrid index over random vectors of the served shape, then stop "
        "(for bench.memory at sizes whose encoding takes hours)",
    )
    args = parser.parse_args()
    settings = get_settings()

    papers = corpus_papers(args.size)
    indexed, new = papers[: args.size], papers[args.size :]
    if args.stand_in_vectors:
        _, built = built_index(indexed, args.size, keep=True, ranker="hybrid", stand_in=True)
        print(f"index of {args.size:,} papers over stand-in vectors {built}")
        return
    if args.index:
        started = time.perf_counter()
        index = RelatedIndex.load(args.index)
        built = f"loaded from {args.index.name} in {time.perf_counter() - started:.0f} s"
        if len(index) != args.size:
            parser.error(f"{args.index} holds {len(index):,} papers, not --size {args.size:,}")
    else:
        index, built = built_index(indexed, args.size, args.keep_index, args.ranker)
    ranker = "hybrid" if isinstance(index.ranker, HybridRanker) else "tfidf"
    print(f"index of {args.size:,} papers {built}")
    load_before = " ".join(f"{value:.1f}" for value in os.getloadavg())

    start = time.perf_counter()
    shared = ProjectedPapers(index, new)
    projection = time.perf_counter() - start
    print(f"{len(new):,} new papers projected once in {projection:.2f} s", flush=True)

    rng = np.random.default_rng(0)
    profiles: list[ReaderProfile] = []
    set_times, feed_times, recalls, candidates = [], [], [], []
    # For each way of proposing candidates, the share of each reader's exact top 20 it holds.
    held: dict[str, list[float]] = {}
    for number in range(args.readers):
        profile = make_reader(index, indexed, args.saved, rng)
        profiles.append(profile)
        start = time.perf_counter()
        sets = suggestion_sets(
            index, profile, settings.suggestions_per_set, settings.suggestions_max_tags
        )
        set_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        rank_papers(index, profile, profile.saved, shared, FEED_NEW_PER_REFRESH)
        feed_times.append(time.perf_counter() - start)
        served = [item.paper_id for item in (sets[None].items or [])[:TOP]]
        model = reader_model(index, profile, profile.saved)
        assert model is not None
        rows = candidate_rows(index, model)
        candidates.append(len(rows))
        exact, _ = top_rows(index, model, np.arange(len(index)), profile, profile.saved, TOP)
        truth = {index.paper_ids[row] for row in exact}
        recalls.append(len(truth & set(served)) / len(truth))
        for name, proposed in candidate_sources(index, model).items():
            share = len(set(exact) & set(proposed.ravel().tolist())) / len(exact)
            held.setdefault(name, []).append(share)
        print(
            f"reader {number}: sets {set_times[-1]:.2f} s ({len(sets)}), feed {feed_times[-1]:.2f}"
            f" s, {len(rows):,} candidates, recall@{TOP} vs exact {recalls[-1]:.2f}; exact top "
            f"{TOP} held by "
            + ", ".join(f"{name} {shares[-1]:.2f}" for name, shares in held.items()),
            flush=True,
        )
    load_after = " ".join(f"{value:.1f}" for value in os.getloadavg())
    total = np.array(set_times) + np.array(feed_times)
    slowest = [profiles[i] for i in np.argsort(-total, kind="stable")[:PROFILED_READERS]]
    phases = _phases_line(slowest, lambda p: _one_reader(index, p, shared, settings))
    if index.approximate_hybrid is not None:
        path = "candidates from the graph over the embeddings and the heaviest terms"
    elif index.neighbours is not None:
        path = "candidates from the graph and the heaviest terms"
    else:
        path = "every paper scored"
    classifiers = (
        "TF-IDF and dense classifiers fused"
        if ranker == "hybrid"
        else "TF-IDF classifier; the product serves the hybrid at this size, whose embeddings "
        "take hours to encode here"
    )
    body = "\n".join(
        [
            f"| papers | path | readers | saved each | sets per reader | shared projection s "
            f"(once, {len(new):,} new) | suggestions s mean | feed s mean | both s mean "
            f"| both s max | candidates mean | recall@{TOP} vs exact mean | min |",
            "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
            "| ---: |",
            f"| {args.size:,} | {path} | {args.readers} | {args.saved} | {len(sets)} "
            f"| {projection:.2f} | {np.mean(set_times):.2f} | {np.mean(feed_times):.2f} "
            f"| {total.mean():.2f} | {total.max():.2f} | {np.mean(candidates):,.0f} "
            f"| {np.mean(recalls):.3f} | {min(recalls):.2f} |",
            "",
            f"Synthetic corpus of `bench.corpus`; index of the {ranker} ranker with its "
            f"graph ({classifiers}). "
            f"Index {built}. The feed refresh projects its new papers once for all readers "
            "(shared projection); each reader's feed then costs its model, the ranking of the "
            f"projected papers and the explanation of the {FEED_NEW_PER_REFRESH} listed. "
            f"Load average (1, 5, 15 min) {load_before} before the readers, {load_after} "
            f"after. Targets: both within {TARGET_SECONDS:g} s per reader, recall@{TOP} "
            f"against the same classifier over every paper ≥ {TARGET_RECALL}. "
            f"`python -m bench.suggestions --size {args.size} --readers {args.readers} "
            f"--saved {args.saved} "
            + (f"--index {args.index}" if args.index else f"--ranker {args.ranker}")
            + "`.",
            "",
            _held_line(held, recalls),
            "",
            phases,
        ]
    )
    print(f"\n{body}")
    record("Suggestions at scale", body, wanted=not args.no_record)


def _one_reader(
    index: RelatedIndex, profile: ReaderProfile, shared: ProjectedPapers, settings: Settings
) -> None:
    """What the timed loop times for one reader: the suggestion sets, then the feed."""
    suggestion_sets(index, profile, settings.suggestions_per_set, settings.suggestions_max_tags)
    rank_papers(index, profile, profile.saved, shared, FEED_NEW_PER_REFRESH)


def _phases_line(readers: list[ReaderProfile], run: Callable[[ReaderProfile], None]) -> str:
    """Each of ``readers`` run again under cProfile, and its seconds per reader in each of
    ``PHASES`` (cProfile's own figures, which its overhead inflates a little)."""
    profiler = cProfile.Profile()
    start = time.perf_counter()
    for profile in readers:
        profiler.runcall(run, profile)
    elapsed = (time.perf_counter() - start) / len(readers)
    # (file, line, function): (primitive calls, calls, own time, cumulative time, callers)
    stats: dict[tuple[str, int, str], tuple[int, int, float, float, object]]
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    spent = dict.fromkeys([name for name, _, _ in PHASES], 0.0)
    for (file, _, function), (_, _, _, cumulative, _) in stats.items():
        for name, wanted_file, wanted_function in PHASES:
            if function == wanted_function and file.endswith(wanted_file):
                spent[name] += cumulative / len(readers)
    parts = [f"{name} {seconds:.2f}" for name, seconds in spent.items()]
    parts.append(f"the rest {max(0.0, elapsed - sum(spent.values())):.2f}")
    return (
        f"Where the time of the {len(readers)} slowest readers goes, run again one by one "
        f"under cProfile ({elapsed:.2f} s per reader so): " + ", ".join(parts) + " s."
    )


def _held_line(held: dict[str, list[float]], recalls: list[float]) -> str:
    """What share of the readers' exact top 20 each way of proposing candidates holds, on
    the mean and for the reader whose served list recalls least: where candidates go missing."""
    if not held:
        return "Every paper scored: no candidates to account for."
    worst = int(np.argmin(recalls))
    shares = "; ".join(
        f"{name} {np.mean(values):.2f} (reader {worst}: {values[worst]:.2f})"
        for name, values in held.items()
    )
    return (
        f"Share of each reader's exact top {TOP} that each way of proposing candidates holds, "
        f"on the mean (and for reader {worst}, whose recall is lowest): {shares}."
    )


if __name__ == "__main__":
    main()
