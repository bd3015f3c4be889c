"""Where the related-papers index lives, and which version every worker should use.

The index is built once and written to the data folder (shared storage when workers
run on several machines); Redis holds the name of the current file, so a worker
reloads only when a newer build has been published.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from redis import Redis

from paperlens import precompute
from paperlens.heap import release_free_memory
from paperlens.settings import Settings
from paperlens.store.db import Database
from paperlens.store.papers import count_papers, iter_paper_ids, iter_papers, papers_by_ids
from worker.pipeline.neighbours import AnnParams
from worker.pipeline.rankers.choose import choose_ranker
from worker.pipeline.related import (
    IndexedPaper,
    NotExtendable,
    RelatedIndex,
    dense_graph_path,
    graph_path,
)

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
        ann = AnnParams.of(settings)
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
        release_free_memory()
        say("building the nearest-neighbour graphs")
        index.add_neighbours(ann)
    described = f"{ranker} ({note})" if note else ranker
    name = _save_and_publish(settings, redis, index, described, say)
    assert name is not None  # published whatever was current
    return name


def _save_and_publish(
    settings: Settings,
    redis: Redis,
    index: RelatedIndex,
    described: str,
    say: Callable[[str], None],
    replacing: str | None = None,
) -> str | None:
    """Save ``index`` as a new build and make it the current one; with ``replacing``, only
    if that build is still the current one once this one is saved (None else: dropped)."""
    say("saving the index")
    name = f"related-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%f}.joblib"
    path = settings.index_dir / name
    index.save(path)
    if replacing is not None and precompute.index_pointer(redis) != replacing:
        say("another build was published meanwhile; this one is dropped")
        for written in (path, graph_path(path), dense_graph_path(path)):
            written.unlink(missing_ok=True)
        return None
    precompute.publish_index(redis, name, described, len(index))
    remove_old_builds(settings.index_dir)
    say(f"published {name}")
    return name


@dataclass(frozen=True)
class IndexUpdate:
    """What ``update_and_publish`` did: the build it published (None: nothing to add), the
    papers it added to the index before, or ``refitted`` when it built a new one instead,
    in which every paper's list may have changed."""

    published: str | None
    added: list[str]
    refitted: bool


def update_and_publish(
    settings: Settings,
    db: Database,
    redis: Redis,
    phase: Callable[[str], None] | None = None,
) -> IndexUpdate:
    """Take the catalogue's papers that the published index lacks into a new build.

    Adding them (``RelatedIndex.extend``) reads only the new papers; a new fit reads them
    all. The update fits anew when the papers added since
    the last fit would pass ``index_refit_growth`` of those fitted (the spaces would have
    aged: new terms uncounted), when the catalogue crosses ``related_ann_from`` (the index's
    kind changes) or when the published index is in an older format. Without a published
    index it does nothing. Its build is published only if no other was meanwhile.
    """
    say = phase or (lambda _step: None)
    with db.session() as session:
        if not count_papers(session):
            return IndexUpdate(None, [], refitted=False)
    pointer = precompute.index_pointer(redis)
    path = published_path(settings.index_dir, pointer) if pointer is not None else None
    if path is None or not path.exists():
        # The first index is a precompute's (``make run`` asks for one), which enriches every
        # paper once; an update building it too would enrich them all a second time.
        say("no index published yet: a precompute builds the first")
        return IndexUpdate(None, [], refitted=False)
    if not _load(path).up_to_date:
        return IndexUpdate(build_and_publish(settings, db, redis, phase), [], refitted=True)
    current = _load(path)
    say("finding the papers the index lacks")
    with db.session() as session:
        missing = [
            paper_id for paper_id in iter_paper_ids(session) if current.row_of(paper_id) is None
        ]
    if not missing:
        return IndexUpdate(None, [], refitted=False)
    fitted = current.papers_fitted
    total = len(current) + len(missing)
    has_graphs = current.neighbours is not None or current.approximate_hybrid is not None
    aged = total - fitted > settings.index_refit_growth * fitted
    if aged or has_graphs != (total >= settings.related_ann_from):
        return IndexUpdate(build_and_publish(settings, db, redis, phase), [], refitted=True)
    with db.session() as session:
        found = papers_by_ids(session, missing)
        papers = [
            IndexedPaper(row.paper_id, row.title, row.abstract)
            for row in (found[paper_id] for paper_id in missing if paper_id in found)
        ]
    say(f"adding {len(papers):,} papers to the index of {len(current):,}")
    index = RelatedIndex.load(path, writable=True)
    try:
        index.extend(papers)
    except NotExtendable as error:
        log.warning("related papers: %s; fitting a new index", error)
        return IndexUpdate(build_and_publish(settings, db, redis, phase), [], refitted=True)
    described = precompute.index_ranker(redis) or index.ranker_name
    name = _save_and_publish(settings, redis, index, described, say, replacing=pointer)
    added = [paper.paper_id for paper in papers] if name is not None else []
    return IndexUpdate(name, added, refitted=False)


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
    """The published index, loaded once per process and searched with the settings'
    search parameters; built first if none exists yet, or if the published one was built
    in another format (by an older release)."""
    pointer = precompute.index_pointer(redis)
    path = published_path(settings.index_dir, pointer) if pointer is not None else None
    if path is None or not path.exists():
        path = settings.index_dir / build_and_publish(settings, db, redis)
    index = _load(path)
    if not index.up_to_date:
        log.warning("related papers: %s was built in an older format; rebuilding", path.name)
        index = _load(settings.index_dir / build_and_publish(settings, db, redis))
    index.search_as(AnnParams.of(settings))
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
