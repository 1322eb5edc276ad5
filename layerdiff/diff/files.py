"""Compare two squashed trees path by path."""

from __future__ import annotations

from layerdiff.diff.changes import ChangeKind, FileChange
from layerdiff.fs.tree import Tree
from layerdiff.image.model import Entry

_CONTENT_FIELDS = ("type", "sha256", "size", "link")
_METADATA_FIELDS = ("mode", "uid", "gid", "xattrs")


def diff_trees(base: Tree, derived: Tree, first_derived_layer: int) -> list[FileChange]:
    """Changes from ``base`` to ``derived``, considering only paths the derived layers touched.

    With ``first_derived_layer`` 0 (the images share no layers) every path is compared.
    """
    changes: list[FileChange] = []
    for path, node in derived.nodes.items():
        if node.layer < first_derived_layer:
            continue
        before = base.nodes.get(path)
        if before is None:
            changes.append(FileChange(path, ChangeKind.ADDED, node.layer, None, node.entry, ()))
            continue
        fields = differing_fields(before.entry, node.entry)
        if not fields:
            continue
        kind = ChangeKind.MODIFIED if any(f in _CONTENT_FIELDS for f in fields) else ChangeKind.METADATA
        changes.append(FileChange(path, kind, node.layer, before.entry, node.entry, fields))
    for path, before in base.nodes.items():
        if path not in derived.nodes:
            changes.append(
                FileChange(path, ChangeKind.REMOVED, derived.removed_by.get(path), before.entry, None, ())
            )
    changes.sort(key=lambda c: c.path)
    return changes


def differing_fields(before: Entry, after: Entry) -> tuple[str, ...]:
    return tuple(
        name
        for name in (*_CONTENT_FIELDS, *_METADATA_FIELDS)
        if getattr(before, name) != getattr(after, name)
    )
