"""Every package change of a report in one list: what renderers and the review app show as "package changes".

The SBOM's changes come first (they carry package URLs and layers); then the changes the OS package databases
and the Python environments found that the SBOM does not list (all of them with ``--sbom none``).
"""

from dataclasses import dataclass

from packaging.utils import canonicalize_name

from layerdiff.report.wire_inventory import (
    DistributionChange,
    Inventory,
    OsPackageChange,
    PackageChange,
    Packages,
)

OS_ECOSYSTEMS = frozenset({"deb", "apk", "rpm"})


@dataclass(frozen=True, slots=True)
class ChangedPackage:
    """One package change, whichever part of the report tells it."""

    type: str  # the package-URL type: deb, apk, rpm, pypi, npm, ...
    name: str
    kind: str  # added | removed | upgraded | downgraded | changed | rebuilt
    before: str | None  # versions
    after: str | None
    layer: int | None  # known from the SBOM only
    qualifier: str | None  # the architecture of an OS package, the environment of a Python distribution
    origin: PackageChange | OsPackageChange | DistributionChange

    @property
    def from_sbom(self) -> bool:
        return isinstance(self.origin, PackageChange)


def changed_packages(inventory: Inventory, packages: Packages) -> tuple[ChangedPackage, ...]:
    listed = {package_key(change.type, change.name) for change in packages.changes}
    result = [_from_sbom(change) for change in packages.changes]
    result += [
        _from_database(change)
        for change in inventory.os_packages.changes
        if package_key(change.ecosystem, change.name) not in listed
    ]
    result += [
        _from_environment(change)
        for change in inventory.python.distribution_changes
        if package_key("pypi", change.name) not in listed
    ]
    return tuple(result)


def package_key(type_: str, name: str) -> tuple[str, str]:
    """The same package, however it is named: syft names OS packages with their purl namespace
    (``debian/libpq5``), the package database does not; Python names compare canonicalised."""
    if type_ in OS_ECOSYSTEMS:
        return type_, name.rpartition("/")[2]
    if type_ == "pypi":
        return type_, canonicalize_name(name)
    return type_, name


def _from_sbom(change: PackageChange) -> ChangedPackage:
    before = change.before.version if change.before else None
    after = change.after.version if change.after else None
    return ChangedPackage(change.type, change.name, change.kind, before, after, change.layer, None, change)


def _from_database(change: OsPackageChange) -> ChangedPackage:
    return ChangedPackage(
        change.ecosystem,
        change.name,
        change.kind,
        change.before,
        change.after,
        None,
        change.architecture,
        change,
    )


def _from_environment(change: DistributionChange) -> ChangedPackage:
    before = change.before.version if change.before else None
    after = change.after.version if change.after else None
    return ChangedPackage("pypi", change.name, change.kind, before, after, None, change.environment, change)
