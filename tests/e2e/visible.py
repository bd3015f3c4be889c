"""What the reader sees, checked the same way in Chromium and Firefox."""

from __future__ import annotations

import re

MRL_TITLE = "Matryoshka Representation Learning"

# A value the code failed to fill in, written out by the DOM as a word of its own.
_STRAY = re.compile(r"\b(null|undefined|NaN|\[object Object\])\b")


def assert_no_stray_values(text: str) -> None:
    """No visible 'null', 'undefined', 'NaN' or '[object Object]': each means a missing value."""
    found = [line for line in text.splitlines() if _STRAY.search(line)]
    assert not found, f"stray values on screen: {found}"
