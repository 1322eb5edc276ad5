"""What an output format is: a name, one line of help, and a loader that imports its renderer only when the
format is asked for (so ``--format json`` imports neither rich nor the CycloneDX library)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Document = TypeVar("Document")  # what is rendered: a Report, or an Inspection for `inspect`


@dataclass(frozen=True)
class OutputFormat(Generic[Document]):
    name: str
    description: str
    # ``color``: true only for a terminal that wants colour; returns the whole output for a document
    load: Callable[[bool], Callable[[Document], str]]
    # file name endings that mean this format in a bare `-o FILE` (".cdx.json" before ".json")
    extensions: tuple[str, ...] = field(default=())
