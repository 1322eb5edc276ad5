"""The changed-files tree as a scrolling view that draws only the lines on screen (Textual's Line API), so
a report with a hundred thousand changed paths scrolls and filters as quickly as a small one: filtering
replaces a list of rows and repaints, it never builds widgets per row."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from layerdiff.tui.filefacts import KIND_MARKER, change_facts, subtree_counts
from layerdiff.tui.filetree import ALL_KINDS, FileTree, Layers, Node, Row


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
        self.layer_filter: Layers = None  # the layers whose changes are shown (the layer pane's choice)
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
        self.rows = self.file_tree.rows(self.kinds, self.needle, self.layer_filter)
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
                message = self._empty_message()
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

    def _empty_message(self) -> str:
        if not self.file_tree.changed:
            return "no changed paths"
        if not self.file_tree.root.view_mask(self.layer_filter):
            return "no changed files in the layers shown"
        return "nothing matches the filter"

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
            counts = subtree_counts(node, self.kinds, self.layer_filter)
            for position, (count_kind, label) in enumerate(counts):
                gap = "  " if position == 0 else " "
                segments.append(Segment(gap + label, base + style(f"filetree--{count_kind}")))
        return segments
