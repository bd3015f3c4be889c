"""Giving the heap's free memory back to the system.

glibc's allocator keeps most of what Python and NumPy free inside its heap for reuse, where
it still counts in a process's resident and proportional set sizes. A worker keeps the index
mapped for its whole life while each job allocates and frees transient arrays around it
(candidate lists, blocks of cosines, a reader's classifier), and an index build lets go of
the catalogue's text before it builds the graphs: without ``malloc_trim`` the process would
go on holding its largest job's, or the build's largest phase's, memory. Other C libraries
(macOS, musl) have no such call and are left as they are.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def release_free_memory() -> bool:
    """Return the allocator's free pages to the system; whether anything was returned
    (False where the C library cannot)."""
    trim = _malloc_trim()
    return bool(trim(0)) if trim is not None else False
