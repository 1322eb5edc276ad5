"""Compare two squashed trees path by path."""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Collection, Iterator, Sequence

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

    def select(
        self, kinds: Collection[ChangeKind], after_mode: int, after_xattrs: bool
    ) -> Iterator[FileChange]:
        """``select_changes``, read from the rows: only the changes selected are made."""
        codes = {_KIND_CODES[kind] for kind in kinds}
        derived, after_slots, kind_codes = self._derived, self._after, self._kinds
        for number in range(len(self.paths)):
            if kind_codes[number] not in codes:
                continue
            if after_mode or after_xattrs:
                after = after_slots[number]
                if after is None:
                    continue
                if after_mode and not derived.mode_at(after) & after_mode:
                    continue
                if after_xattrs and not derived.has_xattrs_at(after):
                    continue
            yield self._make(number)

    def find(self, path: str) -> FileChange | None:
        number = bisect_left(self.paths, path)
        return self._make(number) if number < len(self.paths) and self.paths[number] == path else None

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


def select_changes(
    changes: Sequence[FileChange],
    kinds: Collection[ChangeKind] = tuple(ChangeKind),
    after_mode: int = 0,
    after_xattrs: bool = False,
) -> Iterator[FileChange]:
    """The changes of ``kinds`` whose after-state has any of the ``after_mode`` bits, and extended
    attributes when ``after_xattrs``: what a rule looks at, without making the rest of a million changes."""
    if isinstance(changes, FileChanges):
        yield from changes.select(kinds, after_mode, after_xattrs)
        return
    for change in changes:
        after = change.after
        if change.kind not in kinds or ((after_mode or after_xattrs) and after is None):
            continue
        if after is not None and (
            (after_mode and not after.mode & after_mode) or (after_xattrs and not after.xattrs)
        ):
            continue
        yield change


def find_change(changes: Sequence[FileChange], path: str) -> FileChange | None:
    """The change of ``path``, if any (changes are sorted by path)."""
    if isinstance(changes, FileChanges):
        return changes.find(path)
    return next((change for change in changes if change.path == path), None)


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
