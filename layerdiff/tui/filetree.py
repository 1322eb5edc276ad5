"""The changed paths of a report as a tree, flattened on demand into the rows a tree view shows.

One node per path component; directories that did not change themselves are plain nodes without a
change. Every node counts the changes in its subtree per kind, so filtering by kinds decides a node's
visibility from its counts without walking its subtree. Only expanded directories contribute their
children to the rows, which keeps the default view of a large report short and cheap to rebuild.

A view can also be limited to some layers (the changes one layer made, or all up to it): each directory
keeps its subtree's counts per layer as well, so switching layers is as cheap as switching kinds.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from typing import NamedTuple

from layerdiff.gc_pause import paused_collector
from layerdiff.report.wire import FileChange

KINDS: tuple[str, ...] = ("added", "removed", "modified", "metadata")
KIND_INDEX: dict[str, int] = {kind: index for index, kind in enumerate(KINDS)}
ALL_KINDS: frozenset[str] = frozenset(KINDS)
# A directory with more changed paths than this below it starts collapsed (unless it is top-level).
EXPAND_LIMIT = 100

# The layers a view shows, by the report's layer position (None: changes no layer was attributed to);
# None instead of a set: every layer.
Layers = frozenset[int | None] | None


def _counts_mask(counts: list[int]) -> int:
    return (counts[0] > 0) | (counts[1] > 0) << 1 | (counts[2] > 0) << 2 | (counts[3] > 0) << 3


class Node:
    """One path component. ``counts[i]`` is the number of changes of ``KINDS[i]`` in the subtree,
    the node's own change included; bit ``i`` of ``mask`` is set when that count is nonzero. A node with
    children also keeps both per layer (``layer_counts``, ``layer_masks``); one without reads them from
    its own change, whose layer is ``layer``."""

    __slots__ = (
        "change",
        "children",
        "counts",
        "depth",
        "expanded",
        "layer",
        "layer_counts",
        "layer_masks",
        "mask",
        "name",
        "parent",
        "path",
        "row",
        "sorted",
    )

    def __init__(self, name: str, path: str, parent: Node | None, depth: int) -> None:
        self.name = name
        self.path = path
        self.parent = parent
        self.depth = depth  # 0 for the root "/", 1 for top-level entries such as /usr
        self.change: FileChange | None = None
        self.children: dict[str, Node] = {}
        self.sorted: list[Node] = []  # children by name, filled once the tree is complete
        self.counts = [0, 0, 0, 0]
        self.mask = 0
        self.layer: int | None = None
        self.layer_counts: dict[int | None, list[int]] | None = None
        self.layer_masks: dict[int | None, int] | None = None
        self.expanded = False
        # The node's row, made once: rebuilding the rows of a large expanded tree then allocates nothing.
        self.row = Row(self, max(depth - 1, 0))

    def __repr__(self) -> str:
        return f"Node({self.path!r})"

    @property
    def kind(self) -> str | None:
        return None if self.change is None else self.change.kind

    @property
    def own_mask(self) -> int:
        """The bit of the node's own change's kind; 0 without a change."""
        return 0 if self.change is None else 1 << KIND_INDEX[self.change.kind]

    @property
    def is_dir(self) -> bool:
        """Has changed paths below it, or is itself a directory in the report."""
        if self.children:
            return True
        if self.change is None:
            return False
        state = self.change.after or self.change.before
        return state is not None and state.type == "dir"

    @property
    def total(self) -> int:
        """Changed paths in the subtree, this node's own change included."""
        return sum(self.counts)

    def below(self, kind: str, layers: Layers = None) -> int:
        """Changes of ``kind`` strictly below this node (in ``layers``)."""
        change = self.change
        own = change is not None and change.kind == kind and (layers is None or self.layer in layers)
        return self.view_counts(layers)[KIND_INDEX[kind]] - own

    def view_counts(self, layers: Layers) -> list[int]:
        """``counts`` of the changes in ``layers`` only."""
        if layers is None:
            return self.counts
        total = [0, 0, 0, 0]
        by_layer = self.layer_counts
        if by_layer is None:
            if self.change is not None and self.layer in layers:
                total[KIND_INDEX[self.change.kind]] = 1
            return total
        for layer, counts in by_layer.items():
            if layer in layers:
                total[0] += counts[0]
                total[1] += counts[1]
                total[2] += counts[2]
                total[3] += counts[3]
        return total

    def view_mask(self, layers: Layers) -> int:
        """``mask`` of the changes in ``layers`` only."""
        if layers is None:
            return self.mask
        masks = self.layer_masks
        if masks is None:
            return self.own_mask if self.layer in layers else 0
        mask = 0
        for layer, layer_mask in masks.items():
            if layer in layers:
                mask |= layer_mask
        return mask

    def ancestors(self) -> Iterator[Node]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


class Row(NamedTuple):
    node: Node
    depth: int  # indentation level: 0 for top-level entries


def kind_mask(kinds: frozenset[str]) -> int:
    mask = 0
    for kind in kinds:
        mask |= 1 << KIND_INDEX[kind]
    return mask


def _normalise(path: str) -> str:
    return "/" + path.strip("/")


class FileTree:
    """The tree of changed paths, with per-directory expansion state.

    While ``rows`` is given a search needle, the branches holding matches are shown expanded; folding
    one of them then lasts until the needle changes, and leaves the expansion state outside the search
    untouched.
    """

    def __init__(self) -> None:
        self.root = Node("/", "/", None, 0)
        self.by_path: dict[str, Node] = {"/": self.root}
        self.changed: list[Node] = []  # nodes with a change of their own, in report order
        self._lowered: list[str] = []  # the paths of ``changed`` in lower case, made by the first search
        self._needle = ""
        self._search_folded: set[Node] = set()

    @classmethod
    def from_changes(cls, changes: Sequence[FileChange], layers: Collection[int] | None = None) -> FileTree:
        """The tree of ``changes``; with ``layers`` (the reviewed layers' positions), a change attributed
        to any other layer counts as unattributed (None), which bounds the per-layer counts."""
        tree = cls()
        by_path = tree.by_path
        with paused_collector():
            for change in changes:
                path = _normalise(change.path)
                node = by_path.get(path)
                if node is None:
                    node = tree._add(path)
                if node.change is None:
                    tree.changed.append(node)
                node.change = change
                node.layer = change.layer if layers is None or change.layer in layers else None
            tree._finish()
        return tree

    def _add(self, path: str) -> Node:
        """Create the node for ``path`` and any missing ancestors (found by their path, not by walking
        down from the root, so siblings in a large directory cost one dictionary lookup each)."""
        missing: list[str] = []
        parent: Node | None = None
        probe = path
        while parent is None:
            missing.append(probe)
            probe = probe.rsplit("/", 1)[0] or "/"
            parent = self.by_path.get(probe)
        for node_path in reversed(missing):
            name = node_path.rsplit("/", 1)[1]
            node = Node(name, node_path, parent, parent.depth + 1)
            parent.children[name] = node
            self.by_path[node_path] = node
            parent = node
        return parent

    def _finish(self) -> None:
        """Sort children, sum the subtree counts bottom-up, and set the initial expansion."""
        order: list[Node] = [self.root]
        for node in order:  # breadth-first: every parent precedes its children
            if node.children:
                node.sorted = sorted(node.children.values(), key=lambda child: child.name)
                node.layer_counts = {}
                order.extend(node.sorted)
        for node in reversed(order):
            change = node.change
            by_layer = node.layer_counts
            if change is not None:
                node.counts[KIND_INDEX[change.kind]] += 1
                if by_layer is not None:
                    by_layer.setdefault(node.layer, [0, 0, 0, 0])[KIND_INDEX[change.kind]] += 1
            own = node.counts
            node.mask = _counts_mask(own)
            if by_layer is not None:
                node.layer_masks = {layer: _counts_mask(counts) for layer, counts in by_layer.items()}
            parent = node.parent
            if parent is not None:
                counts = parent.counts
                counts[0] += own[0]
                counts[1] += own[1]
                counts[2] += own[2]
                counts[3] += own[3]
                _add_layer_counts(parent, node)
        for node in order:
            node.expanded = node.depth <= 1 or sum(node.counts) <= EXPAND_LIMIT
        self.root.expanded = True

    def __len__(self) -> int:
        """The number of changed paths."""
        return len(self.changed)

    def node(self, path: str) -> Node | None:
        return self.by_path.get(_normalise(path))

    def is_visible(self, node: Node, kinds: frozenset[str], layers: Layers = None) -> bool:
        """The node's own change is of an enabled kind (in ``layers``), or its subtree holds one."""
        return bool(node.view_mask(layers) & kind_mask(kinds))

    def is_open(self, node: Node) -> bool:
        """Whether the node's children are shown in the rows last computed."""
        if self._needle:
            return node not in self._search_folded
        return node.expanded

    def rows(self, kinds: frozenset[str], needle: str = "", layers: Layers = None) -> list[Row]:
        """The visible rows in display order: children by name below their expanded parent. With a
        ``needle`` (a case-insensitive substring of the full path), only the branches holding a match
        of an enabled kind, expanded. With ``layers``, only the changes those layers made count."""
        needle = needle.lower()
        if needle != self._needle:
            self._search_folded.clear()
            self._needle = needle
        if needle:
            return self._search_rows(kinds, needle, layers)
        enabled = kind_mask(kinds)
        # The subtree counts include a node's own change, so one mask test covers both reasons to show it.
        if layers is None:
            shown: Callable[[Node], object] = lambda node: node.mask & enabled  # noqa: E731 - the fast path
        else:
            shown = lambda node: node.view_mask(layers) & enabled  # noqa: E731
        return self._walk(self._root_rows(kinds, layers), shown, lambda node: node.expanded)

    def matches(self, kinds: frozenset[str], needle: str, layers: Layers = None) -> set[Node]:
        """The nodes to show for a search: changed paths of an enabled kind (in ``layers``) whose path
        contains ``needle`` (lower case), and their ancestors. Each ancestor walk stops at a node already
        kept, so this is linear in the number of changed paths."""
        if len(self._lowered) != len(self.changed):
            self._lowered = [node.path.lower() for node in self.changed]
        enabled = kind_mask(kinds)
        keep: set[Node] = set()
        for node, lowered in zip(self.changed, self._lowered, strict=True):
            if needle not in lowered or node in keep or not node.own_mask & enabled:
                continue
            if layers is not None and node.layer not in layers:
                continue
            probe: Node | None = node
            while probe is not None and probe not in keep:
                keep.add(probe)
                probe = probe.parent
        return keep

    def _search_rows(self, kinds: frozenset[str], needle: str, layers: Layers) -> list[Row]:
        keep = self.matches(kinds, needle, layers)
        folded = self._search_folded
        rows = self._root_rows(kinds, layers) if self.root in keep else []
        return self._walk(rows, keep.__contains__, lambda node: node not in folded)

    def _root_rows(self, kinds: frozenset[str], layers: Layers) -> list[Row]:
        """The root's row when "/" itself changed in one of ``kinds`` (in ``layers``), as the rows start."""
        root = self.root
        if root.change is None or root.change.kind not in kinds:
            return []
        return [root.row] if layers is None or root.layer in layers else []

    def _walk(
        self, rows: list[Row], shown: Callable[[Node], object], opened: Callable[[Node], bool]
    ) -> list[Row]:
        """``rows`` followed by the rows of the nodes ``shown`` below the root, in display order, children
        below the nodes ``opened``. Depth-first with a stack of child iterators: no recursion limit on deep
        trees."""
        stack: list[Iterator[Node]] = [iter(self.root.sorted)]
        while stack:
            child = next(stack[-1], None)
            if child is None:
                stack.pop()
                continue
            if not shown(child):
                continue
            rows.append(child.row)
            if child.sorted and opened(child):
                stack.append(iter(child.sorted))
        return rows

    def expand(self, node: Node) -> None:
        if self._needle:
            self._search_folded.discard(node)
        else:
            node.expanded = True

    def collapse(self, node: Node) -> None:
        if node is self.root:
            return
        if self._needle:
            self._search_folded.add(node)
        else:
            node.expanded = False

    def toggle(self, node: Node) -> None:
        if self.is_open(node):
            self.collapse(node)
        else:
            self.expand(node)

    def _directories(self) -> Iterator[Node]:
        return (node for node in self.by_path.values() if node.sorted and node is not self.root)

    def expand_all(self) -> None:
        self._search_folded.clear()
        if not self._needle:
            for node in self._directories():
                node.expanded = True

    def collapse_all(self) -> None:
        if self._needle:
            self._search_folded.update(self._directories())
        else:
            for node in self._directories():
                node.expanded = False

    def open_small_view(self, layers: Layers) -> None:
        """Open every directory leading to a change of ``layers`` when they made few (at most
        EXPAND_LIMIT): a layer that changed a handful of files deep in a big directory shows them."""
        if layers is None or sum(self.root.view_counts(layers)) > EXPAND_LIMIT:
            return
        for node in self.changed:
            if node.layer in layers:
                for ancestor in node.ancestors():
                    ancestor.expanded = True

    def reveal(self, path: str) -> Node | None:
        """Expand every ancestor of ``path`` (in the search as well as outside it) so that its node is
        a row whenever its kind is enabled; None when the path is neither changed nor above a change."""
        node = self.node(path)
        if node is None:
            return None
        for ancestor in node.ancestors():
            ancestor.expanded = True
            self._search_folded.discard(ancestor)
        return node


def _add_layer_counts(parent: Node, child: Node) -> None:
    """Add the child's per-layer counts (its own change, for a node without children) to its parent's."""
    into = parent.layer_counts
    if into is None:  # only nodes with children have them, and a parent has one
        return
    by_layer = child.layer_counts
    if by_layer is None:
        change = child.change
        if change is not None:
            into.setdefault(child.layer, [0, 0, 0, 0])[KIND_INDEX[change.kind]] += 1
        return
    for layer, counts in by_layer.items():
        total = into.get(layer)
        if total is None:
            into[layer] = list(counts)
        else:
            total[0] += counts[0]
            total[1] += counts[1]
            total[2] += counts[2]
            total[3] += counts[3]
