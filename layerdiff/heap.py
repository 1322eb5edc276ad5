"""Give the memory freed after a large stage back to the system: glibc's malloc keeps freed heap pages for
reuse, and after a million-entry layer is indexed that is tens of megabytes of the process's resident size
that nothing will use again (the rows that stay are interleaved with what was freed)."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim if name else None  # type: ignore[assignment]
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None
    return trim


def return_freed_memory() -> None:
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
