"""Where the related-papers index lives, and which version every worker should use.

The index is built once and written to the data folder (shared storage when workers
run on several machines); Redis holds the name of the current file, so a worker
reloads only when a newer build has been published.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import logging
import re
import threading
from collections.abc import Callable
from pathlib import Path

from redis import Redis

from paperlens import precompute
from paperlens.settings import Settings
from paperlens.store.db import Database
from paperlens.store.papers import iter_papers
from worker.pipeline.neighbours import AnnParams
from worker.pipeline.rankers.choose import choose_ranker
from worker.pipeline.related import IndexedPaper, RelatedIndex, dense_graph_path, graph_path

log = logging.getLogger(__name__)

# Builds kept on disk: the current one and the one before, which a worker may still be
# loading when the pointer moves; older ones go (4.5 GB each at a million papers with TF-IDF).
KEPT_BUILDS = 2

# What a published build is called (see ``build_and_publish``); nothing else is loaded.
BUILD_NAME = re.compile(r"related-[0-9]{8}T[0-9]{12}\.joblib")

_loaded: dict[str, RelatedIndex] = {}
_lock = threading.Lock()


def build_and_publish(
    settings: Settings,
    db: Database,
    redis: Redis,
    phase: Callable[[str], None] | None = None,
) -> str:
    """Build an index of the whole catalogue, save it, and make it the current one.

    From ``related_ann_from`` papers on, the index also holds nearest-neighbour graphs that
    propose candidates, which the ranker's exact scores then order: the hybrid's own search
    (``hybrid_search``) when the hybrid is served, else TF-IDF's; any other ranker asked
    for gives way to TF-IDF there.
    ``phase`` hears each step as it starts, in words a person waiting can read.
    """
    say = phase or (lambda _step: None)
    say("reading the catalogue")
    with db.session() as session:
        papers = [
            IndexedPaper(paper.paper_id, paper.title, paper.abstract)
            for paper in iter_papers(session)
        ]
    ranker, note = choose_ranker(settings.related_ranker)
    ann = None
    if len(papers) >= settings.related_ann_from:
        ann = AnnParams(
            dims=settings.related_ann_dims,
            candidates=settings.related_ann_candidates,
            ef_search=settings.related_ann_ef_search,
            lexical_candidates=settings.related_ann_lexical_candidates,
        )
        if ranker not in ("tfidf", "hybrid"):
            ranker, note = "tfidf", f"lexical at scale: {len(papers):,} papers use the ANN path"
    if note:
        log.warning("related papers: %s", note)
    count = len(papers)
    encoding = " (each paper through the language model)" if ranker in ("dense", "hybrid") else ""
    say(f"fitting the {ranker} ranker on {count:,} papers{encoding}")
    index = RelatedIndex.build(papers, ranker, settings.related_diversity)
    if ann is not None:
        # The graph comes last, once the papers' text is let go: at 1M papers that text
        # (about 1 GB) would otherwise be resident beside both matrices and the graph.
        del papers
        _return_freed_memory()
        say("building the nearest-neighbour graphs")
        index.add_neighbours(ann)
    say("saving the index")
    name = f"related-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%f}.joblib"
    index.save(settings.index_dir / name)
    described = f"{ranker} ({note})" if note else ranker
    precompute.publish_index(redis, name, described, count)
    remove_old_builds(settings.index_dir)
    say(f"published {name}")
    return name


def remove_old_builds(index_dir: Path, keep: int = KEPT_BUILDS) -> list[Path]:
    """Delete all but the newest ``keep`` builds (names sort by build time); the removed."""
    builds = sorted(index_dir.glob("related-*.joblib"))
    removed = builds[:-keep]
    for old in removed:
        old.unlink(missing_ok=True)
        graph_path(old).unlink(missing_ok=True)
        dense_graph_path(old).unlink(missing_ok=True)
    return removed


def published(settings: Settings, redis: Redis) -> bool:
    """Whether an index has been published and its file is there to load."""
    pointer = precompute.index_pointer(redis)
    return pointer is not None and (settings.index_dir / pointer).exists()


def current_index(settings: Settings, db: Database, redis: Redis) -> RelatedIndex:
    """The published index, loaded once per process; built first if none exists yet, or
    if the published one was built in another format (by an older release)."""
    pointer = precompute.index_pointer(redis)
    path = published_path(settings.index_dir, pointer) if pointer is not None else None
    if path is None or not path.exists():
        path = settings.index_dir / build_and_publish(settings, db, redis)
    index = _load(path)
    if not index.up_to_date:
        log.warning("related papers: %s was built in an older format; rebuilding", path.name)
        index = _load(settings.index_dir / build_and_publish(settings, db, redis))
    return index


def _load(path: Path) -> RelatedIndex:
    name = path.name
    with _lock:
        if name not in _loaded:
            _loaded.clear()
            _loaded[name] = RelatedIndex.load(path)
        return _loaded[name]


def published_path(index_dir: Path, pointer: bytes | str) -> Path | None:
    """The index file a pointer read from Redis names, if it is a build inside ``index_dir``.

    Loading an index unpickles it, which runs code: whoever could write the pointer must
    not be able to point it at any other file, through ``..``, an absolute path or a link.
    """
    name = pointer.decode(errors="replace") if isinstance(pointer, bytes) else pointer
    folder = index_dir.resolve()
    path = (folder / name).resolve()
    if path.parent != folder or not BUILD_NAME.fullmatch(path.name):
        log.error("index pointer in Redis names a file outside %s; not loaded", folder)
        return None
    return path


def _return_freed_memory() -> None:
    """Hand the heap pages that freed objects leave behind back to the system.

    glibc keeps them for reuse, so a build's resident memory would otherwise never fall
    after a phase; elsewhere than glibc this does nothing.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
