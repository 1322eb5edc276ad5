"""Bytes an image stores for nothing: files one layer wrote that a later layer deletes or writes again.

The layers are replayed as the runtime applies them (see ``layerdiff.fs.tree``), following the regular
files each stored; like dive's efficiency, a file counts once per layer that stored it and lost it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from layerdiff.fs.ancestry import nearest_ancestor
from layerdiff.image.model import EntryType, LayerIndex

_MARKERS = (EntryType.WHITEOUT, EntryType.OPAQUE)


@dataclass(frozen=True, slots=True)
class WastedFile:
    path: str
    size: int
    added: int  # layer that stored the bytes
    removed: int  # later layer that deleted or overwrote them
    how: str  # deleted | overwritten


def wasted_files(indexes: Sequence[LayerIndex], first: int = 0) -> Iterator[WastedFile]:
    """Every regular file layers ``first`` and above stored that a later layer deletes or replaces."""
    stored: dict[str, tuple[int, int]] = {}  # path -> (layer, size) of regular files still visible
    for position in range(first, len(indexes)):
        entries = indexes[position].entries
        deleted = {e.path for e in entries if e.type is EntryType.WHITEOUT}  # the path and all below it
        # below these, earlier content is hidden: opaque directories, directories replaced by a non-directory
        hidden = {e.path for e in entries if e.type is EntryType.OPAQUE or e.type is not EntryType.DIR}
        written = {e.path for e in entries if e.type not in _MARKERS}
        for path in list(stored):
            if path in written:
                how = "overwritten"
            elif path in deleted or nearest_ancestor(path, deleted) or nearest_ancestor(path, hidden):
                how = "deleted"
            else:
                continue
            layer, size = stored.pop(path)
            yield WastedFile(path, size, layer, position, how)
        for entry in entries:
            if entry.type is EntryType.FILE and entry.size > 0:
                stored[entry.path] = (position, entry.size)
