"""How values look in the review app's tables: severity and kind colours, counts in words, and cells cut
and columns narrowed to fit the terminal.

Pure: no textual here, so the fitting is tested without running the app.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich.text import Text

SEVERITIES = ("critical", "high", "medium", "low", "info")
SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}
KIND_STYLE = {
    "added": "green",
    "removed": "red",
    "modified": "yellow",
    "metadata": "magenta",
    "downgraded": "red",
    "upgraded": "green",
    "changed": "yellow",
    "unresolved": "red",
    "shadowed": "yellow",
    "resolved": "green",
    "broken": "red",
    "lost": "red",
    "files changed": "yellow",
}

Cell = str | Text


def counted(count: int, noun: str) -> str:
    """ "1 finding", "3 findings"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def kind_text(kind: str) -> Text:
    return Text(kind, style=KIND_STYLE.get(kind, ""))


CLIP_WIDTH = 80  # the widest a table cell gets when there is room; the detail pane has the whole value
_SEARCH_PATH = re.compile(r"/[^:]*(?::/[^:]*)+")


def clip(cell: Cell, width: int = CLIP_WIDTH) -> Cell:
    """A table cell cut to ``width``. A path (or a subject naming one) is shortened in the middle, keeping
    its start and its end, where the distinguishing part is; a search path (PATH's ``/a:/b:/c``) keeps its
    start, where entries put first change what is found; other text keeps its start."""
    if cell_width(cell) <= width:
        return cell
    if isinstance(cell, Text):
        cut = cell.copy()
        cut.truncate(width, overflow="ellipsis")
        return cut
    if _names_a_path(cell) and not _SEARCH_PATH.fullmatch(cell):
        return shorten_middle(cell, width)
    return cell[: width - 1] + "…"


def _names_a_path(cell: str) -> bool:
    """A path, or a subject naming one (``pypi:requests:/home/...``); not a sentence that mentions one."""
    slash = cell.find("/")
    return slash == 0 or (slash > 0 and " " not in cell[:slash])


def shorten_middle(value: str, width: int) -> str:
    """``/usr/bin/p…hidden:python on PATH``: the start and the end of ``value`` around an ellipsis, the end
    with two thirds of the room (a path's last components tell it from its neighbours). A subject's
    parts before its path (``pypi:requests:``) stay whole when they take at most two thirds."""
    if len(value) <= width:
        return value
    if width <= 1:
        return "…"[:width]
    room = width - 1  # the ellipsis takes one cell
    prefix = value.find("/")
    if 0 < prefix <= room * 2 // 3:
        rest = room - prefix
        head = prefix + rest // 3
    else:
        head = room // 3
    return value[:head] + "…" + value[len(value) - (room - head) :]


def cell_width(cell: Cell) -> int:
    return cell.cell_len if isinstance(cell, Text) else len(cell)


def fit_widths(natural: Sequence[int], available: int, minimum: int = 8) -> list[int]:
    """Column widths that fit ``available`` cells: the widest columns give way first, none below
    ``minimum`` (or its natural width), as rich's tables shrink. Too little room keeps the minimums."""
    if sum(natural) <= available:
        return list(natural)
    floor = [min(width, minimum) for width in natural]
    # The largest cap whose capped widths fit; columns narrower than it keep their natural width.
    low, high = minimum, max(natural)
    while low < high:
        cap = (low + high + 1) // 2
        if sum(max(f, min(w, cap)) for w, f in zip(natural, floor, strict=True)) <= available:
            low = cap
        else:
            high = cap - 1
    return [max(f, min(w, low)) for w, f in zip(natural, floor, strict=True)]
