"""The parser of the formats that hold one JSON object a line (the project's JSON lines,
arXiv's metadata snapshot): each line decoded on its own, a bad one reported by number."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import orjson
from pydantic import ValidationError

from paperlens.schemas import PaperRecord
from worker.ingest.bulk import Parsed, Parser
from worker.ingest.files import InputFile


class BadRecord(ValueError):
    """A line that is JSON but not a record of its format."""


def json_lines(
    to_record: Callable[[Any], PaperRecord],
    keep: Callable[[PaperRecord], bool] = lambda _record: True,
) -> Parser[PaperRecord]:
    """A parser that turns each line into a record with ``to_record`` (which raises
    ValueError for a bad one); blank lines and records ``keep`` refuses are filtered out."""

    def parse(source: InputFile, start: int, first_number: int) -> Iterator[Parsed[PaperRecord]]:
        for number, position, line in source.lines(start, first_number):
            if not line.strip():
                yield Parsed(number, position)
                continue
            try:
                record = to_record(orjson.loads(line))
            except orjson.JSONDecodeError as error:
                yield Parsed(number, position, error=f"not JSON: {error}")
                continue
            except ValueError as error:  # pydantic's ValidationError is one
                yield Parsed(number, position, error=short_error(error))
                continue
            yield Parsed(number, position, record if keep(record) else None)

    return parse


def short_error(error: Exception) -> str:
    """One line that says what is wrong: the first field pydantic refused, or the message."""
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "record"
        return f"{where}: {first['msg']}"
    return str(error).splitlines()[0]
