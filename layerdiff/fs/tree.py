"""Apply layer indexes in order, as a container runtime would, recording which layer last touched a path."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from layerdiff.image.limits import DEFAULT_LIMITS, LimitExceeded, Limits, utf8_size_over
from layerdiff.image.model import Entry, EntryType, LayerIndex
from layerdiff.image.paths import display

ROOT = "/"
_IMPLICIT_DIR_MODE = 0o755


@dataclass(frozen=True, slots=True)
class Node:
    entry: Entry
    layer: int  # position of the layer that last wrote this path


@dataclass
class Tree:
    nodes: dict[str, Node] = field(default_factory=dict)
    children: dict[str, set[str]] = field(default_factory=dict)
    removed_by: dict[str, int] = field(default_factory=dict)  # path -> layer whose whiteout removed it
    warnings: list[tuple[int, str]] = field(default_factory=list)  # (layer position, message)
    layer_count: int = 0

    def copy(self) -> Tree:
        return Tree(
            nodes=dict(self.nodes),
            children={k: set(v) for k, v in self.children.items()},
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
        _check_symlink_targets(index, position, limits.symlink_target_bytes)
        self.layer_count += 1
        self.warnings.extend((position, w) for w in index.warnings)
        for entry in index.entries:
            if entry.type is EntryType.OPAQUE:
                for child in list(self.children.get(entry.path, ())):
                    self._remove(child, position)
            elif entry.type is EntryType.WHITEOUT:
                self._remove(entry.path, position)
        for entry in index.entries:
            if entry.type not in (EntryType.OPAQUE, EntryType.WHITEOUT):
                self._write(entry, position)
                if len(self.nodes) > limits.tree_nodes:  # implied parents count too
                    raise LimitExceeded(
                        f"layer {position}",
                        "tree_nodes",
                        limits.tree_nodes,
                        f"more than {limits.tree_nodes} paths",
                    )

    def _write(self, entry: Entry, position: int) -> None:
        existing = self.nodes.get(entry.path)
        if existing is not None and existing.entry.type is EntryType.DIR and entry.type is not EntryType.DIR:
            self._remove(entry.path, position)  # a non-directory replaces a directory and everything in it
        if entry.type is EntryType.HARDLINK and entry.sha256 is None and entry.link is not None:
            entry = self._resolve_hardlink(entry, position)
        self._ensure_parents(entry.path, position)
        self.nodes[entry.path] = Node(entry, position)
        self.removed_by.pop(entry.path, None)
        if entry.path != ROOT:
            self.children.setdefault(posixpath.dirname(entry.path), set()).add(entry.path)

    def _resolve_hardlink(self, entry: Entry, position: int) -> Entry:
        assert entry.link is not None
        target = self.nodes.get(entry.link)
        if target is None:
            self.warnings.append(
                (
                    position,
                    f"hard link {display(entry.path)} points to {display(entry.link)}, which does not exist",
                )
            )
            return entry
        if target.entry.type is EntryType.FILE:
            return replace(entry, sha256=target.entry.sha256, size=target.entry.size)
        return entry

    def _ensure_parents(self, path: str, position: int) -> None:
        missing = []
        current = posixpath.dirname(path)
        while current not in self.nodes and current != path:
            missing.append(current)
            if current == ROOT:
                break
            current = posixpath.dirname(current)
        for directory in reversed(missing):
            self.nodes[directory] = Node(
                Entry(path=directory, type=EntryType.DIR, mode=_IMPLICIT_DIR_MODE), position
            )
            if directory != ROOT:
                self.children.setdefault(posixpath.dirname(directory), set()).add(directory)

    def _remove(self, path: str, position: int) -> None:
        if path not in self.nodes:
            return
        stack = [path]
        while stack:
            current = stack.pop()
            if self.nodes.pop(current, None) is not None:
                self.removed_by[current] = position
            stack.extend(self.children.pop(current, ()))
        siblings = self.children.get(posixpath.dirname(path))
        if siblings is not None:
            siblings.discard(path)


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
