"""The one interface every related-papers ranker implements, and the paper it ranks."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

# Links and bare numbers carry no topical signal and would pollute shared terms.
_NOISE = re.compile(r"https?://\S+|www\.\S+|\b\d+(?:\.\d+)?\b")


@dataclass(frozen=True)
class IndexedPaper:
    paper_id: str
    title: str
    abstract: str

    @property
    def text(self) -> str:
        """Title and abstract, without links and numbers."""
        return _NOISE.sub(" ", f"{self.title}. {self.abstract}")


class Ranker(Protocol):
    """Fitted on one corpus snapshot; scores any paper, indexed or new, against all of it."""

    name: str

    def fit(self, papers: Sequence[IndexedPaper]) -> None: ...

    def scores(self, paper: IndexedPaper, row: int | None) -> np.ndarray:
        """Similarity of ``paper`` to every indexed paper; ``row`` is its own row if indexed."""
        ...


def zscore(values: np.ndarray) -> np.ndarray:
    """Scores on a common scale, so that rankers of different ranges can be fused."""
    spread = float(values.std())
    if spread == 0.0:
        return np.zeros_like(values)
    return (values - float(values.mean())) / spread
