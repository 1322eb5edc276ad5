"""The read-only view of an image's squashed filesystem that the inventory collectors work on."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Sequence
from typing import Protocol

from layerdiff.fs.resolve import resolve
from layerdiff.fs.tree import ROOT, Tree
from layerdiff.image.limits import DEFAULT_LIMITS, Limits
from layerdiff.image.model import ElfInfo, Entry, EntryType, LayerIndex


class ImageFiles(Protocol):
    """Paths are absolute (``/usr/lib/x``). Symlinks resolve inside the image only (chroot semantics)."""

    def lookup(self, path: str) -> Entry | None:
        """The entry at ``path`` itself, not following a final symlink (like lstat); None when absent."""

    def resolve(self, path: str) -> str | None:
        """The path after following every symlink; None when it does not exist or loops."""

    def listdir(self, path: str) -> list[str]:
        """Sorted child names of the directory at ``path`` (symlinks followed); [] when not a directory."""

    def read(self, path: str) -> bytes | None:
        """Content of the file at ``path`` (symlinks followed) if it was captured while indexing, else None.

        Captured: what the collectors declare (``layerdiff.inventory.collect.CAPTURE``).
        """

    def elf(self, path: str) -> ElfInfo | None:
        """ELF facts of the regular file at ``path`` (symlinks followed); None when it is not ELF."""


class TreeView:
    """``ImageFiles`` over a merged tree and the layer indexes it was built from; ``limits`` bound what
    the image's content can make the readers of this view do."""

    def __init__(self, tree: Tree, indexes: Sequence[LayerIndex], limits: Limits = DEFAULT_LIMITS) -> None:
        self.tree = tree
        self._indexes = indexes
        self.limits = limits

    def lookup(self, path: str) -> Entry | None:
        node = self.tree.nodes.get(path)
        if node is None and path != ROOT:
            # lstat: the directories on the way are followed (Debian's /bin -> usr/bin), the last name is not
            parent = self.resolve(posixpath.dirname(path))
            if parent is not None:
                node = self.tree.nodes.get(posixpath.join(parent, posixpath.basename(path)))
        return node.entry if node is not None else None

    def resolve(self, path: str) -> str | None:
        result = resolve(self.tree, path, self.limits.symlink_hops)
        return result.path if result.exists else None

    def listdir(self, path: str) -> list[str]:
        real = self.resolve(path)
        if real is None:
            return []
        return sorted(posixpath.basename(child) for child in self.tree.child_paths(real))

    def read(self, path: str) -> bytes | None:
        """The captured content, unless it is larger than ``limits.captured_file_bytes`` (then None, as
        for a file the indexer did not keep; ``layerdiff.inventory.uncaptured`` says so in the report)."""
        source = self._source(path)
        data = self._indexes[source[0]].contents.get(source[1]) if source else None
        return data if data is None or len(data) <= self.limits.captured_file_bytes else None

    def elf(self, path: str) -> ElfInfo | None:
        source = self._source(path)
        return self._indexes[source[0]].elf.get(source[1]) if source else None

    def elf_objects(self) -> Iterator[tuple[str, ElfInfo]]:
        """Every regular file of the image that is an ELF object, with its loader facts."""
        for path, layer, _ in self.tree.nodes.files():
            if (info := self._indexes[layer].elf.get(path)) is not None:
                yield path, info

    def _source(self, path: str) -> tuple[int, str] | None:
        """(layer, path) under which the file's content was kept while indexing."""
        real = self.resolve(path)
        node = self.tree.nodes.get(real) if real is not None else None
        if node is None or real is None:
            return None
        if node.entry.type is EntryType.FILE:
            return node.layer, real
        if node.entry.type is EntryType.HARDLINK and node.entry.link is not None:
            # kept under the link itself when its target was in the same layer, else under the target
            index = self._indexes[node.layer]
            if real in index.contents or real in index.elf:
                return node.layer, real
            target = self.tree.nodes.get(node.entry.link)
            if target is not None and target.entry.type is EntryType.FILE:
                return target.layer, node.entry.link
        return None
