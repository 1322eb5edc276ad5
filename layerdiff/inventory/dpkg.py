"""dpkg's database: which Debian packages an image has, the files they own, and whether every dependency is
still met (``apt-get check``). Whether those files are still what the package installed (``dpkg --verify``)
is ``layerdiff.inventory.dpkg_verify``.

Input is the captured bytes of ``/var/lib/dpkg/status`` (or distroless images' ``status.d/*``) and of
``/var/lib/dpkg/info/*.list``, ``*.md5sums``. Versions are ordered by dpkg's own algorithm, reimplemented
here: univers' DebianVersion orders real versions correctly but compares equality as text ("1.002" is not
"1.2"), which an ``=`` constraint cannot afford.
"""

from __future__ import annotations

import io
import posixpath
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from layerdiff.image.limits import DEFAULT_LIMITS, LimitExceeded, Limits
from layerdiff.image.paths import display
from layerdiff.index.capture import Capture
from layerdiff.inventory import ospkg_interface as pkgdb
from layerdiff.inventory.package_bounds import EntryCount, check_count, check_fields, separated_count
from layerdiff.text.words import listed

DPKG_STATUS = "/var/lib/dpkg/status"
DPKG_STATUS_DIR = "/var/lib/dpkg/status.d/"  # distroless: one file per package, and its NAME.md5sums
DPKG_INFO_DIR = "/var/lib/dpkg/info/"
CAPTURE = Capture(
    paths=(DPKG_STATUS,),
    patterns=(
        DPKG_STATUS_DIR + "*",
        DPKG_INFO_DIR + "*.list",
        DPKG_INFO_DIR + "*.md5sums",
        DPKG_INFO_DIR + "*.conffiles",
    ),
)

# Package states whose files are on disk; "config-files" and "not-installed" leave only conffiles, if that.
PRESENT_STATES = frozenset(
    {"installed", "triggers-pending", "triggers-awaited", "half-configured", "unpacked", "half-installed"}
)
_CONFFILE_FLAGS = frozenset({"obsolete", "remove-on-upgrade"})


# --- control-file syntax ------------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    # surrogateescape keeps non-UTF-8 path bytes as the tar index's paths keep them, so the two compare equal
    return data.decode("utf-8", "surrogateescape")


def parse_paragraphs(data: bytes) -> Iterator[dict[str, str]]:
    """RFC 822-style paragraphs: field names lower-cased, continuation lines joined with newlines.

    Lines are decoded one at a time and a field's lines joined once, at the end of its paragraph: a
    64 MiB status is never one string, nor a description of a million lines rebuilt a million times.
    """
    fields: dict[str, list[str]] = {}
    current: list[str] | None = None
    for raw in io.BytesIO(data):
        line = _decode(raw).rstrip("\r\n")
        if not line.strip():
            if fields:
                yield _joined(fields)
            fields, current = {}, None
        elif line[0] in " \t":
            if current is not None:
                current.append(line.strip())
        else:
            name, colon, value = line.partition(":")
            if colon:
                current = fields[name.strip().lower()] = [value.strip()]
    if fields:
        yield _joined(fields)


def _joined(fields: Mapping[str, list[str]]) -> dict[str, str]:
    return {name: "\n".join(lines) for name, lines in fields.items()}


_ALTERNATIVE = re.compile(
    r"^(?P<name>[^\s:(\[<]+)(?::(?P<arch>[^\s(\[<]+))?"
    r"\s*(?:\(\s*(?P<op><<|<=|>=|>>|=|<|>)\s*(?P<version>[^\s)]+)\s*\))?"
)


def parse_package_ref(text: str) -> pkgdb.PackageRef:
    """``name[:arch] [(op version)]``; source-only ``[arch]`` and ``<profile>`` suffixes are ignored."""
    match = _ALTERNATIVE.match(text.strip())
    if match is None:
        return pkgdb.PackageRef(name=text.strip())
    return pkgdb.PackageRef(
        name=match.group("name"),
        operator=match.group("op"),
        version=match.group("version"),
        arch=match.group("arch"),
    )


def parse_relations(value: str) -> tuple[pkgdb.Relation, ...]:
    """A Depends-style field: comma-separated entries, each ``|``-separated alternatives."""
    relations = []
    for entry in " ".join(value.split()).split(","):
        text = entry.strip()
        if text:
            alternatives = tuple(parse_package_ref(alt) for alt in text.split("|"))
            relations.append(pkgdb.Relation(alternatives=alternatives, text=text))
    return tuple(relations)


def _parse_conffiles(value: str) -> list[tuple[str, str]]:
    """(path, md5) per line ``path md5 [obsolete] [remove-on-upgrade]``; paths may hold spaces."""
    conffiles = []
    for line in value.splitlines():
        words = line.strip().split(" ")
        while len(words) > 2 and words[-1] in _CONFFILE_FLAGS:
            words.pop()
        if len(words) >= 2:
            conffiles.append((" ".join(words[:-1]), words[-1]))
    return conffiles


def _parse_source(value: str | None) -> tuple[str | None, str | None]:
    """``Source: name`` or ``Source: name (version)`` when the binary was rebuilt (binNMU)."""
    if not value:
        return None, None
    name, _, version = value.partition("(")
    return name.strip(), version.rstrip(")").strip() or None


def _state(fields: Mapping[str, str]) -> str:
    """The last word of ``Status: want flag state``; distroless entries have no Status, yet are installed."""
    words = fields.get("status", "").split()
    return words[-1] if words else "installed"


def _package_from_fields(fields: Mapping[str, str], limits: Limits) -> pkgdb.OsPackage | None:
    name, state = fields.get("package", ""), _state(fields)
    if not name or state not in PRESENT_STATES:
        return None
    relation_fields = [fields.get(field, "") for field in ("depends", "pre-depends", "provides")]
    check_count(name, sum(separated_count(value, ",|") for value in relation_fields), limits)
    source, source_version = _parse_source(fields.get("source"))
    check_fields(name, (fields.get("version"), fields.get("architecture"), source, source_version), limits)
    conffiles = _parse_conffiles(fields.get("conffiles", ""))
    package = pkgdb.OsPackage(
        ecosystem="deb",
        name=name,
        version=fields.get("version", ""),
        architecture=fields.get("architecture", ""),
        source=source,
        source_version=source_version,
        depends=parse_relations(fields.get("depends", "")),
        pre_depends=parse_relations(fields.get("pre-depends", "")),
        provides=tuple(
            alt for rel in parse_relations(fields.get("provides", "")) for alt in rel.alternatives
        ),
        conffiles=frozenset(path for path, _ in conffiles),
        multi_arch=fields.get("multi-arch") or None,
        state=state,
        digests=tuple((path, f"md5:{md5}") for path, md5 in conffiles),
    )
    check_fields(name, (r.text for r in (*package.depends, *package.pre_depends)), limits)
    return package


def parse_status(
    data: bytes, limits: Limits = DEFAULT_LIMITS, count: EntryCount | None = None
) -> list[pkgdb.OsPackage]:
    """Packages present in a ``/var/lib/dpkg/status`` file (installed or partly installed; see ``state``).

    Each paragraph counts against ``limits.os_packages`` (``count``, shared by the files of one database);
    each package's fields against ``package-relations`` and ``package-field-bytes`` (``LimitExceeded``).
    """
    count = count or EntryCount(limits)
    packages = []
    for fields in parse_paragraphs(data):
        count.add()
        package = _package_from_fields(fields, limits)
        if package is not None:
            packages.append(package)
    return packages


def parse_status_d(
    files: Mapping[str, bytes], limits: Limits = DEFAULT_LIMITS, count: EntryCount | None = None
) -> list[pkgdb.OsPackage]:
    """Packages of a distroless ``/var/lib/dpkg/status.d/``: one or more paragraphs per file.

    The directory also holds each package's ``NAME.md5sums``, which are not paragraphs.
    """
    count = count or EntryCount(limits)
    packages: list[pkgdb.OsPackage] = []
    for path in sorted(files):
        if not path.endswith(".md5sums"):
            try:
                packages += parse_status(files[path], limits, count)
            except LimitExceeded as exc:
                raise exc.within(display(path)) from None
    return packages


def incomplete_installs(packages: Iterable[pkgdb.OsPackage]) -> list[pkgdb.OsPackage]:
    """Packages dpkg left part-way (unpacked, half-configured, awaiting triggers): ``dpkg --audit``."""
    return [package for package in packages if package.state != "installed"]


# --- info files: .list and .md5sums -------------------------------------------------------------------------


def info_file_names(package: pkgdb.OsPackage, suffix: str) -> tuple[str, str]:
    """Candidate names of a package's info file: ``NAME:ARCH.list`` (Multi-Arch: same), then ``NAME.list``."""
    return f"{package.name}:{package.architecture}{suffix}", f"{package.name}{suffix}"


def _by_basename(files: Mapping[str, bytes]) -> dict[str, bytes]:
    return {posixpath.basename(path): data for path, data in files.items()}


def _info_file(package: pkgdb.OsPackage, files_by_name: Mapping[str, bytes], suffix: str) -> bytes | None:
    for name in info_file_names(package, suffix):
        if name in files_by_name:
            return files_by_name[name]
    return None


def parse_list(data: bytes) -> tuple[str, ...]:
    """An ``info/*.list``: one absolute path per line. The root (``/.``) is left out: every package has it."""
    paths = (line.strip() for line in _decode(data).splitlines())
    return tuple(path for path in paths if path and path not in ("/.", "/"))


def parse_md5sums(data: bytes) -> dict[str, str]:
    """An ``*.md5sums``: ``md5  path`` lines, path relative to the root; returned as absolute path -> md5."""
    md5sums = {}
    for line in _decode(data).splitlines():
        md5, _, path = line.partition(" ")
        path = path.lstrip(" ")
        if len(md5) == 32 and path:
            md5sums["/" + path.lstrip("/")] = md5.lower()
    return md5sums


def attach_files(
    packages: Iterable[pkgdb.OsPackage],
    lists: Mapping[str, bytes],
    md5sums: Mapping[str, bytes] | None = None,
) -> list[pkgdb.OsPackage]:
    """``packages`` with ``files`` filled from their ``.list`` (keys: paths or file names of info files).

    Distroless images keep no ``.list``; there the ``.md5sums`` (if given) names the regular files at least.
    """
    lists_by_name = _by_basename(lists)
    md5sums_by_name = _by_basename(md5sums or {})
    attached = []
    for package in packages:
        listed = _info_file(package, lists_by_name, ".list")
        sums = _info_file(package, md5sums_by_name, ".md5sums")
        if listed is not None:
            attached.append(replace(package, files=parse_list(listed)))
        elif sums is not None:
            attached.append(replace(package, files=tuple(parse_md5sums(sums))))
        else:
            attached.append(package)
    return attached


def _under(captured: Mapping[str, bytes], directory: str, suffix: str = "") -> dict[str, bytes]:
    return {p: data for p, data in captured.items() if p.startswith(directory) and p.endswith(suffix)}


def read_database(captured: Mapping[str, bytes], limits: Limits = DEFAULT_LIMITS) -> list[pkgdb.OsPackage]:
    """All dpkg packages of an image from its captured files (absolute path -> bytes), files attached."""
    count = EntryCount(limits)
    try:
        packages = parse_status(captured[DPKG_STATUS], limits, count) if DPKG_STATUS in captured else []
    except LimitExceeded as exc:
        raise exc.within(DPKG_STATUS) from None
    packages += parse_status_d(_under(captured, DPKG_STATUS_DIR), limits, count)
    md5sums = _under(captured, DPKG_INFO_DIR, ".md5sums") | _under(captured, DPKG_STATUS_DIR, ".md5sums")
    return attach_files(packages, _under(captured, DPKG_INFO_DIR, ".list"), md5sums)


def package_md5sums(package: pkgdb.OsPackage, captured: Mapping[str, bytes]) -> dict[str, str]:
    """The package's md5sums (absolute path -> md5) from ``info/`` or, in distroless images, ``status.d/``."""
    for directory in (DPKG_INFO_DIR, DPKG_STATUS_DIR):
        for name in info_file_names(package, ".md5sums"):
            if (data := captured.get(directory + name)) is not None:
                return parse_md5sums(data)
    return {}


# --- version ordering ---------------------------------------------------------------------------------------


def _order(char: str) -> int:
    """dpkg's weight of a non-digit character: ``~`` before the end of the string, letters before the rest."""
    if not char or pkgdb.is_digit(char):
        return 0
    if char == "~":
        return -1
    if char.isascii() and char.isalpha():
        return ord(char)
    return ord(char) + 256


def _compare_fragment(a: str, b: str) -> int:
    """dpkg's verrevcmp: alternate non-digit runs (by ``_order``) and digit runs (numerically)."""
    i = j = 0
    while i < len(a) or j < len(b):
        while (i < len(a) and not pkgdb.is_digit(a[i])) or (j < len(b) and not pkgdb.is_digit(b[j])):
            diff = _order(a[i : i + 1]) - _order(b[j : j + 1])
            if diff:
                return diff
            i, j = i + 1, j + 1
        start_a, start_b = i, j
        while i < len(a) and pkgdb.is_digit(a[i]):
            i += 1
        while j < len(b) and pkgdb.is_digit(b[j]):
            j += 1
        diff = pkgdb.compare_numbers(a[start_a:i], b[start_b:j])
        if diff:
            return diff
    return 0


def _split_version(version: str) -> tuple[str, str, str]:
    """(epoch digits, upstream, revision); an epoch that is not a number counts as 0."""
    epoch, colon, rest = version.strip().partition(":")
    if not colon:
        epoch, rest = "0", epoch
    upstream, dash, revision = rest.rpartition("-")
    if not dash:
        upstream, revision = revision, ""
    return (epoch if epoch and all(map(pkgdb.is_digit, epoch)) else "0"), upstream, revision


def compare_versions(a: str, b: str) -> int:
    """Negative, zero or positive as ``a`` sorts before, with or after ``b`` (``dpkg --compare-versions``)."""
    epoch_a, upstream_a, revision_a = _split_version(a)
    epoch_b, upstream_b, revision_b = _split_version(b)
    return (
        pkgdb.compare_numbers(epoch_a, epoch_b)
        or _compare_fragment(upstream_a, upstream_b)
        or _compare_fragment(revision_a, revision_b)
    )


_RELATION_TESTS: dict[str, Callable[[int], bool]] = {
    "<<": lambda c: c < 0,
    "<=": lambda c: c <= 0,
    "=": lambda c: c == 0,
    ">=": lambda c: c >= 0,
    ">>": lambda c: c > 0,
    "<": lambda c: c <= 0,  # obsolete spellings of <= and >=, still accepted by dpkg
    ">": lambda c: c >= 0,
}


def version_satisfies(version: str, operator: str | None, constraint: str | None) -> bool:
    """Whether ``version`` meets ``operator constraint`` (always, when there is no constraint)."""
    if operator is None or constraint is None:
        return True
    test = _RELATION_TESTS.get(operator)
    return test is not None and test(compare_versions(version, constraint))


# --- dependencies -------------------------------------------------------------------------------------------


def native_architecture(packages: Sequence[pkgdb.OsPackage]) -> str | None:
    """dpkg's native architecture: that of the ``dpkg`` package itself, else the most common one."""
    for package in packages:
        if package.name == "dpkg" and package.architecture not in ("all", ""):
            return package.architecture
    counts = Counter(p.architecture for p in packages if p.architecture not in ("all", ""))
    return counts.most_common(1)[0][0] if counts else None


def _arch_satisfies(
    candidate: pkgdb.OsPackage, ref: pkgdb.PackageRef, depender: pkgdb.OsPackage, native: str | None
) -> bool:
    """dpkg's deparchsatisfied: may ``candidate``'s architecture satisfy ``ref`` as ``depender`` wrote it?"""
    if ref.arch is None and candidate.multi_arch == "foreign":
        return True
    if ref.arch == "any":  # only Multi-Arch: allowed packages answer to ":any"
        return candidate.multi_arch == "allowed"
    wanted = depender.architecture if ref.arch is None else ref.arch

    def effective(arch: str) -> str | None:
        return native if arch in ("all", "", "native") else arch

    return effective(wanted) == effective(candidate.architecture)


def _provide_satisfies(provided: pkgdb.PackageRef, ref: pkgdb.PackageRef) -> bool:
    """dpkg: unversioned Provides satisfy only unversioned relations; ``(= v)`` ones satisfy those v meets."""
    if provided.operator is None:
        return ref.operator is None
    if provided.operator != "=" or provided.version is None:
        return False
    return version_satisfies(provided.version, ref.operator, ref.version)


@dataclass
class _Universe:
    by_name: pkgdb.NameIndex[pkgdb.OsPackage]
    providers: pkgdb.NameIndex[tuple[pkgdb.OsPackage, pkgdb.PackageRef]]
    native: str | None


def _why_not(ref: pkgdb.PackageRef, depender: pkgdb.OsPackage, universe: _Universe) -> pkgdb.Explanation:
    """None when ``ref`` is satisfied, else (a version found but rejected, apt-style explanation)."""
    named = universe.by_name.get(ref.name)
    same_arch = [p for p in named if _arch_satisfies(p, ref, depender, universe.native)]
    if any(version_satisfies(p.version, ref.operator, ref.version) for p in same_arch):
        return None
    if any(_provide_satisfies(provided, ref) for _, provided in universe.providers.get(ref.name)):
        return None
    if same_arch:
        return same_arch[0].version, f"{ref} but {same_arch[0].version} is installed"
    if named:
        installed = listed([f"{p.name}:{p.architecture}" for p in named])
        return None, f"{ref} but only {installed} is installed"
    return None, f"{ref} but it is not installed"


def _why_none(depender: pkgdb.OsPackage, relation: pkgdb.Relation, universe: _Universe) -> pkgdb.Explanation:
    """None when an alternative of ``relation`` is satisfied, else why none is."""
    reasons = []
    for ref in relation.alternatives:
        reason = _why_not(ref, depender, universe)
        if reason is None:
            return None
        reasons.append(reason)
    found = next((version for version, _ in reasons if version is not None), None)
    return found, " or ".join(text for _, text in reasons)


def _relations(package: pkgdb.OsPackage) -> Iterator[tuple[str, pkgdb.Relation]]:
    for relation in package.pre_depends:
        yield "Pre-Depends", relation
    for relation in package.depends:
        yield "Depends", relation


def unsatisfied_dependencies(
    packages: Sequence[pkgdb.OsPackage], limits: Limits = DEFAULT_LIMITS, native_arch: str | None = None
) -> list[pkgdb.BrokenDependency]:
    """Depends/Pre-Depends entries that no present package satisfies: what ``apt-get check`` reports.

    An alternative is met by a package of that name whose architecture dpkg accepts (the depender's, with
    ``all`` standing for the native one; any for ``Multi-Arch: foreign``; ``:any`` needs ``Multi-Arch:
    allowed``) and whose version meets the constraint, or by a Provides (architecture-blind, as in dpkg).
    Partly installed packages count as present; ``incomplete_installs`` reports them separately.
    """
    providers: pkgdb.NameIndex[tuple[pkgdb.OsPackage, pkgdb.PackageRef]] = pkgdb.NameIndex(limits)
    for package in packages:
        for provided in package.provides:
            providers.add(provided.name, (package, provided))
    universe = _Universe(
        pkgdb.name_index(packages, limits), providers, native_arch or native_architecture(packages)
    )
    return pkgdb.broken_relations(
        packages, _relations, lambda package, relation: _why_none(package, relation, universe)
    )


DATABASE = pkgdb.PackageDatabase(
    ecosystem="deb",
    capture=CAPTURE,
    locations=(DPKG_STATUS, DPKG_STATUS_DIR.rstrip("/")),
    read=read_database,
    compare_versions=compare_versions,
    unsatisfied_dependencies=unsatisfied_dependencies,
)
