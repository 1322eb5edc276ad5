"""How much one package database or Python distribution may make the inventory hold (docs/limits.md).

Every package is a finding or more, and every dependency entry may be one, each repeating the package's
name and version: a 60 MB dpkg status gave a 672 MB report, a 300 KB METADATA of 100,000 Requires-Dist
lines a 149 MB one. So a database may list at most ``os-packages`` entries, a package declare at most
``package-relations`` dependency entries (each alternative counts), and a name, version, architecture or
one dependency entry may be at most ``package-field-bytes`` long. Counts are checked before the text is
split, so a hostile field is never turned into a million strings first. Going over one is an error
(``LimitExceeded``) that names the package; the reader adds the file.

File lists are stored compressed (rpm: directory names and base names; apk: an ``F:`` directory, then its
``R:`` files): one long directory shared by many files would expand to far more than the database holds.
The paths one database lists may take at most ``captured-file-bytes``, as the database itself; more, and
the database is skipped like one over that limit (``UnreadableDatabase``, a report warning).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from layerdiff.image.limits import LimitExceeded, Limits, format_amount, utf8_size_over
from layerdiff.image.paths import display
from layerdiff.inventory.ospkg_interface import UnreadableDatabase

_SHOWN_NAME = 80  # characters of a package name an error repeats
_TOKEN = re.compile(r"\S+")


class EntryCount:
    """The package entries read so far from one database, against ``os-packages`` (the error is said of
    no file: the reader adds which, with ``LimitExceeded.within``)."""

    def __init__(self, limits: Limits) -> None:
        self._limit, self._count = limits.os_packages, 0

    def add(self) -> None:
        self._count += 1
        if self._count > self._limit:
            raise LimitExceeded("", "os_packages", self._limit, f"more than {self._limit} packages")


class PathBudget:
    """The characters of file paths one database may expand to (``Limits.captured_file_bytes``)."""

    def __init__(self, limits: Limits) -> None:
        self._limit = self._left = limits.captured_file_bytes

    def spend(self, characters: int) -> None:
        self._left -= characters
        if self._left < 0:
            raise UnreadableDatabase(
                f"its file lists expand to more than {format_amount(self._limit)} of paths "
                "(limit captured-file-bytes)"
            )


def _package(name: str) -> str:
    shown = name if len(name) <= _SHOWN_NAME else name[:_SHOWN_NAME] + "…"
    return f"package {display(shown)}"


def check_count(name: str, count: int, limits: Limits) -> None:
    """``count`` dependency entries of the package ``name`` are within ``package-relations``."""
    if count > limits.package_relations:
        raise LimitExceeded(
            _package(name),
            "package_relations",
            limits.package_relations,
            f"more than {limits.package_relations} dependency entries",
        )


def separated_count(value: str, separators: str) -> int:
    """How many entries ``value`` splits into at any of ``separators`` (",|"), counted without splitting."""
    return 1 + sum(value.count(separator) for separator in separators) if value else 0


def token_count(value: str) -> int:
    """How many whitespace-separated tokens ``value`` holds, counted without splitting."""
    return sum(1 for _ in _TOKEN.finditer(value))


def check_fields(name: str, fields: Iterable[str | None], limits: Limits) -> None:
    """Each of ``name`` and ``fields`` (version, architecture, one dependency entry) is within
    ``package-field-bytes`` (as UTF-8)."""
    limit = limits.package_field_bytes
    for value in (name, *fields):
        if value is not None and utf8_size_over(value, limit):
            raise LimitExceeded(
                _package(name), "package_field_bytes", limit, f"a field of more than {limit} bytes"
            )
