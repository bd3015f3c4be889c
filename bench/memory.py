"""Worker memory with a saved related-papers index: what each of several worker processes
holds once it has loaded the index and done a worker's work with it, and how much of that
the processes share.

Each worker is a separate Python process started as the product starts one (no fork, so
nothing is shared through copy-on-write of a parent). It loads the published index through
``index_files.current_index`` (a real Redis holds the pointer, the index folder holds the
build under a published name), then computes related lists for ``--papers`` papers in the
enrich job's chunks (``RelatedIndex.related_many``), suggestion sets and the feed ranking of
``--readers`` readers (as ``bench/suggestions.py`` makes them), giving the heap's free
memory back after each chunk and each reader as a worker does after each job
(``paperlens.heap``). With every worker still alive, the parent reads each one's
``/proc/<pid>/smaps`` and reports RSS, PSS, shared and private memory by mapping: the
index's own files, anonymous memory (Python objects, the allocator's heap, whatever FAISS
reads into memory), libraries and the rest. Each worker also reports its private anonymous
memory after each step, which says what the load puts on the heap and what the work adds.

The index is one that ``bench/suggestions.py --keep-index`` saved (built here if missing),
or any saved index given with ``--index`` (read only: hard links to its files, under a
build's name, go in var/bench/memory-<size>/).

    python -m bench.memory --size 100000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from redis import Redis
from scipy import sparse

from bench.corpus import CACHE, cached
from bench.hybrid_ann import FEED_NEW
from bench.machine import append_result
from bench.suggestions import NEIGHBOURHOOD
from paperlens import precompute
from paperlens.embedded_redis import EmbeddedRedis

# The build name the linked index is published under (``index_files.BUILD_NAME``).
PUBLISHED_NAME = "related-20000101T000000000000.joblib"
# Papers per ``related_many`` call, as the precompute's chunk jobs enrich them.
CHUNK = 200
LAST_STEP = "suggestions and feeds"
ARRAYS = "index: arrays (.joblib)"
MIB = 2**20


@dataclass
class Usage:
    """Memory of one kind of mapping in one process, in KiB as smaps gives it."""

    rss: int = 0
    pss: int = 0
    shared: int = 0
    private: int = 0

    def add(self, fields: dict[str, int]) -> None:
        self.rss += fields.get("Rss", 0)
        self.pss += fields.get("Pss", 0)
        self.shared += fields.get("Shared_Clean", 0) + fields.get("Shared_Dirty", 0)
        self.private += fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)


@dataclass
class Process:
    pid: int
    kinds: dict[str, Usage] = field(default_factory=lambda: defaultdict(Usage))

    @property
    def total(self) -> Usage:
        whole = Usage()
        for usage in self.kinds.values():
            whole.rss += usage.rss
            whole.pss += usage.pss
            whole.shared += usage.shared
            whole.private += usage.private
        return whole


def kind_of(path: str, index_dir: Path) -> str:
    """What a mapping holds, from the name smaps gives it."""
    if path.startswith(str(index_dir)) or path.endswith((".joblib", ".faiss")):
        if path.endswith(".dense.faiss"):
            return "index: dense graph (.dense.faiss)"
        if path.endswith(".faiss"):
            return "index: graph (.faiss)"
        return ARRAYS
    if path in ("", "[heap]"):
        return "anonymous (Python objects, heap, FAISS in memory)"
    if ".so" in path:
        return "libraries (.so)"
    if path.startswith("["):
        return "other ([stack], [vvar], ...)"
    return "other files"


def read_smaps(pid: int, index_dir: Path, arrays: dict[int, str]) -> Process:
    """A process's memory by kind of mapping, from ``/proc/<pid>/smaps``; a mapping of the
    index's arrays is named by the array whose data starts inside it (``arrays``: data
    address to name; joblib maps each array on its own)."""
    found = Process(pid)
    kind = ""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split(None, 5)
        if head and "-" in head[0] and not head[0].endswith(":"):
            if fields:
                found.kinds[kind].add(fields)
            kind = kind_of(head[5].strip() if len(head) > 5 else "", index_dir)
            if kind == ARRAYS:
                start, end = (int(bound, 16) for bound in head[0].split("-"))
                named = [name for at, name in arrays.items() if start <= at < end]
                kind = f"{ARRAYS}: {', '.join(named) or 'unnamed'}"
            fields = {}
        elif len(head) >= 2 and head[0].endswith(":") and head[1].isdigit():
            fields[head[0][:-1]] = int(head[1])
    if fields:
        found.kinds[kind].add(fields)
    return found


def private_anonymous_kib() -> int:
    """This process's private anonymous memory now, from ``/proc/self/smaps_rollup``."""
    fields = {}
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0])
    return fields["Anonymous"]


def corpus_papers(corpus: Path, rows: set[int]) -> dict[int, tuple[str, str]]:
    """The title and abstract of the corpus lines ``rows``, read a line at a time so that
    the worker holds only those (a worker reads its papers from the store, not all)."""
    found = {}
    with corpus.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if number in rows:
                record = json.loads(line)
                found[number] = (record["title"], record["abstract"])
    return found


def _deep_size(value: object) -> int:
    """Bytes of a list, dict or object array of strings and ints with its elements
    (elements shared with another container counted again); 0 for anything else."""
    if isinstance(value, np.ndarray) and value.dtype == object:
        return int(value.nbytes) + sum(sys.getsizeof(item) for item in value)
    if isinstance(value, list):
        return sys.getsizeof(value) + sum(sys.getsizeof(item) for item in value)
    if isinstance(value, dict):
        items = value.items()
        return sys.getsizeof(value) + sum(sys.getsizeof(k) + sys.getsizeof(v) for k, v in items)
    return 0


def heap_parts(index: Any) -> list[tuple[str, int]]:
    """The index's parts that an older format unpickled into Python objects, with their
    size on the heap in KiB (0 once they are packed arrays, which are mapped)."""
    parts = [
        ("paper ids", index.paper_ids),
        ("titles", index.titles),
        ("id-to-row dict", getattr(index, "_row", None)),
        ("ranker's vocabulary", getattr(index.ranker, "vectorizer", None)),
        ("explainer's vocabulary", index.explainer.tfidf.vectorizer),
        ("explainer's terms", index.explainer.terms),
    ]
    return [(name, _deep_size(getattr(part, "vocabulary_", part)) // 1024) for name, part in parts]


def mapped_arrays(value: object, name: str, seen: set[int]) -> Iterator[tuple[str, int]]:
    """The memory-mapped arrays reachable from ``value``, by attribute path and data
    address; containers of more than a few hundred items (an older format's strings) are
    not walked."""
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, np.memmap):
        yield name, int(value.ctypes.data)
    elif isinstance(value, dict) and len(value) <= 300:
        for key, item in value.items():
            yield from mapped_arrays(item, f"{name}[{key!r}]", seen)
    elif isinstance(value, (list, tuple)) and len(value) <= 300:
        for position, item in enumerate(value):
            yield from mapped_arrays(item, f"{name}[{position}]", seen)
    elif hasattr(value, "__dict__") and not isinstance(value, type):
        for key, item in vars(value).items():
            yield from mapped_arrays(item, f"{name}.{key}".lstrip("."), seen)


def work(corpus: Path, size: int, papers: int, readers: int, saved: int) -> Iterator[str]:
    """A worker: load the published index, do the work, say what each step left on the heap."""
    from paperlens.heap import release_free_memory
    from paperlens.settings import get_settings
    from paperlens.store.db import Database
    from paperlens.store.library import ProfilePaper, ReaderProfile
    from worker.context import get_context
    from worker.pipeline.feeds import FEED_NEW_PER_REFRESH
    from worker.pipeline.index_files import current_index
    from worker.pipeline.rankers.hybrid import HybridRanker
    from worker.pipeline.rankers.tfidf import TfidfRanker
    from worker.pipeline.related import IndexedPaper
    from worker.pipeline.suggestions import ProjectedPapers, rank_papers, suggestion_sets

    yield f"imports {private_anonymous_kib()}"
    ctx = get_context()
    settings = get_settings()
    index = current_index(ctx.settings, Database(settings.sqlalchemy_url), ctx.redis)
    yield f"index loaded {private_anonymous_kib()}"
    for name, address in mapped_arrays(index, "", set()):
        yield f"array {name} {address}"
    for name, kib in heap_parts(index):
        yield f"part {name} {kib}"

    rng = np.random.default_rng(0)
    related_rows = [int(r) for r in rng.choice(size, papers, replace=False)]
    interests: list[list[int]] = []
    for _ in range(readers * 2):
        seed = int(rng.integers(size))
        if index.neighbours is not None and isinstance(index.ranker, TfidfRanker):
            # As the product finds neighbours at this size: scoring every paper would
            # touch pages of the whole matrix that a worker's jobs do not.
            near = index.neighbours.search(index.ranker.rows(seed), NEIGHBOURHOOD)[0]
            near = near[near >= 0]
        elif index.approximate_hybrid is not None:
            # The hybrid's own search, likewise, before the similarity floor (which no paper
            # passes in an index over stand-in vectors).
            assert isinstance(index.ranker, HybridRanker)
            search = index.approximate_hybrid
            found = search.candidates(index.ranker, [IndexedPaper("", "", "")], [seed])[0][0]
            near = np.asarray(found[:NEIGHBOURHOOD])
        else:
            scores = index.ranker.scores(IndexedPaper("", "", ""), seed)
            near = np.argpartition(-scores, NEIGHBOURHOOD)[:NEIGHBOURHOOD]
        interests.append([int(r) for r in rng.choice(near, saved // 2, replace=False)])
    new_rows = range(size, size + FEED_NEW)
    texts = corpus_papers(corpus, {*related_rows, *new_rows, *(r for i in interests for r in i)})

    def paper(row: int) -> IndexedPaper:
        title, abstract = texts[row]
        return IndexedPaper(f"arxiv:{row}", title, abstract)

    for start in range(0, len(related_rows), CHUNK):
        index.related_many([paper(row) for row in related_rows[start : start + CHUNK]], 10)
        release_free_memory()  # as PaperLensWorker does after each job
    yield f"related lists {private_anonymous_kib()}"

    shared = ProjectedPapers(index, [paper(row) for row in new_rows])
    for number in range(readers):
        chosen = [
            ProfilePaper(f"arxiv:{row}", *texts[row], [tag])
            for tag, rows in (
                ("first", interests[2 * number]),
                ("second", interests[2 * number + 1]),
            )
            for row in rows
        ]
        profile = ReaderProfile.of_saved(chosen)
        suggestion_sets(index, profile, settings.suggestions_per_set, settings.suggestions_max_tags)
        rank_papers(index, profile, profile.saved, shared, FEED_NEW_PER_REFRESH)
        release_free_memory()
    yield f"{LAST_STEP} {private_anonymous_kib()}"


def repack(old: Path, new: Path) -> None:
    """Save the index at ``old``, of format 8 (its TF-IDF matrices' indices in four bytes),
    in this code's format: the same contents, as a build by this code keeps them. Saves
    rebuilding a million papers (an hour) to measure them."""
    from worker.pipeline.half_sparse import HalfSparse
    from worker.pipeline.rankers.hybrid import HybridRanker
    from worker.pipeline.rankers.tfidf import TfidfRanker
    from worker.pipeline.related import INDEX_FORMAT, RelatedIndex, dense_graph_path, graph_path

    index = joblib.load(old, mmap_mode="r")
    assert isinstance(index, RelatedIndex) and index.format == 8, "repacks format 8 only"

    def again(kept: HalfSparse) -> HalfSparse:
        fields = vars(kept)
        layout = sparse.csr_matrix if kept.by_rows else sparse.csc_matrix
        parts = (np.asarray(fields["data"], np.float32), fields["indices"], fields["indptr"])
        return HalfSparse.of(layout(parts, kept.shape))

    lexical = index.ranker.lexical if isinstance(index.ranker, HybridRanker) else index.ranker
    for tfidf in (lexical, index.explainer.tfidf):
        assert isinstance(tfidf, TfidfRanker) and tfidf.half is not None
        tfidf.half = again(tfidf.half)
    if index.lexical_columns is not None:
        columns = again(index.lexical_columns)
        index.lexical_columns = columns
        if index.approximate_hybrid is not None:
            index.approximate_hybrid.columns = columns
    if index.approximate_hybrid is not None:
        index.approximate_hybrid.load_graph(dense_graph_path(old))
    if index.neighbours is not None:
        index.neighbours.load_graph(graph_path(old))
    index.format = INDEX_FORMAT
    index.save(new)


def share_models(scratch: Path) -> None:
    """The installation's exported encoder, linked into the workers' data folder: without it
    each worker would export the model itself on its first reason, and the export's memory
    (hundreds of MiB that a worker of the product never holds) would count as the worker's."""
    from paperlens.settings import get_settings

    models = get_settings().data_path / "models"
    if models.is_dir():
        (scratch / "models").symlink_to(models.resolve(), target_is_directory=True)


def publish_links(index: Path, folder: Path) -> None:
    """Hard links to ``index`` and its graph files in ``folder``, under a build's name: the
    worker loads them as the product loads a build, and the original is never written."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("related-*"):
        old.unlink()
    target = folder / PUBLISHED_NAME
    os.link(index, target)
    for suffix in (".faiss", ".dense.faiss"):
        beside = index.with_suffix(suffix)
        if beside.exists():
            os.link(beside, target.with_suffix(suffix))


def mib(kib: int) -> str:
    return f"{kib / 1024:,.0f}"


def report(
    processes: list[Process], steps: list[list[tuple[str, int]]], parts: list[tuple[str, int]]
) -> str:
    """Markdown tables: memory by kind of mapping per worker, private anonymous memory after
    each step, and the heap that the index's object-holding parts take in one worker."""
    kinds = sorted(
        {kind for p in processes for kind in p.kinds if p.kinds[kind].rss},
        key=lambda k: (k[:5] != "index", k),
    )
    others = "".join(f" worker {n} PSS MiB |" for n in range(2, len(processes) + 1))
    rows = [
        f"| kind of mapping | worker 1 RSS MiB | PSS MiB | shared MiB | private MiB |{others}",
        "| --- | ---: | ---: | ---: | ---: |" + " ---: |" * (len(processes) - 1),
    ]
    for kind in [*kinds, "total"]:
        usages = [p.total if kind == "total" else p.kinds.get(kind, Usage()) for p in processes]
        first = usages[0]
        name = f"**{kind}**" if kind == "total" else kind
        rows.append(
            f"| {name} | {mib(first.rss)} | {mib(first.pss)} | {mib(first.shared)} "
            f"| {mib(first.private)} |" + "".join(f" {mib(u.pss)} |" for u in usages[1:])
        )
    names = " | ".join(name for name, _ in steps[0])
    rows += ["", f"| worker | private anonymous MiB after: {names} |"]
    rows.append("| ---: |" + " ---: |" * len(steps[0]))
    for number, found in enumerate(steps, 1):
        rows.append(f"| {number} | " + " | ".join(mib(kib) for _, kib in found) + " |")
    rows += ["", "| part of the index (worker 1) | on the heap MiB |", "| --- | ---: |"]
    rows += [f"| {name} | {mib(kib)} |" for name, kib in parts]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000, help="indexed papers")
    parser.add_argument("--index", type=Path, help="a saved index (default: var/bench's)")
    parser.add_argument("--corpus", type=Path, help="its corpus (default: var/bench's)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--papers", type=int, default=400, help="related lists per worker")
    parser.add_argument("--readers", type=int, default=5, help="readers per worker")
    parser.add_argument("--saved", type=int, default=50, help="papers each reader saved")
    parser.add_argument(
        "--repack", action="store_true", help="measure --index saved again in this format"
    )
    parser.add_argument("--note", default="", help="what the run measures, for RESULTS.md")
    parser.add_argument("--no-record", action="store_true", help="print only; leave RESULTS.md")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    corpus = args.corpus or cached(args.size + FEED_NEW)
    if args.worker:
        for step in work(corpus, args.size, args.papers, args.readers, args.saved):
            print(step, flush=True)
        sys.stdin.read()  # stay alive until the parent has read this process's smaps
        return

    index = args.index or CACHE / f"suggestions-index-{args.size}.joblib"
    if args.repack:
        packed = CACHE / f"repacked-index-{args.size}.joblib"
        if not packed.exists():
            repack(index, packed)
        index = packed
    if not index.exists():
        from bench.hybrid_ann import load_papers
        from bench.suggestions import built_index

        built_index(load_papers(args.size), args.size, keep=True)
    folder = CACHE / f"memory-{args.size}"
    publish_links(index.resolve(), folder)

    with tempfile.TemporaryDirectory(prefix="paperlens-memory-") as scratch:
        share_models(Path(scratch))
        server = EmbeddedRedis(Path(scratch) / "redis", persist=False)
        with server:
            precompute.publish_index(Redis.from_url(server.url), PUBLISHED_NAME, "tfidf", args.size)
            environment = {
                **os.environ,
                "PAPERLENS_REDIS_URL": server.url,
                "PAPERLENS_SHARED_INDEX_DIR": str(folder),
                "PAPERLENS_DATA_DIR": scratch,
            }
            command = [sys.executable, "-m", "bench.memory", "--worker", "--size", str(args.size)]
            command += ["--corpus", str(corpus), "--papers", str(args.papers)]
            command += ["--readers", str(args.readers), "--saved", str(args.saved)]
            workers = [
                subprocess.Popen(
                    command,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    env=environment,
                    text=True,
                )
                for _ in range(args.workers)
            ]
            steps: list[list[tuple[str, int]]] = []
            parts: list[tuple[str, int]] = []
            arrays: dict[int, dict[int, str]] = {}
            for process in workers:
                assert process.stdout is not None
                found = []
                for line in process.stdout:
                    name, kib = line.rsplit(" ", 1)
                    if name.startswith("array "):
                        arrays.setdefault(process.pid, {})[int(kib)] = name.removeprefix("array ")
                        continue
                    if name.startswith("part "):
                        if not steps:
                            parts.append((name.removeprefix("part "), int(kib)))
                        continue
                    found.append((name, int(kib)))
                    print(f"worker {process.pid}: {name}: {mib(int(kib))} MiB", flush=True)
                    if name == LAST_STEP:
                        break
                steps.append(found)
            measured = [read_smaps(p.pid, folder, arrays.get(p.pid, {})) for p in workers]
            for process in workers:
                assert process.stdin is not None
                process.stdin.close()
                process.wait()
    load = " ".join(f"{value:.1f}" for value in os.getloadavg())
    totals = [p.total for p in measured]
    files = sum(path.stat().st_size for path in folder.glob("related-*")) // 1024
    # Every page of the index files resident in every worker (a worker that has enriched
    # the whole catalogue has read them all): each worker's share of the files is theirs
    # divided among the workers, beside what it holds of its own.
    worst = [
        t.pss
        - sum(u.pss for kind, u in p.kinds.items() if kind.startswith("index"))
        + files // len(measured)
        for p, t in zip(measured, totals, strict=True)
    ]
    body = "\n".join(
        [
            f"{args.size:,} papers, {args.workers} workers, index `{index.name}`"
            f"{f' ({args.note})' if args.note else ''}: PSS per worker "
            + ", ".join(f"{mib(t.pss)} MiB" for t in totals)
            + "; RSS "
            + ", ".join(f"{mib(t.rss)} MiB" for t in totals)
            + f". Index files {mib(files)} MiB; with every page of them resident in every "
            "worker, PSS per worker would be " + ", ".join(f"{mib(w)} MiB" for w in worst) + ".",
            "",
            report(measured, steps, parts),
            "",
            f"Each worker loaded the index through `current_index`, made related lists for "
            f"{args.papers} papers in chunks of {CHUNK}, and suggestion sets and a feed ranking "
            f"of {FEED_NEW:,} new papers for {args.readers} readers of {args.saved} papers; "
            f"smaps read with every worker alive. Load average after {load}. "
            f"`python -m bench.memory --size {args.size}"
            f"{f' --index {args.index}' if args.index else ''}`.",
        ]
    )
    print(f"\n{body}")
    if not args.no_record:
        append_result("Memory", body)


if __name__ == "__main__":
    main()
