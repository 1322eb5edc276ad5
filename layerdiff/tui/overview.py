"""The Overview tab's content: verdict, counts, both images side by side, then (the app's layer list of
``layerdiff.tui.layerpane``) the layers, and the warnings."""

from __future__ import annotations

import json

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from layerdiff.render.units import human_size
from layerdiff.report.codec import JsonObject
from layerdiff.report.wire import Report
from layerdiff.tui.cells import SEVERITY_STYLE, counted

VERDICT_STYLE = {"fail": "bold red", "review": "bold yellow", "pass": "bold green"}


def verdict_line(report: Report) -> Text:
    verdict = report.verdict
    text = Text()
    threshold = f" (fail on {verdict.fail_on or 'none'})"
    text.append(f"{verdict.status.upper()}{threshold}", style=VERDICT_STYLE.get(verdict.status, "bold"))
    text.append("   ")
    for severity, count in verdict.counts.items():
        text.append(f"{count} {severity}", style=SEVERITY_STYLE[severity] if count else "dim")
        text.append("  ")
    if verdict.waived:
        text.append(f"{verdict.waived} waived by policy", style="green")
    return text


def _command(value: tuple[str, ...] | None) -> str:
    return " ".join(value) if value else "-"


def _healthcheck(value: JsonObject | None) -> str:
    if not value:
        return "-"
    # The engine's own JSON, free-form in the report: read defensively.
    test = value.get("Test")
    words = [str(word) for word in test] if isinstance(test, list) else []
    if words[:1] == ["NONE"]:
        return "disabled (NONE)"
    command = " ".join(words[1:] if words[:1] in (["CMD"], ["CMD-SHELL"]) else words) or json.dumps(value)
    # Timing changes what the check does as much as the command does (a shorter timeout fails a slow
    # scheduler), so the options are shown too. Durations are in nanoseconds, as the engine stores them.
    options = [
        f"{label} {_seconds(duration)}"
        for key, label in (("Interval", "every"), ("Timeout", "timeout"), ("StartPeriod", "start period"))
        if isinstance(duration := value.get(key), int | float) and duration
    ]
    if value.get("Retries"):
        options.append(f"{value['Retries']} retries")
    return f"{command} ({', '.join(options)})" if options else command


def _seconds(nanoseconds: float) -> str:
    seconds = nanoseconds / 1e9
    return f"{seconds:g}s"


def images_table(report: Report) -> Table:
    base, derived = report.base, report.derived
    table = Table(box=None, show_edge=False, pad_edge=False, expand=True)
    table.add_column("", style="bold", no_wrap=True)
    table.add_column("base", ratio=1, overflow="fold")
    table.add_column("derived", ratio=1, overflow="fold")

    def row(label: str, before: str, after: str) -> None:
        style = "" if before == after else "bold yellow"
        table.add_row(label, Text(before), Text(after, style=style))  # image text, never markup

    row("reference", base.reference, derived.reference)
    row("image id", base.image_id[:19], derived.image_id[:19])
    if base.manifest_digest or derived.manifest_digest:
        row("digest", (base.manifest_digest or "-")[:19], (derived.manifest_digest or "-")[:19])
    row("size", human_size(base.size), human_size(derived.size))
    row("layers", str(len(base.layers)), str(len(derived.layers)))
    row("USER", base.user or "(root)", derived.user or "(root)")
    row("ENTRYPOINT", _command(base.entrypoint), _command(derived.entrypoint))
    row("CMD", _command(base.cmd), _command(derived.cmd))
    row("HEALTHCHECK", _healthcheck(base.healthcheck), _healthcheck(derived.healthcheck))
    return table


def layers_title(report: Report) -> Text:
    comparison = report.comparison
    title = (
        f"derived layers after the {comparison.shared_layers} shared with the base"
        if comparison.extends_base
        else "derived layers (the derived image does not extend the base: all are reviewed)"
    )
    text = Text(title)
    text.append("  (Enter: its files)", style="dim")
    return text


def overview(report: Report) -> RenderableType:
    """What is above the layer list: the verdict, the counts, both images side by side."""
    files = report.summary.file_changes
    config, packages = report.summary.config_changes, len(report.package_changes())
    changes = Text(
        f"{files.added} added, {files.removed} removed, {files.modified} modified, "
        f"{files.metadata} metadata-only files; {counted(config, 'config change')}; "
        f"{counted(packages, 'package change')}",
        style="dim",
    )
    return Group(verdict_line(report), changes, Text(), images_table(report), layers_title(report))


def warnings_text(report: Report) -> Text:
    """What is below the layer list: the report's warnings (image text: never markup)."""
    if not report.warnings:
        return Text()
    warnings = Text("\nwarnings\n", style="bold yellow")
    for warning in report.warnings:
        warnings.append(f"  {warning}\n")
    return warnings
