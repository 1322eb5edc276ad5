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

from layerdiff.tui.cells import Cell, kind_text


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
        value_text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        if label:
            text.append(f"{label}: ", style="bold")
        text.append(f"{value_text}\n")
    return text


def before_after(rows: Sequence[tuple[str, Any, Any]]) -> Table:
    table = Table(box=None, pad_edge=False, show_edge=False, expand=False)
    table.add_column("", style="bold", no_wrap=True)
    # Folded, never cut: the detail pane is where a reviewer reads whole purls, paths and digests.
    table.add_column("before", overflow="fold")
    table.add_column("after", overflow="fold")
    for label, before, after in rows:
        table.add_row(label, shown(before), shown(after))
    return table


def shown(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return " ".join(str(item) for item in value)
    return str(value)


# --- shared libraries ------------------------------------------------------------------------------------


def library_records(report: Mapping[str, Any]) -> list[Record]:
    records = []
    for change in report["inventory"]["libraries"]:
        before, after = change["before"] or {}, change["after"] or {}

        def detail(change: Mapping[str, Any] = change) -> RenderableType:
            from rich.console import Group

            b, a = change["before"] or {}, change["after"] or {}
            return Group(
                fact_lines(f"{change['object']} needs {change['soname']}: {change['kind']}", []),
                before_after(
                    [
                        ("resolves to", b.get("path"), a.get("path")),
                        ("real file", b.get("real_path"), a.get("real_path")),
                        ("found via", b.get("via"), a.get("via")),
                        ("sha256", _bare_digest(b.get("sha256")), _bare_digest(a.get("sha256"))),
                    ]
                ),
            )

        records.append(
            Record(
                cells=(
                    change["object"],
                    change["soname"],
                    kind_text(change["kind"]),
                    before.get("path") or "-",
                    after.get("path") or "-",
                ),
                keys=frozenset(
                    {change["object"], change["soname"], f"{change['object']}:{change['soname']}"}
                ),
                search_text=f"{change['object']} {change['soname']} {change['kind']}".lower(),
                detail=detail,
                group=change["kind"],
                sort_values=(change["object"], change["soname"]),
            )
        )
    return records


def _bare_digest(digest: str | None) -> str | None:
    return digest.removeprefix("sha256:") if digest else None


# --- Python environments ---------------------------------------------------------------------------------


def python_records(report: Mapping[str, Any]) -> list[Record]:
    """Problems first (broken requirements, lost and shadowed distributions), then distribution changes."""
    python = report["inventory"]["python"]
    records: list[Record] = []
    for item in python["unsatisfied"]:
        records.append(
            _python_record(
                "broken",
                item["environment"],
                item["distribution"],
                item["message"],
                {"requires": item["requirement"], "installed": item["installed"], "version": item["version"]},
            )
        )
    for item in python["lost"]:
        records.append(
            _python_record(
                "lost",
                item["environment"],
                item["name"],
                f"{item['name']} {item['version']} at {item['location']} no longer imports ({item['cause']})",
                {"cause": item["cause"], "via": item["via"], "location": item["location"]},
            )
        )
    for item in python["shadowed"]:
        winner = item["winner"]
        hidden = ", ".join(f"{h['version']} at {h['location']}" for h in item["hidden"])
        records.append(
            _python_record(
                "shadowed",
                item["environment"],
                item["name"],
                f"imports {winner['version']} from {winner['location']}; hidden: {hidden}",
                {"winner": winner, "hidden": item["hidden"]},
            )
        )
    for item in python["distribution_changes"]:
        before, after = item["before"] or {}, item["after"] or {}
        facts = {
            key: shown(before.get(key))
            + ("" if before.get(key) == after.get(key) else f" -> {shown(after.get(key))}")
            for key in ("version", "location")
        }
        records.append(
            _python_record(
                item["kind"],
                item["environment"],
                item["name"],
                f"{before.get('version', '-')} -> {after.get('version', '-')}",
                facts,
            )
        )
    return records


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


def environment_summary(report: Mapping[str, Any]) -> Text:
    text = Text()
    user = report["inventory"]["runtime_user"]
    for side in ("base", "derived"):
        spec = user[side]
        text.append(f"{side} runs as ", style="bold")
        text.append(f"{spec['name'] or spec['user'] or 'root'} (uid {spec['uid']}, home {spec['home']})\n")
    for env in report["inventory"]["python"]["environments"]:
        names = ", ".join(env["on_path_as"]) or "not on PATH"
        text.append(f"{env['key']}", style="bold")
        text.append(f"  Python {env['version']}  {env['distributions']} distributions  {names}\n")
    return text


# --- config, ENV and commands ----------------------------------------------------------------------------


def config_records(report: Mapping[str, Any]) -> list[Record]:
    records: list[Record] = []
    for change in report["config_changes"]:
        field_name = change["field"]
        key = change["key"]
        label = f"{field_name} {key}" if key else field_name

        def detail(change: Mapping[str, Any] = change, label: str = label) -> RenderableType:
            return _config_detail(change, label)

        keys = {field_name, label, field_name.upper()}
        if key:
            keys |= {key, f"ENV:{key}"}
        records.append(
            Record(
                cells=(label, _value(change["before"]), _value(change["after"]), change["instruction"] or ""),
                keys=frozenset(keys),
                search_text=f"{label} {_value(change['before'])} {_value(change['after'])}".lower(),
                detail=detail,
                group="config",
                sort_values=(0, label),
            )
        )
    for command in report["inventory"]["commands"]:
        before, after = command["before"] or {}, command["after"] or {}

        def command_detail(command: Mapping[str, Any] = command) -> RenderableType:
            b, a = command["before"] or {}, command["after"] or {}
            return Text.assemble(
                fact_lines(f"command {command['name']} on PATH", [("used by", command["used_by"])]),
                "\n",
                before_after_text(
                    [
                        ("runs", b.get("path"), a.get("path")),
                        ("target", b.get("target"), a.get("target")),
                        ("interpreter", b.get("interpreter"), a.get("interpreter")),
                    ]
                ),
            )

        records.append(
            Record(
                cells=(f"command {command['name']}", before.get("path") or "-", after.get("path") or "-", ""),
                keys=frozenset({command["name"], f"command:{command['name']}"}),
                search_text=f"command {command['name']} {before.get('path')} {after.get('path')}".lower(),
                detail=command_detail,
                group="commands",
                sort_values=(1, command["name"]),
            )
        )
    return records


def _value(value: Any) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def _config_detail(change: Mapping[str, Any], label: str) -> RenderableType:
    text = Text()
    text.append(f"{label}\n", style="bold")
    if change["instruction"]:
        text.append("set by: ", style="bold")
        text.append(f"{change['instruction']}\n")
    before, after = change["before"], change["after"]
    if (change["key"] or "").endswith("PATH"):
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
