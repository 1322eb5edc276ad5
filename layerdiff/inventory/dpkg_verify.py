"""``dpkg --verify``: the files a Debian package lists that are gone or no longer what it installed."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from layerdiff.image.model import Entry, EntryType
from layerdiff.inventory.ospkg_interface import OsPackage

_SYMLINK_HOPS = 40  # Linux's MAXSYMLINKS


class DigestCheck(StrEnum):
    MATCH = "match"  # dpkg prints "."
    MISMATCH = "mismatch"  # "5"
    UNKNOWN = "unknown"  # "?": not checked, or the content could not be read (not a file, dangling link)


@dataclass(frozen=True)
class FileProblem:
    """One line of ``dpkg --verify``: a packaged file that is gone or no longer what the package installed."""

    package: str
    path: str
    conffile: bool  # dpkg marks these "c"; admins are meant to edit conffiles, so rules may set them aside
    missing: bool = False
    not_regular: bool = False  # dpkg knows a digest for it, so it must be a regular file, and is not
    digest: DigestCheck = DigestCheck.UNKNOWN
    expected_md5: str | None = None
    actual_md5: str | None = None

    def dpkg_line(self) -> str:
        """The line ``dpkg --verify`` prints for this problem, e.g. ``??5?????? c /etc/issue``."""
        if self.missing:
            result = "missing  "
        else:
            digest = {DigestCheck.MATCH: ".", DigestCheck.MISMATCH: "5", DigestCheck.UNKNOWN: "?"}[
                self.digest
            ]
            result = "?" + ("M" if self.not_regular else "?") + digest + "??????"
        return f"{result} {'c' if self.conffile else ' '} {self.path}"


def _content_md5(path: str, entry: Entry, lookup: Callable[[str], Entry | None]) -> str | None:
    """md5 of what opening ``path`` reads: symlinks followed as open(2) does; None if not a readable file."""
    for _ in range(_SYMLINK_HOPS):
        if entry.type in (EntryType.FILE, EntryType.HARDLINK):
            return entry.md5
        if entry.type is not EntryType.SYMLINK or not entry.link:
            return None
        path = posixpath.normpath(posixpath.join(posixpath.dirname(path), entry.link))
        next_entry = lookup(path)
        if next_entry is None:
            return None
        entry = next_entry
    return None


def _verify_path(
    package: OsPackage, path: str, expected: str | None, lookup: Callable[[str], Entry | None]
) -> FileProblem | None:
    conffile = path in package.conffiles
    entry = lookup(path)
    if entry is None:
        return FileProblem(package.name, path, conffile, missing=True, expected_md5=expected)
    if expected is None:  # directories, symlinks: dpkg records no digest, so only existence is checked
        return None
    regular = entry.type in (EntryType.FILE, EntryType.HARDLINK)
    actual = _content_md5(path, entry, lookup)
    if actual is None:
        if regular:  # the index has no digest for this file: nothing to compare, which is not a finding
            return None
        digest = DigestCheck.UNKNOWN
    else:
        digest = DigestCheck.MATCH if actual == expected else DigestCheck.MISMATCH
    if regular and digest is DigestCheck.MATCH:
        return None
    return FileProblem(
        package.name,
        path,
        conffile,
        not_regular=not regular,
        digest=digest,
        expected_md5=expected,
        actual_md5=actual,
    )


def verify_files(
    package: OsPackage, md5sums: Mapping[str, str], lookup: Callable[[str], Entry | None]
) -> list[FileProblem]:
    """What ``dpkg --verify PACKAGE`` reports, in the package's file-list order.

    ``md5sums``: absolute path -> md5 (``parse_md5sums``); conffiles' digests come from the status file.
    ``lookup`` behaves like lstat(2) inside the image: intermediate symlinks followed, the last one not
    (``ImageFiles.lookup``). Every listed path must exist; those with a known digest must be regular files
    with that digest. Diversions are not applied (``/var/lib/dpkg/diversions`` is not captured).
    """
    conffile_md5 = {path: d.removeprefix("md5:") for path, d in package.digests if d.startswith("md5:")}
    paths = package.files or tuple(dict.fromkeys([*md5sums, *sorted(package.conffiles)]))
    problems = []
    for path in paths:
        problem = _verify_path(package, path, md5sums.get(path) or conffile_md5.get(path), lookup)
        if problem is not None:
            problems.append(problem)
    return problems
