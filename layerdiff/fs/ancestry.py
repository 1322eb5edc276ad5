"""Which paths contain which: the ancestry questions asked of a whole tree of changes."""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Iterable

ROOT = "/"


def is_under(path: str, directory: str) -> bool:
    """``path`` is ``directory`` or inside it."""
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def nearest_ancestor(path: str, candidates: Collection[str]) -> str | None:
    """The nearest strict ancestor of ``path`` among ``candidates``."""
    current = path
    while current != ROOT:
        current = posixpath.dirname(current)
        if current in candidates:
            return current
    return None


def top_most(paths: Iterable[str]) -> dict[str, list[str]]:
    """Each path grouped under the top-most of the given paths that contains it, in path order."""
    tops: dict[str, list[str]] = {}
    for path in sorted(paths):  # an ancestor sorts before its descendants
        ancestor = nearest_ancestor(path, tops)
        if ancestor is None:
            tops[path] = []
        else:
            tops[ancestor].append(path)
    return tops
