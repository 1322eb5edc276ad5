"""Pause Python's cyclic garbage collector while a large, long-lived object graph is built.

Parsing a large report or building its file tree allocates millions of objects that all stay alive; the
collector's repeated passes over them while they grow cost more time than the building itself.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_collector() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
