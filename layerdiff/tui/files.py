"""The Files tab, as in dive: the layers on the left (above, on narrow terminals), the changed files of
the selected layer (or of every layer up to it) as a browsable tree, kind toggles and a path filter above
it, the highlighted path's before/after state beside it (below it on narrow terminals)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from layerdiff.tui.cells import KIND_STYLE
from layerdiff.tui.filefacts import detail_text
from layerdiff.tui.filetree import ALL_KINDS, KIND_INDEX, KINDS, FileTree, Layers
from layerdiff.tui.layerpane import LayerTable
from layerdiff.tui.layers import LayerEntry, layer_text, view_title
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
    """Status line, path filter, layers, tree of changed paths and the highlighted path's detail."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *DETAIL_KEYS,
        Binding("tab,shift+tab", "switch_pane", "layers/tree", show=False),
        Binding("u", "toggle_aggregate", "layer/up to it"),
        Binding("ctrl+l", "aggregate(False)", "this layer", show=False),
        Binding("ctrl+a", "aggregate(True)", "up to this layer", show=False),
        Binding("f", "layer_findings", "its findings"),
    ]

    class LayerFindings(Message):
        """The reviewer asked for the findings of the selected layer."""

        def __init__(self, entry: LayerEntry) -> None:
            super().__init__()
            self.entry = entry

    # Wide, as dive: the layers, the selected layer's details and the file's detail on the left, the tree
    # docked on the right (it comes between them in the order a narrow terminal stacks them).
    DEFAULT_CSS = """
    FilesPane { height: 1fr; layout: vertical; }
    FilesPane #files-status { height: auto; padding: 0 1; background: $panel; }
    FilesPane #files-search { display: none; }
    FilesPane.-searching #files-search { display: block; }
    FilesPane #files-body { height: 1fr; layout: vertical; }
    FilesPane.-wide #files-body { layout: horizontal; }
    FilesPane.-wide.-layered #files-body { layout: vertical; }
    FilesPane #files-side { height: auto; border-bottom: solid $accent; }
    FilesPane #files-layers { height: auto; max-height: 5; }
    FilesPane.-wide #files-layers { max-height: 12; }
    FilesPane #files-layer-detail { height: 1; padding: 0 1; background: $panel; }
    FilesPane.-wide #files-layer-detail { height: auto; max-height: 8; background: $surface; }
    FilesPane.-wide.-layered #files-tree { dock: right; width: 55%; border-left: solid $accent; }
    FilesPane #files-detail { height: 10; padding: 0 1; border-top: solid $accent; }
    FilesPane.-layered #files-detail { height: 6; border-top: none; }
    FilesPane.-wide #files-detail { height: 1fr; width: 40%; border-top: none; border-left: solid $accent; }
    FilesPane.-wide.-layered #files-detail { width: 1fr; border-left: none; }
    FilesPane.-zoomed #files-detail { height: 80%; }
    FilesPane.-wide.-zoomed #files-detail { height: 1fr; width: 75%; }
    FilesPane.-wide.-layered.-zoomed #files-tree { width: 25%; }
    """

    def __init__(
        self,
        tree: FileTree,
        instructions: Mapping[int, str],
        layers: Sequence[LayerEntry] = (),
        id: str | None = None,
    ) -> None:
        """``layers``: the layer pane's rows (none: no layer pane, every change shown)."""
        super().__init__(id=id)
        self.file_tree = tree
        self.instructions = dict(instructions)
        self.layer_entries = list(layers)
        # The tab opens on every change: the last row, up to it. The first move to another layer shows that
        # layer's own changes; from then on `u` decides.
        self.layer_index = len(self.layer_entries) - 1
        self.aggregate = True
        self._layer_chosen = False
        self._composed = False
        self.tree_view = FileTreeView(self.file_tree, self._refresh_panels, self.open_search, id="files-tree")
        if self.shown_layers is not None:  # only when the last row is the base's: no reviewed layers
            self.tree_view.layer_filter = self.shown_layers
            self.tree_view.rows = tree.rows(self.tree_view.kinds, "", self.shown_layers)
        self.set_class(bool(self.layer_entries), "-layered")

    @property
    def selected_layer(self) -> LayerEntry | None:
        """The selected row of the layer pane."""
        return self.layer_entries[self.layer_index] if self.layer_entries else None

    @property
    def shown_layers(self) -> Layers:
        layer = self.selected_layer
        if layer is None:
            return None
        return layer.up_to if self.aggregate else layer.own

    def compose(self) -> ComposeResult:
        yield Static(id="files-status")
        yield PathFilterInput(self.cancel_search, id="files-search")
        with Vertical(id="files-body"):
            if self.layer_entries:
                with Vertical(id="files-side"):
                    yield LayerTable(self.layer_entries, self.layer_index, id="files-layers")
                    yield Static(id="files-layer-detail")
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
        layer = self.selected_layer
        if layer is not None:
            text.append(view_title(layer, self.aggregate, self.layer_entries), style="bold")
            text.append("  ")
        counts = self.file_tree.root.view_counts(self.tree_view.layer_filter)
        for kind in KINDS:
            shown = kind in self.tree_view.kinds
            count = counts[KIND_INDEX[kind]]
            label = f"[{'x' if shown else ' '}] {kind} {count}"
            text.append(label, style=KIND_STYLE[kind] if shown else "dim")
            text.append("  ")
        return text

    def _refresh_panels(self) -> None:
        if not self._composed:  # the tree view reports its first rows before the panels exist
            return
        self.query_one("#files-status", Static).update(self.status_text())
        layer = self.selected_layer
        if layer is not None:
            self.query_one("#files-layer-detail", Static).update(
                layer_text(layer, self.aggregate, self.layer_entries)
            )
        detail = self.query_one("#files-detail-text", Static)
        view = self.tree_view
        node = view.current
        self.query_one("#files-detail", VerticalScroll).scroll_home(animate=False)
        if node is not None:
            detail.update(detail_text(node, view.kinds, self.instructions, view.layer_filter))
        elif not self.file_tree.changed:
            detail.update("This report has no file changes.")
        elif layer is not None and not self.file_tree.root.view_mask(view.layer_filter):
            detail.update(f"{view_title(layer, self.aggregate, self.layer_entries)}: no changed files.")
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
        if not self.file_tree.is_visible(node, ALL_KINDS, view.layer_filter):
            self.select_layer(len(self.layer_entries) - 1, aggregate=True, refilter=False)
        if not self.file_tree.is_visible(node, view.kinds, view.layer_filter):
            wanted = {node.kind} if node.kind else {kind for kind in KINDS if node.counts[KIND_INDEX[kind]]}
            view.kinds = view.kinds | {kind for kind in wanted if kind is not None}
        needle = view.needle.lower()
        if needle and node not in self.file_tree.matches(view.kinds, needle, view.layer_filter):
            view.needle = ""
            self.query_one("#files-search", PathFilterInput).value = ""
            self.remove_class("-searching")
        view.refilter(select=node)
        view.focus()
        return True

    # Layers

    def select_layer(self, index: int, aggregate: bool | None = None, refilter: bool = True) -> None:
        """Show the changes of the layer pane's row ``index``: its own, or (``aggregate``) all up to it."""
        if not self.layer_entries:
            return
        self.layer_index = max(0, min(index, len(self.layer_entries) - 1))
        if aggregate is not None:
            self.aggregate = aggregate
        table = self.query(LayerTable)
        if table and table.first().cursor_row != self.layer_index:
            table.first().move_cursor(row=self.layer_index, animate=False)
        self.tree_view.layer_filter = self.shown_layers
        self.file_tree.open_small_view(self.shown_layers)
        if refilter:
            self.tree_view.refilter()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        # Ignored: the cursor put back where the pane already is, and highlights the cursor has since left
        # (the table's first row, highlighted as it was filled).
        if event.cursor_row in (self.layer_index, -1) or event.cursor_row != event.data_table.cursor_row:
            return
        aggregate = self.aggregate if self._layer_chosen else False
        self._layer_chosen = True
        self.select_layer(event.cursor_row, aggregate)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.tree_view.focus()  # Enter on a layer: into its files

    def show_layer(self, index: int) -> None:
        """Chosen elsewhere (the Overview's layer list): the layer pane's row ``index``, its own changes."""
        self._layer_chosen = True
        self.select_layer(index, aggregate=False)

    def action_toggle_aggregate(self) -> None:
        self.action_aggregate(not self.aggregate)

    def action_aggregate(self, aggregate: bool) -> None:
        self._layer_chosen = True
        self.select_layer(self.layer_index, aggregate)

    def action_switch_pane(self) -> None:
        tables = self.query(LayerTable)
        if not tables:
            return
        table = tables.first()
        if table.has_focus:
            self.tree_view.focus()
        else:
            table.focus()

    def action_layer_findings(self) -> None:
        layer = self.selected_layer
        if layer is not None:
            self.post_message(self.LayerFindings(layer))
