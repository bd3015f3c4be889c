"""Rankers by name, and which one ``auto`` means on this installation."""

from __future__ import annotations

import importlib.util
from typing import get_args

from paperlens.settings import RelatedRanker
from worker.pipeline.rankers.base import Ranker
from worker.pipeline.rankers.bm25 import Bm25Ranker
from worker.pipeline.rankers.tfidf import TfidfRanker

# Every ranker a setting may name, "auto" aside.
RANKERS = tuple(name for name in get_args(RelatedRanker) if name != "auto")
NEEDS_EMBEDDINGS = ("dense", "hybrid")
# The benchmark's choice (see docs/quality.md) for each kind of installation.
BEST_WITH_EMBEDDINGS = "hybrid"
BEST_LEXICAL = "tfidf"
# The hybrid's share of the dense score, tuned on CSFCube's fold1_dev only.
HYBRID_DENSE_WEIGHT = 0.8


def embeddings_available() -> bool:
    """True when the packaged model and what runs it are installed (as ``make run`` does)."""
    from worker.pipeline.rankers.dense import REQUIRED_MODULES

    return all(importlib.util.find_spec(name) is not None for name in REQUIRED_MODULES)


def choose_ranker(wanted: str) -> tuple[str, str]:
    """The ranker to build for a setting, and why it differs from what was asked, if it does."""
    if wanted != "auto" and wanted not in RANKERS:
        raise ValueError(f"unknown ranker {wanted!r}; choose auto or one of {', '.join(RANKERS)}")
    if wanted == "auto":
        wanted = BEST_WITH_EMBEDDINGS
    if wanted in NEEDS_EMBEDDINGS and not embeddings_available():
        return BEST_LEXICAL, "lexical fallback: the packaged model or ONNX Runtime is not installed"
    return wanted, ""


def make_ranker(name: str) -> Ranker:
    """A fresh, unfitted ranker of a name in ``RANKERS``."""
    if name == "tfidf":
        return TfidfRanker()
    if name == "bm25":
        return Bm25Ranker()
    if name not in NEEDS_EMBEDDINGS:
        raise ValueError(f"unknown ranker {name!r}; choose one of {', '.join(RANKERS)}")
    from worker.pipeline.rankers.dense import DenseRanker
    from worker.pipeline.rankers.hybrid import HybridRanker

    if name == "dense":
        return DenseRanker()
    return HybridRanker(TfidfRanker(), DenseRanker(), HYBRID_DENSE_WEIGHT)
