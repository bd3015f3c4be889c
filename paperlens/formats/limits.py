"""What an import file may hold, checked while the file is read.

Import files come from anywhere (a shared .bib, a colleague's list), and reading
BibTeX costs CPU in proportion to what is read. Readers stop at the first item past
a limit, so a refused file costs the part read, never the whole file.
"""

from __future__ import annotations

from paperlens.schemas import NOTE_MAX_LENGTH

# Brace nesting in one BibTeX entry: real files need a handful of levels (entry, field,
# a protected word, a math group); deeper nesting only exhausts recursive LaTeX readers.
BRACE_DEPTH_MAX = 32
# Characters of one field a reader decodes (title, venue, keywords, note, links): a saved
# note holds at most this many, and no title or venue comes near it.
FIELD_MAX_CHARS = NOTE_MAX_LENGTH
# Characters of an entry's author names: room for the largest collaborations' author lists.
AUTHORS_MAX_CHARS = 100_000


class ImportRefused(ValueError):
    """The file as a whole cannot be imported; nothing of it is saved."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def too_many_items(limit: int) -> ImportRefused:
    return ImportRefused("too_many_items", f"At most {limit} items per import; split the file.")
