"""The layer pane's rows, as in dive: the base's layers collapsed under one line, then each derived layer
with its size, changed files, findings and instruction, and the changes no layer was attributed to.

Each row knows which layers its two views show: the layer's own changes, and everything up to it (the
last row's is every change, unattributed ones included). Pure: no textual here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from rich.text import Text

from layerdiff.render.units import human_size
from layerdiff.report.wire import Report
from layerdiff.tui.cells import counted
from layerdiff.tui.filetree import Layers

BASE, LAYER, UNATTRIBUTED = "base", "layer", "unattributed"


@dataclass(frozen=True)
class LayerEntry:
    kind: str  # BASE, LAYER or UNATTRIBUTED
    position: int | None  # the derived layer's position; None for the base and unattributed rows
    size: int | None
    files: int
    findings: int
    instruction: str
    source: str | None  # "Dockerfile:12" when the report was made with the Dockerfile
    own: Layers  # what "this layer" shows
    up_to: Layers  # what "up to here" shows

    @property
    def label(self) -> str:
        """The row's name in sentences: "layer 4", "the base", "unattributed changes"."""
        if self.kind == LAYER:
            return f"layer {self.position}"
        return "the base" if self.kind == BASE else "unattributed changes"

    @property
    def index_cell(self) -> str:
        return str(self.position) if self.kind == LAYER else {BASE: "base", UNATTRIBUTED: "?"}[self.kind]


def layer_entries(report: Report) -> list[LayerEntry]:
    """The rows of the layer pane, in image order. Bounded by the report's reviewed layers (plus two)."""
    comparison = report.comparison
    reviewed = comparison.reviewed_layers
    positions = frozenset(layer.position for layer in reviewed)
    files = Counter(change.layer if change.layer in positions else None for change in report.file_changes)
    findings = Counter(finding.layer for finding in report.findings)
    unattributed = files.get(None, 0)
    entries: list[LayerEntry] = []
    if comparison.extends_base and comparison.shared_layers:
        shared = counted(comparison.shared_layers, "layer")
        entries.append(
            LayerEntry(
                kind=BASE,
                position=None,
                size=report.base.size,
                files=0,
                findings=0,
                instruction=f"{shared} shared with {report.base.reference}: what the review compares against",
                source=None,
                own=frozenset(),
                up_to=frozenset(),
            )
        )
    sources = _dockerfile_lines(report)
    so_far: set[int | None] = set()
    for number, layer in enumerate(reviewed, start=1):
        so_far.add(layer.position)
        last = number == len(reviewed) and not unattributed
        entries.append(
            LayerEntry(
                kind=LAYER,
                position=layer.position,
                size=layer.size,
                files=files.get(layer.position, 0),
                findings=findings.get(layer.position, 0),
                instruction=layer.instruction or layer.created_by or "(no instruction recorded)",
                source=sources.get(layer.position),
                own=frozenset({layer.position}),
                up_to=None if last else frozenset(so_far),
            )
        )
    if unattributed:
        entries.append(
            LayerEntry(
                kind=UNATTRIBUTED,
                position=None,
                size=None,
                files=unattributed,
                findings=0,
                instruction="changed files no reviewed layer could be attributed (see the warnings)",
                source=None,
                own=frozenset({None}),
                up_to=None,
            )
        )
    return entries


def view_title(entry: LayerEntry, aggregate: bool, entries: Sequence[LayerEntry]) -> str:
    """What the tree shows, in a few words: "layer 4 only", "layers up to 4", "all layers"."""
    if entry.kind == BASE:
        return "the base"
    if not aggregate:
        return f"{entry.label} only"
    if entry.up_to is None:
        return "all layers"
    first = next((e for e in entries if e.kind == LAYER), entry)
    return entry.label if first is entry else f"layers {first.position} to {entry.position}"


def layer_text(entry: LayerEntry, aggregate: bool, entries: Sequence[LayerEntry]) -> Text:
    """The selected layer, as dive's layer details: what the tree shows, the instruction, the figures, the
    keys. The first line is the whole of it where only one line fits."""
    text = Text()
    title = view_title(entry, aggregate, entries)
    text.append(title, style="bold")
    if title != f"{entry.label} only" and entry.kind != BASE:
        text.append(f" · {entry.label}")
    text.append(f": {entry.instruction}")
    if entry.source:
        text.append(f"  ({entry.source})", style="bold")
    text.append("\n")
    if entry.kind != BASE:
        figures = [counted(entry.files, "changed file"), counted(entry.findings, "finding")]
        if entry.size is not None:
            figures.insert(0, human_size(entry.size))
        text.append("  ".join(figures) + "\n")
    other = "up to it" if not aggregate else "this layer only"
    text.append(f"\nu: {other}   f: its findings   Tab: layers / tree", style="dim")
    return text


def reviewed_positions(report: Report) -> frozenset[int]:
    return frozenset(layer.position for layer in report.comparison.reviewed_layers)


def _dockerfile_lines(report: Report) -> dict[int, str]:
    """ "Dockerfile:12" for each layer a Dockerfile step wrote, when the report has the Dockerfile."""
    dockerfile = report.dockerfile
    if dockerfile is None:
        return {}
    name = PurePosixPath(dockerfile.path).name or dockerfile.path
    lines: dict[int, str] = {}
    for step in dockerfile.steps:
        if step.layer is not None and step.confidence != "none":
            lines.setdefault(step.layer, f"{name}:{step.line}")
    return lines
