"""Bytes an image stores for nothing: files one layer wrote that a later layer deletes or writes again.

The layers are replayed as the runtime applies them (see ``layerdiff.fs.tree``), following the regular
files each stored; like dive's efficiency, a file counts once per layer that stored it and lost it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from layerdiff.fs.ancestry import nearest_ancestor
from layerdiff.image.entry_table import EntryTable, type_code
from layerdiff.image.model import EntryType, LayerIndex

_FILE, _DIR, _WHITEOUT, _OPAQUE = map(
    type_code, (EntryType.FILE, EntryType.DIR, EntryType.WHITEOUT, EntryType.OPAQUE)
)
_MARKERS = (_WHITEOUT, _OPAQUE)


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
        table = indexes[position].table
        if stored:  # read from the rows' columns: a million-file layer makes no entry objects here
            yield from _lost(stored, table, position)
        if position == len(indexes) - 1:
            break  # no later layer can lose what the last one stores
        paths, codes, sizes = table.paths, table.type_codes, table.sizes
        for row, code in enumerate(codes):
            if code == _FILE and sizes[row] > 0:
                stored[paths[row]] = (position, sizes[row])


def _lost(stored: dict[str, tuple[int, int]], table: EntryTable, position: int) -> Iterator[WastedFile]:
    """The stored files layer ``position`` deletes or writes again, taken out of ``stored``."""
    paths, codes = table.paths, table.type_codes
    deleted = {paths[row] for row, code in enumerate(codes) if code == _WHITEOUT}  # the path and all below
    # below these, earlier content is hidden: opaque directories, directories replaced by a non-directory
    hidden = {paths[row] for row, code in enumerate(codes) if code != _DIR}
    written = {paths[row] for row, code in enumerate(codes) if code not in _MARKERS}
    for path in list(stored):
        if path in written:
            how = "overwritten"
        elif path in deleted or nearest_ancestor(path, deleted) or nearest_ancestor(path, hidden):
            how = "deleted"
        else:
            continue
        layer, size = stored.pop(path)
        yield WastedFile(path, size, layer, position, how)
