"""Path resolution inside an image: symlinks are followed as under chroot, so nothing leaves the image.

The work is linear in the parts of the path and of the targets followed: the parts still to walk are a
stack (last part on top), so a target of 200,000 ``./`` parts costs 200,000 steps, not their square. How
many symlinks one resolution follows is bounded by ``Limits.symlink_hops`` (Linux's ELOOP limit), how long
a target may be by ``Limits.symlink_target_bytes`` (checked when the tree is built).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from layerdiff.fs.tree import ROOT, Node, Tree
from layerdiff.image.limits import DEFAULT_LIMITS


@dataclass(frozen=True)
class Resolution:
    path: str  # the final path reached
    tree: Tree | None = field(compare=False, repr=False)  # the tree the path is in; None: not there
    loop: bool = False

    @property
    def exists(self) -> bool:
        return self.tree is not None

    @property
    def node(self) -> Node | None:
        """The node reached; None when the path does not exist (made only when asked for)."""
        return self.tree.nodes.get(self.path) if self.tree is not None else None


def _parts(path: str) -> list[str]:
    """The parts of ``path`` to walk, last one first (a stack), without the empty and ``.`` ones."""
    return [part for part in reversed(path.split("/")) if part and part != "."]


def resolve(tree: Tree, path: str, max_hops: int = DEFAULT_LIMITS.symlink_hops) -> Resolution:
    """Resolve ``path`` following symlinks in every component; ``..`` at the root stays at the root.

    Following more than ``max_hops`` symlinks is a loop (``ELOOP``): the path does not resolve.
    """
    pending = _parts(path)
    current = ROOT
    hops = 0
    while pending:
        part = pending.pop()
        if part == "..":
            current = posixpath.dirname(current)
            continue
        candidate = posixpath.join(current, part)
        present, target = tree.nodes.symlink_at(candidate)
        if not present:
            return Resolution(posixpath.join(candidate, *reversed(pending)), None)
        if target is not None:
            hops += 1
            if hops > max_hops:
                return Resolution(candidate, None, loop=True)
            pending.extend(_parts(target))
            if target.startswith("/"):
                current = ROOT
            continue
        current = candidate
    return Resolution(current, tree if current in tree.nodes else None)
