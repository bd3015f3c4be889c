"""The build that `bench.build_memory` measures, in a process of its own: the product's
``build_and_publish`` with the encoder replaced by saved vectors, each step's time and
memory written as JSON.

    python -m bench.build_memory_child <vectors.npy> <steps.json>
"""

from __future__ import annotations

import functools
import json
import math
import mmap
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from worker.context import get_context
from worker.pipeline.hybrid_search import HybridSearch
from worker.pipeline.index_files import build_and_publish
from worker.pipeline.rankers.dense import (
    DEFAULT_ENCODER,
    DEFAULT_TITLE_WEIGHT,
    DenseRanker,
    register_encoder,
)
from worker.pipeline.rankers.tfidf import TfidfRanker

MIB = 2**20
# Vectors copied at a time, each block's pages of the file dropped once copied.
BLOCK = 20_000


class Steps:
    """The build's steps in order, each with its seconds and the process's peak resident
    memory while it ran (the high-water mark, reset as it starts)."""

    def __init__(self) -> None:
        self.done: list[dict[str, Any]] = []
        self.name = ""
        self.started = 0.0

    def start(self, name: str) -> None:
        self.finish()
        Path("/proc/self/clear_refs").write_text("5")
        self.name = name
        self.started = time.perf_counter()

    def finish(self) -> None:
        if not self.name:
            return
        status = _status()
        self.done.append(
            {
                "name": self.name,
                "seconds": time.perf_counter() - self.started,
                "peak_mib": status["VmHWM"] / 1024,
                "end_mib": status["VmRSS"] / 1024,
            }
        )
        self.name = ""


class SavedVectors:
    """An encoder that hands out the saved vectors in order, as fresh arrays: the catalogue
    is read in the order the vectors were saved."""

    name = DEFAULT_ENCODER

    def __init__(self, path: Path) -> None:
        header = np.load(path, mmap_mode="r")
        self.offset = int(header.offset)
        self.shape: tuple[int, int] = (int(header.shape[0]), int(header.shape[1]))
        self.file = path.open("rb")
        self.map = mmap.mmap(self.file.fileno(), 0, access=mmap.ACCESS_READ)
        self.rows = np.frombuffer(
            self.map, dtype=header.dtype, count=header.size, offset=self.offset
        ).reshape(self.shape)
        del header
        self.next = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        raise NotImplementedError("the build encodes titled texts only")

    def encode_titled(
        self, texts: Sequence[str], title_chars: Sequence[int]
    ) -> tuple[np.ndarray, np.ndarray]:
        width = self.shape[1] // 2
        whole = np.empty((len(texts), width), dtype=np.float32)
        titles = np.empty_like(whole)
        scale = np.float32(math.sqrt(DEFAULT_TITLE_WEIGHT))
        for start in range(0, len(texts), BLOCK):
            end = min(start + BLOCK, len(texts))
            block = self.rows[self.next + start : self.next + end]
            whole[start:end] = block[:, :width]
            titles[start:end] = block[:, width:] / scale
            self._drop(self.next + start, self.next + end)
        self.next += len(texts)
        return whole, titles

    def _drop(self, first: int, end: int) -> None:
        """Let the file's pages of rows ``first`` to ``end`` go from this process."""
        row_bytes = self.shape[1] * 4
        begin = self.offset + first * row_bytes
        aligned = begin - begin % mmap.PAGESIZE
        self.map.madvise(mmap.MADV_DONTNEED, aligned, self.offset + end * row_bytes - aligned)


def _status() -> dict[str, int]:
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if value.strip().endswith("kB"):
            fields[name] = int(value.split()[0])
    return fields


def _as_step(steps: Steps, owner: type, method: str, name: str | Callable[[Any], str]) -> None:
    """Make ``owner.method`` a step of its own; what follows it counts again to the step it
    interrupted (a row of its own in the report)."""
    original: Callable[..., Any] = getattr(owner, method)

    @functools.wraps(original)
    def step(*args: Any, **kwargs: Any) -> Any:
        outer = steps.name
        steps.start(name if isinstance(name, str) else name(args[0]))
        try:
            return original(*args, **kwargs)
        finally:
            steps.start(outer)

    setattr(owner, method, step)


def _tfidf_step(ranker: TfidfRanker) -> str:
    terms = "words and two-word phrases (the explainer's)" if ranker.ngram_max > 1 else "words"
    return f"TF-IDF fit: {terms}"


def main() -> None:
    vectors, out = Path(sys.argv[1]), Path(sys.argv[2])
    saved = SavedVectors(vectors)
    register_encoder(DEFAULT_ENCODER, lambda: saved)
    steps = Steps()
    _as_step(steps, TfidfRanker, "fit", _tfidf_step)
    _as_step(steps, HybridSearch, "build", "hybrid search: graph and moments")
    _as_step(steps, DenseRanker, "fit", "dense vectors (saved, not encoded)")
    ctx = get_context()
    steps.start("start")
    build_and_publish(ctx.settings, ctx.db, ctx.redis, phase=steps.start)
    steps.finish()
    if saved.next != saved.shape[0]:
        raise SystemExit(f"the build took {saved.next:,} vectors of {saved.shape[0]:,}")
    out.write_text(json.dumps(steps.done))


if __name__ == "__main__":
    main()
