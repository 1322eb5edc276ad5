"""The registry of OS package databases (dpkg, apk, rpm), dispatch over them, and package URLs.

Each reader declares itself as a ``PackageDatabase`` (``layerdiff.inventory.ospkg_interface``).
``read_os_packages`` asks every reader for the packages in an image's captured files,
``broken_dependencies`` asks each ecosystem's own rules which dependencies the installed set leaves
unsatisfied, and ``purl`` names a package the way syft does, so that both inventories can be joined.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from packageurl import PackageURL

from layerdiff.image.limits import DEFAULT_LIMITS, LimitExceeded, Limits
from layerdiff.index.capture import Capture
from layerdiff.inventory import apk, dpkg, rpm
from layerdiff.inventory.ospkg_interface import (
    BrokenDependency,
    OsPackage,
    PackageDatabase,
    UnreadableDatabase,
)

DATABASES: tuple[PackageDatabase, ...] = (dpkg.DATABASE, apk.DATABASE, rpm.DATABASE)
_WILDCARD = re.compile(r"[*?\[]")


class CapturedFiles(Protocol):
    """What ``database_files`` needs of an image (``layerdiff.fs.view.ImageFiles`` has it)."""

    def listdir(self, path: str) -> list[str]: ...

    def read(self, path: str) -> bytes | None: ...


def captured_files(files: CapturedFiles, capture: Capture) -> dict[str, bytes]:
    """The captured files ``capture`` names, absolute path -> bytes. A pattern may have wildcards in its
    last component only: the directory before it is listed (its entries, not the ones below them)."""
    paths = list(capture.paths)
    for pattern in capture.patterns:
        directory, name = posixpath.split(pattern)
        if _WILDCARD.search(directory):
            raise ValueError(f"cannot list {pattern!r}: wildcards before its last component")
        paths += [
            posixpath.join(directory, n) for n in files.listdir(directory) if fnmatch.fnmatchcase(n, name)
        ]
    captured = {}
    for path in paths:
        data = files.read(path)
        if data is not None:
            captured[path] = data
    return captured


def database_files(files: CapturedFiles) -> dict[str, bytes]:
    """The captured package-database files of one image, absolute path -> bytes, for ``read_os_packages``."""
    captured: dict[str, bytes] = {}
    for database in DATABASES:
        captured |= captured_files(files, database.capture)
    return captured


@dataclass(frozen=True)
class PackageScan:
    packages: list[OsPackage]
    warnings: list[str]  # each database skipped, and why


def read_os_packages(captured: Mapping[str, bytes], limits: Limits = DEFAULT_LIMITS) -> PackageScan:
    """Every OS package recorded in the captured database files (absolute path -> bytes) of one image.

    A database its reader refuses (``UnreadableDatabase``: corrupt, or built to attack its reader) is
    skipped, and a warning says which and why; a limit exceeded stops the review (``LimitExceeded``).
    """
    packages: list[OsPackage] = []
    warnings = []
    for database in DATABASES:
        try:
            packages += database.read(captured, limits)
        except UnreadableDatabase as exc:
            where = exc.path or f"the {database.ecosystem} database"
            warnings.append(
                f"{where}: not read, so its {database.ecosystem} packages are left out: {exc.reason}"
            )
    return PackageScan(packages, warnings)


def broken_dependencies(
    packages: Iterable[OsPackage], limits: Limits = DEFAULT_LIMITS
) -> list[BrokenDependency]:
    """Unsatisfied dependencies, each ecosystem's packages judged by that ecosystem's rules only."""
    by_ecosystem: dict[str, list[OsPackage]] = {}
    for package in packages:
        by_ecosystem.setdefault(package.ecosystem, []).append(package)
    broken: list[BrokenDependency] = []
    for database in DATABASES:
        try:
            broken += database.unsatisfied_dependencies(by_ecosystem.get(database.ecosystem, []), limits)
        except LimitExceeded as exc:
            raise exc.within(f"the {database.ecosystem} packages") from None
    return broken


# os-release ID and VERSION_ID joined by "-", as syft writes the distro qualifier ("debian-12").
_DISTRO = re.compile(r"^(?P<id>.+?)-(?P<version>\d[0-9A-Za-z._~+-]*)$")
_DEFAULT_NAMESPACE: dict[str, str | None] = {"deb": "debian", "apk": "alpine", "rpm": None}


def purl_namespace(package: OsPackage, distro: str | None) -> str | None:
    """The purl namespace syft uses: the os-release ID, with syft's renames for rpm distributions."""
    if distro is None:
        return _DEFAULT_NAMESPACE[package.ecosystem]
    match = _DISTRO.match(distro)
    namespace = (match.group("id") if match else distro).lower()
    if package.ecosystem == "rpm":
        if namespace in ("rhel", "hummingbird"):
            return "redhat"
        if namespace.startswith("opensuse"):
            return "opensuse"
    return namespace


def purl(package: OsPackage, distro: str | None) -> str:
    """The package URL of ``package``, e.g. ``pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12``.

    ``distro`` is os-release ``ID-VERSION_ID`` ("debian-12", "alpine-3.19.1", "rhel-9.3"). The
    components and qualifiers are syft's (including ``upstream`` for a differing source package and rpm's
    ``epoch``), but the text is packageurl's canonical form: qualifiers sorted and ``+`` percent-encoded,
    where syft puts ``distro`` last and leaves ``+`` alone. Compare with syft's purls through
    ``canonical_purl``, never as raw strings.
    """
    version = package.version
    qualifiers: dict[str, str] = {"arch": package.architecture}
    if package.ecosystem == "deb" and package.source:
        upstream = package.source
        if package.source_version:
            upstream += f"@{package.source_version}"
        qualifiers["upstream"] = upstream
    elif package.ecosystem == "apk" and package.source and package.source != package.name:
        qualifiers["upstream"] = package.source
    elif package.ecosystem == "rpm":
        # purl's rpm version is VERSION-RELEASE; the epoch travels as a qualifier
        epoch, colon, rest = version.partition(":")
        if colon and epoch.isdigit():
            qualifiers["epoch"] = epoch
            version = rest
        if package.source:
            qualifiers["upstream"] = package.source
    if distro:
        qualifiers["distro"] = distro
    return PackageURL(
        type=package.ecosystem,
        namespace=purl_namespace(package, distro),
        name=package.name,
        version=version,
        qualifiers={key: value for key, value in qualifiers.items() if value},
    ).to_string()


def canonical_purl(text: str) -> str:
    """``text`` (a purl from syft or anyone else) in packageurl's canonical form, to compare with ``purl``."""
    return str(PackageURL.from_string(text).to_string())
