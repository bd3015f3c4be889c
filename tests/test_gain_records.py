"""What an index update's chunks record for the lists of earlier papers comes back whole to
the partition that inserts into them, and is gone once every partition is done."""

from __future__ import annotations

import numpy as np
from redis import Redis

from paperlens import keys
from worker.pipeline import gain_records

RUN = "index-update-20261207T000000000000"
PARTITIONS = 2


def _vector(seed: int) -> np.ndarray:
    found = np.random.default_rng(seed).standard_normal(384).astype(np.float32)
    return found / np.linalg.norm(found)


def _earlier_in(partition: int) -> list[str]:
    """Earlier paper ids that fall in ``partition``."""
    ids = [f"arxiv:2401.{n:05d}" for n in range(40)]
    return [i for i in ids if gain_records.partition_of(i, PARTITIONS) == partition]


def test_each_partition_gets_every_chunks_candidates_for_its_earlier_papers(redis: Redis) -> None:
    first, second = _earlier_in(0)[:2]
    other = _earlier_in(1)[0]
    gain_records.record(
        redis,
        RUN,
        "chunk-0",
        PARTITIONS,
        {first: ["arxiv:2612.00001"], other: ["arxiv:2612.00001"]},
        {(first, "arxiv:2612.00001"): "Both discuss \u201cexpert merging\u201d"},
        {},
    )
    gain_records.record(
        redis, RUN, "chunk-1", PARTITIONS, {first: ["arxiv:2612.00002"], second: []}, {}, {}
    )
    # The first chunk, run again after its worker died, records the same once more.
    gain_records.record(redis, RUN, "chunk-0", PARTITIONS, {first: ["arxiv:2612.00001"]}, {}, {})

    found = gain_records.recorded(redis, RUN, 0)

    assert found.near == {first: {"arxiv:2612.00001", "arxiv:2612.00002"}, second: set()}
    assert found.reasons == {}  # the second attempt replaced the first's record
    assert gain_records.recorded(redis, RUN, 1).near == {other: {"arxiv:2612.00001"}}


def test_sentence_vectors_reach_the_insertion_and_go_when_every_partition_is_done(
    redis: Redis,
) -> None:
    sentence = "We merge redundant experts after training"
    vectors = {sentence: _vector(1), "A second sentence of the abstract": _vector(2)}
    earlier = _earlier_in(0)[0]
    gain_records.record(
        redis,
        RUN,
        "chunk-0",
        PARTITIONS,
        {earlier: ["arxiv:2612.00001"]},
        {},
        {
            "arxiv:2612.00001": vectors,
            "arxiv:2612.00002": {},
        },
    )

    handed = gain_records.sentences_of(redis, RUN, ["arxiv:2612.00001", "arxiv:2612.00002"])

    assert set(handed) == set(vectors)
    # Kept as float16: a cosine moves by far less than the quotes' margins.
    assert float(handed[sentence] @ vectors[sentence]) > 0.9999
    gain_records.forget(redis, RUN, 0, PARTITIONS)
    assert gain_records.recorded(redis, RUN, 0).near == {}
    assert gain_records.sentences_of(redis, RUN, ["arxiv:2612.00001"])  # partition 1 needs them
    gain_records.forget(redis, RUN, 0, PARTITIONS)  # the same partition run again
    assert gain_records.sentences_of(redis, RUN, ["arxiv:2612.00001"])
    gain_records.forget(redis, RUN, 1, PARTITIONS)
    assert gain_records.sentences_of(redis, RUN, ["arxiv:2612.00001"]) == {}
    assert not redis.keys(keys.gain_candidates(RUN, 0).removesuffix("0") + "*")
