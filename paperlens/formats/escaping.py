"""What the export formats cannot carry verbatim, shared by their writers.

Stored text comes from readers, import files and external sources, so any character
can reach an export. Line-based formats (RIS) and LaTeX-based ones (BibTeX) give line
breaks a meaning of their own, and a link or identifier written into a field must not
be able to end it; these helpers make such values inert.
"""

from __future__ import annotations

import re
from urllib.parse import quote

# Line breaks (including the Unicode ones str.splitlines honours) and other control characters.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

# RFC 3986's reserved and unreserved characters: a URL needs no others. Every other
# character (braces, backslash, quotes, spaces, controls, non-ASCII) is percent-encoded,
# which names the same resource.
_URL_CHARACTERS = "!#$&'()*+,/:;=?@[]~-._"


def one_line(text: str) -> str:
    """The text with every line break and control character made a space."""
    return _CONTROL.sub(" ", text)


def url_text(url: str, *, also_encode: str = "") -> str:
    """A URL with every character a URL does not need percent-encoded.

    ``%`` is kept, since it already starts an encoded character; ``also_encode`` names
    further characters a format uses as a separator (RIS splits links on ``;``).
    """
    keep = "".join(c for c in _URL_CHARACTERS + "%" if c not in also_encode)
    return quote(url, safe=keep)


def identifier_text(value: str) -> str:
    """An identifier (DOI, arXiv id) percent-encoded like a URL, ``%`` included, so that
    decoding it gives back exactly the stored identifier."""
    return quote(value, safe=_URL_CHARACTERS)
