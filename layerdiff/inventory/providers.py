"""Which package provides each program the image's ENTRYPOINT, CMD and HEALTHCHECK start: the OS package
whose database lists the file, or the Python distribution whose RECORD lists it (a console script pip
wrote into a ``bin`` directory). ``dpkg -S`` and ``pip show -f`` answer the same questions inside the
image."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass

from packaging.utils import canonicalize_name

from layerdiff.fs.view import ImageFiles
from layerdiff.image.limits import DEFAULT_LIMITS, Limits
from layerdiff.inventory.collect import Inventory
from layerdiff.inventory.launches import resolve_word
from layerdiff.inventory.python import Distribution, site_distributions


@dataclass(frozen=True)
class Provider:
    """The package a file belongs to, as its package manager names it."""

    ecosystem: str  # pypi | deb | apk | rpm
    name: str  # a distribution's canonical name; an OS package's name
    version: str
    where: str  # the site dir of a distribution, the architecture of an OS package
    record: str  # what lists the file: the distribution's RECORD, or the OS package database

    @property
    def key(self) -> tuple[str, str, str]:
        """Matches ``layerdiff.rules.version_changes.VersionChange.key``."""
        return self.ecosystem, self.name, self.where if self.ecosystem == "pypi" else ""

    def describe(self) -> str:
        return f"{self.ecosystem} package {self.name} {self.version}"


@dataclass(frozen=True)
class LaunchedProgram:
    """A program one of ENTRYPOINT, CMD and HEALTHCHECK starts, and the package it comes from."""

    used_by: str  # Entrypoint | Cmd | Healthcheck
    word: str  # the command word as the config writes it
    path: str  # where it is found: the PATH entry for a bare name (what ``command -v`` prints)
    target: str  # the file that runs, symlinks followed
    provider: Provider | None  # None when no package lists the file (COPY, a hand-written script)


def launched_programs(
    inventory: Inventory, files: ImageFiles, limits: Limits = DEFAULT_LIMITS
) -> tuple[LaunchedProgram, ...]:
    """Each command word of the image's ENTRYPOINT, CMD and HEALTHCHECK that names a file, with its
    provider; words that are arguments (``scheduler``) or name no file are left out."""
    return programs_for(inventory, files, sorted(inventory.commands_used.items()), limits)


def programs_for(
    inventory: Inventory,
    files: ImageFiles,
    words: Iterable[tuple[str, str]],
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[LaunchedProgram, ...]:
    """The program each (command word, config field) starts in the image ``inventory`` and ``files`` are
    of; words that name no file are left out."""
    located = []
    for word, used_by in words:
        resolved = resolve_word(inventory, files, word)
        if resolved is not None:
            path = resolved[0]
            located.append((word, used_by, path, files.resolve(path) or path))
    # every RECORD is read once for all the programs, however many words the config has
    by_python = _python_providers(
        inventory, files, {p for _, _, path, target in located for p in (path, target)}, limits
    )
    return tuple(
        LaunchedProgram(
            used_by,
            word,
            path,
            target,
            _os_provider(inventory, path, target) or by_python.get(path) or by_python.get(target),
        )
        for word, used_by, path, target in located
    )


def _os_provider(inventory: Inventory, *paths: str) -> Provider | None:
    for path in paths:
        package = inventory.owner_of(path)
        if package is not None:
            return Provider(
                package.ecosystem,
                package.name,
                package.version,
                package.architecture,
                f"{package.ecosystem} database",
            )
    return None


def _python_providers(
    inventory: Inventory, files: ImageFiles, wanted: set[str], limits: Limits
) -> dict[str, Provider]:
    """Each of ``wanted`` that a distribution's RECORD lists, with the first such distribution (in
    sys.path order of the environments)."""
    found: dict[str, Provider] = {}
    if not wanted:
        return found
    names = {posixpath.basename(p) for p in wanted}
    for directory in dict.fromkeys(d for environment in inventory.python for d in environment.sys_path):
        for distribution in site_distributions(files, directory, limits):
            for path in _listed(files, distribution, wanted, names):
                found.setdefault(
                    path,
                    Provider(
                        "pypi",
                        canonicalize_name(distribution.name),
                        distribution.version,
                        distribution.location,
                        f"{distribution.metadata}/RECORD",
                    ),
                )
    return found


def _listed(files: ImageFiles, distribution: Distribution, wanted: set[str], names: set[str]) -> list[str]:
    """Those of ``wanted`` the distribution's RECORD lists."""
    if not distribution.metadata.endswith(".dist-info"):
        return []
    text = (files.read(f"{distribution.metadata}/RECORD") or b"").decode("utf-8", "replace")
    if not any(name in text for name in names):
        return []  # most RECORDs do not name the file at all: no need to split them into lines
    listed = []
    for line in text.splitlines():
        relative = line.split(",", 1)[0]
        path = posixpath.normpath(posixpath.join(distribution.location, relative)) if relative else ""
        if path in wanted:
            listed.append(path)
    return listed
