"""Give the memory freed after a large stage back to the system: glibc's malloc keeps freed heap pages for
reuse, and after a million-entry layer is indexed that is tens of megabytes of the process's resident size
that nothing will use again (the rows that stay are interleaved with what was freed)."""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    # the process's own symbols, libc's among them: no library search (find_library runs ldconfig)
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None
    return trim


def return_freed_memory() -> None:
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
