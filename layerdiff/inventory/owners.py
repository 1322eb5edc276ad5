"""Which OS package owns a path: the one place that answers it, for every rule and report.

A package owns the paths its database lists (files, directories and conffiles), both as the database
writes them and as they appear in the image: packages list ``/lib/...`` where a merged-/usr image stores
``/usr/lib/...``, so each listed path's directory is resolved inside the image (its last component is
not followed, as lstat(2) does not).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence

from layerdiff.inventory.ospkg_interface import OsPackage


class PackageOwners:
    """Built on the first question: most images are asked about a few paths, or none."""

    def __init__(self, packages: Sequence[OsPackage], resolve: Callable[[str], str | None]) -> None:
        self._packages = packages
        self._resolve = resolve  # a path after following every symlink inside the image; None if absent
        self._first: dict[str, OsPackage] | None = None
        self._more: dict[str, list[OsPackage]] = {}  # the second and later packages listing a path

    def prepare(self) -> None:
        """Build the index now (while waiting for something else) rather than on the first question."""
        self._index()

    def owner_of(self, path: str) -> OsPackage | None:
        """The first package (in database order) that lists ``path``; None when no package does."""
        return self._index().get(path)

    def owners_of(self, path: str) -> tuple[OsPackage, ...]:
        """Every package that lists ``path`` (directories are often listed by several)."""
        first = self._index().get(path)
        return (first, *self._more.get(path, ())) if first is not None else ()

    def _index(self) -> dict[str, OsPackage]:
        if self._first is None:
            self._first = self._build()
        return self._first

    def _build(self) -> dict[str, OsPackage]:
        first: dict[str, OsPackage] = {}
        real_dirs: dict[str, str | None] = {}
        for package in self._packages:
            for listed in dict.fromkeys((*package.files, *sorted(package.conffiles))):
                directory, name = posixpath.split(listed)
                if directory not in real_dirs:
                    real_dirs[directory] = self._resolve(directory)
                real = real_dirs[directory]
                for path in dict.fromkeys(
                    (listed, posixpath.join(real, name) if real is not None else listed)
                ):
                    if first.setdefault(path, package) is not package:
                        more = self._more.setdefault(path, [])
                        if all(other is not package for other in more):
                            more.append(package)
        return first
