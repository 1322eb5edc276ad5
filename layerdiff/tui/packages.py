"""The Packages tab's rows: syft's package changes, layerdiff's own OS-package changes for what syft did
not report, and packages whose dependencies broke or whose files changed outside the package manager."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from layerdiff.tui.cells import kind_text
from layerdiff.tui.records import Record, before_after, fact_lines


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
        parts: list[RenderableType] = [
            fact_lines(f"{ecosystem} {name}: {kind}", [("layer", layer)]),
            before_after([("version", before, after), *facts]),
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
