"""The rows of the review app's change tables, built from a finished report: the Record every table
shows, the detail-pane layouts they share, and the rows of the Libraries, Python and Config tabs (the
Packages tab's are in packages.py).

Pure: no textual here, so each table's content is tested without running the app. A Record carries its
cells, the words a search matches, the identifiers a jump from a finding looks for, and its detail text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from layerdiff.report.codec import JsonValue
from layerdiff.report.wire import ConfigChange, Report
from layerdiff.report.wire_inventory import CommandChange, LibraryChange
from layerdiff.text.words import listed
from layerdiff.tui.cells import Cell, kind_text
from layerdiff.tui.evidence import phrase


@dataclass(frozen=True)
class Record:
    cells: tuple[Cell, ...]
    keys: frozenset[str]  # identifiers a finding's subject may name (paths, package names, ENV keys)
    search_text: str
    detail: Callable[[], RenderableType]
    group: str = ""  # what the group filter cycles through (ecosystem, problem kind, ...)
    ident: str = ""  # a stable identity where the table needs one (a finding's fingerprint)
    sort_values: tuple[Any, ...] = field(default=())


def fact_lines(title: str, rows: Sequence[tuple[str, Any]]) -> Text:
    text = Text()
    text.append(f"{title}\n", style="bold")
    for label, value in rows:
        if value in (None, "", [], {}):
            continue
        value_text = _in_words(value)
        if label:
            text.append(f"{label}: ", style="bold")
        text.append(f"{value_text}\n")
    return text


def _in_words(value: Any) -> str:
    """A fact as one phrase (layerdiff.tui.evidence), a list of them as its first few and a count."""
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return listed([_in_words(item) for item in value])
    return phrase(value) or json.dumps(value, sort_keys=True)


def before_after(rows: Sequence[tuple[str, Any, Any]]) -> Table:
    table = Table(box=None, pad_edge=False, show_edge=False, expand=False)
    table.add_column("", style="bold", no_wrap=True)
    # Folded, never cut: the detail pane is where a reviewer reads whole purls, paths and digests.
    table.add_column("before", overflow="fold")
    table.add_column("after", overflow="fold")
    for label, before, after in rows:
        table.add_row(label, Text(shown(before)), Text(shown(after)))  # image text, never markup
    return table


def shown(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, tuple | list):
        return " ".join(str(item) for item in value)
    return str(value)


# --- shared libraries ------------------------------------------------------------------------------------


def library_records(report: Report) -> list[Record]:
    records = []
    for change in report.inventory.libraries:

        def detail(change: LibraryChange = change) -> RenderableType:
            from rich.console import Group

            old, new = change.before, change.after
            return Group(
                fact_lines(f"{change.object} needs {change.soname}: {change.kind}", []),
                before_after(
                    [
                        ("resolves to", old.path if old else None, new.path),
                        ("real file", old.real_path if old else None, new.real_path),
                        ("found via", old.via if old else None, new.via),
                        ("sha256", _bare_digest(old.sha256 if old else None), _bare_digest(new.sha256)),
                    ]
                ),
            )

        records.append(
            Record(
                cells=(
                    change.object,
                    change.soname,
                    kind_text(change.kind),
                    (change.before.path if change.before else None) or "-",
                    change.after.path or "-",
                ),
                keys=frozenset({change.object, change.soname, f"{change.object}:{change.soname}"}),
                search_text=f"{change.object} {change.soname} {change.kind}".lower(),
                detail=detail,
                group=change.kind,
                sort_values=(change.object, change.soname),
            )
        )
    return records


def _bare_digest(digest: str | None) -> str | None:
    return digest.removeprefix("sha256:") if digest else None


# --- Python environments ---------------------------------------------------------------------------------


def python_records(report: Report) -> list[Record]:
    """Problems first (broken requirements, lost and shadowed distributions), then distribution changes.

    Each distribution counts once: one an environment lost because it was uninstalled is its lost row
    (which says so), not also a removed one. One that is only hidden (USER root, another python3 on PATH)
    is never a removed distribution in the report: nothing was uninstalled."""
    python = report.inventory.python
    uninstalled = {(c.environment, c.name) for c in python.distribution_changes if c.kind == "removed"}
    uninstalled |= {(lost.environment, lost.name) for lost in python.lost if lost.cause == "removed"}
    lost_names = {(lost.environment, lost.name) for lost in python.lost}
    records: list[Record] = []
    for broken in python.unsatisfied:
        records.append(
            _python_record(
                "broken",
                broken.environment,
                broken.distribution,
                broken.message,
                {"requires": broken.requirement, "installed": broken.installed, "version": broken.version},
            )
        )
    for lost in python.lost:
        cause = "uninstalled" if (lost.environment, lost.name) in uninstalled else lost.cause
        records.append(
            _python_record(
                "lost",
                lost.environment,
                lost.name,
                f"{lost.name} {lost.version} at {lost.location} no longer imports ({cause})",
                {"cause": cause, "via": lost.via, "location": lost.location},
            )
        )
    for shadowed in python.shadowed:
        winner = shadowed.winner
        hidden = listed([f"{h.version} at {h.location}" for h in shadowed.hidden], shown=HIDDEN_SHOWN)
        records.append(
            _python_record(
                "shadowed",
                shadowed.environment,
                shadowed.name,
                f"imports {winner.version} from {winner.location}; hidden: {hidden}",
                {"winner": winner.to_json(), "hidden": [h.to_json() for h in shadowed.hidden]},
            )
        )
    for change in python.distribution_changes:
        if change.kind == "removed" and (change.environment, change.name) in lost_names:
            continue  # its lost row says it was uninstalled
        old, new = change.before, change.after
        facts = {
            "version": _changed(old.version if old else None, new.version if new else None),
            "location": _changed(old.location if old else None, new.location if new else None),
        }
        records.append(
            _python_record(
                change.kind,
                change.environment,
                change.name,
                f"{old.version if old else '-'} -> {new.version if new else '-'}",
                facts,
            )
        )
    return records


HIDDEN_SHOWN = 3  # hidden copies a shadowed row names; its detail lists them all


def _changed(before: str | None, after: str | None) -> str:
    """ "2.31.0 -> 2.28.1", or the one value when it did not change."""
    return shown(before) + ("" if before == after else f" -> {shown(after)}")


def _python_record(kind: str, environment: str, name: str, message: str, facts: Mapping[str, Any]) -> Record:
    def detail() -> RenderableType:
        return fact_lines(f"{kind}: {name} in {environment}", [("", message), *facts.items()])

    return Record(
        cells=(kind_text(kind), environment, name, message),
        keys=frozenset(
            {
                name,
                environment,
                f"{environment}:{name}",
                f"{kind}:{environment}",
                f"{kind}:{environment}:{name}",
            }
        ),
        search_text=f"{kind} {environment} {name} {message}".lower(),
        detail=detail,
        group=kind,
        sort_values=(kind, environment, name.lower()),
    )


def environment_summary(report: Report) -> Text:
    text = Text()
    users = report.inventory.runtime_user
    for side, user in (("base", users.base), ("derived", users.derived)):
        text.append(f"{side} runs as ", style="bold")
        text.append(f"{user.name or user.user or 'root'} (uid {user.uid}, home {user.home})\n")
    for env in report.inventory.python.environments:
        names = ", ".join(env.on_path_as) or "not on PATH"
        text.append(env.key, style="bold")
        text.append(f"  Python {env.version}  {env.distributions} distributions  {names}\n")
    return text


# --- config, ENV and commands ----------------------------------------------------------------------------


def config_records(report: Report) -> list[Record]:
    records: list[Record] = []
    for change in report.config_changes:
        label = change.name

        def detail(change: ConfigChange = change) -> RenderableType:
            return _config_detail(change)

        keys = {change.field, label, change.field.upper()}
        if change.key:
            keys |= {change.key, f"ENV:{change.key}"}
        before, after = _value(change.before), _value(change.after)
        records.append(
            Record(
                cells=(label, before, after, change.instruction or ""),
                keys=frozenset(keys),
                search_text=f"{label} {before} {after}".lower(),
                detail=detail,
                group="config",
                sort_values=(0, label),
            )
        )
    for command in report.inventory.commands:
        old, new = command.before, command.after

        def command_detail(command: CommandChange = command) -> RenderableType:
            old, new = command.before, command.after
            return Text.assemble(
                fact_lines(f"command {command.name} on PATH", [("used by", command.used_by)]),
                "\n",
                before_after_text(
                    [
                        ("runs", old.path if old else None, new.path if new else None),
                        ("target", old.target if old else None, new.target if new else None),
                        ("interpreter", old.interpreter if old else None, new.interpreter if new else None),
                    ]
                ),
            )

        old_path, new_path = old.path if old else None, new.path if new else None
        records.append(
            Record(
                cells=(f"command {command.name}", old_path or "-", new_path or "-", ""),
                keys=frozenset({command.name, f"command:{command.name}"}),
                search_text=f"command {command.name} {old_path} {new_path}".lower(),
                detail=command_detail,
                group="commands",
                sort_values=(1, command.name),
            )
        )
    return records


def _value(value: JsonValue) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def _config_detail(change: ConfigChange) -> RenderableType:
    text = Text()
    text.append(f"{change.name}\n", style="bold")
    if change.instruction:
        text.append("set by: ", style="bold")
        text.append(f"{change.instruction}\n")
    before, after = change.before, change.after
    if (change.key or "").endswith("PATH"):
        # Search paths (PATH, LD_LIBRARY_PATH, PYTHONPATH, ...) read best entry by entry: what was added,
        # what went away, and the order. Other values may hold colons of their own (URLs).
        old = before.split(":") if isinstance(before, str) else []
        new = after.split(":") if isinstance(after, str) else []
        text.append("\nentries, in search order\n", style="bold")
        for entry in new:
            marker, style = ("  ", "") if entry in old else ("+ ", "green")
            text.append(f"{marker}{entry}\n", style=style)
        for entry in old:
            if entry not in new:
                text.append(f"- {entry}\n", style="red")
        return text
    text.append("\nbefore\n", style="bold")
    text.append(f"{_value(before)}\n")
    text.append("after\n", style="bold")
    text.append(f"{_value(after)}\n")
    return text


def before_after_text(rows: Sequence[tuple[str, Any, Any]]) -> Text:
    text = Text()
    for label, before, after in rows:
        if before is None and after is None:
            continue
        text.append(f"{label}: ", style="bold")
        text.append(f"{shown(before)} -> {shown(after)}\n")
    return text
