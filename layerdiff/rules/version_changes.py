"""Every package's version change, once, with the files its package manager deleted.

Changes come from three sources, in this order, each adding only what the ones before it lack: the SBOM
diff (every ecosystem syft catalogs), the OS package databases read natively (deb, apk, rpm), and the
site dirs of the images' Python environments (so that a pip upgrade is one change even with
``--sbom none``). Subjects name packages the same way in all of them (``deb:libpq5:amd64``,
``pypi:requests:/home/airflow/.local/lib/python3.11/site-packages``), so that a finding approved in a
run with ``--sbom none`` is still the same finding with ``--sbom syft``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from packaging.utils import canonicalize_name

from layerdiff.diff.inventory import OsPackageChange
from layerdiff.diff.packages import PackageChange
from layerdiff.fs.view import ImageFiles
from layerdiff.image.model import EntryType
from layerdiff.inventory.collect import Inventory
from layerdiff.inventory.ospkg import DATABASES
from layerdiff.inventory.ospkg_interface import OsPackage
from layerdiff.inventory.python import Distribution, site_distributions
from layerdiff.inventory.versions import change_kind
from layerdiff.rules.model import RuleContext
from layerdiff.rules.pip_files import EXAMPLES, pip_removals, removed_files

_Packages = tuple[dict[tuple[str, str], "OsPackage"], dict[tuple[str, str], "OsPackage"]]  # base, derived

OS_ECOSYSTEMS = frozenset({"deb", "apk", "rpm"})

# Where each ecosystem's database lives: the layer that rewrote it is the one that changed the packages.
DATABASE_LOCATIONS: dict[str, tuple[str, ...]] = {
    database.ecosystem: database.locations for database in DATABASES
}


@dataclass(frozen=True)
class VersionChange:
    """One package's change, from the SBOM, an OS package database or a Python site dir."""

    ecosystem: str  # purl type: deb, apk, rpm, pypi, npm, ...
    name: str  # without the purl namespace for OS packages, as their databases name them
    qualifier: str  # architecture (OS packages) or install root (language packages); may be ""
    kind: str  # added | removed | upgraded | downgraded | changed
    before: str | None
    after: str | None
    layer: int | None
    evidence: dict[str, Any]

    @property
    def subject(self) -> str:
        return ":".join(part for part in (self.ecosystem, self.name, self.qualifier) if part)

    @property
    def label(self) -> str:
        return f"{self.ecosystem} package {self.name}"

    @property
    def key(self) -> tuple[str, str, str]:
        name = canonicalize_name(self.name) if self.ecosystem == "pypi" else self.name
        return self.ecosystem, name, self.qualifier if self.ecosystem == "pypi" else ""


def version_changes(context: RuleContext) -> list[VersionChange]:
    """The SBOM's package changes, then the OS databases' and the site dirs' the SBOM lacks, by subject."""
    return context.shared("version_changes", _version_changes)


def _version_changes(context: RuleContext) -> list[VersionChange]:
    changes = [_from_sbom(context, c) for c in context.diff.packages if c.kind != "rebuilt"]
    known = {(c.ecosystem, c.name) for c in changes}
    changes += [
        _from_database(context, c)
        for c in context.diff.inventory.os_packages
        if (c.ecosystem, c.name) not in known
    ]
    keys = {c.key for c in changes}
    changes += [c for c in _from_site_dirs(context) if c.key not in keys]
    files = _pip_files(context)
    packages = (_packages(context.diff.base_inventory), _packages(context.diff.derived_inventory))
    return sorted((_with_files(context, c, files, packages) for c in changes), key=lambda c: c.subject)


def _from_sbom(context: RuleContext, change: PackageChange) -> VersionChange:
    package = change.after or change.before
    assert package is not None
    name = change.name.rsplit("/", 1)[-1] if change.type in OS_ECOSYSTEMS else change.name
    arch, install_root = package.key[2], package.key[3]
    layer = change.layer if change.layer is not None and change.layer >= context.first_reviewed else None
    if layer is None and change.before is not None:
        layer = context.layer_that_changed(*change.before.paths)
    return VersionChange(
        ecosystem=change.type,
        name=name,
        qualifier=arch if change.type in OS_ECOSYSTEMS else install_root,
        kind=change.kind,
        before=change.before.version if change.before else None,
        after=change.after.version if change.after else None,
        layer=layer,
        evidence={
            "source": context.diff.sbom_tool or "sbom",
            "purl_before": change.before.purl if change.before else None,
            "purl_after": change.after.purl if change.after else None,
            "paths": list(package.paths[:5]),
        },
    )


def _from_database(context: RuleContext, change: OsPackageChange) -> VersionChange:
    databases = DATABASE_LOCATIONS.get(change.ecosystem, ())
    return VersionChange(
        ecosystem=change.ecosystem,
        name=change.name,
        qualifier=change.architecture,
        kind=change.kind,
        before=change.before,
        after=change.after,
        layer=context.layer_that_changed(*databases),
        evidence={
            "source": f"{change.ecosystem} database",
            "database": list(databases),
            "architecture": change.architecture,
        },
    )


def _from_site_dirs(context: RuleContext) -> list[VersionChange]:
    """Each distribution whose version changed in a site dir of either image's Python environments."""
    base, derived = context.diff.base_inventory, context.diff.derived_inventory
    directories = sorted({p for e in (*base.python, *derived.python) for p in e.sys_path})
    changes = []
    for directory in directories:
        old = _by_name(context.diff.base_files, directory, context)
        new = _by_name(context.diff.derived_files, directory, context)
        for name in sorted(set(old) | set(new)):
            a, b = old.get(name), new.get(name)
            if a is None or b is None:
                kind = "added" if a is None else "removed"
            else:
                kind = change_kind("pypi", a.version, b.version)
                if kind == "unchanged":
                    continue
            present = b or a
            assert present is not None
            changes.append(
                VersionChange(
                    ecosystem="pypi",
                    name=name,
                    qualifier=directory,
                    kind=kind,
                    before=a.version if a else None,
                    after=b.version if b else None,
                    layer=context.layer_that_changed(*(d.metadata for d in (b, a) if d is not None)),
                    evidence={
                        "source": "python site dir",
                        "metadata_before": a.metadata if a else None,
                        "metadata_after": b.metadata if b else None,
                    },
                )
            )
    return changes


def _by_name(files: ImageFiles, directory: str, context: RuleContext) -> dict[str, Distribution]:
    found: dict[str, Distribution] = {}
    for distribution in site_distributions(files, directory, context.limits):
        found.setdefault(distribution.name, distribution)
    return found


def _pip_files(context: RuleContext) -> dict[tuple[str, str], dict[str, Any]]:
    removals = pip_removals(context)
    return {key: removed.evidence() for key, removed in removed_files(removals, context).items()}


def _with_files(
    context: RuleContext,
    change: VersionChange,
    pip_files: dict[tuple[str, str], dict[str, Any]],
    packages: _Packages,
) -> VersionChange:
    """The change with the files its package manager deleted (counted, a few named) in its evidence."""
    if change.ecosystem == "pypi":
        files = pip_files.get((change.qualifier, canonicalize_name(change.name)))
    elif change.ecosystem in OS_ECOSYSTEMS:
        files = _os_package_files(context, change, packages)
    else:
        files = None
    if files is None:
        return change
    return replace(change, evidence={**change.evidence, "removed": files})


def _os_package_files(
    context: RuleContext, change: VersionChange, packages: _Packages
) -> dict[str, Any] | None:
    """The files the base's version of an OS package listed that are gone (its package manager removed
    them: the new version, or none, no longer lists them)."""
    before = packages[0].get((change.ecosystem, change.name))
    if before is None:
        return None
    after = packages[1].get((change.ecosystem, change.name))
    still_listed = set(after.files) if after is not None else set()
    base_files, derived_files = context.diff.base_files, context.diff.derived_files
    gone = [
        (path, entry.size)
        for path in before.files
        if path not in still_listed
        and (entry := base_files.lookup(path)) is not None
        and entry.type is not EntryType.DIR
        and derived_files.lookup(path) is None
    ]
    return {
        "files_removed": len(gone),
        "bytes_removed": sum(size for _, size in gone),
        "examples": [path for path, _ in gone[:EXAMPLES]],
    }


def _packages(inventory: Inventory) -> dict[tuple[str, str], OsPackage]:
    table: dict[tuple[str, str], OsPackage] = {}
    for package in inventory.os_packages:
        table.setdefault((package.ecosystem, package.name), package)
    return table
