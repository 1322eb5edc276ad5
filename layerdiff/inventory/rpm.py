"""rpm's database: packages, their files and dependencies, read from ``rpmdb.sqlite`` bytes.

Each row of the ``Packages`` table is one package's header as rpm exports it: a big-endian index count
and data size, that many 16-byte index entries (tag, type, offset, count), then the data store the entries
point into. Only the sqlite backend (rpm >= 4.16: Fedora 33+, RHEL 9, ...) is read; Berkeley DB and ndb
databases are not captured. The database is hostile input: it is read by ``layerdiff.inventory.sqlite_rows``
(in memory, read-only, nothing but the ``Packages`` table), and every count and offset of a header is
checked against the header's own length. A database that fails either is skipped with a warning.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from layerdiff.image.limits import DEFAULT_LIMITS, LimitExceeded, Limits
from layerdiff.index.capture import Capture
from layerdiff.inventory import ospkg_interface as pkgdb
from layerdiff.inventory.package_bounds import PathBudget, check_count, check_fields
from layerdiff.inventory.sqlite_rows import read_rows

# rpm >= 4.16 moved its database to /usr/lib/sysimage; when both exist, the old path is a leftover or a link
RPMDB_PATHS = ("/usr/lib/sysimage/rpm/rpmdb.sqlite", "/var/lib/rpm/rpmdb.sqlite")
CAPTURE = Capture(paths=RPMDB_PATHS)

# Header tags (rpmtag.h)
NAME, VERSION, RELEASE, EPOCH, ARCH = 1000, 1001, 1002, 1003, 1022
OLDFILENAMES = 1027
FILEDIGESTS, FILEFLAGS = 1035, 1037
SOURCERPM = 1044
PROVIDEFLAGS, PROVIDENAME, PROVIDEVERSION = 1112, 1047, 1113
REQUIREFLAGS, REQUIRENAME, REQUIREVERSION = 1048, 1049, 1050
DIRINDEXES, BASENAMES, DIRNAMES = 1116, 1117, 1118
FILEDIGESTALGO = 5011

# Header data types (rpmtag.h: rpmTagType)
_CHAR, _INT8, _INT16, _INT32, _INT64, _STRING, _BIN, _STRING_ARRAY, _I18NSTRING = 1, 2, 3, 4, 5, 6, 7, 8, 9
_INT_FORMATS = {_CHAR: "B", _INT8: "B", _INT16: "H", _INT32: "I", _INT64: "Q"}

# Dependency flags (rpmds.h)
_LESS, _GREATER, _EQUAL = 2, 4, 8
_SENSE_MASK = _LESS | _GREATER | _EQUAL
# Requires only needed while installing (scriptlets, rpmlib features, pre/post-transaction): rpm stops
# caring about them once the package is in, so their absence is no breakage.
_INSTALL_ONLY = (1 << 9) | (1 << 10) | (1 << 24) | (1 << 26) | (1 << 7) | (1 << 5)
_RPMFILE_CONFIG = 1

# PGPHASHALGO values that FILEDIGESTALGO takes (rpmpgp.h); md5 when the tag is absent (rpm < 4.6)
_DIGEST_ALGORITHMS = {1: "md5", 2: "sha1", 8: "sha256", 9: "sha384", 10: "sha512", 11: "sha224"}

HeaderValue = str | bytes | tuple[int, ...] | tuple[str, ...]
_INDEX_ENTRY = 16  # bytes of one index entry: tag, type, offset, count
# The tags package_from_header reads: only these are decoded, each once, so a header of many entries that
# all point at one large string array costs one pass over it, not one per entry.
READ_TAGS = frozenset(
    {
        NAME, VERSION, RELEASE, EPOCH, ARCH, OLDFILENAMES, FILEDIGESTS, FILEFLAGS, SOURCERPM,
        PROVIDEFLAGS, PROVIDENAME, PROVIDEVERSION, REQUIREFLAGS, REQUIRENAME, REQUIREVERSION,
        DIRINDEXES, BASENAMES, DIRNAMES, FILEDIGESTALGO,
    }
)  # fmt: skip


class RpmHeaderError(pkgdb.UnreadableDatabase):
    """A header blob whose counts or offsets do not fit in it."""


def _strings(store: bytes, offset: int, count: int) -> tuple[str, ...]:
    values = []
    for _ in range(count):
        end = store.find(b"\0", offset)
        if end < 0:
            raise RpmHeaderError(f"unterminated string at {offset}")
        values.append(store[offset:end].decode("utf-8", "surrogateescape"))
        offset = end + 1
    return tuple(values)


def _value(store: bytes, kind: int, offset: int, count: int) -> HeaderValue | None:
    if kind in (_STRING, _STRING_ARRAY, _I18NSTRING):
        if kind == _STRING and count != 1:  # rpm writes a STRING with a count of one, always
            raise RpmHeaderError(f"a string of count {count} at {offset}")
        strings = _strings(store, offset, count)
        return strings[0] if kind == _STRING else strings
    if kind == _BIN:
        return store[offset : offset + count]
    if kind in _INT_FORMATS:
        layout = f">{count}{_INT_FORMATS[kind]}"
        if offset + struct.calcsize(layout) > len(store):
            raise RpmHeaderError(f"integer array past the end of the data at {offset}")
        return tuple(struct.unpack_from(layout, store, offset))
    return None  # NULL and unknown types carry nothing we read


def parse_header(blob: bytes, tags: frozenset[int] = READ_TAGS) -> dict[int, HeaderValue]:
    """Tag -> value of an exported header (no lead, no magic): strings, string tuples, int tuples, bytes.

    Only ``tags`` are decoded. The index count, the data size and every entry's offset and count are
    bounded by the blob's length (each value takes at least a byte); a tag given twice is an error.
    """
    if len(blob) < 8:
        raise RpmHeaderError("header shorter than its preamble")
    index_count, data_size = struct.unpack_from(">II", blob)
    if index_count > (len(blob) - 8) // _INDEX_ENTRY or data_size > len(blob):
        raise RpmHeaderError(f"header of {len(blob)} bytes declares {index_count} entries, {data_size} data")
    data_start = 8 + _INDEX_ENTRY * index_count
    if data_start + data_size > len(blob):
        raise RpmHeaderError(f"header of {len(blob)} bytes declares {index_count} entries, {data_size} data")
    store = blob[data_start : data_start + data_size]
    header: dict[int, HeaderValue] = {}
    for tag, kind, offset, count in struct.iter_unpack(">IIII", blob[8:data_start]):
        if tag not in tags or offset >= data_size:
            continue  # region trailers (tags 61-63) point at themselves; nothing else should
        if tag in header:
            raise RpmHeaderError(f"tag {tag} given twice")
        if count > data_size - offset:
            raise RpmHeaderError(f"tag {tag} declares {count} values in {data_size - offset} bytes")
        value = _value(store, kind, offset, count)
        if value is not None:
            header[tag] = value
    return header


def _string(header: dict[int, HeaderValue], tag: int) -> str | None:
    value = header.get(tag)
    return value if isinstance(value, str) else None


def _string_list(header: dict[int, HeaderValue], tag: int) -> tuple[str, ...]:
    value = header.get(tag)
    if isinstance(value, str):
        return (value,)
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, tuple) else ()


def _int_list(header: dict[int, HeaderValue], tag: int) -> tuple[int, ...]:
    value = header.get(tag)
    return tuple(v for v in value if isinstance(v, int)) if isinstance(value, tuple) else ()


def _operator(flags: int) -> str | None:
    sense = flags & _SENSE_MASK
    return {_LESS: "<", _LESS | _EQUAL: "<=", _EQUAL: "=", _GREATER | _EQUAL: ">=", _GREATER: ">"}.get(sense)


def _refs(
    header: dict[int, HeaderValue], names: int, flags: int, versions: int
) -> list[tuple[pkgdb.PackageRef, int]]:
    all_flags, all_versions = _int_list(header, flags), _string_list(header, versions)
    refs = []
    for i, name in enumerate(_string_list(header, names)):
        flag = all_flags[i] if i < len(all_flags) else 0
        version = all_versions[i] if i < len(all_versions) else ""
        operator = _operator(flag) if version else None
        refs.append(
            (pkgdb.PackageRef(name=name, operator=operator, version=version if operator else None), flag)
        )
    return refs


def _requirement_text(ref: pkgdb.PackageRef) -> str:
    """A Requires as ``rpm -q --requires`` prints it: ``name >= 1.0``."""
    return f"{ref.name} {ref.operator} {ref.version}" if ref.operator else ref.name


def _files(header: dict[int, HeaderValue], budget: PathBudget) -> tuple[str, ...]:
    basenames = _string_list(header, BASENAMES)
    if not basenames:  # packages built before compressed file names (rpm < 4.0)
        files = _string_list(header, OLDFILENAMES)
        budget.spend(sum(map(len, files)))
        return files
    dirnames, indexes = _string_list(header, DIRNAMES), _int_list(header, DIRINDEXES)
    pairs = list(zip(indexes, basenames, strict=False))
    if any(index >= len(dirnames) for index, _ in pairs):
        raise RpmHeaderError(f"a file's directory index is past its {len(dirnames)} directories")
    budget.spend(sum(len(dirnames[index]) + len(base) for index, base in pairs))
    return tuple(dirnames[index] + base for index, base in pairs)


def _digests(header: dict[int, HeaderValue], files: Sequence[str]) -> tuple[tuple[str, str], ...]:
    algorithm_ids = _int_list(header, FILEDIGESTALGO)
    algorithm = _DIGEST_ALGORITHMS.get(algorithm_ids[0] if algorithm_ids else 1, "unknown")
    digests = _string_list(header, FILEDIGESTS)
    # directories, symlinks and ghosts have an empty digest
    return tuple(
        (path, f"{algorithm}:{digest}") for path, digest in zip(files, digests, strict=False) if digest
    )


def evr(epoch: int | None, version: str, release: str) -> str:
    """``[epoch:]version-release``, as syft and ``rpm -q --qf %{EVR}`` write it."""
    text = f"{version}-{release}" if release else version
    return f"{epoch}:{text}" if epoch is not None else text


def package_from_header(
    header: dict[int, HeaderValue], limits: Limits = DEFAULT_LIMITS, budget: PathBudget | None = None
) -> pkgdb.OsPackage:
    """The package a header describes, within ``limits`` (``package_bounds``); its files count against
    ``budget`` (one per database)."""
    name = _string(header, NAME) or ""
    check_count(name, len(_string_list(header, REQUIRENAME)) + len(_string_list(header, PROVIDENAME)), limits)
    epochs = _int_list(header, EPOCH)
    files = _files(header, budget or PathBudget(limits))
    file_flags = _int_list(header, FILEFLAGS)
    requires = _refs(header, REQUIRENAME, REQUIREFLAGS, REQUIREVERSION)
    package = pkgdb.OsPackage(
        ecosystem="rpm",
        name=name,
        version=evr(
            epochs[0] if epochs else None, _string(header, VERSION) or "", _string(header, RELEASE) or ""
        ),
        architecture=_string(header, ARCH) or "",
        source=_string(header, SOURCERPM),
        depends=tuple(
            pkgdb.Relation(alternatives=(ref,), text=_requirement_text(ref))
            for ref, flags in requires
            if not flags & _INSTALL_ONLY and not ref.name.startswith("rpmlib(")
        ),
        provides=tuple(ref for ref, _ in _refs(header, PROVIDENAME, PROVIDEFLAGS, PROVIDEVERSION)),
        files=files,
        conffiles=frozenset(
            p for p, flags in zip(files, file_flags, strict=False) if flags & _RPMFILE_CONFIG
        ),
        digests=_digests(header, files),
    )
    provided = ((ref.name, ref.version) for ref in package.provides)
    check_fields(name, (package.version, package.architecture, package.source), limits)
    check_fields(name, (relation.text for relation in package.depends), limits)
    check_fields(name, (text for pair in provided for text in pair), limits)
    return package


def parse_rpmdb(data: bytes, limits: Limits = DEFAULT_LIMITS) -> list[pkgdb.OsPackage]:
    """Every package in an ``rpmdb.sqlite``, in install order (``hnum``).

    Raises ``UnreadableDatabase`` for bytes that are no database, a database with anything but plain tables
    (a view, a trigger), a row that is no header, or file lists that expand past ``captured-file-bytes``.
    """
    rows = read_rows(data, "Packages", ("hnum", "blob"))
    if not all(isinstance(hnum, int) and isinstance(blob, bytes) for hnum, blob in rows):
        raise pkgdb.UnreadableDatabase("a row of its Packages table is not a numbered header")
    if len(rows) > limits.os_packages:
        raise LimitExceeded("", "os_packages", limits.os_packages, f"more than {limits.os_packages} packages")
    budget = PathBudget(limits)
    headers = (parse_header(blob) for _, blob in sorted(rows, key=lambda row: row[0]))
    return [package_from_header(header, limits, budget) for header in headers]


def read_database(captured: Mapping[str, bytes], limits: Limits = DEFAULT_LIMITS) -> list[pkgdb.OsPackage]:
    """The rpm packages of an image from its captured files (absolute path -> bytes), from the newer
    database location when both exist."""
    path = next((path for path in RPMDB_PATHS if path in captured), None)
    if path is None:
        return []
    try:
        return parse_rpmdb(captured[path], limits)
    except pkgdb.UnreadableDatabase as exc:
        raise exc.of(path) from None
    except LimitExceeded as exc:
        raise exc.within(path) from None


# --- version ordering: rpmvercmp ----------------------------------------------------------------------------


def _next_segment(text: str, start: int) -> tuple[int, int]:
    """Skip separators (anything but letters, digits, ``~`` and ``^``); return (segment start, its end)."""
    while (
        start < len(text)
        and not (text[start].isascii() and text[start].isalnum())
        and text[start] not in "~^"
    ):
        start += 1
    end = start
    if end < len(text) and pkgdb.is_digit(text[end]):
        while end < len(text) and pkgdb.is_digit(text[end]):
            end += 1
    else:
        while end < len(text) and text[end].isascii() and text[end].isalpha():
            end += 1
    return start, end


# How rpm orders its two markers against the end of a version ("") and anything else (which sorts last):
# a tilde sorts before everything, even the end; a caret after the end but before anything else.
_MARKERS = {"~": ("~", ""), "^": ("", "^")}


def _rank(order: tuple[str, str], char: str) -> int:
    return order.index(char) if char in order else len(order)


def rpmvercmp(a: str, b: str) -> int:
    """rpm's comparison of one version or release field: -1, 0 or 1."""
    if a == b:
        return 0
    i = j = 0
    while i < len(a) or j < len(b):
        i, end_a = _next_segment(a, i)
        j, end_b = _next_segment(b, j)
        char_a, char_b = a[i : i + 1], b[j : j + 1]
        marker = next((m for m in _MARKERS if m in (char_a, char_b)), None)
        if marker is not None:
            order = _MARKERS[marker]
            rank_a, rank_b = _rank(order, char_a), _rank(order, char_b)
            if rank_a != rank_b:
                return 1 if rank_a > rank_b else -1
            i, j = i + 1, j + 1  # the same marker on both sides
            continue
        if not (char_a and char_b):
            break
        numeric = pkgdb.is_digit(char_a)
        segment_a, segment_b = a[i:end_a], b[j:end_b]
        if numeric != pkgdb.is_digit(char_b):
            return 1 if numeric else -1  # a number is newer than letters
        if numeric:
            segment_a, segment_b = segment_a.lstrip("0"), segment_b.lstrip("0")
            if len(segment_a) != len(segment_b):
                return 1 if len(segment_a) > len(segment_b) else -1
        if segment_a != segment_b:
            return 1 if segment_a > segment_b else -1
        i, j = end_a, end_b
    if i >= len(a) and j >= len(b):
        return 0
    return -1 if i >= len(a) else 1


def _split_evr(text: str) -> tuple[str, str, str]:
    """(epoch digits, version, release) of ``[epoch:]version[-release]``; a missing epoch is 0, release ""."""
    epoch, colon, rest = text.partition(":")
    if not (colon and epoch and all(map(pkgdb.is_digit, epoch))):
        epoch, rest = "0", text
    version, dash, release = rest.rpartition("-")
    return (epoch, version, release) if dash else (epoch, release, "")


def compare_evr(a: str, b: str) -> int:
    """-1, 0, 1 as rpm orders two ``[epoch:]version[-release]`` (``rpm.vercmp``)."""
    epoch_a, version_a, release_a = _split_evr(a)
    epoch_b, version_b, release_b = _split_evr(b)
    if (order := pkgdb.compare_numbers(epoch_a, epoch_b)) != 0:
        return order
    return rpmvercmp(version_a, version_b) or rpmvercmp(release_a, release_b)


def ranges_overlap(provided: pkgdb.PackageRef, required: pkgdb.PackageRef) -> bool:
    """rpmverOverlap: do the version ranges of a Provides and a Requires share a version?

    An unversioned side matches anything; a release is compared only when both sides have one, and a side
    without one that includes equality matches every release of the same version.
    """
    if not provided.operator or not required.operator or provided.version is None or required.version is None:
        return True
    epoch_p, version_p, release_p = _split_evr(provided.version)
    epoch_r, version_r, release_r = _split_evr(required.version)
    sense = pkgdb.compare_numbers(epoch_p, epoch_r) or rpmvercmp(version_p, version_r)
    if sense == 0:
        if release_p and release_r:
            sense = rpmvercmp(release_p, release_r)
        elif (release_p and "=" in required.operator) or (release_r and "=" in provided.operator):
            return True
    p_ops, r_ops = provided.operator, required.operator
    if sense < 0:
        return ">" in p_ops or "<" in r_ops
    if sense > 0:
        return "<" in p_ops or ">" in r_ops
    return any(op in p_ops and op in r_ops for op in "=<>")


# --- dependencies -------------------------------------------------------------------------------------------


@dataclass
class _Providers:
    by_name: pkgdb.NameIndex[tuple[pkgdb.OsPackage, pkgdb.PackageRef]]
    files: frozenset[str]


def _providers(packages: Iterable[pkgdb.OsPackage], limits: Limits) -> _Providers:
    by_name: pkgdb.NameIndex[tuple[pkgdb.OsPackage, pkgdb.PackageRef]] = pkgdb.NameIndex(limits)
    files: set[str] = set()
    for package in packages:
        files.update(package.files)
        for provided in package.provides:
            by_name.add(provided.name, (package, provided))
    return _Providers(by_name, frozenset(files))


def _why_not(relation: pkgdb.Relation, providers: _Providers) -> pkgdb.Explanation:
    """None when the Requires is met, else (a version found but out of range, rpm-style explanation)."""
    required = relation.alternatives[0]
    if required.name.startswith("(") or required.name.startswith("rpmlib("):
        return None  # rich (boolean) dependencies are not evaluated; rpmlib() is rpm's own
    if required.name.startswith("/") and required.name in providers.files:
        return None
    candidates = providers.by_name.get(required.name)
    if any(ranges_overlap(provided, required) for _, provided in candidates):
        return None
    if candidates:
        package, provided = candidates[0]
        found = provided.version or package.version
        detail = f"{relation.text} is needed, {package.name} provides {required.name} = {found}"
        return found or None, detail  # a header without version tags provides no version
    return None, f"{relation.text} is needed, nothing provides it"


def unsatisfied_dependencies(
    packages: Sequence[pkgdb.OsPackage], limits: Limits = DEFAULT_LIMITS
) -> list[pkgdb.BrokenDependency]:
    """Requires (run-time ones) that no installed package provides, as ``rpm -Va --nofiles`` reports them.

    A Requires is met by a Provides of that name whose version range overlaps (every package provides its
    own name at its EVR), or, for a path, by any package's file. Rich dependencies are not evaluated.
    """
    providers = _providers(packages, limits)
    return pkgdb.broken_relations(
        packages,
        # a package may require the same thing twice (declared, and found by rpm's dependency generator)
        lambda package: (("Requires", relation) for relation in dict.fromkeys(package.depends)),
        lambda _, relation: _why_not(relation, providers),
    )


DATABASE = pkgdb.PackageDatabase(
    ecosystem="rpm",
    capture=CAPTURE,
    locations=RPMDB_PATHS,
    read=read_database,
    compare_versions=compare_evr,
    unsatisfied_dependencies=unsatisfied_dependencies,
)
