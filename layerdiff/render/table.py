"""The human summary of a report, rendered with rich (plain text when stdout is not a terminal)."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterable, Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from layerdiff.render.units import human_size
from layerdiff.report.codec import JsonValue
from layerdiff.report.wire import EntryState, Inspection, LayerSummary, Report
from layerdiff.report.wire_inventory import Command, Inventory, Packages, RuntimeUser

_KIND_STYLE = {"added": "green", "removed": "red", "modified": "yellow", "metadata": "cyan"}
MAX_FILE_ROWS = 200
UNWRAPPED_WIDTH = 100_000


def render_diff(report: Report, color: bool, width: int | None = None) -> str:
    console, buffer = _console(color, width)
    base, derived, comparison = report.base, report.derived, report.comparison
    console.print(Text(f"base     {base.reference}  {base.image_id[:19]}  {base.platform}"))
    console.print(Text(f"derived  {derived.reference}  {derived.image_id[:19]}  {derived.platform}"))
    console.print(
        f"shared layers: {comparison.shared_layers} of {len(base.layers)}"
        + ("" if comparison.extends_base else "  (the derived image does not extend the base)")
    )
    for warning in report.warnings:
        console.print(Text(f"warning: {warning}", style="bold red"))
    _findings(console, report)

    reviewed = comparison.reviewed_layers
    console.print(_layers("Reviewed layers", "changes", ((layer, layer.file_changes) for layer in reviewed)))

    if report.config_changes:
        config = Table(title="Config changes", title_justify="left")
        for column in ("field", "before", "after", "instruction"):
            config.add_column(column, overflow="fold")
        for change in report.config_changes:
            config.add_row(
                change.name,
                Text(_value(change.before)),
                Text(_value(change.after)),
                Text(change.instruction or ""),
            )
        console.print(config)

    _inventory(console, report.inventory, report.packages)

    files = Table(title="File changes", title_justify="left")
    for column in ("change", "path", "layer", "before", "after"):
        files.add_column(column, overflow="fold")
    for file_change in report.file_changes[:MAX_FILE_ROWS]:
        files.add_row(
            Text(file_change.kind, style=_KIND_STYLE[file_change.kind]),
            Text(file_change.path),
            "" if file_change.layer is None else str(file_change.layer),
            Text(_entry(file_change.before, file_change.fields)),
            Text(_entry(file_change.after, file_change.fields)),
        )
    console.print(files)
    hidden = len(report.file_changes) - MAX_FILE_ROWS
    if hidden > 0:
        console.print(f"... and {hidden} more file changes (use --format json for all)")
    summary = report.summary
    console.print(
        "files: "
        + ", ".join(f"{count} {kind}" for kind, count in summary.file_changes.items())
        + f"; config: {summary.config_changes} changed"
    )
    return buffer.getvalue()


_SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}


def _findings(console: Console, report: Report) -> None:
    verdict = report.verdict
    counts = ", ".join(f"{n} {s}" for s, n in verdict.counts.items() if n)
    threshold = f" (fail on {verdict.fail_on})" if verdict.fail_on else ""
    console.print(Text(f"verdict: {verdict.status}{threshold}; findings: {counts or 'none'}", style="bold"))
    if not report.findings:
        return
    table = Table(title="Findings", title_justify="left")
    for column in ("severity", "rule", "subject", "layer", "message"):
        table.add_column(column, overflow="fold")
    for finding in report.findings:
        table.add_row(
            Text(
                finding.severity + (" (waived)" if finding.waived else ""),
                style=_SEVERITY_STYLE[finding.severity],
            ),
            finding.rule,
            Text(finding.subject),
            "" if finding.layer is None else str(finding.layer),
            Text(finding.message),
        )
    console.print(table)


def _inventory(console: Console, inventory: Inventory, packages: Packages) -> None:
    users = inventory.runtime_user
    if users.base != users.derived:
        console.print(Text(f"runtime user: {_who(users.base)} -> {_who(users.derived)}", style="bold"))
    python = inventory.python
    lines = [f"pip check: {u.message}  [{u.environment}]" for u in python.unsatisfied]
    lines += [
        f"no longer importable: {item.name} {item.version} from {item.location} ({item.cause}"
        + (f", {item.via}" if item.via else "")
        + f")  [{item.environment}]"
        for item in python.lost
    ]
    lines += [
        f"shadowed: {s.name} {s.winner.version} in {s.winner.location} hides "
        + ", ".join(f"{h.version} in {h.location}" for h in s.hidden)
        + f"  [{s.environment}]"
        for s in python.shadowed
    ]
    lines += [
        f"command {c.name}: {_where(c.before)} -> {_where(c.after)}"
        + (f"  (used by {c.used_by})" if c.used_by else "")
        for c in inventory.commands
    ]
    lines += [
        f"library {c.soname} of {c.object}: {c.kind}, "
        f"{(c.before.path if c.before else None) or '-'} -> {c.after.path or 'not found'}"
        for c in inventory.libraries
    ]
    os_packages = inventory.os_packages
    lines += [
        f"unmet dependency: {b.package}: {b.field}: {b.detail}" for b in os_packages.broken_dependencies
    ]
    lines += [f"package file changed: {m.dpkg_verify} ({m.package})" for m in os_packages.modified_files]
    for line in lines:
        console.print(Text(line))
    if packages.changes:
        table = Table(title=f"Package changes ({packages.sbom_tool})", title_justify="left")
        for column in ("type", "name", "change", "before", "after", "layer"):
            table.add_column(column, overflow="fold")
        for change in packages.changes:
            table.add_row(
                change.type,
                Text(change.name),
                change.kind,
                change.before.version if change.before else "",
                change.after.version if change.after else "",
                "" if change.layer is None else str(change.layer),
            )
        console.print(table)


def _who(user: RuntimeUser) -> str:
    return f"{user.user or '(root)'} (uid {user.uid}, HOME {user.home})"


def _where(command: Command | None) -> str:
    if command is None:
        return "-"
    return command.path if command.path == command.target else f"{command.path} ({command.target})"


def render_inspect(result: Inspection, color: bool, width: int | None = None) -> str:
    console, buffer = _console(color, width)
    image, config = result.image, result.config
    console.print(Text(f"{image.reference}  {image.image_id}  {image.platform}"))
    shown: tuple[tuple[str, JsonValue], ...] = (
        ("user", config.user),
        ("entrypoint", config.entrypoint),
        ("cmd", config.cmd),
        ("workdir", config.workdir),
        ("healthcheck", config.healthcheck),
    )
    for key, value in shown:
        console.print(Text(f"{key:11} {_value(value)}"))
    for variable in config.env:
        console.print(Text(f"env         {variable}"))
    console.print(_layers("Layers", "entries", ((layer, layer.entries) for layer in image.layers)))
    return buffer.getvalue()


def _layers(title: str, counted: str, layers: Iterable[tuple[LayerSummary, int]]) -> Table:
    """A row per layer: position, size, how many of ``counted`` (entries, changes) and instruction."""
    table = Table(title=title, title_justify="left")
    for column in ("#", "size", counted, "instruction"):
        table.add_column(column, overflow="fold")
    for layer, count in layers:
        table.add_row(
            str(layer.position), human_size(layer.size), str(count), Text(layer.instruction or "(no history)")
        )
    return table


def _console(color: bool, width: int | None) -> tuple[Console, io.StringIO]:
    """On a terminal, fit its width; otherwise never wrap, so every change stays on one greppable line."""
    buffer = io.StringIO()
    if width is None:
        width = shutil.get_terminal_size().columns if color else UNWRAPPED_WIDTH
    console = Console(
        file=buffer,
        force_terminal=color,
        no_color=not color,
        width=width,
        highlight=False,
        soft_wrap=False,
        markup=False,  # image text is never markup: `[link=...]` or `[/]` in a label stays as it is
    )
    return console, buffer


def _entry(state: EntryState | None, fields: Sequence[str]) -> str:
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
