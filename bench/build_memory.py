"""Memory of building the related-papers index as the product builds it: the peak resident
memory of ``index_files.build_and_publish`` in its own process, step by step.

The catalogue is the synthetic corpus `bench.hybrid_ann` indexes at that size, ingested by
the real command into a SQLite store; the build runs in a child process against a private
Redis, with the served ranker. Only the encoder is replaced: it hands out vectors computed
earlier instead of running the model (encoding a million papers takes hours here), each
block copied into fresh memory as the model's output would be and the file's pages dropped
after it, so that the process holds what the product's would. The vectors are those
`bench.hybrid_ann` encoded for the corpus (``--vectors encoded``) or ``--vectors tiled``:
encoded vectors of 100,000 papers (``--tile-from``) repeated with a little noise. Memory
depends on the vectors' shape, not their values; the graph's build time does (random
vectors, with no neighbourhoods, make it several times slower).

Each step's peak comes from the kernel's high-water mark (``VmHWM``), reset as the step
starts (``/proc/self/clear_refs``).

    python -m bench.build_memory --size 100000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.corpus import CACHE, cached
from bench.hybrid_ann import FEED_NEW, cached_vectors, load_papers, vectors_path
from bench.machine import append_result
from bench.private_stack import private_stack
from worker.pipeline.rankers.dense import DEFAULT_ENCODER, DEFAULT_TITLE_WEIGHT

ROOT = Path(__file__).resolve().parent.parent
TARGET_GB = 8
TILE = 100_000
# Standard deviation of the noise added to each repeated vector, over its whole length.
TILE_NOISE = 0.05
WIDTH = 384
MIB = 2**20
# Steps shorter than this (a phase's name said between two others) are left out.
MIN_STEP_S = 0.05


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--vectors", choices=("encoded", "tiled"), default="encoded")
    parser.add_argument(
        "--tile-from",
        type=Path,
        default=vectors_path(TILE, DEFAULT_ENCODER),
        help="encoded vectors of 100,000 papers to repeat (--vectors tiled)",
    )
    parser.add_argument("--no-record", action="store_true", help="print only; leave RESULTS.md")
    args = parser.parse_args(argv)
    if args.vectors == "encoded":
        vectors = _encoded(args.size)
        origin = "the vectors `bench.hybrid_ann` encoded for these papers"
    else:
        if args.tile_from == vectors_path(TILE, DEFAULT_ENCODER):
            _encoded(TILE)  # encoded on first use, as `bench.hybrid_ann` would
        vectors = _tiled(args.size, args.tile_from)
        origin = (
            f"stand-in vectors: {TILE:,} encoded papers' vectors ({args.tile_from.name}) "
            f"repeated, with noise of {TILE_NOISE} over each vector's length"
        )
    steps, seconds = _measure(args.size, vectors)
    report = _report(args.size, origin, steps, seconds)
    print(report, flush=True)
    if not args.no_record:
        append_result("Index build memory", report)
    return 0


def _encoded(size: int) -> Path:
    path = vectors_path(size, DEFAULT_ENCODER)
    cached_vectors(load_papers(size), DEFAULT_ENCODER, path)  # encodes them if missing
    return path


def _tiled(size: int, source_path: Path) -> Path:
    """``size`` vectors in the dense ranker's layout (the text's unit vector, then the
    title's scaled by the square root of its weight): ``source_path``'s repeated, each copy
    after the first moved by noise and made unit again."""
    path = CACHE / f"build-memory-tiled-{size}.npy"
    if path.exists():
        return path
    source = np.load(source_path, mmap_mode="r")
    partial = path.with_suffix(".partial.npy")
    out = np.lib.format.open_memmap(partial, "w+", np.float32, (size, source.shape[1]))
    rng = np.random.default_rng(0)
    title_scale = np.float32(np.sqrt(DEFAULT_TITLE_WEIGHT))
    for start in range(0, size, len(source)):
        block = np.array(source[: min(len(source), size - start)], dtype=np.float32)
        if start:
            block += rng.normal(0, TILE_NOISE / np.sqrt(WIDTH), block.shape).astype(np.float32)
            for part in (slice(0, WIDTH), slice(WIDTH, 2 * WIDTH)):
                block[:, part] /= np.linalg.norm(block[:, part], axis=1, keepdims=True)
            block[:, WIDTH:] *= title_scale
        out[start : start + len(block)] = block
    out.flush()
    del out
    partial.replace(path)
    return path


def _measure(size: int, vectors: Path) -> tuple[list[dict[str, Any]], float]:
    """Each step of one build: its name, seconds, and peak and final resident MiB."""
    with private_stack("plbuildmem-") as stack:
        catalogue = stack.work / "catalogue.jsonl"
        with (
            cached(size + FEED_NEW).open(encoding="utf-8") as source,
            catalogue.open("w", encoding="utf-8") as target,
        ):
            for _, line in zip(range(size), source, strict=False):
                target.write(line)
        subprocess.run(
            [sys.executable, "-m", "cli.main", "ingest", "arxiv-snapshot", str(catalogue)],
            env=stack.env,
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        out = stack.work / "steps.json"
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bench.build_memory_child", str(vectors), str(out)],
            env=stack.env,
            cwd=ROOT,
            check=True,
        )
        seconds = time.perf_counter() - started
        steps: list[dict[str, Any]] = json.loads(out.read_text())
        return steps, seconds


def _report(size: int, origin: str, steps: list[dict[str, Any]], seconds: float) -> str:
    peak = max(step["peak_mib"] for step in steps)
    verdict = "met" if peak * MIB <= TARGET_GB * 10**9 else "MISSED"
    lines = [
        f"Target: building the index of 1M papers ≤ {TARGET_GB} GB of resident memory.",
        "",
        f"{size:,} synthetic papers (`bench.corpus`) ingested into SQLite; "
        "`index_files.build_and_publish` in its own process, the served ranker; the encoder's "
        f"output replaced by {origin}. Whole build {seconds:,.0f} s without encoding.",
        "",
        "| step | s | peak resident MiB | resident at its end MiB |",
        "| --- | ---: | ---: | ---: |",
    ]
    for step in steps:
        if step["seconds"] < MIN_STEP_S:
            continue
        lines.append(
            f"| {step['name']} | {step['seconds']:,.1f} | {step['peak_mib']:,.0f} | "
            f"{step['end_mib']:,.0f} |"
        )
    lines += [
        "",
        f"Peak of the whole build: **{peak:,.0f} MiB** ({peak * MIB / 10**9:.2f} GB): "
        + (verdict if size >= 1_000_000 else "not judged: the target is for 1M papers")
        + ".",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
