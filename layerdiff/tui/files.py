"""The Files tab: the changed files of a report as a browsable tree, kind toggles and a path filter above
it, the highlighted path's before/after state beside it (below it on narrow terminals)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Vertical, VerticalScroll
from textual.widgets import Input, Static

from layerdiff.tui.cells import KIND_STYLE
from layerdiff.tui.filefacts import detail_text
from layerdiff.tui.filetree import KIND_INDEX, KINDS, FileTree
from layerdiff.tui.tables import DETAIL_KEYS, scroll_detail_by
from layerdiff.tui.treeview import FileTreeView

WIDE_LAYOUT_MIN_WIDTH = 120


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
            text.append(label, style=KIND_STYLE[kind] if shown else "dim")
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
        scroll_detail_by(self.query_one("#files-detail", VerticalScroll), lines)

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
