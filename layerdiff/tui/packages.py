"""The Packages tab's rows: every package change of the report (``Report.package_changes``) with the broken
dependencies and the files changed outside the package manager of each, then the packages that did not
change themselves but have such problems (python3-psycopg2 after libpq5 was purged)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from layerdiff.report.package_view import OS_ECOSYSTEMS, ChangedPackage, package_key
from layerdiff.report.wire import Report
from layerdiff.report.wire_inventory import (
    BrokenDependency,
    DistributionChange,
    ModifiedFile,
    OsPackageChange,
    OsPackages,
    PackageChange,
)
from layerdiff.tui.cells import kind_text
from layerdiff.tui.records import Record, before_after, fact_lines


def package_records(report: Report) -> list[Record]:
    problems = _Problems(report.inventory.os_packages)
    records: list[Record] = []
    for change in report.package_changes():
        broken, modified = problems.of(change)
        records.append(
            _package_record(
                change.type,
                change.name,
                change.kind,
                change.before,
                change.after,
                change.layer,
                _facts(change),
                broken,
                modified,
            )
        )
    for name, broken, modified in problems.unclaimed():
        ecosystem = (broken[0].ecosystem or "os") if broken else "deb"  # dpkg --verify: deb
        version = broken[0].version if broken else None
        kind = "broken" if broken else "files changed"
        records.append(_package_record(ecosystem, name, kind, version, version, None, [], broken, modified))
    records.sort(key=lambda r: r.sort_values)
    return records


class _Problems:
    """The package databases' problems by package, and which of them a package change's row shows."""

    def __init__(self, packages: OsPackages) -> None:
        self.broken: dict[str, list[BrokenDependency]] = {}
        for dependency in packages.broken_dependencies:
            self.broken.setdefault(dependency.package, []).append(dependency)
        self.modified: dict[str, list[ModifiedFile]] = {}
        for item in packages.modified_files:
            self.modified.setdefault(item.package, []).append(item)
        self.shown: set[BrokenDependency | ModifiedFile] = set()

    def of(self, change: ChangedPackage) -> tuple[list[BrokenDependency], list[ModifiedFile]]:
        if change.type not in OS_ECOSYSTEMS:
            return [], []
        # The databases name packages bare (libpq5), an SBOM with their namespace (debian/libpq5).
        name = package_key(change.type, change.name)[1]
        broken = [item for item in self.broken.get(name, []) if item.ecosystem in (None, change.type)]
        modified = self.modified.get(name, []) if change.type == "deb" else []  # dpkg --verify
        self.shown.update(broken, modified)
        return broken, modified

    def unclaimed(self) -> list[tuple[str, list[BrokenDependency], list[ModifiedFile]]]:
        """(package, broken dependencies, modified files) of the packages no change's row shows."""
        rows = []
        for name in sorted(self.broken.keys() | self.modified.keys()):
            broken = [item for item in self.broken.get(name, []) if item not in self.shown]
            modified = [item for item in self.modified.get(name, []) if item not in self.shown]
            if broken or modified:
                rows.append((name, broken, modified))
        return rows


def _facts(change: ChangedPackage) -> list[tuple[str, Any, Any]]:
    """What the detail pane shows beside the versions: what the part of the report that told it knows."""
    origin = change.origin
    if isinstance(origin, PackageChange):
        old, new = origin.before, origin.after
        return [
            ("purl", old.purl if old else None, new.purl if new else None),
            ("found at", old.paths if old else None, new.paths if new else None),
        ]
    if isinstance(origin, OsPackageChange):
        return [("architecture", origin.architecture, origin.architecture)]
    if isinstance(origin, DistributionChange):
        old_dist, new_dist = origin.before, origin.after
        return [
            ("environment", origin.environment, origin.environment),
            ("location", old_dist.location if old_dist else None, new_dist.location if new_dist else None),
        ]
    return []


def _bare(name: str) -> str:
    # syft names OS packages with their purl namespace (debian/libpq5); the package databases do not.
    return name.rpartition("/")[2]


def _package_record(
    ecosystem: str,
    name: str,
    kind: str,
    before: str | None,
    after: str | None,
    layer: int | None,
    facts: list[tuple[str, Any, Any]],
    broken: Sequence[BrokenDependency],
    modified: Sequence[ModifiedFile],
) -> Record:
    def detail() -> RenderableType:
        parts: list[RenderableType] = [
            fact_lines(f"{ecosystem} {name}: {kind}", [("layer", layer)]),
            before_after([("version", before, after), *facts]),
        ]
        if broken:
            lines = Text("\nbroken dependencies\n", style="bold")
            for item in broken:
                lines.append(f"{item.field}: {item.relation} ({item.reason}) {item.detail}\n")
            parts.append(lines)
        if modified:
            lines = Text("\nfiles changed outside the package manager\n", style="bold")
            for file in modified:
                lines.append(f"{file.dpkg_verify}\n")
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
        keys=frozenset({name, _bare(name), f"{ecosystem}:{name}", f"{ecosystem}:{_bare(name)}"}),
        search_text=f"{ecosystem} {name} {kind} {before or ''} {after or ''}".lower(),
        detail=detail,
        group=ecosystem,
        sort_values=(ecosystem, name.lower(), kind),
    )
