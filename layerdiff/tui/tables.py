"""A table of records with a detail pane, search, a group filter and sorting: the shape of every Changes tab
except the file tree."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Input, Static

from layerdiff.tui.cells import CLIP_WIDTH, SEVERITIES, Cell, cell_width, clip, fit_widths
from layerdiff.tui.links import best_match
from layerdiff.tui.records import Record


def sort_key(cell: Any) -> tuple[int, Any]:
    """Numbers by value, severities most severe first, the rest by text."""
    text = cell.plain if isinstance(cell, Text) else str(cell)
    if text.isdigit():
        return (0, int(text))
    if text in SEVERITIES:
        return (1, SEVERITIES.index(text))
    return (2, text.lower())


def _natural(text: str) -> tuple[str, int]:
    """ "layer 10" after "layer 9"."""
    digits = "".join(ch for ch in text if ch.isdigit())
    return ("".join(ch for ch in text if not ch.isdigit()), int(digits) if digits else -1)


class SearchInput(Input):
    """The `/` search box: Enter applies, Escape clears and leaves."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "leave", "clear search", show=False)]

    def action_leave(self) -> None:
        self.value = ""
        self.post_message(self.Submitted(self, ""))


# The detail pane's keys, shared by every table pane and the Files pane (each has action_scroll_detail
# and action_zoom_detail for its own detail pane).
DETAIL_KEYS: list[BindingType] = [
    Binding("J", "scroll_detail(3)", "detail down", show=False),
    Binding("K", "scroll_detail(-3)", "detail up", show=False),
    Binding("z", "zoom_detail", "zoom detail", show=False),
]


def scroll_detail_by(detail: VerticalScroll, lines: int) -> None:
    """Scroll a detail pane now, not after the next refresh: key repeats arrive faster than the screen
    refreshes, and each deferred scroll would start from the position before the others."""
    detail.scroll_relative(y=lines, animate=False, immediate=True)


class RecordsTable(DataTable[Any]):
    """Home and End go to the first and last row (in row mode DataTable's own only scroll sideways)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home", "scroll_top", "first row", show=False),
        Binding("end", "scroll_bottom", "last row", show=False),
    ]


class RecordsPane(Vertical):
    """Records in a DataTable. Filtering rebuilds only the rows that pass; the detail pane renders only the
    highlighted record."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "search"),
        Binding("g", "cycle_group", "group"),
        Binding("o", "cycle_sort", "sort"),
        Binding("j", "cursor_down", "down", show=False),
        Binding("k", "cursor_up", "up", show=False),
        *DETAIL_KEYS,
        Binding("escape", "clear_search", "clear search", show=False),
    ]
    SCOPED_CSS = False  # the rules below name the screen's width class, which is outside this widget
    DEFAULT_CSS = """
    RecordsPane SearchInput { display: none; }
    RecordsPane SearchInput.visible { display: block; }
    RecordsPane .status { height: auto; padding: 0 1; color: $text-muted; }
    RecordsPane .preamble { height: auto; max-height: 6; padding: 0 1; }
    RecordsPane .split { height: 1fr; }
    RecordsPane .records { height: 1fr; width: 1fr; }
    RecordsPane .detail { padding: 0 1; }
    Screen.-narrow RecordsPane .split { layout: vertical; }
    Screen.-narrow RecordsPane .detail { height: 40%; border-top: solid $accent; }
    Screen.-wide RecordsPane .split { layout: horizontal; }
    Screen.-wide RecordsPane .detail { width: 45%; height: 1fr; border-left: solid $accent; }
    Screen.-narrow RecordsPane.-zoomed .detail { height: 80%; }
    Screen.-wide RecordsPane.-zoomed .detail { width: 75%; }
    """

    def __init__(
        self,
        noun: str,
        columns: Sequence[str],
        records: Sequence[Record],
        group_noun: str,
        empty: str,
        preamble: RenderableType | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.noun = noun
        self.columns = tuple(columns)
        self.records = list(records)
        self.groups = sorted({record.group for record in self.records if record.group}, key=_natural)
        self.group_noun = group_noun
        self.empty = empty
        self.preamble = preamble
        self.group: str | None = None
        self.needle = ""
        self.sort_column: int | None = None
        self.shown: list[Record] = []
        self._fitted_room: int | None = None  # the room the columns were last fitted to

    def compose(self) -> ComposeResult:
        if self.preamble is not None:
            yield Static(self.preamble, classes="preamble")
        yield SearchInput(placeholder=f"search {self.noun} (Enter applies, Esc clears)")
        yield Static(classes="status")
        with Horizontal(classes="split"):
            yield RecordsTable(classes="records", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(classes="detail"):
                yield Static(classes="detail-text")

    def on_mount(self) -> None:
        self.table.add_columns(*self.columns)
        self.refresh_rows()

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one(".records", DataTable)

    def focus_table(self) -> None:
        self.table.focus()

    def refresh_rows(self, keep: Record | None = None) -> None:
        needle = self.needle.lower()
        shown = [
            record
            for record in self.records
            if self.passes(record) and (not needle or needle in record.search_text)
        ]
        if self.sort_column is not None:
            column = self.sort_column
            shown.sort(key=lambda record: sort_key(self.full_cells(record)[column]))
        self.shown = shown
        cells = [self.full_cells(record) for record in shown]
        widths = self.column_widths(cells)
        table = self.table
        table.clear(columns=True)  # columns too: their widths only ever grow otherwise
        for label, width in zip(self.columns, widths, strict=True):
            table.add_column(label, width=width)
        table.add_rows(
            tuple(_as_text(clip(cell, width)) for cell, width in zip(row, widths, strict=True))
            for row in cells
        )
        self.query_one(".status", Static).update(self.status_text())
        row = shown.index(keep) if keep in shown else 0
        if shown:
            table.move_cursor(row=row)
        self.show_detail(row)

    def passes(self, record: Record) -> bool:
        return self.group is None or record.group == self.group

    def full_cells(self, record: Record) -> tuple[Any, ...]:
        return record.cells

    def column_widths(self, rows: Sequence[tuple[Any, ...]]) -> list[int]:
        """Each column as wide as its widest cell (at most CLIP_WIDTH), narrowed to fit the table's width
        so that the last column stays on screen at 80 columns."""
        natural = [
            min(CLIP_WIDTH, max([len(label), *(cell_width(row[column]) for row in rows)]))
            for column, label in enumerate(self.columns)
        ]
        self._fitted_room = room = self._room()
        return natural if room is None else fit_widths(natural, room)

    def _room(self) -> int | None:
        """Cells the columns' content can take; None before the table has been laid out."""
        table = self.table
        if table.size.width <= 0:
            return None
        scrollbar = table.styles.scrollbar_size_vertical  # kept free, so a growing list does not reflow
        return table.size.width - scrollbar - 2 * table.cell_padding * len(self.columns)

    def on_resize(self, event: events.Resize) -> None:
        self.call_after_refresh(self._refit)

    def _refit(self) -> None:
        if self._room() != self._fitted_room:
            self.refresh_rows(self.current())

    def status_text(self) -> Text:
        text = Text(f"{len(self.shown)} of {len(self.records)} {self.noun}")
        if self.group is not None:
            text.append(f", {self.group_noun} {self.group}")
        if self.needle:
            text.append(f", matching {self.needle!r}")
        if self.sort_column is not None:
            text.append(f", sorted by {self.columns[self.sort_column]}")
        return text

    def show_detail(self, row: int) -> None:
        pane = self.query_one(".detail-text", Static)
        self.query_one(".detail", VerticalScroll).scroll_home(animate=False)
        if 0 <= row < len(self.shown):
            pane.update(self.shown[row].detail())
        else:
            pane.update(self.empty if not self.records else f"No {self.noun} match.")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.show_detail(event.cursor_row)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_column = None if self.sort_column == event.column_index else event.column_index
        self.refresh_rows(self.current())

    def current(self) -> Record | None:
        row = self.table.cursor_row
        return self.shown[row] if 0 <= row < len(self.shown) else None

    def action_cursor_down(self) -> None:
        self.table.action_cursor_down()

    def action_cursor_up(self) -> None:
        self.table.action_cursor_up()

    def action_scroll_detail(self, lines: int) -> None:
        scroll_detail_by(self.query_one(".detail", VerticalScroll), lines)

    def action_clear_search(self) -> None:
        if self.needle:
            self.query_one(SearchInput).action_leave()

    def action_zoom_detail(self) -> None:
        """Give the detail pane most of the room (again: back to the usual split)."""
        self.toggle_class("-zoomed")

    def action_cycle_group(self) -> None:
        options: list[str | None] = [None, *self.groups]
        self.group = options[(options.index(self.group) + 1) % len(options)]
        self.refresh_rows(self.current())

    def action_cycle_sort(self) -> None:
        options: list[int | None] = [None, *range(len(self.columns))]
        self.sort_column = options[(options.index(self.sort_column) + 1) % len(options)]
        self.refresh_rows(self.current())

    def action_search(self) -> None:
        search = self.query_one(SearchInput)
        search.add_class("visible")
        search.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.needle = event.value.strip()
        event.input.remove_class("visible")
        self.refresh_rows(self.current())
        self.table.focus()

    def reveal(self, candidates: tuple[str, ...]) -> bool:
        """Select the record naming most of ``candidates``; filters that hide it are cleared."""
        row = best_match(candidates, [record.keys for record in self.records])
        if row is None:
            return False
        record = self.records[row]
        if record not in self.shown:
            self.group, self.needle = None, ""
            self.query_one(SearchInput).value = ""
        self.refresh_rows(record)
        self.table.focus()
        return True


def _as_text(cell: Cell) -> Text:
    """DataTable reads a str cell as markup; image text is never markup (`[/]`, `[link=...]`)."""
    return cell if isinstance(cell, Text) else Text(cell)
