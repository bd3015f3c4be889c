"""Strings kept in flat arrays, so that a saved index maps them instead of unpickling them.

A list of a million titles, a dict from a million paper ids to rows or a vocabulary of a
million terms unpickles into tens of millions of Python objects, built again by every
worker that loads the index and private to it. Stored as one UTF-8 byte array with its
offsets (and, to look strings up, a hash table of rows), the same data is a few arrays
that ``joblib.load(..., mmap_mode="r")`` maps: workers on one machine share one copy
through the page cache, and a worker holds only the pages it reads.
"""

from __future__ import annotations

import operator
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, SupportsIndex, overload

import numpy as np

# Slots per string in the lookup table, at least: a table at most half full keeps the
# probes of a lookup short.
_SLOTS_PER_STRING = 2


class PackedStrings(Sequence[str]):
    """An immutable sequence of strings in two arrays: their UTF-8 bytes end to end, and
    where each one starts. With ``lookup``, ``find`` also gives a string's position."""

    def __init__(self, strings: Iterable[str], lookup: bool = False) -> None:
        encoded = [text.encode() for text in strings]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(key) for key in encoded], out=offsets[1:])
        data = np.frombuffer(b"".join(encoded), dtype=np.uint8).copy()
        slots = _table(encoded) if lookup else None
        self.__setstate__({"data": data, "offsets": offsets, "slots": slots})

    def __getstate__(self) -> dict[str, Any]:
        """The arrays alone: the views ``__setstate__`` makes of them are not saved."""
        return {"data": self.data, "offsets": self.offsets, "slots": self.slots}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.data: np.ndarray = state["data"]
        self.offsets: np.ndarray = state["offsets"]
        self.slots: np.ndarray | None = state["slots"]
        # Memoryviews index and slice several times faster than (memory-mapped) arrays.
        self._bytes = np.ascontiguousarray(self.data).data
        self._starts = np.ascontiguousarray(self.offsets).data
        self._slots = np.ascontiguousarray(self.slots).data if self.slots is not None else None

    def __len__(self) -> int:
        return len(self._starts) - 1

    @overload
    def __getitem__(self, position: SupportsIndex) -> str: ...

    @overload
    def __getitem__(self, position: slice) -> list[str]: ...

    def __getitem__(self, position: SupportsIndex | slice) -> str | list[str]:
        if isinstance(position, slice):
            return [self._at(i) for i in range(*position.indices(len(self)))]
        at = operator.index(position)
        if at < 0:
            at += len(self)
        if not 0 <= at < len(self):
            raise IndexError("string position out of range")
        return self._at(at)

    def _at(self, position: int) -> str:
        return str(self._bytes[self._starts[position] : self._starts[position + 1]], "utf-8")

    def __iter__(self) -> Iterator[str]:
        for position in range(len(self)):
            yield self._at(position)

    def find(self, text: str) -> int | None:
        """The last position holding ``text`` (as a dict built from the strings in order
        would map it), or None; needs ``lookup``."""
        slots, starts, data = self._slots, self._starts, self._bytes  # locals: a vectorizer
        if slots is None:  # calls this once per token
            raise TypeError("these strings were packed without a lookup table")
        key = text.encode()
        mask = len(slots) - 1
        slot = zlib.crc32(key) & mask
        while (position := slots[slot]) >= 0:
            if data[starts[position] : starts[position + 1]] == key:
                return int(position)
            slot = (slot + 1) & mask
        return None


def _table(encoded: list[bytes]) -> np.ndarray:
    """Open addressing with linear probing: each string's position in the first free slot
    from its hash on; a string seen before keeps one slot, holding its last position.
    The hash is CRC-32, which every process computes alike (``hash`` of a str is salted
    per process, and the table is built by one and read by others)."""
    size = 1
    while size < _SLOTS_PER_STRING * max(1, len(encoded)):
        size *= 2
    mask = size - 1
    slots = np.full(size, -1, dtype=np.int64)
    table = slots.data
    for position, key in enumerate(encoded):
        slot = zlib.crc32(key) & mask
        while (held := table[slot]) >= 0 and encoded[held] != key:
            slot = (slot + 1) & mask
        table[slot] = position
    return slots


class PackedVocabulary(Mapping[str, int]):
    """A term-to-column mapping over packed terms, for a vectorizer's ``vocabulary_``:
    ``transform`` only looks terms up, which the packed table answers from mapped pages."""

    def __init__(self, vocabulary: Mapping[str, int]) -> None:
        terms = [term for term, _ in sorted(vocabulary.items(), key=operator.itemgetter(1))]
        if [vocabulary[term] for term in terms] != list(range(len(terms))):
            raise ValueError("a vocabulary's columns must be 0 to its size, once each")
        self.terms = PackedStrings(terms, lookup=True)

    def __getitem__(self, term: str) -> int:
        found = self.terms.find(term)
        if found is None:
            raise KeyError(term)
        return found

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and self.terms.find(term) is not None

    def __len__(self) -> int:
        return len(self.terms)

    def __iter__(self) -> Iterator[str]:
        return iter(self.terms)
