"""How the table fits a screen: its width, the rich console it is drawn on, and lists cut to a few entries.

Nothing depends on the width for correctness: a narrower width wraps the same text onto more lines.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterable, Sequence
from typing import TypeVar

from rich.console import Console, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from layerdiff.render.interface import DEFAULT_WIDTH, MAX_WIDTH, MIN_WIDTH

LIST_ROWS = 20  # entries shown of each list (file changes, packages, layers, ...); the rest are counted
FINDING_BLOCKS = 50  # findings shown, most severe first; the rest are counted
MORE_HINT = "see -o json"

_Item = TypeVar("_Item")


def table_width() -> int:
    """COLUMNS when it is set, else the terminal's width when stdout is one, else 80 (shutil's rule, which
    rich follows too), kept between MIN_WIDTH and MAX_WIDTH."""
    columns = shutil.get_terminal_size(fallback=(DEFAULT_WIDTH, 24)).columns
    return max(MIN_WIDTH, min(columns, MAX_WIDTH))


def make_console(color: bool, width: int | None) -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=color,
        no_color=not color,
        width=table_width() if width is None else width,
        highlight=False,
        soft_wrap=False,
        markup=False,  # image text is never markup: `[link=...]` or `[/]` in a label stays as it is
        emoji=False,  # nor is `:smile:` in a file name an emoji
    )
    return console, buffer


def finished(buffer: io.StringIO, color: bool) -> str:
    """The drawn text; without colour, without the spaces rich pads table cells with at the end of a line."""
    text = buffer.getvalue()
    if color:
        return text
    # split("\n"), not splitlines(), which would also break a line at a U+2028 in an image's text
    return "\n".join(line.rstrip(" ") for line in text.split("\n"))


def head(items: Sequence[_Item], limit: int = LIST_ROWS) -> tuple[Sequence[_Item], int]:
    """The first ``limit`` items and how many are left out."""
    return items[:limit], max(0, len(items) - limit)


def print_more(console: Console, hidden: int, noun: str) -> None:
    """The line that counts what a cut list left out: ``… and 120 more file changes (see -o json)``
    (``noun``: one of them)."""
    if hidden > 0:
        console.print(Text(f"… and {hidden} more {noun if hidden == 1 else _plural(noun)} ({MORE_HINT})"))


def _plural(noun: str) -> str:
    return noun[:-1] + "ies" if noun.endswith("y") else noun + "s"  # an unmet dependency, unmet dependencies


def print_lines(console: Console, lines: Sequence[Text], noun: str) -> None:
    """The first LIST_ROWS lines, and the count of the rest (``noun``: what one line is)."""
    shown, hidden = head(lines)
    for line in shown:
        console.print(line)
    print_more(console, hidden, noun)


def title(text: str, count: int | None = None) -> Text:
    return Text(text if count is None else f"{text} ({count})", style="bold")


def columns(*headers: str) -> Table:
    """A borderless table, as grype and docker print them: a header row, columns two spaces apart, every
    cell folded to fit."""
    table = Table(box=None, padding=(0, 2, 0, 0), pad_edge=False, header_style="bold", show_edge=False)
    for header in headers:
        table.add_column(header, overflow="fold")
    return table


def labelled(rows: Sequence[Sequence[Text | str]], indent: int = 0) -> RenderableType:
    """Values beside their labels (a row of cells each, all rows as long), the values folded in a column of
    their own so that a wrapped value keeps its indentation."""
    grid = Table.grid(padding=(0, 2, 0, 0))
    for _ in range(len(rows[0]) if rows else 0):
        grid.add_column(overflow="fold")  # the widest column is narrowed first: the values, not the labels
    for row in rows:
        grid.add_row(*(_text(cell) for cell in row))
    return Padding(grid, (0, 0, 0, indent)) if indent else grid


def bulleted(lines: Iterable[str]) -> RenderableType:
    """A line per item behind a dash, indented, each wrapped line under the text it continues."""
    grid = Table.grid(padding=(0, 1, 0, 0))
    grid.add_column()
    grid.add_column(overflow="fold")
    for line in lines:
        grid.add_row(Text("-"), Text(line))
    return Padding(grid, (0, 0, 0, 2))


def _text(value: Text | str) -> Text:
    return value if isinstance(value, Text) else Text(value)
