"""One zlib stream (RFC 1950, HTTP's ``Content-Encoding: deflate``) put together from pieces:
JSON text, sent in stored (uncompressed) deflate blocks, and documents whose deflate data was
compressed when they were stored (``enrichments.deflate_part``), copied in without inflating.

This works because every piece starts and ends on a byte boundary, none is marked final, and
none refers back to bytes before its start (each document was compressed on its own); the
stream's Adler-32 is combined from the pieces' checksums and lengths.
"""

from __future__ import annotations

import struct
import zlib

from paperlens.enrichments import FINAL_BLOCK, DeflatePart

# CMF (deflate, 32 KiB window) and FLG (default level, check bits), as zlib writes them.
ZLIB_HEADER = b"\x78\x9c"
# The largest stored block (its length field has 16 bits).
STORED_BLOCK_MAX_BYTES = 0xFFFF
_ADLER_BASE = 65521
# A stored block's header: BFINAL 0 and BTYPE 00 (stored) padded to the byte, LEN, NLEN.
_STORED_BLOCK = struct.Struct("<BHH")


def adler32_combine(first: int, second: int, second_length: int) -> int:
    """The Adler-32 of two byte strings one after the other, from each one's checksum.

    The low sums add up (each started at 1, so one 1 is taken off); the high sum of the second
    string counted its bytes from 1, so it gains ``(low sum of the first - 1)`` per byte.
    """
    low = ((first & 0xFFFF) + (second & 0xFFFF) - 1) % _ADLER_BASE
    high = ((first >> 16) + (second >> 16) + second_length * ((first & 0xFFFF) - 1)) % _ADLER_BASE
    return (high << 16) | low


class DeflateStream:
    """Collects pieces in order; ``finish`` returns the whole stream."""

    def __init__(self) -> None:
        self._parts: list[bytes | memoryview] = [ZLIB_HEADER]
        self._text: list[bytes] = []
        self._adler = 1

    def text(self, data: bytes) -> None:
        """Bytes to send as they are (consecutive calls share stored blocks)."""
        self._text.append(data)

    def compressed(self, part: DeflatePart, before: bytes = b"") -> None:
        """A document's deflate data, after the text ``before`` (which is the same as one
        more ``text`` call first: a batch answer has text before each of its documents)."""
        if before:
            self._text.append(before)
        self._flush_text()
        self._parts.append(part.data)
        self._adler = adler32_combine(self._adler, part.adler32, part.length)

    def finish(self) -> bytes:
        self._flush_text()
        self._parts.append(FINAL_BLOCK)
        self._parts.append(struct.pack(">I", self._adler))
        return b"".join(self._parts)

    def _flush_text(self) -> None:
        pending = self._text
        if not pending:
            return
        data = pending[0] if len(pending) == 1 else b"".join(pending)
        pending.clear()
        self._adler = zlib.adler32(data, self._adler)
        size = len(data)
        if size <= STORED_BLOCK_MAX_BYTES:  # the text between two documents always is
            self._parts += (_STORED_BLOCK.pack(0, size, size ^ 0xFFFF), data)
            return
        for start in range(0, size, STORED_BLOCK_MAX_BYTES):
            chunk = data[start : start + STORED_BLOCK_MAX_BYTES]
            self._parts += (_STORED_BLOCK.pack(0, len(chunk), len(chunk) ^ 0xFFFF), chunk)
