"""The human summary of a report, rendered with rich (colour only on a terminal that wants it).

Laid out for the width of the terminal, or of COLUMNS, or 80 columns (see layerdiff.render.table_layout and
docs/table.md): findings as blocks, everything else as borderless tables, and every list cut to its first
few entries with a count of the rest, which the JSON report has in full.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from rich.console import Console
from rich.text import Text

from layerdiff.render.table_findings import print_findings
from layerdiff.render.table_inventory import print_inventory
from layerdiff.render.table_layout import (
    columns,
    finished,
    head,
    labelled,
    make_console,
    print_lines,
    print_more,
    title,
)
from layerdiff.render.units import human_size
from layerdiff.report.codec import JsonValue
from layerdiff.report.wire import (
    ConfigChange,
    EntryState,
    FileChange,
    ImageSummary,
    Inspection,
    LayerSummary,
    Report,
)

_KIND_STYLE = {"added": "green", "removed": "red", "modified": "yellow", "metadata": "cyan"}


def render_diff(report: Report, color: bool, width: int | None = None) -> str:
    console, buffer = make_console(color, width)
    comparison = report.comparison
    console.print(labelled([("base", _image(report.base)), ("derived", _image(report.derived))]))
    console.print(
        Text(
            f"shared layers: {comparison.shared_layers} of {len(report.base.layers)}"
            + ("" if comparison.extends_base else "  (the derived image does not extend the base)")
        )
    )
    print_lines(console, [Text(f"warning: {w}", style="bold red") for w in report.warnings], "warning")
    _verdict(console, report)
    if report.findings:
        console.print()
        console.print(title("Findings", len(report.findings)))
        print_findings(console, report.findings)

    reviewed = comparison.reviewed_layers
    console.print()
    _layers(console, "Reviewed layers", "changes", [(layer, layer.file_changes) for layer in reviewed])
    _config_changes(console, report.config_changes)
    print_inventory(console, report)
    _file_changes(console, report.file_changes)
    summary = report.summary
    console.print()
    console.print(
        Text(
            "files: "
            + ", ".join(f"{count} {kind}" for kind, count in summary.file_changes.items())
            + f"; config: {summary.config_changes} changed"
        )
    )
    return finished(buffer, color)


def _image(image: ImageSummary) -> Text:
    return Text(f"{image.reference}  {image.image_id[:19]}  {image.platform}")


def _verdict(console: Console, report: Report) -> None:
    verdict = report.verdict
    counts = ", ".join(f"{n} {s}" for s, n in verdict.counts.items() if n)
    threshold = f" (fail on {verdict.fail_on})" if verdict.fail_on else ""
    console.print(Text(f"verdict: {verdict.status}{threshold}; findings: {counts or 'none'}", style="bold"))


def _config_changes(console: Console, changes: Sequence[ConfigChange]) -> None:
    if not changes:
        return
    shown, hidden = head(changes)
    rows: list[tuple[Text | str, ...]] = []
    for change in shown:
        rows += [(Text(change.name), "before", Text(_value(change.before)))]
        rows += [("", "after", Text(_value(change.after)))]
        if change.instruction:
            rows += [("", "set by", Text(change.instruction))]
    console.print()
    console.print(title("Config changes", len(changes)))
    console.print(labelled(rows, indent=2))
    print_more(console, hidden, "config change")


def _file_changes(console: Console, changes: Sequence[FileChange]) -> None:
    if not changes:
        return
    shown, hidden = head(changes)
    # The entry goes under its path rather than beside it, so that a path has the whole width to itself.
    table = columns("change", "layer", "path")
    for change in shown:
        table.add_row(
            Text(change.kind, style=_KIND_STYLE.get(change.kind, "")),
            Text("" if change.layer is None else str(change.layer)),
            Text(change.path),
        )
        table.add_row(Text(""), Text(""), Text(_states(change), style="dim"))
    console.print()
    console.print(title("File changes", len(changes)))
    console.print(table)
    print_more(console, hidden, "file change")


def _states(change: FileChange) -> str:
    """The entry as it is now, as it was, or both with an arrow when it changed."""
    before, after = _entry(change.before, change.fields), _entry(change.after, change.fields)
    if before and after:
        return f"{before} → {after}"  # not "->", which a symlink's entry already uses for its target
    return before or after


def render_inspect(result: Inspection, color: bool, width: int | None = None) -> str:
    console, buffer = make_console(color, width)
    image, config = result.image, result.config
    console.print(Text(f"{image.reference}  {image.image_id}  {image.platform}"))
    shown: list[tuple[Text | str, ...]] = [
        ("user", Text(_value(config.user))),
        ("entrypoint", Text(_value(config.entrypoint))),
        ("cmd", Text(_value(config.cmd))),
        ("workdir", Text(_value(config.workdir))),
        ("healthcheck", Text(_value(config.healthcheck))),
    ]
    variables, hidden = head(config.env)
    shown += [("env", Text(variable)) for variable in variables]
    console.print(labelled(shown))
    print_more(console, hidden, "env variable")
    console.print()
    _layers(console, "Layers", "entries", [(layer, layer.entries) for layer in image.layers])
    return finished(buffer, color)


def _layers(console: Console, heading: str, counted: str, layers: Sequence[tuple[LayerSummary, int]]) -> None:
    """A row per layer: position, size, how many of ``counted`` (entries, changes) and instruction."""
    shown, hidden = head(layers)
    table = columns("#", "size", counted, "instruction")
    for layer, count in shown:
        table.add_row(
            Text(str(layer.position)),
            Text(human_size(layer.size)),
            Text(str(count)),
            Text(layer.instruction or "(no history)"),
        )
    console.print(title(heading, len(layers)))
    if shown:
        console.print(table)
    print_more(console, hidden, "layer")


def _entry(state: EntryState | None, fields: Iterable[str]) -> str:
    if state is None:
        return ""
    text = f"{state.type} {state.mode} {state.uid}:{state.gid}"
    if state.type == "file":
        text += f" {human_size(state.size)}"
    if state.link is not None:
        text += f" -> {state.link}"
    if "sha256" in fields and state.sha256:
        text += f" {state.sha256[:12]}"
    return text


def _value(value: JsonValue) -> str:
    if value is None:
        return "-"
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
