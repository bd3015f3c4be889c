"""Batch answers spliced from stored compressed documents decode as one zlib stream."""

from __future__ import annotations

import gzip
import random
import zlib

from paperlens import enrichments
from server.deflate_stream import DeflateStream, adler32_combine


def test_adler32_of_two_strings_combines_from_their_checksums() -> None:
    rng = random.Random(7)
    for length in (0, 1, 5551, 65521, 65522, 300_000):
        first = rng.randbytes(rng.randrange(0, 70_000))
        second = rng.randbytes(length)
        combined = adler32_combine(zlib.adler32(first), zlib.adler32(second), len(second))
        assert combined == zlib.adler32(first + second), length


def test_stream_of_text_and_stored_documents_inflates_to_their_concatenation() -> None:
    rng = random.Random(11)
    words = [bytes(rng.choices(b'abcdefghij "{}', k=rng.randrange(3, 12))) for _ in range(400)]
    documents = [b" ".join(rng.choices(words, k=rng.randrange(100, 4000))) for _ in range(20)]
    stream = DeflateStream()
    expected = b""
    for number, document in enumerate(documents):
        stored = enrichments.encode(document)
        assert gzip.decompress(stored) == document  # still what GET sends to gzip clients
        part = enrichments.deflate_part(stored)
        assert part is not None
        # Text longer than one stored block, between some of the documents.
        text = b"x" * (70_000 if number % 7 == 3 else number)
        stream.text(text)
        stream.compressed(part)
        expected += text + document
    stream.text(b"]}")
    assert zlib.decompress(stream.finish()) == expected + b"]}"


def test_documents_without_their_checksum_are_not_reused() -> None:
    document = b'{"title": "' + b"words " * 200 + b'"}'
    assert enrichments.deflate_part(gzip.compress(document)) is None
    assert enrichments.deflate_part(document) is None
    assert enrichments.deflate_part(enrichments.encode(b"{}")) is None
