"""Operating-system packages (dpkg, apk, rpm): the types the three readers share, and dispatch over them.

Each reader turns a package manager's database, given as bytes captured while indexing, into
``OsPackage`` values. ``read_os_packages`` picks the readers that apply to an image's captured files,
``broken_dependencies`` asks each ecosystem's own rules which dependencies the installed set leaves
unsatisfied, and ``purl`` names a package the way syft does, so that both inventories can be joined.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, Protocol

from packageurl import PackageURL

Ecosystem = Literal["deb", "apk", "rpm"]

# Where each ecosystem keeps its database (see layerdiff.index.capture, which keeps these files' bytes).
DPKG_STATUS = "/var/lib/dpkg/status"
DPKG_STATUS_DIR = "/var/lib/dpkg/status.d/"
DPKG_INFO_DIR = "/var/lib/dpkg/info/"
APK_INSTALLED = "/lib/apk/db/installed"
RPMDB_PATHS = ("/usr/lib/sysimage/rpm/rpmdb.sqlite", "/var/lib/rpm/rpmdb.sqlite")


@dataclass(frozen=True)
class PackageRef:
    """A package name as a relation or a Provides entry names it: ``libc6:any (>= 2.36)``.

    ``operator`` is written the way the ecosystem writes it (dpkg ``<<``/``<=``/``=``/``>=``/``>>``,
    apk ``<``/``<=``/``=``/``>=``/``>``/``~``, rpm ``<``/``<=``/``=``/``>=``/``>``); ``arch`` is the
    qualifier after ``:`` (``any``, ``native``, ``amd64``) or None when none is written.
    """

    name: str
    operator: str | None = None
    version: str | None = None
    arch: str | None = None

    def __str__(self) -> str:
        name = f"{self.name}:{self.arch}" if self.arch else self.name
        return f"{name} ({self.operator} {self.version})" if self.operator else name


@dataclass(frozen=True)
class Relation:
    """One entry of a dependency field: alternatives of which any one satisfies it (``a | b``)."""

    alternatives: tuple[PackageRef, ...]
    text: str  # the entry as the database wrote it, for messages

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class OsPackage:
    """One package the package manager records as present in the image."""

    ecosystem: Ecosystem
    name: str
    version: str  # as the ecosystem writes it in full: deb/rpm "[epoch:]version-release", apk "1.2-r0"
    architecture: str
    source: str | None = None  # deb Source, apk origin (o:), rpm SOURCERPM
    source_version: str | None = None  # deb only: from "Source: name (version)"
    depends: tuple[Relation, ...] = ()
    pre_depends: tuple[Relation, ...] = ()
    provides: tuple[PackageRef, ...] = ()
    files: tuple[str, ...] = ()  # absolute paths the database lists for the package, directories included
    conffiles: frozenset[str] = frozenset()
    multi_arch: str | None = None  # deb Multi-Arch: "same", "foreign", "allowed" (None means "no")
    state: str = (
        "installed"  # deb: the last word of Status ("installed", "unpacked", ...); others "installed"
    )
    checksum: str | None = None  # apk C: (the package's identity as apk writes it, e.g. "Q1...")
    # (path, "algorithm:hex") pairs the database records: dpkg conffile md5s, apk Z:, rpm FILEDIGESTS
    digests: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> tuple[str, str, str]:
        """What identifies "the same package" across two images, whatever its version."""
        return (self.ecosystem, self.name, self.architecture)


class BreakReason(StrEnum):
    MISSING = "missing"  # nothing installed of that name (or for that architecture) provides it
    VERSION = "version"  # installed, but in a version outside the constraint


@dataclass(frozen=True)
class BrokenDependency:
    """A dependency of an installed package that the installed set does not satisfy."""

    package: OsPackage
    field: str  # "Depends", "Pre-Depends" (deb), "D" (apk), "Requires" (rpm)
    relation: Relation
    reason: BreakReason
    installed_version: str | None = None  # the version found when reason is VERSION
    detail: str = ""  # one line saying why, in the package manager's terms

    def __str__(self) -> str:
        return f"{self.package.name}: {self.field}: {self.relation.text}: {self.detail or self.reason}"


class CapturedFiles(Protocol):
    """What ``database_files`` needs of an image (``layerdiff.fs.view.ImageFiles`` has it)."""

    def listdir(self, path: str) -> list[str]: ...

    def read(self, path: str) -> bytes | None: ...


_DPKG_INFO_SUFFIXES = (".list", ".md5sums", ".conffiles")


def database_files(files: CapturedFiles) -> dict[str, bytes]:
    """The captured package-database files of one image, absolute path -> bytes, for ``read_os_packages``."""
    paths = [DPKG_STATUS, APK_INSTALLED, *RPMDB_PATHS]
    paths += [DPKG_STATUS_DIR + name for name in files.listdir(DPKG_STATUS_DIR.rstrip("/"))]
    info = files.listdir(DPKG_INFO_DIR.rstrip("/"))
    paths += [DPKG_INFO_DIR + name for name in info if name.endswith(_DPKG_INFO_SUFFIXES)]
    captured = {}
    for path in paths:
        data = files.read(path)
        if data is not None:
            captured[path] = data
    return captured


def group_by_name(packages: Iterable[OsPackage]) -> dict[str, list[OsPackage]]:
    by_name: dict[str, list[OsPackage]] = {}
    for package in packages:
        by_name.setdefault(package.name, []).append(package)
    return by_name


def read_os_packages(captured: Mapping[str, bytes]) -> list[OsPackage]:
    """Every OS package recorded in the captured database files (absolute path -> bytes) of one image."""
    from layerdiff.inventory import apk, dpkg, rpm

    packages = dpkg.read_database(captured)
    if (installed := captured.get(APK_INSTALLED)) is not None:
        packages += apk.parse_installed(installed)
    # rpm moved its database to /usr/lib/sysimage; when both exist, the old path is a leftover or a link.
    rpmdb = next((captured[path] for path in RPMDB_PATHS if path in captured), None)
    if rpmdb is not None:
        packages += rpm.parse_rpmdb(rpmdb)
    return packages


def broken_dependencies(packages: Iterable[OsPackage]) -> list[BrokenDependency]:
    """Unsatisfied dependencies, each ecosystem's packages judged by that ecosystem's rules only."""
    from layerdiff.inventory import apk, dpkg, rpm

    by_ecosystem: dict[str, list[OsPackage]] = {}
    for package in packages:
        by_ecosystem.setdefault(package.ecosystem, []).append(package)
    broken = dpkg.unsatisfied_dependencies(by_ecosystem.get("deb", []))
    broken += apk.unsatisfied_dependencies(by_ecosystem.get("apk", []))
    broken += rpm.unsatisfied_dependencies(by_ecosystem.get("rpm", []))
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
