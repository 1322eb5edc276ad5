"""The changed files of a report as a browsable tree: kind toggles and a path filter above it, the
highlighted path's before/after state beside it (below it on narrow terminals).

The tree view draws only the lines on screen (Textual's Line API), so a report with a hundred thousand
changed paths scrolls and filters as quickly as a small one: filtering replaces a list of rows and
repaints, it never builds widgets per row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Vertical, VerticalScroll
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Input, Static

from layerdiff.render.units import compact_size
from layerdiff.tui.filetree import ALL_KINDS, KIND_INDEX, KINDS, FileTree, Node, Row
from layerdiff.tui.tables import DETAIL_KEYS

# The marker characters carry the kind on their own; colour only repeats it.
KIND_MARKER = {"added": "+", "removed": "-", "modified": "~", "metadata": "*"}
_KIND_STYLE = {"added": "green", "removed": "red", "modified": "yellow", "metadata": "magenta"}
WIDE_LAYOUT_MIN_WIDTH = 120


def _owner(state: Mapping[str, Any]) -> str:
    return f"{state['uid']}:{state['gid']}"


def _state_facts(state: Mapping[str, Any]) -> str:
    facts = [str(state["mode"]), _owner(state)]
    if state["type"] == "file":
        facts.append(compact_size(int(state["size"])))
    elif state["type"] in ("symlink", "hardlink") and state.get("link"):
        facts.append(f"→ {state['link']}")
    elif state["type"] != "dir":
        facts.append(str(state["type"]))
    return " ".join(facts)


def change_facts(change: Mapping[str, Any]) -> str:
    """One line for a tree row: the state of an added or removed path, or what differs before→after."""
    before, after = change["before"], change["after"]
    if before is None or after is None:
        state = after or before
        return _state_facts(state) if state else ""
    facts = []
    if before["type"] != after["type"]:
        facts.append(f"{before['type']}→{after['type']}")
    if before["mode"] != after["mode"]:
        facts.append(f"{before['mode']}→{after['mode']}")
    if _owner(before) != _owner(after):
        facts.append(f"{_owner(before)}→{_owner(after)}")
    if before["size"] != after["size"]:
        old, new = compact_size(int(before["size"])), compact_size(int(after["size"]))
        if old == new:  # a few bytes more or less: the rounded figures would look unchanged
            old, new = str(before["size"]), str(after["size"])
        facts.append(f"{old}→{new}")
    elif before.get("sha256") != after.get("sha256"):
        facts.append("content")
    if before.get("link") != after.get("link"):
        facts.append(f"→ {after.get('link')}")
    if before.get("xattrs") != after.get("xattrs"):
        facts.append("xattrs")
    return " ".join(facts)


def subtree_counts(node: Node, kinds: frozenset[str]) -> list[tuple[str, str]]:
    """(kind, "+12") for each enabled kind with changes strictly below ``node``."""
    return [
        (kind, f"{KIND_MARKER[kind]}{count}")
        for kind in KINDS
        if kind in kinds and (count := node.below(kind))
    ]


def _short_digest(digest: Any) -> str:
    if not digest:
        return "-"
    text = str(digest)
    return text.split(":", 1)[-1][:12]


def _size_cell(state: Mapping[str, Any]) -> str:
    size = int(state["size"])
    if state["type"] != "file" and not size:
        return "-"  # directories and links carry no size of their own in a tar
    compact = compact_size(size)
    return compact if compact == str(size) else f"{compact} ({size})"


_DETAIL_FIELDS: tuple[tuple[str, tuple[str, ...], Callable[[Mapping[str, Any]], str]], ...] = (
    ("type", ("type",), lambda state: str(state["type"])),
    ("mode", ("mode",), lambda state: str(state["mode"])),
    ("owner", ("uid", "gid"), _owner),
    ("size", ("size",), _size_cell),
    ("link", ("link",), lambda state: str(state.get("link") or "-")),
    ("sha256", ("sha256",), lambda state: _short_digest(state.get("sha256"))),
    ("xattrs", ("xattrs",), lambda state: ", ".join(sorted(state.get("xattrs") or {})) or "-"),
)


def detail_text(node: Node | None, kinds: frozenset[str], instructions: Mapping[int, str]) -> Text:
    """The detail pane's text for the highlighted node."""
    text = Text()
    if node is None:
        return text
    text.append(node.path + ("/" if node.is_dir and node.path != "/" else "") + "\n", style="bold")
    change = node.change
    if change is None:
        text.append("directory, unchanged itself\n")
    else:
        kind = str(change["kind"])
        text.append(f"{KIND_MARKER[kind]} {kind}", style=f"bold {_KIND_STYLE[kind]}")
        if change["fields"]:
            text.append("  changed: " + ", ".join(change["fields"]))
        text.append("\n")
        text.append_text(_state_table(change))
        layer = change["layer"]
        if layer is None:
            text.append("layer: unknown\n")
        else:
            text.append(f"layer {layer}: ", style="bold")
            text.append(f"{instructions.get(int(layer)) or '(no instruction recorded)'}\n")
    counts = [f"{node.below(kind)} {kind}" for kind in KINDS if node.below(kind)]
    if counts:
        hidden = [kind for kind in KINDS if node.below(kind) and kind not in kinds]
        text.append("below: " + ", ".join(counts) + "\n")
        if hidden:
            text.append("hidden by the kind filter: " + ", ".join(hidden) + "\n", style="dim")
    return text


def _state_table(change: Mapping[str, Any]) -> Text:
    before, after = change["before"], change["after"]
    changed = set(change["fields"])
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
        if state and state.get("sha256"):
            table.append(f"  sha256 {side}: {state['sha256']}\n", style="dim")
    return table


class FileTreeView(ScrollView, can_focus=True):
    """The visible rows of a FileTree, drawn line by line; the owner is told of every change of cursor
    or filter through ``on_change``."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "filetree--cursor",
        "filetree--directory",
        "filetree--added",
        "filetree--removed",
        "filetree--modified",
        "filetree--metadata",
        "filetree--facts",
        "filetree--empty",
    }
    # Unscoped so that the no-colour rule can start at the App.
    SCOPED_CSS = False
    DEFAULT_CSS = """
    FileTreeView { overflow-x: hidden; height: 1fr; }
    FileTreeView > .filetree--cursor {
        color: $block-cursor-foreground;
        background: $block-cursor-background;
        text-style: bold;
    }
    FileTreeView:blur > .filetree--cursor { background: $block-cursor-blurred-background; text-style: bold; }
    App:nocolor FileTreeView > .filetree--cursor { text-style: bold reverse; }
    FileTreeView > .filetree--directory { text-style: bold; }
    FileTreeView > .filetree--added { color: $text-success; }
    FileTreeView > .filetree--removed { color: $text-error; }
    FileTreeView > .filetree--modified { color: $text-warning; }
    FileTreeView > .filetree--metadata { color: $text-accent; }
    FileTreeView > .filetree--facts { color: $text-muted; }
    FileTreeView > .filetree--empty { color: $text-muted; text-style: italic; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "up", show=False),
        Binding("down,j", "cursor_down", "down", show=False),
        Binding("pageup", "page_up", "page up", show=False),
        Binding("pagedown", "page_down", "page down", show=False),
        Binding("home", "first", "first", show=False),
        Binding("end", "last", "last", show=False),
        Binding("slash", "search", "filter"),
        Binding("a", "toggle_kind('added')", "added"),
        Binding("d", "toggle_kind('removed')", "removed"),
        Binding("m", "toggle_kind('modified')", "modified"),
        Binding("t", "toggle_kind('metadata')", "metadata"),
        Binding("enter,space", "toggle_directory", "open/close"),
        Binding("right,l", "expand", "expand", show=False),
        Binding("left,h", "collapse", "collapse/parent", show=False),
        Binding("E", "expand_all", "expand all", show=False),
        Binding("C", "collapse_all", "collapse all", show=False),
    ]

    def __init__(
        self,
        tree: FileTree,
        on_change: Callable[[], None],
        on_search: Callable[[], None],
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.file_tree = tree
        self.kinds: frozenset[str] = ALL_KINDS
        self.needle = ""
        self.rows: list[Row] = tree.rows(self.kinds)
        self.cursor = 0
        self._on_change = on_change
        self._on_search = on_search
        self._click_toggled: int | None = None  # the row the last click opened or closed

    @property
    def current(self) -> Node | None:
        return self.rows[self.cursor].node if 0 <= self.cursor < len(self.rows) else None

    def on_mount(self) -> None:
        self._update_virtual_size()

    def on_resize(self, event: events.Resize) -> None:
        self._update_virtual_size()

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.rows))

    # Rows and cursor

    def refilter(self, select: Node | None = None) -> None:
        """Recompute the rows after a change of kinds, needle or expansion; keep the cursor on ``select``
        (by default the highlighted node), else on its nearest shown ancestor, else near where it was."""
        target = select or self.current
        self.rows = self.file_tree.rows(self.kinds, self.needle)
        self._update_virtual_size()
        index = None
        if target is not None:
            # One pass over the rows for the target and all its ancestors, nearest first.
            chain = [target, *target.ancestors()]
            wanted = set(chain)
            found = {row.node: position for position, row in enumerate(self.rows) if row.node in wanted}
            index = next((found[node] for node in chain if node in found), None)
        self.cursor = min(self.cursor, len(self.rows) - 1) if index is None else index
        self.cursor = max(self.cursor, 0)
        self.refresh()
        self._show_cursor()
        self._on_change()

    def index_of(self, node: Node) -> int | None:
        return next((index for index, row in enumerate(self.rows) if row.node is node), None)

    def move_to(self, index: int) -> None:
        if not self.rows:
            return
        index = max(0, min(index, len(self.rows) - 1))
        if index != self.cursor:
            old, self.cursor = self.cursor, index
            self.refresh_line(old)
            self.refresh_line(index)
        self._show_cursor()
        self._on_change()

    def _show_cursor(self) -> None:
        if self.rows:
            self.scroll_to_region(Region(0, self.cursor, 1, 1), animate=False, force=True, immediate=True)

    def action_cursor_up(self) -> None:
        self.move_to(self.cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_to(self.cursor + 1)

    def action_page_up(self) -> None:
        self.move_to(self.cursor - max(1, self.scrollable_content_region.height - 1))

    def action_page_down(self) -> None:
        self.move_to(self.cursor + max(1, self.scrollable_content_region.height - 1))

    def action_first(self) -> None:
        self.move_to(0)

    def action_last(self) -> None:
        self.move_to(len(self.rows) - 1)

    # Expansion

    def action_toggle_directory(self) -> None:
        node = self.current
        if node is not None and node.sorted:
            self.file_tree.toggle(node)
            self.refilter()

    def action_expand(self) -> None:
        node = self.current
        if node is None or not node.sorted:
            return
        if self.file_tree.is_open(node):
            self.move_to(self.cursor + 1)  # already open: step into it, as file managers do
        else:
            self.file_tree.expand(node)
            self.refilter()

    def action_collapse(self) -> None:
        node = self.current
        if node is None:
            return
        if node.sorted and self.file_tree.is_open(node):
            self.file_tree.collapse(node)
            self.refilter()
        elif node.parent is not None and (index := self.index_of(node.parent)) is not None:
            self.move_to(index)

    def action_expand_all(self) -> None:
        self.file_tree.expand_all()
        self.refilter()

    def action_collapse_all(self) -> None:
        self.file_tree.collapse_all()
        self.refilter()

    # Filters

    def action_toggle_kind(self, kind: str) -> None:
        self.kinds = self.kinds ^ {kind}
        self.refilter()

    def action_search(self) -> None:
        self._on_search()

    def set_needle(self, needle: str) -> None:
        self.needle = needle
        self.refilter()

    # Mouse

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        index = offset.y + int(self.scroll_offset.y)
        if not 0 <= index < len(self.rows):
            return
        event.stop()
        self.focus()
        if event.chain > 1 and self._click_toggled == index:
            return  # the double click's first click already opened or closed it
        row = self.rows[index]
        on_marker = offset.x + int(self.scroll_offset.x) in range(2 * row.depth, 2 * row.depth + 2)
        # A click on the ▸/▾ marker, or a click on the highlighted directory (hence also a double
        # click on any directory), opens or closes it.
        toggles = bool(row.node.sorted) and (index == self.cursor or on_marker)
        self.move_to(index)
        if toggles:
            self.action_toggle_directory()
        self._click_toggled = index if toggles else None

    # Drawing

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = y + scroll_y
        width = self.scrollable_content_region.width
        base = self.rich_style
        if index >= len(self.rows):
            if index == 0:
                message = "no changed paths" if not self.file_tree.changed else "nothing matches the filter"
                style = base + self.get_component_rich_style("filetree--empty")
                return Strip([Segment(f" {message}", style)]).crop_extend(0, width, base)
            return Strip.blank(width, base)
        row = self.rows[index]
        segments = self._row_segments(row, base)
        if index == self.cursor:
            cursor = base + self.get_component_rich_style("filetree--cursor")
            strip = Strip([Segment(text, cursor) for text, _, _ in segments])
            return strip.crop_extend(scroll_x, scroll_x + width, cursor)
        return Strip(segments).crop_extend(scroll_x, scroll_x + width, base)

    def _row_segments(self, row: Row, base: Style) -> list[Segment]:
        node = row.node
        style = self.get_component_rich_style
        is_dir = node.is_dir
        marker = ("▾ " if self.file_tree.is_open(node) else "▸ ") if node.sorted else "  "
        segments = [Segment("  " * row.depth + marker, base)]
        kind = node.kind
        if kind is None:
            segments.append(Segment("  ", base))
        else:
            segments.append(Segment(f"{KIND_MARKER[kind]} ", base + style(f"filetree--{kind}")))
        name_style = base + style("filetree--directory") if is_dir else base
        if kind is not None and not is_dir:
            name_style = base + style(f"filetree--{kind}")
        segments.append(Segment(node.name + ("/" if is_dir and node.path != "/" else ""), name_style))
        if node.change is not None and (facts := change_facts(node.change)):
            segments.append(Segment("  " + facts, base + style("filetree--facts")))
        if node.sorted:
            counts = subtree_counts(node, self.kinds)
            for position, (count_kind, label) in enumerate(counts):
                gap = "  " if position == 0 else " "
                segments.append(Segment(gap + label, base + style(f"filetree--{count_kind}")))
        return segments


class PathFilterInput(Input):
    """The path filter line: Enter applies it, Escape clears it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "clear filter", show=False)]

    def __init__(self, on_cancel: Callable[[], None], id: str | None = None) -> None:
        super().__init__(placeholder="path contains… (Enter applies, Esc clears)", id=id)
        self._on_cancel = on_cancel

    def action_cancel(self) -> None:
        self._on_cancel()


class FilesPane(Container):
    """Status line, path filter, tree of changed paths and the highlighted path's detail."""

    BINDINGS: ClassVar[list[BindingType]] = DETAIL_KEYS

    DEFAULT_CSS = """
    FilesPane { height: 1fr; layout: vertical; }
    FilesPane #files-status { height: auto; padding: 0 1; background: $panel; }
    FilesPane #files-search { display: none; }
    FilesPane.-searching #files-search { display: block; }
    FilesPane #files-body { height: 1fr; layout: vertical; }
    FilesPane.-wide #files-body { layout: horizontal; }
    FilesPane #files-detail { height: 10; padding: 0 1; border-top: solid $accent; }
    FilesPane.-wide #files-detail { height: 1fr; width: 40%; border-top: none; border-left: solid $accent; }
    FilesPane.-zoomed #files-detail { height: 80%; }
    FilesPane.-wide.-zoomed #files-detail { height: 1fr; width: 75%; }
    """

    def __init__(self, tree: FileTree, instructions: Mapping[int, str], id: str | None = None) -> None:
        super().__init__(id=id)
        self.file_tree = tree
        self.instructions = dict(instructions)
        self._composed = False
        self.tree_view = FileTreeView(self.file_tree, self._refresh_panels, self.open_search, id="files-tree")

    def compose(self) -> ComposeResult:
        yield Static(id="files-status")
        yield PathFilterInput(self.cancel_search, id="files-search")
        with Vertical(id="files-body"):
            yield self.tree_view
            with VerticalScroll(id="files-detail"):
                yield Static(id="files-detail-text")

    def on_mount(self) -> None:
        self._composed = True
        self.set_class(self.app.size.width >= WIDE_LAYOUT_MIN_WIDTH, "-wide")  # before the first resize
        self._refresh_panels()

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width >= WIDE_LAYOUT_MIN_WIDTH, "-wide")

    def status_text(self) -> Text:
        text = Text()
        if self.tree_view.needle:  # first: on a narrow terminal the line wraps, and this must not be missed
            text.append(f"/{self.tree_view.needle}", style="bold reverse")
            text.append(f" {len(self.tree_view.rows)} rows  ")
        for kind in KINDS:
            shown = kind in self.tree_view.kinds
            count = self.file_tree.root.counts[KIND_INDEX[kind]]
            label = f"[{'x' if shown else ' '}] {kind} {count}"
            text.append(label, style=_KIND_STYLE[kind] if shown else "dim")
            text.append("  ")
        return text

    def _refresh_panels(self) -> None:
        if not self._composed:  # the tree view reports its first rows before the panels exist
            return
        self.query_one("#files-status", Static).update(self.status_text())
        detail = self.query_one("#files-detail-text", Static)
        node = self.tree_view.current
        self.query_one("#files-detail", VerticalScroll).scroll_home(animate=False)
        if node is not None:
            detail.update(detail_text(node, self.tree_view.kinds, self.instructions))
        elif not self.file_tree.changed:
            detail.update("This report has no file changes.")
        else:
            detail.update("No changed path matches the kind toggles and the path filter.")

    def action_scroll_detail(self, lines: int) -> None:
        self.query_one("#files-detail", VerticalScroll).scroll_relative(y=lines, animate=False)

    def action_zoom_detail(self) -> None:
        """Give the detail pane most of the room (again: back to the usual split)."""
        self.toggle_class("-zoomed")

    def open_search(self) -> None:
        search = self.query_one("#files-search", PathFilterInput)
        search.value = self.tree_view.needle
        self.add_class("-searching")
        search.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "files-search":
            return
        event.stop()
        self.remove_class("-searching")
        self.tree_view.set_needle(event.value.strip())
        self.tree_view.focus()

    def cancel_search(self) -> None:
        self.query_one("#files-search", PathFilterInput).value = ""
        self.remove_class("-searching")
        self.tree_view.set_needle("")
        self.tree_view.focus()

    def reveal(self, path: str) -> bool:
        """Highlight ``path``'s row: expand its ancestors, turn on its kind and drop a path filter that
        hides it; scroll it into view and focus the tree. False when the path is neither changed nor
        above a changed path."""
        node = self.file_tree.reveal(path)
        if node is None:
            return False
        view = self.tree_view
        if not self.file_tree.is_visible(node, view.kinds):
            wanted = {node.kind} if node.kind else {kind for kind in KINDS if node.counts[KIND_INDEX[kind]]}
            view.kinds = view.kinds | {kind for kind in wanted if kind is not None}
        if view.needle and node not in self.file_tree.matches(view.kinds, view.needle.lower()):
            view.needle = ""
            self.query_one("#files-search", PathFilterInput).value = ""
            self.remove_class("-searching")
        view.refilter(select=node)
        view.focus()
        return True
