"""Path resolution inside an image: symlinks are followed as under chroot, so nothing leaves the image."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from layerdiff.fs.tree import ROOT, Node, Tree
from layerdiff.image.model import EntryType

MAX_SYMLINK_HOPS = 40  # Linux's limit before ELOOP


@dataclass(frozen=True)
class Resolution:
    path: str  # the final path reached
    node: Node | None  # None when the path does not exist
    loop: bool = False


def resolve(tree: Tree, path: str) -> Resolution:
    """Resolve ``path`` following symlinks in every component; ``..`` at the root stays at the root."""
    pending = [p for p in path.split("/") if p]
    current = ROOT
    hops = 0
    while pending:
        part = pending.pop(0)
        if part == ".":
            continue
        if part == "..":
            current = posixpath.dirname(current)
            continue
        candidate = posixpath.join(current, part)
        node = tree.nodes.get(candidate)
        if node is None:
            return Resolution(posixpath.join(candidate, *pending), None)
        if node.entry.type is EntryType.SYMLINK and node.entry.link is not None:
            hops += 1
            if hops > MAX_SYMLINK_HOPS:
                return Resolution(candidate, None, loop=True)
            target = node.entry.link
            pending = [p for p in target.split("/") if p] + pending
            if target.startswith("/"):
                current = ROOT
            continue
        current = candidate
    return Resolution(current, tree.nodes.get(current))
