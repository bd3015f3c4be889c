"""``python -m bench.encode``: papers per second of the served encoder and of the options
measured against it, with the CSFCube quality of those that change the vectors.

The shared machine's speed drifts with other people's work, so one figure alone says
little: every configuration here is timed in the same run, on the same CSFCube papers, in
interleaved rounds (each keeps its best round, so a burst of load hurts all alike), and
beside its wall-clock speed each row gives its papers per CPU-second, which other work on
the machine disturbs far less. A paper is encoded as the served ranker encodes it
(``DenseRanker.embed``: whole text and title), on one thread and on
``PAPERLENS_ENCODE_THREADS`` threads. The baseline is the served encoder: a run per paper
for the text and a second one for the title alone.

Options that give other vectors are scored on CSFCube as the served hybrid (pool NDCG@20,
fold1_dev and fold1_test); those meant to give the same vectors report their largest
difference from the served ones instead (quality is then the served one's).
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bench import machine
from bench.quality import csfcube
from bench.quality.evaluate import pool_ndcg
from paperlens.settings import PROJECT_ROOT, Settings, get_settings
from worker.pipeline.rankers.base import IndexedPaper
from worker.pipeline.rankers.bert_graph import EMBEDDING, TOKEN_STATES
from worker.pipeline.rankers.choose import HYBRID_DENSE_WEIGHT
from worker.pipeline.rankers.dense import (
    DEFAULT_TITLE_WEIGHT,
    SERVED_MAX_TOKENS,
    DenseRanker,
    register_encoder,
)
from worker.pipeline.rankers.hybrid import HybridRanker
from worker.pipeline.rankers.onnx_encoder import (
    DIMENSIONS,
    SERVED_QUANTISATION,
    OnnxMiniLmEncoder,
    Quantisation,
    export_variant,
    exported_model,
    prefix_vector,
)
from worker.pipeline.rankers.tfidf import TfidfRanker
from worker.pipeline.related import RelatedIndex

TARGET_PAPERS_PER_SECOND = 250.0
SAMPLE = 256
ROUNDS = 3
# Where the layer-dropped graphs are written (never served).
VARIANTS = PROJECT_ROOT / "var" / "bench" / "encoders"
# Vectors closer than this to the served ones count as the same (float noise).
SAME_VECTORS = 1e-5


@dataclass(frozen=True)
class Option:
    """One way of encoding papers; the defaults are the served encoder's."""

    label: str
    # "own run": a second run per paper for the title alone (served); "text's run": the
    # mean of the title's tokens in the text's run; "none": no title vector.
    titles: str = "own run"
    flavour: Quantisation = SERVED_QUANTISATION
    layers: tuple[int, ...] | None = None
    # Papers per run, in batches of similar length padded to the longest.
    batch: int = 1
    # True: one run at a time, spread over the threads by ONNX Runtime (intra-op threads),
    # instead of one single-threaded run per thread.
    intra_op: bool = False
    optimisation: str = "ORT_ENABLE_ALL"
    thread_counts: tuple[int, ...] = field(default=(1, 0))  # 0: PAPERLENS_ENCODE_THREADS


SERVED = Option("served: title in a run of its own")
OPTIONS = (
    SERVED,
    Option("title from the text's run", titles="text's run"),
    Option("text only, no title vector", titles="none"),
    Option(
        "length-sorted batches of 8, titles from the text's run",
        titles="text's run",
        batch=8,
        thread_counts=(0,),
    ),
    Option("one session, intra-op threads", intra_op=True, thread_counts=(0,)),
    Option("graph optimisation: extended", optimisation="ORT_ENABLE_EXTENDED", thread_counts=(0,)),
    Option("int8 per tensor", flavour=Quantisation(per_channel=False), thread_counts=(0,)),
    Option("uint8 weights", flavour=Quantisation(weight_type="QUInt8"), thread_counts=(0,)),
    Option(
        "int8 matrix products only", flavour=Quantisation(operators=("MatMul",)), thread_counts=(0,)
    ),
    Option("3 of 6 layers (0, 2, 4), not distilled", layers=(0, 2, 4)),
)


class BenchEncoder(OnnxMiniLmEncoder):
    """The served encoder with one option changed."""

    def __init__(self, option: Option, threads: int) -> None:
        import onnxruntime

        super().__init__(option.label, True, SERVED_MAX_TOKENS, threads, option.flavour)
        self.option = option
        if (
            option.layers is None
            and not option.intra_op
            and option.optimisation == "ORT_ENABLE_ALL"
        ):
            return
        path = str(exported_model(get_settings().data_path / "models", True, option.flavour))
        if option.layers is not None:
            layers = "".join(str(layer) for layer in option.layers)
            path = str(
                export_variant(
                    VARIANTS / f"layers-{layers}-{option.flavour.label}.onnx",
                    option.flavour,
                    option.layers,
                )
            )
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads if option.intra_op else 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = getattr(
            onnxruntime.GraphOptimizationLevel, option.optimisation
        )
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(
            path, options, providers=["CPUExecutionProvider"]
        )
        if option.intra_op:
            self.threads = 1

    def encode_titled(
        self, texts: Sequence[str], title_chars: Sequence[int]
    ) -> tuple[np.ndarray, np.ndarray]:
        if self.option.titles == "own run" and self.option.batch == 1:
            return super().encode_titled(texts, title_chars)
        if self.option.batch == 1:
            return self.encode_titled_in_context(texts, title_chars)
        return self._batched(texts, title_chars)

    def _batched(
        self, texts: Sequence[str], title_chars: Sequence[int]
    ) -> tuple[np.ndarray, np.ndarray]:
        from concurrent.futures import ThreadPoolExecutor

        encodings = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda row: len(encodings[row].ids))
        batches = [
            order[i : i + self.option.batch] for i in range(0, len(order), self.option.batch)
        ]

        def run(rows: list[int]) -> list[np.ndarray]:
            width = max(len(encodings[row].ids) for row in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for k, row in enumerate(rows):
                ids[k, : len(encodings[row].ids)] = encodings[row].ids
                mask[k, : len(encodings[row].ids)] = 1
            feeds = {"input_ids": ids, "attention_mask": mask}
            return [np.asarray(v) for v in self.session.run([EMBEDDING, TOKEN_STATES], feeds)]

        whole = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        titles = np.zeros_like(whole)
        with ThreadPoolExecutor(self.threads) as pool:
            for rows, (vectors, states) in zip(batches, pool.map(run, batches), strict=True):
                for k, row in enumerate(rows):
                    whole[row] = vectors[k]
                    titles[row] = prefix_vector(
                        encodings[row], title_chars[row], states[k], vectors[k]
                    )
        return whole, titles


@dataclass
class Row:
    option: Option
    threads: int
    ranker: DenseRanker
    speed: float = 0.0
    cpu_speed: float = 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.encode")
    parser.add_argument("--no-record", action="store_true", help="print only; leave RESULTS.md")
    parser.add_argument(
        "--no-quality", action="store_true", help="speed only (quality takes most of the run)"
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
    rows = [
        Row(option, count or threads, _ranker(option, count or threads))
        for option in OPTIONS
        for count in sorted({c or threads for c in option.thread_counts})
    ]
    for row in rows:
        row.ranker.embed(sample[:8])  # load and warm up
    _time(rows, sample)
    served = next(r for r in rows if r.option == SERVED).ranker.embed(sample)
    differences = {
        option: _difference(_ranker(option, threads), sample, served) for option in OPTIONS
    }
    scores: dict[Option, tuple[float, float]] = {}
    if not args.no_quality:
        for option in OPTIONS:
            if option == SERVED or differences[option] > SAME_VECTORS:
                scores[option] = _quality(cube, _ranker(option, threads))
    report = _table(rows, differences, scores, threads)
    print(report)
    machine.record("Encoding", report, wanted=not args.no_record)
    return 0


def _ranker(option: Option, threads: int) -> DenseRanker:
    """A dense ranker as served, whose encoder is this option's on ``threads`` threads."""
    name = f"bench-{option.label}-{threads}"
    register_encoder(name, lambda: BenchEncoder(option, threads))
    title_weight = 0.0 if option.titles == "none" else DEFAULT_TITLE_WEIGHT
    return DenseRanker(name, title_weight)


def _difference(ranker: DenseRanker, papers: Sequence[IndexedPaper], served: np.ndarray) -> float:
    """The largest difference of any coordinate from the served vectors (infinite when the
    vectors do not even have the same shape)."""
    vectors = ranker.embed(papers)
    return float(np.abs(vectors - served).max()) if vectors.shape == served.shape else np.inf


def _time(rows: Sequence[Row], papers: Sequence[IndexedPaper]) -> None:
    for _ in range(ROUNDS):
        for row in rows:
            cpu, start = _cpu_seconds(), time.perf_counter()
            row.ranker.embed(papers)
            row.speed = max(row.speed, len(papers) / (time.perf_counter() - start))
            row.cpu_speed = max(row.cpu_speed, len(papers) / (_cpu_seconds() - cpu))


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _quality(cube: csfcube.CsfCube, dense: DenseRanker) -> tuple[float, float]:
    """Pool NDCG@20 on fold1_dev and fold1_test of the served hybrid with this dense ranker."""
    index = RelatedIndex.build(cube.papers, HybridRanker(TfidfRanker(), dense, HYBRID_DENSE_WEIGHT))
    return pool_ndcg(cube, index, "fold1_dev"), pool_ndcg(cube, index, "fold1_test")


def _table(
    rows: Sequence[Row],
    differences: dict[Option, float],
    scores: dict[Option, tuple[float, float]],
    threads: int,
) -> str:
    baseline = next(r for r in rows if r.option == SERVED and r.threads == threads)
    lines = [
        "| encoder (int8, 64 tokens) | threads | papers/s | times the baseline "
        "| papers per CPU-second | largest difference from the served vectors "
        "| pool NDCG@20 dev | test | target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        option = row.option
        dev, test = (f"{s:.1f}" for s in scores[option]) if option in scores else ("", "")
        target = ""
        if option == SERVED and row.threads == threads:
            met = row.speed >= TARGET_PAPERS_PER_SECOND
            target = f"≥ {TARGET_PAPERS_PER_SECOND:.0f}: {'met' if met else 'MISSED'}"
        lines.append(
            f"| {option.label} | {row.threads} | {row.speed:.0f} | "
            f"{row.speed / baseline.speed:.2f} | {row.cpu_speed:.0f} | "
            f"{_shown(differences[option])} | {dev} | {test} | {target} |"
        )
    note = (
        f"\n\n{SAMPLE} CSFCube papers, best of {ROUNDS} interleaved rounds per row, all rows in "
        f"the same run; times the baseline: against the baseline on {threads} threads. Papers "
        "per CPU-second count the process's user and system time, so on an idle machine "
        f"{threads} cores would make up to {threads} times that. Quality (CSFCube, all "
        "4,205 papers, served hybrid) only for the options whose vectors differ from the "
        f"served ones by more than {SAME_VECTORS:g}, and for the served one."
    )
    return "\n".join(lines) + note


def _shown(difference: float) -> str:
    return "other shape" if difference == np.inf else f"{difference:.1e}"


if __name__ == "__main__":
    raise SystemExit(main())
