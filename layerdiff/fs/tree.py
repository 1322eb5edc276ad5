"""Apply layer indexes in order, as a container runtime would, recording which layer last touched a path."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace

from layerdiff.image.entry_table import EntryTable, type_code
from layerdiff.image.limits import DEFAULT_LIMITS, LimitExceeded, Limits, utf8_size_over
from layerdiff.image.model import Entry, EntryType, LayerIndex
from layerdiff.image.paths import display

ROOT = "/"
_IMPLICIT_DIR_MODE = 0o755


@dataclass(frozen=True, slots=True)
class Node:
    entry: Entry
    layer: int  # position of the layer that last wrote this path


_ROW_BITS = 32
_ROW_MASK = (1 << _ROW_BITS) - 1
_DIR, _OPAQUE, _WHITEOUT, _FILE, _HARDLINK, _SYMLINK = map(
    type_code,
    (
        EntryType.DIR,
        EntryType.OPAQUE,
        EntryType.WHITEOUT,
        EntryType.FILE,
        EntryType.HARDLINK,
        EntryType.SYMLINK,
    ),
)
Slot = int | Node  # a layer's row (layer << 32 | row), or a node the tree made itself


class NodeMap(Mapping[str, Node]):
    """The merged tree's paths, each held as the row of the layer that wrote it: a ``Node`` is made when a
    path is read. The few nodes no layer row describes as they are (implied parent directories, hard links
    resolved to their target's content) are kept as nodes."""

    __slots__ = ("_slots", "tables")

    def __init__(self, tables: list[EntryTable] | None = None, slots: dict[str, Slot] | None = None) -> None:
        self.tables: list[EntryTable] = tables if tables is not None else []
        self._slots: dict[str, Slot] = slots if slots is not None else {}

    def copy(self) -> NodeMap:
        return NodeMap(list(self.tables), dict(self._slots))

    def _node(self, slot: Slot) -> Node:
        if isinstance(slot, Node):
            return slot
        layer = slot >> _ROW_BITS
        return Node(self.tables[layer].entry(slot & _ROW_MASK), layer)

    def __getitem__(self, path: str) -> Node:
        return self._node(self._slots[path])

    def get(self, path: str, default: Node | None = None) -> Node | None:  # type: ignore[override]
        slot = self._slots.get(path)
        return self._node(slot) if slot is not None else default

    def __contains__(self, path: object) -> bool:
        return path in self._slots

    def __len__(self) -> int:
        return len(self._slots)

    def __iter__(self) -> Iterator[str]:
        return iter(self._slots)

    def items(self) -> Iterator[tuple[str, Node]]:  # type: ignore[override]
        node = self._node
        for path, slot in self._slots.items():
            yield path, node(slot)

    def slot(self, path: str) -> Slot | None:
        """Where ``path`` is held (compare two with ``==``: the same row of the same layer), for
        ``node_at``."""
        return self._slots.get(path)

    def node_at(self, slot: Slot) -> Node:
        return self._node(slot)

    def slots(self) -> Iterator[tuple[str, Slot]]:
        return iter(self._slots.items())

    def symlink_at(self, path: str) -> tuple[bool, str | None]:
        """Whether ``path`` is in the tree, and its target when it is a symlink: what resolving a path
        needs of each part, without making its node."""
        slot = self._slots.get(path)
        if slot is None:
            return False, None
        if isinstance(slot, Node):
            entry = slot.entry
            return True, entry.link if entry.type is EntryType.SYMLINK else None
        table, row = self.tables[slot >> _ROW_BITS], slot & _ROW_MASK
        return True, table.link_of(row) if table.type_codes[row] == _SYMLINK else None

    def files(self) -> Iterator[tuple[str, int, int]]:
        """(path, layer, size) of each regular file, read from the rows without making their nodes."""
        tables = self.tables
        for path, slot in self._slots.items():
            if isinstance(slot, Node):
                if slot.entry.type is EntryType.FILE:
                    yield path, slot.layer, slot.entry.size
                continue
            layer, row = slot >> _ROW_BITS, slot & _ROW_MASK
            table = tables[layer]
            if table.type_codes[row] == _FILE:
                yield path, layer, table.sizes[row]

    def mode_at(self, slot: Slot) -> int:
        if isinstance(slot, Node):
            return slot.entry.mode
        return self.tables[slot >> _ROW_BITS].mode_of(slot & _ROW_MASK)

    def has_xattrs_at(self, slot: Slot) -> bool:
        if isinstance(slot, Node):
            return bool(slot.entry.xattrs)
        return self.tables[slot >> _ROW_BITS].has_xattrs(slot & _ROW_MASK)

    @staticmethod
    def layer_at(slot: Slot) -> int:
        return slot.layer if isinstance(slot, Node) else slot >> _ROW_BITS

    def is_dir(self, path: str) -> bool:
        slot = self._slots.get(path)
        if slot is None:
            return False
        if isinstance(slot, Node):
            return slot.entry.type is EntryType.DIR
        return self.tables[slot >> _ROW_BITS].type_codes[slot & _ROW_MASK] == _DIR

    def put_row(self, path: str, layer: int, row: int) -> None:
        self._slots[path] = layer << _ROW_BITS | row

    def put_node(self, path: str, node: Node) -> None:
        self._slots[path] = node

    def remove(self, path: str) -> bool:
        return self._slots.pop(path, None) is not None


@dataclass
class Tree:
    nodes: NodeMap = field(default_factory=NodeMap)
    # each directory's children as they were added: a list costs a fifth of a set per path. A removed path
    # may stay listed (and be listed twice once it is back): ``child_paths`` gives the live ones
    children: dict[str, list[str]] = field(default_factory=dict)
    removed_by: dict[str, int] = field(default_factory=dict)  # path -> layer whose whiteout removed it
    warnings: list[tuple[int, str]] = field(default_factory=list)  # (layer position, message)
    layer_count: int = 0

    def copy(self) -> Tree:
        return Tree(
            nodes=self.nodes.copy(),
            children={k: list(v) for k, v in self.children.items()},
            removed_by=dict(self.removed_by),
            warnings=list(self.warnings),
            layer_count=self.layer_count,
        )

    def apply(self, index: LayerIndex, limits: Limits = DEFAULT_LIMITS) -> None:
        """Apply the next layer: whiteouts and opaque markers hide lower content, then entries are written.

        A symlink target longer than ``limits.symlink_target_bytes`` (PATH_MAX) is refused: ``symlink(2)``
        would refuse to create it, so no runtime could extract the layer.
        """
        position = self.layer_count
        table = index.table
        _check_symlink_targets(index, position, limits.symlink_target_bytes)
        self.layer_count += 1
        del self.nodes.tables[position:]
        self.nodes.tables.append(table)
        self.warnings.extend((position, w) for w in index.warnings)
        codes, paths = table.type_codes, table.paths
        for row, code in enumerate(codes):
            if code == _OPAQUE:
                path = paths[row]
                for child in self.children.get(path, ()):
                    self._remove(child, position)
                if path in self.children:
                    self.children[path] = []
            elif code == _WHITEOUT:
                self._remove(paths[row], position)
        for row, code in enumerate(codes):
            if code not in (_OPAQUE, _WHITEOUT):
                self._write(table, row, code, position)
                if len(self.nodes) > limits.tree_nodes:  # implied parents count too
                    raise LimitExceeded(
                        f"layer {position}",
                        "tree_nodes",
                        limits.tree_nodes,
                        f"more than {limits.tree_nodes} paths",
                    )

    def _write(self, table: EntryTable, row: int, code: int, position: int) -> None:
        path = table.paths[row]
        if code != _DIR and self.nodes.is_dir(path):
            self._remove(path, position)  # a non-directory replaces a directory and everything in it
        listed = path in self.nodes
        self._ensure_parents(path, position)
        link = table.link_of(row) if code == _HARDLINK else None
        entry = table.entry(row) if link is not None else None
        if (
            entry is not None
            and entry.sha256 is None
            and (resolved := self._resolve_hardlink(entry, position))
        ):
            self.nodes.put_node(path, Node(resolved, position))
        else:
            self.nodes.put_row(path, position, row)
        if self.removed_by:
            self.removed_by.pop(path, None)
        if path != ROOT and not listed:
            self.children.setdefault(posixpath.dirname(path), []).append(path)

    def _resolve_hardlink(self, entry: Entry, position: int) -> Entry | None:
        """The link with its target's content, when the target (from a lower layer) is a file."""
        assert entry.link is not None
        target = self.nodes.get(entry.link)
        if target is None:
            self.warnings.append(
                (
                    position,
                    f"hard link {display(entry.path)} points to {display(entry.link)}, which does not exist",
                )
            )
            return None
        if target.entry.type is EntryType.FILE:
            return replace(entry, sha256=target.entry.sha256, size=target.entry.size)
        return None

    def _ensure_parents(self, path: str, position: int) -> None:
        missing = []
        current = posixpath.dirname(path)
        while current not in self.nodes and current != path:
            missing.append(current)
            if current == ROOT:
                break
            current = posixpath.dirname(current)
        for directory in reversed(missing):
            self.nodes.put_node(
                directory, Node(Entry(path=directory, type=EntryType.DIR, mode=_IMPLICIT_DIR_MODE), position)
            )
            if directory != ROOT:
                self.children.setdefault(posixpath.dirname(directory), []).append(directory)

    def _remove(self, path: str, position: int) -> None:
        if path not in self.nodes:
            return
        stack = [path]
        while stack:
            current = stack.pop()
            if self.nodes.remove(current):
                self.removed_by[current] = position
            stack.extend(self.children.pop(current, ()))

    def child_paths(self, path: str) -> set[str]:
        """The paths directly inside the directory ``path`` (symlinks not followed)."""
        return {child for child in self.children.get(path, ()) if child in self.nodes}


def _check_symlink_targets(index: LayerIndex, position: int, limit: int) -> None:
    for entry in index.entries:
        link = entry.link
        if entry.type is EntryType.SYMLINK and link is not None and (size := utf8_size_over(link, limit)):
            raise LimitExceeded(
                f"layer {position}: symlink {display(entry.path)}",
                "symlink_target_bytes",
                limit,
                f"a target of {size} bytes",
            )


def build_tree(
    indexes: Iterable[LayerIndex], start: Tree | None = None, limits: Limits = DEFAULT_LIMITS
) -> Tree:
    tree = start.copy() if start is not None else Tree()
    for index in indexes:
        tree.apply(index, limits)
    return tree
