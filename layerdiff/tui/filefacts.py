"""What the Files tab says about a changed path: the facts on its tree row and its detail pane.

Pure: no textual here, so the wording is tested without running the app.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from rich.text import Text

from layerdiff.render.units import compact_size
from layerdiff.report.wire import EntryState, FileChange
from layerdiff.tui.cells import KIND_STYLE
from layerdiff.tui.filetree import KINDS, Layers, Node

# The marker characters carry the kind on their own; colour only repeats it.
KIND_MARKER = {"added": "+", "removed": "-", "modified": "~", "metadata": "*"}


def _owner(state: EntryState) -> str:
    return f"{state.uid}:{state.gid}"


def _state_facts(state: EntryState) -> str:
    facts = [state.mode, _owner(state)]
    if state.type == "file":
        facts.append(compact_size(state.size))
    elif state.type in ("symlink", "hardlink") and state.link:
        facts.append(f"→ {state.link}")
    elif state.type != "dir":
        facts.append(state.type)
    return " ".join(facts)


def _xattrs_differ(before: EntryState, after: EntryState) -> bool:
    # Kept as (name, value) pairs in the report's order: the same attributes in another order are no change.
    return before.xattrs != after.xattrs and dict(before.xattrs) != dict(after.xattrs)


def change_facts(change: FileChange) -> str:
    """One line for a tree row: the state of an added or removed path, or what differs before→after."""
    before, after = change.before, change.after
    if before is None or after is None:
        state = after or before
        return _state_facts(state) if state else ""
    facts = []
    if before.type != after.type:
        facts.append(f"{before.type}→{after.type}")
    if before.mode != after.mode:
        facts.append(f"{before.mode}→{after.mode}")
    if _owner(before) != _owner(after):
        facts.append(f"{_owner(before)}→{_owner(after)}")
    if before.size != after.size:
        old, new = compact_size(before.size), compact_size(after.size)
        if old == new:  # a few bytes more or less: the rounded figures would look unchanged
            old, new = str(before.size), str(after.size)
        facts.append(f"{old}→{new}")
    elif before.sha256 != after.sha256:
        facts.append("content")
    if before.link != after.link:
        facts.append(f"→ {after.link}")
    if _xattrs_differ(before, after):
        facts.append("xattrs")
    return " ".join(facts)


def subtree_counts(node: Node, kinds: frozenset[str], layers: Layers = None) -> list[tuple[str, str]]:
    """(kind, "+12") for each enabled kind with changes strictly below ``node`` (in ``layers``)."""
    return [
        (kind, f"{KIND_MARKER[kind]}{count}")
        for kind in KINDS
        if kind in kinds and (count := node.below(kind, layers))
    ]


def _short_digest(digest: str | None) -> str:
    if not digest:
        return "-"
    return digest.split(":", 1)[-1][:12]


def _size_cell(state: EntryState) -> str:
    size = state.size
    if state.type != "file" and not size:
        return "-"  # directories and links carry no size of their own in a tar
    compact = compact_size(size)
    return compact if compact == str(size) else f"{compact} ({size})"


_DETAIL_FIELDS: tuple[tuple[str, tuple[str, ...], Callable[[EntryState], str]], ...] = (
    ("type", ("type",), lambda state: state.type),
    ("mode", ("mode",), lambda state: state.mode),
    ("owner", ("uid", "gid"), _owner),
    ("size", ("size",), _size_cell),
    ("link", ("link",), lambda state: state.link or "-"),
    ("sha256", ("sha256",), lambda state: _short_digest(state.sha256)),
    ("xattrs", ("xattrs",), lambda state: ", ".join(sorted(name for name, _ in state.xattrs)) or "-"),
)


def detail_text(
    node: Node | None, kinds: frozenset[str], instructions: Mapping[int, str], layers: Layers = None
) -> Text:
    """The detail pane's text for the highlighted node; the counts below it are those of ``layers``."""
    text = Text()
    if node is None:
        return text
    text.append(node.path + ("/" if node.is_dir and node.path != "/" else "") + "\n", style="bold")
    change = node.change
    if change is None:
        text.append("directory, unchanged itself\n")
    else:
        kind = change.kind
        text.append(f"{KIND_MARKER[kind]} {kind}", style=f"bold {KIND_STYLE[kind]}")
        if change.fields:
            text.append("  changed: " + ", ".join(change.fields))
        text.append("\n")
        text.append_text(_state_table(change))
        layer = change.layer
        if layer is None:
            text.append("layer: unknown\n")
        else:
            text.append(f"layer {layer}: ", style="bold")
            text.append(f"{instructions.get(layer) or '(no instruction recorded)'}\n")
    below = {kind: node.below(kind, layers) for kind in KINDS}
    counts = [f"{count} {kind}" for kind, count in below.items() if count]
    if counts:
        hidden = [kind for kind, count in below.items() if count and kind not in kinds]
        text.append("below: " + ", ".join(counts) + "\n")
        if hidden:
            text.append("hidden by the kind filter: " + ", ".join(hidden) + "\n", style="dim")
    return text


def _state_table(change: FileChange) -> Text:
    before, after = change.before, change.after
    changed = set(change.fields)
    cells = [
        (
            label,
            bool(changed.intersection(names)),
            show(before) if before else "-",
            show(after) if after else "-",
        )
        for label, names, show in _DETAIL_FIELDS
    ]
    # Attributes neither side has (a file's link target, a directory's digest) would only take lines.
    cells = [cell for cell in cells if cell[1] or cell[2] != "-" or cell[3] != "-"]
    width = max(6, *(len(cell[2]) for cell in cells)) + 2
    table = Text()
    table.append(f"  {'':8}{'before':<{width}}after\n", style="bold")
    for label, differs, old, new in cells:
        # The "≠" mark, not only the emphasis, tells which attributes changed.
        table.append(
            f"{'≠' if differs else ' '} {label:<8}{old:<{width}}{new}\n", style="bold" if differs else ""
        )
    # The table shows digests by their first 12 digits; whole, they can be checked against the image.
    for side, state in (("before", before), ("after", after)):
        if state and state.sha256:
            table.append(f"  sha256 {side}: {state.sha256}\n", style="dim")
    return table
