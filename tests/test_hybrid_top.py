"""The lexical stage's top ``k`` of a paper's hits: the same values as partitioning them all,
whatever their count, their order and their ties."""

from __future__ import annotations

import numpy as np
import pytest

from worker.pipeline.hybrid_search import _top


@pytest.mark.parametrize("count", [0, 5, 101, 1_009, 20_000, 250_000])
@pytest.mark.parametrize("k", [1, 11, 101])
def test_the_top_values_are_the_k_largest(count: int, k: int) -> None:
    rng = np.random.default_rng(count + k)
    # Skewed as cosines are, with ties: rounded to three decimals.
    values = np.round(rng.random(count, dtype=np.float32) ** 6, 3).astype(np.float32)
    found = _top(values, k)
    assert len(found) == min(k, count) == len(set(found.tolist()))
    wanted = np.sort(values)[::-1][: min(k, count)]
    np.testing.assert_array_equal(np.sort(values[found])[::-1], wanted)


def test_the_largest_values_are_found_wherever_they_lie() -> None:
    values = np.zeros(100_000, dtype=np.float32)
    at = [3, 17, 99_999]  # none of them on the stride the bound is read from
    values[at] = [0.5, 0.9, 0.7]
    assert sorted(_top(values, 3).tolist()) == at
