"""apk's database (``/lib/apk/db/installed``): Alpine packages, their files, and unmet dependencies.

The database is one block of ``X:value`` lines per package, blocks separated by blank lines. Versions are
ordered by apk-tools' own algorithm, reimplemented here: univers' AlpineLinuxVersion follows Gentoo's
grammar and rejects versions apk accepts (``_git``, ``_svn``, ``_hg``, ``_cvs`` suffixes, ``~hash``).
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TypeVar

from layerdiff.image.limits import DEFAULT_LIMITS, LimitExceeded, Limits
from layerdiff.index.capture import Capture
from layerdiff.inventory import ospkg_interface as pkgdb
from layerdiff.inventory.package_bounds import EntryCount, PathBudget, check_count, check_fields, token_count

APK_INSTALLED = "/lib/apk/db/installed"
CAPTURE = Capture(paths=(APK_INSTALLED,))

# --- the installed database ---------------------------------------------------------------------------------


def decode_checksum(value: str) -> str:
    """apk's ``Q1``/``Q2`` + base64 digests as ``sha1:hex``/``sha256:hex``; anything else as written."""
    algorithms = {"Q1": "sha1", "Q2": "sha256"}
    if value[:2] in algorithms:
        try:
            return f"{algorithms[value[:2]]}:{base64.b64decode(value[2:], validate=True).hex()}"
        except (binascii.Error, ValueError):
            pass
    return value


_DEPENDENCY = re.compile(r"^(?P<name>[^<>=~]+?)(?P<op>[<>=~]+)(?P<version>.*)$")


def parse_dependency(token: str) -> pkgdb.PackageRef:
    """One ``D:``/``p:`` token: ``name``, ``name>=1.2-r0``, ``so:libc.musl-x86_64.so.1=1``, ``name@tag``."""
    match = _DEPENDENCY.match(token)
    name, operator, version = match.group("name", "op", "version") if match else (token, None, None)
    name = name.partition("@")[0]  # a repository pin (name@edge) says where from, not what
    return pkgdb.PackageRef(name=name, operator=operator or None, version=version or None)


@dataclass
class _Block:
    """The fields of one package block, gathered line by line; its paths count against ``budget``."""

    budget: PathBudget
    fields: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    digests: list[tuple[str, str]] = field(default_factory=list)
    directory: str = ""

    def add(self, key: str, value: str) -> None:
        if key == "F":
            self.directory = value.strip("/")
            self._file("/" + self.directory)
        elif key == "R":
            self._file(f"/{self.directory}/{value}" if self.directory else f"/{value}")
        elif key == "Z" and self.files:  # the digest of the file named by the R: line before it
            self.digests.append((self.files[-1], decode_checksum(value)))
        else:
            self.fields.setdefault(key, value)

    def _file(self, path: str) -> None:
        self.budget.spend(len(path))  # one long F: directory and many R: files expand far
        self.files.append(path)

    def package(self, limits: Limits) -> pkgdb.OsPackage | None:
        name = self.fields.get("P")
        if not name:
            return None
        relations = (self.fields.get("D", ""), self.fields.get("p", ""))
        check_count(name, sum(token_count(value) for value in relations), limits)
        check_fields(name, (self.fields.get(key) for key in "VAo"), limits)
        # "!name" tokens are conflicts, not dependencies
        depends = [token for token in self.fields.get("D", "").split() if not token.startswith("!")]
        check_fields(name, (*depends, *self.fields.get("p", "").split()), limits)
        return pkgdb.OsPackage(
            ecosystem="apk",
            name=name,
            version=self.fields.get("V", ""),
            architecture=self.fields.get("A", ""),
            source=self.fields.get("o") or None,
            depends=tuple(pkgdb.Relation(alternatives=(parse_dependency(t),), text=t) for t in depends),
            provides=tuple(parse_dependency(token) for token in self.fields.get("p", "").split()),
            files=tuple(path for path in self.files if path != "/"),
            checksum=self.fields.get("C") or None,
            digests=tuple(self.digests),
        )


def _blocks(data: bytes, budget: PathBudget) -> Iterator[_Block]:
    """The blocks of the database, decoded a line at a time."""
    block = _Block(budget)
    for raw in io.BytesIO(data):
        line = raw.decode("utf-8", "surrogateescape").rstrip("\r\n")
        if not line.strip():
            if block.fields or block.files:
                yield block
            block = _Block(budget)
            continue
        key, colon, value = line.partition(":")
        if colon and len(key) == 1:
            block.add(key, value)
    if block.fields or block.files:
        yield block


def parse_installed(data: bytes, limits: Limits = DEFAULT_LIMITS) -> list[pkgdb.OsPackage]:
    """Packages of an apk ``installed`` database, with their files (directories included) and Z: digests.

    At most ``limits.os_packages`` blocks, each package within the limits of ``package_bounds``
    (``LimitExceeded``); file paths that expand past ``captured-file-bytes`` are ``UnreadableDatabase``.
    """
    count = EntryCount(limits)
    packages = []
    for block in _blocks(data, PathBudget(limits)):
        count.add()
        package = block.package(limits)
        if package is not None:
            packages.append(package)
    return packages


def read_database(captured: Mapping[str, bytes], limits: Limits = DEFAULT_LIMITS) -> list[pkgdb.OsPackage]:
    """The apk packages of an image from its captured files (absolute path -> bytes)."""
    installed = captured.get(APK_INSTALLED)
    if installed is None:
        return []
    try:
        return parse_installed(installed, limits)
    except pkgdb.UnreadableDatabase as exc:
        raise exc.of(APK_INSTALLED) from None
    except LimitExceeded as exc:
        raise exc.within(APK_INSTALLED) from None


# --- version ordering: apk-tools' version.c -----------------------------------------------------------------


class _Token(IntEnum):
    INITIAL_DIGIT = 0
    DIGIT = 1
    LETTER = 2
    SUFFIX = 3
    SUFFIX_NO = 4
    COMMIT_HASH = 5
    REVISION_NO = 6
    END = 7
    INVALID = 8


# Pre-release suffixes sort before the bare version ("none"), post-release ones after it.
_SUFFIXES = {"alpha": 1, "beta": 2, "pre": 3, "rc": 4, "cvs": 6, "svn": 7, "git": 8, "hg": 9, "p": 10}
_SUFFIX_NONE = 5
_DIGITS = re.compile(r"[0-9]*")
_LOWER = re.compile(r"[a-z]*")
_HEX = re.compile(r"[0-9a-f]*")


class _Tokenizer:
    """Walks a version one component at a time, as apk's token_first/token_next do."""

    def __init__(self, version: str) -> None:
        self.text, self.pos = version, 0
        self.token, self.value, self.suffix = _Token.INITIAL_DIGIT, "", 0
        self._digits()

    def _take(self, pattern: re.Pattern[str]) -> str:
        match = pattern.match(self.text, self.pos)
        value = match.group() if match else ""
        self.pos += len(value)
        return value

    def _digits(self) -> None:
        self.value = self._take(_DIGITS)
        if not self.value:
            self.token = _Token.INVALID

    def advance(self) -> None:
        if self.pos >= len(self.text):
            self.token = _Token.END
            return
        char = self.text[self.pos]
        previous = self.token
        if "a" <= char <= "z" and previous <= _Token.DIGIT:
            self.token, self.value = _Token.LETTER, char
            self.pos += 1
        elif (char == "." and previous <= _Token.DIGIT) or (char.isascii() and char.isdigit()):
            self._number_after(previous, skip_dot=char == ".")
        elif char == "_" and previous <= _Token.SUFFIX_NO:
            self.pos += 1
            self.value = self._take(_LOWER)
            self.suffix = _SUFFIXES.get(self.value, 0)
            self.token = _Token.SUFFIX if self.suffix else _Token.INVALID
        elif char == "~" and previous < _Token.COMMIT_HASH:
            self.pos += 1
            self.value = self._take(_HEX)
            self.token = _Token.COMMIT_HASH if self.value else _Token.INVALID
        elif char == "-" and previous < _Token.REVISION_NO and self.text.startswith("-r", self.pos):
            self.pos += 2
            self.token = _Token.REVISION_NO
            self._digits()
        else:
            self.token = _Token.INVALID

    def _number_after(self, previous: _Token, skip_dot: bool) -> None:
        if skip_dot:
            self.pos += 1
        if previous in (_Token.INITIAL_DIGIT, _Token.DIGIT):
            self.token = _Token.DIGIT
        elif previous is _Token.SUFFIX:
            self.token = _Token.SUFFIX_NO
        else:
            self.token = _Token.INVALID
            return
        self._digits()


_Comparable = TypeVar("_Comparable", int, str)


def _sign(a: _Comparable, b: _Comparable) -> int:
    return (a > b) - (a < b)


def _compare_tokens(a: _Tokenizer, b: _Tokenizer) -> int:
    """Two components of the same kind (apk's token_cmp)."""
    if a.token is _Token.DIGIT and (a.value.startswith("0") or b.value.startswith("0")):
        return _sign(a.value, b.value)  # a leading zero makes it a fraction-like string comparison (Gentoo)
    if a.token in (_Token.INITIAL_DIGIT, _Token.DIGIT, _Token.SUFFIX_NO, _Token.REVISION_NO):
        return pkgdb.compare_numbers(a.value, b.value)  # as numbers, however many digits
    if a.token is _Token.SUFFIX:
        return _sign(a.suffix, b.suffix)
    return _sign(a.value, b.value)


def compare_versions(a: str, b: str, fuzzy: bool = False) -> int:
    """-1, 0, 1 as apk orders ``a`` and ``b``; ``fuzzy``: ``a`` equal if ``b`` is a prefix of it (``~``)."""
    ta, tb = _Tokenizer(a), _Tokenizer(b)
    while ta.token == tb.token and ta.token < _Token.END:
        result = _compare_tokens(ta, tb)
        if result:
            return result
        ta.advance()
        tb.advance()
    if ta.token == tb.token or (tb.token is _Token.END and fuzzy):
        return 0
    # One ran out first: the longer one is newer, unless what it continues with is a pre-release suffix.
    if ta.token is _Token.SUFFIX and ta.suffix < _SUFFIX_NONE:
        return -1
    if tb.token is _Token.SUFFIX and tb.suffix < _SUFFIX_NONE:
        return 1
    return -1 if ta.token > tb.token else 1


def version_satisfies(version: str, operator: str | None, constraint: str | None) -> bool:
    """apk_version_match: ``operator`` is any mix of ``<``, ``>``, ``=``, ``~`` (fuzzy equal)."""
    if operator is None or constraint is None:
        return True
    result = compare_versions(version, constraint, fuzzy="~" in operator)
    return (
        ("<" in operator and result < 0)
        or (">" in operator and result > 0)
        or (("=" in operator or "~" in operator) and result == 0)
    )


# --- dependencies -------------------------------------------------------------------------------------------


def _satisfied_by_checksum(ref: pkgdb.PackageRef, candidates: Sequence[pkgdb.OsPackage]) -> bool:
    """``name><Q1...`` pins one exact build by its checksum."""
    return any(package.checksum == ref.version for package in candidates)


def _why_not(
    ref: pkgdb.PackageRef,
    by_name: pkgdb.NameIndex[pkgdb.OsPackage],
    providers: pkgdb.NameIndex[pkgdb.PackageRef],
) -> pkgdb.Explanation:
    named = by_name.get(ref.name)
    if ref.operator == "><":
        return None if _satisfied_by_checksum(ref, named) else (None, f"{ref.name} is not that build")
    if any(version_satisfies(package.version, ref.operator, ref.version) for package in named):
        return None
    provided_by = providers.get(ref.name)
    for provided in provided_by:
        # as with dpkg: a provider without a version (virtual) answers only unversioned dependencies
        if provided.version is None and ref.operator is None:
            return None
        if provided.version is not None and version_satisfies(provided.version, ref.operator, ref.version):
            return None
    found = named[0].version if named else next((p.version for p in provided_by if p.version), None)
    if found is not None:
        return found, f"{ref.name}-{found} does not satisfy {ref.operator}{ref.version}"
    return None, f"nothing provides {ref.name}"


def unsatisfied_dependencies(
    packages: Sequence[pkgdb.OsPackage], limits: Limits = DEFAULT_LIMITS
) -> list[pkgdb.BrokenDependency]:
    """``D:`` entries no installed package satisfies, by name or through ``p:`` (``so:``, ``cmd:``, ...)."""
    by_name = pkgdb.name_index(packages, limits)
    providers: pkgdb.NameIndex[pkgdb.PackageRef] = pkgdb.NameIndex(limits)
    for package in packages:
        for provided in package.provides:
            providers.add(provided.name, provided)
    return pkgdb.broken_relations(
        packages,
        lambda package: (("D", relation) for relation in package.depends),
        lambda _, relation: _why_not(relation.alternatives[0], by_name, providers),
    )


DATABASE = pkgdb.PackageDatabase(
    ecosystem="apk",
    capture=CAPTURE,
    locations=(APK_INSTALLED,),
    read=read_database,
    compare_versions=compare_versions,
    unsatisfied_dependencies=unsatisfied_dependencies,
)
