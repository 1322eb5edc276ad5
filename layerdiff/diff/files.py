"""Compare two squashed trees path by path."""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence

from layerdiff.diff.changes import ChangeKind, FileChange
from layerdiff.fs.tree import NodeMap, Slot, Tree
from layerdiff.image.model import Entry
from layerdiff.lazy_sequence import LazySequence

_CONTENT_FIELDS = ("type", "sha256", "size", "link")
_METADATA_FIELDS = ("mode", "uid", "gid", "xattrs")
_KINDS = tuple(ChangeKind)
_KIND_CODES = {kind: code for code, kind in enumerate(_KINDS)}
_NO_LAYER = -1


class FileChanges(LazySequence[FileChange]):
    """The changes, sorted by path, held as where each path is in the two trees: a ``FileChange`` (and its
    entries) is made when it is read. A million added files cost their list slots, not a million objects."""

    __slots__ = ("_after", "_base", "_before", "_derived", "_fields", "_kinds", "_layers", "paths")

    def __init__(self, base: NodeMap, derived: NodeMap) -> None:
        self._base, self._derived = base, derived
        self.paths: list[str] = []
        self._kinds = bytearray()
        self._layers = array("i")
        self._before: list[Slot | None] = []
        self._after: list[Slot | None] = []
        self._fields: list[tuple[str, ...]] = []

    def _add(
        self,
        path: str,
        kind: ChangeKind,
        layer: int | None,
        before: Slot | None,
        after: Slot | None,
        fields: tuple[str, ...] = (),
    ) -> None:
        self.paths.append(path)
        self._kinds.append(_KIND_CODES[kind])
        self._layers.append(_NO_LAYER if layer is None else layer)
        self._before.append(before)
        self._after.append(after)
        self._fields.append(fields)

    def _sort(self) -> None:
        order = sorted(range(len(self.paths)), key=self.paths.__getitem__)
        self.paths = [self.paths[i] for i in order]
        self._kinds = bytearray(self._kinds[i] for i in order)
        self._layers = array("i", (self._layers[i] for i in order))
        self._before = [self._before[i] for i in order]
        self._after = [self._after[i] for i in order]
        self._fields = [self._fields[i] for i in order]

    def kind_of(self, number: int) -> ChangeKind:
        """The change's kind, without making it."""
        return _KINDS[self._kinds[number]]

    def layer_of(self, number: int) -> int | None:
        layer = self._layers[number]
        return None if layer == _NO_LAYER else layer

    def __len__(self) -> int:
        return len(self.paths)

    def _make(self, number: int) -> FileChange:
        before, after = self._before[number], self._after[number]
        return FileChange(
            self.paths[number],
            _KINDS[self._kinds[number]],
            self.layer_of(number),
            self._base.node_at(before).entry if before is not None else None,
            self._derived.node_at(after).entry if after is not None else None,
            self._fields[number],
        )


def change_kinds_and_layers(changes: Sequence[FileChange]) -> Iterator[tuple[ChangeKind, int | None]]:
    """Each change's kind and layer, without making the changes when they are held compactly."""
    if isinstance(changes, FileChanges):
        for number in range(len(changes)):
            yield changes.kind_of(number), changes.layer_of(number)
    else:
        for change in changes:
            yield change.kind, change.layer


def diff_trees(base: Tree, derived: Tree, first_derived_layer: int) -> FileChanges:
    """Changes from ``base`` to ``derived``, considering only paths the derived layers touched.

    With ``first_derived_layer`` 0 (the images share no layers) every path is compared.
    """
    changes = FileChanges(base.nodes, derived.nodes)
    base_nodes, derived_nodes = base.nodes, derived.nodes
    layer_at = NodeMap.layer_at
    shared_fields: dict[tuple[str, ...], tuple[str, ...]] = {}
    for path, slot in derived_nodes.slots():
        layer = layer_at(slot)
        if layer < first_derived_layer:
            continue
        before = base_nodes.slot(path)
        if before is None:
            changes._add(path, ChangeKind.ADDED, layer, None, slot)
            continue
        fields = differing_fields(base_nodes.node_at(before).entry, derived_nodes.node_at(slot).entry)
        if not fields:
            continue
        kind = ChangeKind.MODIFIED if any(f in _CONTENT_FIELDS for f in fields) else ChangeKind.METADATA
        changes._add(path, kind, layer, before, slot, shared_fields.setdefault(fields, fields))
    removed_by = derived.removed_by
    for path, before in base_nodes.slots():
        if path not in derived_nodes:
            changes._add(path, ChangeKind.REMOVED, removed_by.get(path), before, None)
    changes._sort()
    return changes


def differing_fields(before: Entry, after: Entry) -> tuple[str, ...]:
    return tuple(
        name
        for name in (*_CONTENT_FIELDS, *_METADATA_FIELDS)
        if getattr(before, name) != getattr(after, name)
    )
