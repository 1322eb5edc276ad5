"""The rows of the review app's change tables, built from a finished report.

Pure: no textual here, so each table's content is tested without running the app. A Record carries its
cells, the words a search matches, the identifiers a jump from a finding looks for, and its detail text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import RenderableType
from rich.table import Table
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


@dataclass(frozen=True)
class Record:
    cells: tuple[Cell, ...]
    keys: frozenset[str]  # identifiers a finding's subject may name (paths, package names, ENV keys)
    search_text: str
    detail: Callable[[], RenderableType]
    group: str = ""  # what the group filter cycles through (ecosystem, problem kind, ...)
    ident: str = ""  # a stable identity where the table needs one (a finding's fingerprint)
    sort_values: tuple[Any, ...] = field(default=())


def counted(count: int, noun: str) -> str:
    """ "1 finding", "3 findings"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def kind_text(kind: str) -> Text:
    return Text(kind, style=KIND_STYLE.get(kind, ""))


def _facts(title: str, rows: Sequence[tuple[str, Any]]) -> Text:
    text = Text()
    text.append(f"{title}\n", style="bold")
    for label, value in rows:
        if value in (None, "", [], {}):
            continue
        shown = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        if label:
            text.append(f"{label}: ", style="bold")
        text.append(f"{shown}\n")
    return text


CLIP_WIDTH = 80  # the widest a table cell gets when there is room; the detail pane has the whole value
_SEARCH_PATH = re.compile(r"/[^:]*(?::/[^:]*)+")


def clip(cell: Cell, width: int = CLIP_WIDTH) -> Cell:
    """A table cell cut to ``width``. A path keeps its end, where the distinguishing part is; a search
    path (PATH's ``/a:/b:/c``) keeps its start, where entries put first change what is found."""
    if cell_width(cell) <= width:
        return cell
    if isinstance(cell, Text):
        cut = cell.copy()
        cut.truncate(width, overflow="ellipsis")
        return cut
    if cell.startswith("/") and not _SEARCH_PATH.fullmatch(cell):
        return "…" + cell[-(width - 1) :]
    return cell[: width - 1] + "…"


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


def _before_after(rows: Sequence[tuple[str, Any, Any]]) -> Table:
    table = Table(box=None, pad_edge=False, show_edge=False, expand=False)
    table.add_column("", style="bold", no_wrap=True)
    # Folded, never cut: the detail pane is where a reviewer reads whole purls, paths and digests.
    table.add_column("before", overflow="fold")
    table.add_column("after", overflow="fold")
    for label, before, after in rows:
        table.add_row(label, _shown(before), _shown(after))
    return table


def _shown(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return " ".join(str(item) for item in value)
    return str(value)


# --- packages -------------------------------------------------------------------------------------------


def package_records(report: Mapping[str, Any]) -> list[Record]:
    """syft's package changes, then layerdiff's own OS-package changes for packages syft did not report."""
    inventory = report["inventory"]["os_packages"]
    broken: dict[str, list[Mapping[str, Any]]] = {}
    for item in inventory["broken_dependencies"]:
        broken.setdefault(item["package"], []).append(item)
    modified: dict[str, list[Mapping[str, Any]]] = {}
    for item in inventory["modified_files"]:
        modified.setdefault(item["package"], []).append(item)
    records: list[Record] = []
    seen: set[tuple[str, str]] = set()
    for change in report["packages"]["changes"]:
        before, after = change["before"] or {}, change["after"] or {}
        seen.add((_ecosystem(change["type"]), _bare(change["name"])))
        records.append(
            _package_record(
                change["type"],
                change["name"],
                change["kind"],
                before.get("version"),
                after.get("version"),
                change["layer"],
                [
                    ("purl", before.get("purl"), after.get("purl")),
                    ("found at", before.get("paths"), after.get("paths")),
                ],
                broken.get(change["name"], []),
                modified.get(change["name"], []),
            )
        )
    for change in inventory["changes"]:
        if (_ecosystem(change["ecosystem"]), _bare(change["name"])) in seen:
            continue
        records.append(
            _package_record(
                change["ecosystem"],
                change["name"],
                change["kind"],
                change["before"],
                change["after"],
                None,
                [("architecture", change["architecture"], change["architecture"])],
                broken.get(change["name"], []),
                modified.get(change["name"], []),
            )
        )
    # Packages that did not change themselves but whose dependencies broke or whose files were changed
    # outside the package manager (python3-psycopg2 after libpq5 was purged).
    shown = {bare for _, bare in seen} | {_bare(change["name"]) for change in inventory["changes"]}
    for name in sorted((broken.keys() | modified.keys()) - shown):
        problems = broken.get(name, [])
        ecosystem = problems[0].get("ecosystem", "os") if problems else "deb"  # dpkg --verify: deb
        version = problems[0]["version"] if problems else None
        records.append(
            _package_record(
                ecosystem,
                name,
                "broken" if problems else "files changed",
                version,
                version,
                None,
                [],
                problems,
                modified.get(name, []),
            )
        )
    records.sort(key=lambda r: r.sort_values)
    return records


def _bare(name: str) -> str:
    # syft names OS packages with their purl namespace (debian/libpq5); dpkg's database does not.
    return name.rpartition("/")[2]


def _ecosystem(name: str) -> str:
    # syft says "deb", layerdiff's dpkg reader says "dpkg"; both mean the same database.
    return {"dpkg": "deb", "apk": "apk", "rpm": "rpm"}.get(name, name)


def _package_record(
    ecosystem: str,
    name: str,
    kind: str,
    before: str | None,
    after: str | None,
    layer: int | None,
    facts: list[tuple[str, Any, Any]],
    broken: list[Mapping[str, Any]],
    modified: list[Mapping[str, Any]],
) -> Record:
    def detail() -> RenderableType:
        from rich.console import Group

        parts: list[RenderableType] = [
            _facts(f"{ecosystem} {name}: {kind}", [("layer", layer)]),
            _before_after([("version", before, after), *facts]),
        ]
        if broken:
            lines = Text("\nbroken dependencies\n", style="bold")
            for item in broken:
                lines.append(f"{item['field']}: {item['relation']} ({item['reason']}) {item['detail']}\n")
            parts.append(lines)
        if modified:
            lines = Text("\nfiles changed outside the package manager\n", style="bold")
            for item in modified:
                lines.append(f"{item['dpkg_verify']}\n")
            parts.append(lines)
        return Group(*parts)

    return Record(
        cells=(
            ecosystem,
            name,
            kind_text(kind),
            before or "-",
            after or "-",
            "" if layer is None else str(layer),
        ),
        keys=frozenset({name, _bare(name), f"{ecosystem}:{name}", f"{_ecosystem(ecosystem)}:{_bare(name)}"}),
        search_text=f"{ecosystem} {name} {kind} {before or ''} {after or ''}".lower(),
        detail=detail,
        group=ecosystem,
        sort_values=(ecosystem, name.lower(), kind),
    )


# --- shared libraries ------------------------------------------------------------------------------------


def library_records(report: Mapping[str, Any]) -> list[Record]:
    records = []
    for change in report["inventory"]["libraries"]:
        before, after = change["before"] or {}, change["after"] or {}

        def detail(change: Mapping[str, Any] = change) -> RenderableType:
            from rich.console import Group

            b, a = change["before"] or {}, change["after"] or {}
            return Group(
                _facts(f"{change['object']} needs {change['soname']}: {change['kind']}", []),
                _before_after(
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
            key: _shown(before.get(key))
            + ("" if before.get(key) == after.get(key) else f" -> {_shown(after.get(key))}")
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
        return _facts(f"{kind}: {name} in {environment}", [("", message), *facts.items()])

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
                _facts(f"command {command['name']} on PATH", [("used by", command["used_by"])]),
                "\n",
                _before_after_text(
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


def _before_after_text(rows: Sequence[tuple[str, Any, Any]]) -> Text:
    text = Text()
    for label, before, after in rows:
        if before is None and after is None:
            continue
        text.append(f"{label}: ", style="bold")
        text.append(f"{_shown(before)} -> {_shown(after)}\n")
    return text
