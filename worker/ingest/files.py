"""Large input files, plain or gzip, read as lines or as a byte stream from a resumable
position."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == GZIP_MAGIC


class InputFile:
    """A file's uncompressed content, as lines with the offset after each or as ``stream``.

    ``disk_position`` tells how far into the file on disk reading has got, which is
    what a progress bar over the file's size needs when the file is compressed.
    """

    def __init__(self, raw: BinaryIO, stream: BinaryIO) -> None:
        self._raw = raw
        self.stream = stream

    def disk_position(self, _position: int = 0) -> int:
        return self._raw.tell()

    def lines(self, start: int = 0, first_number: int = 0) -> Iterator[tuple[int, int, bytes]]:
        """``(line number, offset after the line, line)`` from byte ``start`` on."""
        if start:
            self.stream.seek(start)
        position, number = start, first_number
        for line in self.stream:
            position += len(line)
            number += 1
            yield number, position, line


@contextmanager
def open_input(path: Path) -> Iterator[InputFile]:
    """An ``InputFile`` over ``path``, decompressing it when it is gzip."""
    raw = path.open("rb")
    try:
        if is_gzip(path):
            with gzip.GzipFile(fileobj=raw, mode="rb") as compressed:
                yield InputFile(raw, compressed)  # type: ignore[arg-type]
        else:
            yield InputFile(raw, raw)
    finally:
        raw.close()
