"""Giving the heap's free memory back to the system after a job.

A worker keeps the index mapped for its whole life, and each job allocates and frees
transient arrays around it: candidate lists, cosine blocks, a reader's classifier. glibc's
allocator keeps most of what Python and NumPy free inside its heap, where it still counts
in the worker's resident and proportional set sizes (about 28 MiB after a chunk of related
lists at 100,000 papers, bench/RESULTS.md "Memory"). ``malloc_trim`` hands those free pages
back. Other C libraries (macOS, musl) have no such call and are left as they are.
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
