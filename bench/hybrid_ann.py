"""The hybrid ranker at scale: approximate related lists against exact ones.

The index is built as the product builds it from ``related_ann_from`` papers on (the served
hybrid ranker, then ``RelatedIndex.add_neighbours``) over a synthetic corpus from
``bench.corpus``. For ``SAMPLE`` sampled papers it makes the top ten both ways, by scoring
every paper (exact, as below ``related_ann_from``: with the encoder's float32 vectors) and
from the candidates the index proposes (approximate, as served at scale: with the vectors
the graph keeps), and reports recall@10 of the approximate lists
against the exact ones, the graph's build time and the time per paper of each way, for each
candidate mix asked for.

The dense vectors come from the served encoder, which takes minutes per ten thousand papers;
they are cached under ``var/bench/`` by corpus size and encoder name, so the first run at a
size encodes (``--encode-only`` does only that, best under ``nice -n 10``) and later runs
reuse them.

    python -m bench.hybrid_ann --size 100000
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from bench.corpus import CACHE, cached
from bench.machine import record
from paperlens.settings import Settings, get_settings
from worker.jobs import PRECOMPUTE_CHUNK as CHUNK
from worker.pipeline.feeds import FEED_CANDIDATES_MAX
from worker.pipeline.hybrid_search import HybridSearch
from worker.pipeline.neighbours import AnnParams
from worker.pipeline.rankers.base import IndexedPaper
from worker.pipeline.rankers.choose import HYBRID_DENSE_WEIGHT
from worker.pipeline.rankers.dense import DEFAULT_ENCODER, DenseRanker, forget_remembered
from worker.pipeline.rankers.floors import floor_for
from worker.pipeline.rankers.hybrid import HybridRanker
from worker.pipeline.rankers.tfidf import TfidfRanker
from worker.pipeline.related import RelatedIndex

ROOT = Path(__file__).resolve().parent.parent
K = 10
SAMPLE = 1_000
# Papers of each corpus held back from its index, as the new papers a feed ranks.
FEED_NEW = FEED_CANDIDATES_MAX
# Papers encoded per step: progress is printed after each.
_ENCODE_BLOCK = 5_000


def corpus_papers(size: int) -> list[IndexedPaper]:
    """The ``size`` papers an index of that size holds, then ``FEED_NEW`` more that play the
    new papers of a feed: the cached synthetic corpus of ``size + FEED_NEW`` papers (generated
    on first use). Every benchmark that indexes ``size`` papers indexes these, so that their
    vectors are encoded once for all of them (hours at a million papers)."""
    path = cached(size + FEED_NEW)
    with path.open(encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    return [IndexedPaper(f"arxiv:{i}", r["title"], r["abstract"]) for i, r in enumerate(records)]


def load_papers(size: int) -> list[IndexedPaper]:
    """The ``size`` papers an index of that size holds (see ``corpus_papers``)."""
    return corpus_papers(size)[:size]


def vectors_path(size: int, encoder_name: str) -> Path:
    return CACHE / f"vectors-{size}-{encoder_name}.npy"


def cached_vectors(
    papers: Sequence[IndexedPaper], encoder_name: str, path: Path | None = None
) -> np.ndarray:
    """The dense ranker's vectors of ``papers``, encoded once and then read from ``path``
    (by default this benchmark's cache for a corpus of that size).

    Encoded a block at a time, each block saved as it is done, so that a run stopped
    part-way (a hundred thousand papers take hours on a busy machine) resumes there.
    """
    path = path or vectors_path(len(papers), encoder_name)
    if path.exists():
        return _mapped(path)
    ranker = DenseRanker(encoder_name)
    blocks = []
    started = time.perf_counter()
    encoded = 0
    for first in range(0, len(papers), _ENCODE_BLOCK):
        part = path.with_suffix(f".{first}.npy")
        if not part.exists():
            vectors = ranker.embed(papers[first : first + _ENCODE_BLOCK])
            np.save(part.with_suffix(".partial.npy"), vectors)
            part.with_suffix(".partial.npy").replace(part)
            encoded += len(vectors)
        blocks.append(part)
        rate = encoded / (time.perf_counter() - started)
        done = min(first + _ENCODE_BLOCK, len(papers))
        print(f"{done:,} of {len(papers):,} papers encoded ({rate:.0f}/s)", flush=True)
    whole = np.vstack([np.load(block) for block in blocks]).astype(np.float32)
    np.save(path.with_suffix(".partial.npy"), whole)
    path.with_suffix(".partial.npy").replace(path)
    for block in blocks:
        block.unlink()
    return _mapped(path)


def _mapped(path: Path) -> np.ndarray:
    vectors: np.ndarray = np.load(path, mmap_mode="r")
    return vectors


class CachedDense(DenseRanker):
    """The served dense ranker, fitted from the cache instead of encoding the corpus again.

    Only for the fit: ``served`` gives the index the plain ranker back, so that the saved
    index holds what the product's does (and loads without this module).
    """

    def __init__(self, vectors: np.ndarray) -> None:
        super().__init__(DEFAULT_ENCODER)
        self.cached = vectors

    def fit(self, papers: Sequence[IndexedPaper]) -> None:
        assert len(papers) == len(self.cached)
        self.embeddings = np.asarray(self.cached, dtype=np.float32)

    def served(self) -> DenseRanker:
        plain = DenseRanker(self.encoder_name, self.title_weight)
        plain.embeddings = self.embeddings
        return plain


@dataclass(frozen=True)
class Mix:
    """How many candidates each stage proposes, the graph's search breadth, and how many
    inverted-list entries the lexical stage reads per paper."""

    dense: int
    lexical: int
    ef_search: int
    postings: int

    def label(self) -> str:
        stages = f"graph {self.dense}" + (f" + TF-IDF {self.lexical}" if self.lexical else "")
        read = f", {self.postings:,} entries read" if self.lexical else ""
        return f"{stages}, efSearch {self.ef_search}{read}"


# Dense-only and dense + lexical, at a few depths and reading budgets (the served default is
# measured last).
MIXES = (
    Mix(100, 0, 128, 0),
    Mix(200, 0, 256, 0),
    Mix(400, 0, 512, 0),
    Mix(100, 100, 128, 500_000),
    Mix(200, 100, 256, 100_000),
    Mix(200, 100, 256, 250_000),
    Mix(200, 100, 256, 1_000_000),
    Mix(200, 100, 256, 10**9),
    Mix(200, 200, 256, 500_000),
    Mix(400, 200, 512, 500_000),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hybrid_ann")
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--encode-only", action="store_true", help="fill the vector cache only")
    parser.add_argument(
        "--reuse-index",
        action="store_true",
        help="load the index an earlier run saved for this size instead of building it",
    )
    parser.add_argument(
        "--no-mixes", action="store_true", help="the served lists only, not the candidate mixes"
    )
    parser.add_argument(
        "--build-only",
        action="store_true",
        help="build and save the index, then stop (for bench.memory and bench.suggestions)",
    )
    parser.add_argument("--no-record", action="store_true", help="print only; leave RESULTS.md")
    args = parser.parse_args(argv)
    papers = load_papers(args.size)
    vectors = cached_vectors(papers, DEFAULT_ENCODER)
    if args.encode_only:
        return 0
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    settings = get_settings()
    path = CACHE / f"hybrid-ann-{args.size}" / "related-bench.joblib"
    if args.reuse_index and path.exists():
        built = "Index built by an earlier run of this benchmark (same code and corpus), loaded"
    else:
        built = _build(papers, vectors, settings, path)
    if args.build_only:
        print(f"{built}; saved at {path}.")
        return 0
    sizes = {f.name: f.stat().st_size for f in path.parent.glob("related-bench.*")}
    index = RelatedIndex.load(path)  # memory-mapped, as every worker loads it
    search = index.approximate_hybrid
    assert search is not None
    # Searched as workers search it: with the settings' search parameters, a reused index
    # included.
    index.search_as(AnnParams.of(settings))
    kept = search.params
    served = Mix(kept.candidates, kept.lexical_candidates, kept.ef_search, kept.lexical_postings)
    rng = np.random.default_rng(0)
    picked = np.sort(rng.choice(len(papers), min(SAMPLE, len(papers)), replace=False))
    sample = [papers[int(i)] for i in picked]
    k = settings.related_k
    # The served lists first, printed as soon as they are known: at a million papers the
    # candidate mixes below take a good part of an hour.
    exact_lists, exact_s = _lists(index, sample, k, exact=vectors)
    served_lists, served_s = _lists(index, sample, k, exact=None)
    _, remembered_s = _lists(index, sample, k, exact=None, forget=False)
    served_line = (
        f"Served lists (top {k}: floor, duplicates dropped, reasons): recall@{k} against "
        f"exact lists {recall(served_lists, exact_lists):.3f} (exact lists hold "
        f"{sum(len(found) for found in exact_lists) / len(exact_lists):.1f} papers on "
        f"average); {served_s * 1000:.1f} ms per paper, exact {exact_s * 1000:.1f} ms. "
        f"The same served lists again, their reasons' sentences remembered from the first "
        f"time: {remembered_s * 1000:.1f} ms per paper; the difference is what encoding the "
        "sentences the reasons quote costs."
    )
    print(served_line, flush=True)
    mixes = [] if args.no_mixes else _mixes(index, search, sample, vectors, settings, served)
    load_after = Path("/proc/loadavg").read_text().split()[:3]
    report = "\n".join(
        [
            f"{args.size:,} synthetic papers (`bench.corpus`), dense vectors of the served encoder "
            f"({DEFAULT_ENCODER}, cached). {built}; files: "
            + ", ".join(f"{name} {size / 2**20:,.0f} MiB" for name, size in sorted(sizes.items()))
            + f". {len(sample):,} sampled papers, in chunks of {CHUNK}, from the loaded "
            "(memory-mapped) index. Load average (1, 5, 15 min) before "
            f"{' '.join(load_before)}, after {' '.join(load_after)}: times are taken under load; "
            "speed-ups are measured side by side in one run.",
            "",
            served_line,
            *mixes,
        ]
    )
    print(report)
    record("Hybrid related lists at scale", report, wanted=not args.no_record)
    return 0


def _build(
    papers: Sequence[IndexedPaper], vectors: np.ndarray, settings: Settings, path: Path
) -> str:
    """Build the index as the product does at this size, save it at ``path``, and say how
    long each part took."""
    started = time.perf_counter()
    cached = CachedDense(vectors)
    ranker = HybridRanker(TfidfRanker(), cached, HYBRID_DENSE_WEIGHT)
    index = RelatedIndex.build(papers, ranker, settings.related_diversity, floor_for("hybrid"))
    ranker.dense = cached.served()
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    index.add_neighbours(AnnParams.of(settings))
    graphs_s = time.perf_counter() - started
    index.save(path)
    # This process's peak: an upper bound of the product's build, which lets the papers'
    # text go before the graphs (``index_files.build_and_publish``) where this keeps it.
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return (
        f"Index built as the product builds it at this size: hybrid fit {fit_s:.1f} s without "
        f"encoding, then `add_neighbours` (dense HNSW graph, inverted lists, dense and lexical "
        f"moments) {graphs_s:.1f} s; peak resident memory of the building process "
        f"{peak_mib:,.0f} MiB, the papers' text included"
    )


def _mixes(
    index: RelatedIndex,
    search: HybridSearch,
    sample: Sequence[IndexedPaper],
    vectors: np.ndarray,
    settings: Settings,
    served: Mix,
) -> list[str]:
    """The report's table of candidate mixes: each one's recall@k of its top candidates
    against scoring every paper (with the float32 ``vectors``), and its time."""
    k = settings.related_k
    exact_top, exact_top_s = _top(index, sample, k, exact=vectors)
    rows = []
    for mix in (*[m for m in MIXES if m != served], served):
        search.graph.params = _params(settings, mix)
        found, seconds = _top(index, sample, k, exact=None)
        rows.append(
            f"| {mix.label()}{' (served)' if mix == served else ''} "
            f"| {recall(found, exact_top):.3f} | {seconds * 1000:.1f} "
            f"| {exact_top_s / seconds:.1f} |"
        )
        print(rows[-1], flush=True)
    return [
        "",
        f"Candidate mixes: recall@{k} of the top {k} candidates (exact hybrid scores, floor "
        f"applied, before duplicates and reasons) against scoring every paper "
        f"({exact_top_s * 1000:.1f} ms per paper).",
        "",
        "| candidates per paper | recall@10 | ms per paper | speed-up over exact |",
        "| --- | ---: | ---: | ---: |",
        *rows,
    ]


def _params(settings: Settings, mix: Mix) -> AnnParams:
    return replace(
        AnnParams.of(settings),
        candidates=mix.dense,
        ef_search=mix.ef_search,
        lexical_candidates=mix.lexical,
        lexical_postings=max(1, mix.postings),
    )


def _top(
    index: RelatedIndex, sample: Sequence[IndexedPaper], k: int, exact: np.ndarray | None
) -> tuple[list[list[str]], float]:
    """The sample's ``k`` best candidates and the seconds per paper they took."""
    started = time.perf_counter()
    lists = []
    with _searching(index, exact):
        for first in range(0, len(sample), CHUNK):
            chunk = sample[first : first + CHUNK]
            rows = [index.row_of(paper.paper_id) for paper in chunk]
            found = index.candidates(chunk, rows, k)
            lists.extend([[index.paper_ids[row] for row in best] for best, _ in found])
    return lists, (time.perf_counter() - started) / len(sample)


def _lists(
    index: RelatedIndex,
    sample: Sequence[IndexedPaper],
    k: int,
    exact: np.ndarray | None,
    forget: bool = True,
) -> tuple[list[list[str]], float]:
    """The sample's related lists as served and the seconds per paper they took: with
    ``forget``, the reasons' sentences are read and encoded within that time, as a worker
    does, rather than remembered from an earlier pass over the same sample."""
    if forget:
        forget_remembered()
        index.explainer.forget()
    started = time.perf_counter()
    lists = []
    with _searching(index, exact):
        for first in range(0, len(sample), CHUNK):
            found = index.related_many(sample[first : first + CHUNK], k)
            lists.extend([[related.paper_id for related in each] for each in found])
    return lists, (time.perf_counter() - started) / len(sample)


@contextlib.contextmanager
def _searching(index: RelatedIndex, exact: np.ndarray | None) -> Iterator[None]:
    """With ``exact`` (every paper's float32 embedding), the index scores every paper with
    them and with its TF-IDF matrix widened to float32 once, as below ``related_ann_from``;
    without, it searches as served at scale."""
    saved = (index.hybrid_search, index.neighbours)
    assert isinstance(index.ranker, HybridRanker)
    dense, lexical = index.ranker.dense, index.ranker.lexical
    assert isinstance(dense, DenseRanker) and isinstance(lexical, TfidfRanker)
    kept = (dense.graph, dense.embeddings, lexical.matrix, lexical.half)
    if exact is not None:
        index.hybrid_search = index.neighbours = None
        dense.graph, dense.embeddings = None, exact
        lexical.matrix, lexical.half = lexical.whole(), None
    try:
        yield
    finally:
        index.hybrid_search, index.neighbours = saved
        dense.graph, dense.embeddings, lexical.matrix, lexical.half = kept


def recall(found: Sequence[Sequence[str]], truth: Sequence[Sequence[str]]) -> float:
    hits = sum(len(set(f) & set(t)) for f, t in zip(found, truth, strict=True))
    return hits / max(1, sum(len(t) for t in truth))


if __name__ == "__main__":
    raise SystemExit(main())
