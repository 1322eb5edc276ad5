"""The interface of an OS package database reader (dpkg, apk, rpm), and the types the readers share.

A reader turns its package manager's database, given as the bytes the indexer captured, into
``OsPackage`` values, orders versions by its package manager's rules, and says which dependencies an
installed set leaves unsatisfied. Each reader module ends with its ``DATABASE``; the registry is
``layerdiff.inventory.ospkg.DATABASES``. Readers import this module only, never the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, Literal, TypeVar

from layerdiff.image.limits import DEFAULT_LIMITS, LimitExceeded, Limits
from layerdiff.index.capture import Capture

Ecosystem = Literal["deb", "apk", "rpm"]


class UnreadableDatabase(ValueError):
    """A package database that is not what its package manager writes: corrupt, or made to attack its reader.
    It is skipped, and the report's warnings say which file and why (``str(error)``)."""

    def __init__(self, reason: str, path: str | None = None) -> None:
        super().__init__(f"{path}: {reason}" if path else reason)
        self.reason, self.path = reason, path

    def of(self, path: str) -> UnreadableDatabase:
        """The same problem, said of the file at ``path``."""
        return UnreadableDatabase(self.reason, path)


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
    installed_version: str | None = None  # the version found, which the relation does not accept
    detail: str = ""  # one line saying why, in the package manager's terms

    @property
    def reason(self) -> BreakReason:
        return BreakReason.MISSING if self.installed_version is None else BreakReason.VERSION

    def __str__(self) -> str:
        return f"{self.package.name}: {self.field}: {self.relation.text}: {self.detail or self.reason}"


@dataclass(frozen=True)
class PackageDatabase:
    """One package manager's database, as a reader declares it."""

    ecosystem: Ecosystem
    capture: Capture  # the files the indexer keeps for ``read``
    # What the package manager rewrites whenever the installed set changes, in the order to look for the
    # layer that did it (a file, or a directory whose entries it rewrites).
    locations: tuple[str, ...]
    # captured files (path -> bytes) -> packages; raises UnreadableDatabase or LimitExceeded
    read: Callable[[Mapping[str, bytes], Limits], list[OsPackage]]
    compare_versions: Callable[[str, str], int]  # negative, zero, positive as a sorts before, with, after b
    # installed packages -> the dependencies they leave unmet; raises LimitExceeded (dependency-checks)
    unsatisfied_dependencies: Callable[[Sequence[OsPackage], Limits], list[BrokenDependency]]


def is_digit(char: str) -> bool:
    """An ASCII digit, as the package managers' C code tests it: ``"²".isdigit()`` is true, yet no number."""
    return "0" <= char <= "9" and len(char) == 1


def compare_numbers(a: str, b: str) -> int:
    """-1, 0, 1 as two runs of ASCII digits compare as numbers, whatever their length: no ``int()``, which
    refuses more than 4300 digits."""
    a, b = a.lstrip("0"), b.lstrip("0")
    if len(a) != len(b):
        return -1 if len(a) < len(b) else 1
    return (a > b) - (a < b)


T = TypeVar("T")


class NameIndex(Generic[T]):
    """What a dependency check looks a name up in (installed packages, Provides), every lookup counted:
    all the candidates one database's check examines are bounded by ``dependency-checks``, so a thousand
    packages providing one name, each asked for a thousand times, is an error, not a quadratic hang."""

    def __init__(self, limits: Limits) -> None:
        self._items: dict[str, list[T]] = {}
        self._limit = self._left = limits.dependency_checks

    def add(self, name: str, item: T) -> None:
        self._items.setdefault(name, []).append(item)

    def get(self, name: str) -> list[T]:
        items = self._items.get(name, [])
        self._left -= len(items) + 1
        if self._left < 0:
            raise LimitExceeded(
                "checking dependencies",
                "dependency_checks",
                self._limit,
                f"more than {self._limit} candidate packages examined",
            )
        return items


def name_index(packages: Iterable[OsPackage], limits: Limits = DEFAULT_LIMITS) -> NameIndex[OsPackage]:
    """The packages by name, for a dependency check."""
    index: NameIndex[OsPackage] = NameIndex(limits)
    for package in packages:
        index.add(package.name, package)
    return index


# Why a relation is not met, in the package manager's words: (the installed version it does not accept, or
# None when nothing of that name is installed; one line), or None when it is met.
Explanation = tuple[str | None, str] | None


def broken_relations(
    packages: Iterable[OsPackage],
    relations: Callable[[OsPackage], Iterator[tuple[str, Relation]]],
    why_not: Callable[[OsPackage, Relation], Explanation],
) -> list[BrokenDependency]:
    """Every (field, relation) of every package that ``why_not`` explains: a reader's
    ``unsatisfied_dependencies`` by its own rules of what satisfies a relation."""
    broken = []
    for package in packages:
        for field, relation in relations(package):
            explanation = why_not(package, relation)
            if explanation is not None:
                found, detail = explanation
                broken.append(
                    BrokenDependency(package, field, relation, installed_version=found, detail=detail)
                )
    return broken
