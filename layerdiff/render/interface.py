"""What an output format is: a name, one line of help, and a loader that imports its renderer only when the
format is asked for (so ``--format json`` imports neither rich nor the CycloneDX library)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

DEFAULT_WIDTH = 80  # without a terminal and without COLUMNS: what a CI log or a pager shows without wrapping
MIN_WIDTH = 40  # below this even a label and a word do not fit side by side
MAX_WIDTH = 100_000  # COLUMNS=100000 puts every table row on one line, for grep

Document = TypeVar("Document")  # what is rendered: a Report, or an Inspection for `inspect`


@dataclass(frozen=True)
class Presentation:
    """How an output is shown: colour only on a terminal that wants it; the width of the table, None for
    the terminal's (or COLUMNS). A file gets a fixed width, so equal reports give equal files anywhere."""

    color: bool = False
    width: int | None = None


@dataclass(frozen=True)
class OutputFormat(Generic[Document]):
    name: str
    description: str
    # returns the renderer: the whole output for a document
    load: Callable[[Presentation], Callable[[Document], str]]
    # file name endings that mean this format in a bare `-o FILE` (".cdx.json" before ".json")
    extensions: tuple[str, ...] = field(default=())
    # a renderer that hands the output out in pieces as it makes them (a report's JSON: hundreds of MB)
    pieces: Callable[[Presentation], Callable[[Document], Iterable[str]]] | None = None


def file_width() -> int:
    """The width of a table that goes to a file or a pipe: COLUMNS when it is set, else DEFAULT_WIDTH;
    never the width of a terminal the command happens to run in."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = DEFAULT_WIDTH
    return max(MIN_WIDTH, min(columns, MAX_WIDTH))
