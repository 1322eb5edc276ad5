"""The Files tab's layer pane, as in dive: one row per layer (the base's collapsed into one), the cursor
row being the layer whose changes the tree shows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from layerdiff.render.units import human_size
from layerdiff.tui.cells import clip
from layerdiff.tui.layers import BASE, LayerEntry

_COLUMNS = ("#", "size", "files", "findings", "instruction")


def instruction_cell(entry: LayerEntry, room: int) -> str:
    """The instruction cut to ``room`` cells, its Dockerfile line kept whole: it finds the rest."""
    if not entry.source:
        return str(clip(entry.instruction, room))
    source = f"  ({entry.source})"
    return str(clip(entry.instruction, max(room - len(source), 8))) + source


class LayerTable(DataTable[Any]):
    """The layers, one row each; moving the cursor selects a layer (the owner hears RowHighlighted)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "down", show=False),
        Binding("k", "cursor_up", "up", show=False),
        Binding("home", "scroll_top", "first layer", show=False),
        Binding("end", "scroll_bottom", "last layer", show=False),
    ]

    def __init__(self, entries: Sequence[LayerEntry], row: int, id: str | None = None) -> None:
        """``row``: where the cursor starts."""
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.entries = list(entries)
        self._start = row
        self._fitted: int | None = None

    def on_mount(self) -> None:
        self._fill()

    def on_resize(self, event: events.Resize) -> None:
        if self._room() != self._fitted:
            self._fill()

    def _room(self) -> int:
        """Cells left for the instruction column once the others have theirs."""
        cells = [self._cells(entry, 0) for entry in self.entries]
        widths = [
            max([len(label), *(row[column].cell_len for row in cells)])
            for column, label in enumerate(_COLUMNS[:-1])
        ]
        fixed = sum(widths) + 2 * self.cell_padding * len(_COLUMNS) + self.styles.scrollbar_size_vertical
        return max(12, self.size.width - fixed)

    def _cells(self, entry: LayerEntry, room: int) -> tuple[Text, ...]:
        style = "dim" if entry.kind == BASE else ""
        return (
            Text(entry.index_cell, style=style),
            Text("" if entry.size is None else human_size(entry.size), style=style, justify="right"),
            Text(str(entry.files) if entry.kind != BASE else "-", style=style, justify="right"),
            Text(
                str(entry.findings) if entry.findings else "",
                style="bold" if entry.findings else "",
                justify="right",
            ),
            Text(instruction_cell(entry, room or len(entry.instruction)), style=style),
        )

    def _fill(self) -> None:
        row = self.cursor_row if self.row_count else self._start
        room = self._fitted = self._room()
        self.clear(columns=True)
        self.add_columns(*_COLUMNS)
        self.add_rows(self._cells(entry, room) for entry in self.entries)
        if self.entries:
            self.move_cursor(row=min(max(row, 0), len(self.entries) - 1), animate=False)
