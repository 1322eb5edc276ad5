"""Targets over the inventory readers: one of the files a reader reads is mutated (dpkg status and info
files, apk installed, rpm headers and rpmdb.sqlite, METADATA and requires.txt, ELF objects, ld.so.conf,
ld.so.cache, passwd and group), laid in a layer over a seed image, indexed, merged and read by the whole
inventory."""

from __future__ import annotations

import functools
import io
import sqlite3
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from layerdiff.fs.tree import build_tree
from layerdiff.fs.view import TreeView
from layerdiff.image.model import LayerIndex
from layerdiff.index.tar_index import index_layer
from layerdiff.inventory.apk import APK_INSTALLED
from layerdiff.inventory.collect import CAPTURE, collect
from layerdiff.inventory.dpkg import DPKG_STATUS, DPKG_STATUS_DIR
from layerdiff.inventory.ldcache import LD_SO_CACHE
from layerdiff.inventory.ldsoconf import LD_SO_CONF
from layerdiff.inventory.rpm import RPMDB_PATHS
from layerdiff.inventory.users import GROUP, PASSWD
from tests.fuzz.elf_seed import ET_EXEC, elf_object
from tests.fuzz.images import Artifact
from tests.fuzz.mutate_bytes import INTERESTING_INTS, mutated_bytes
from tests.fuzz.mutate_text import mutated_lines
from tests.fuzz.seeds import (
    CONFIG,
    DPKG_INFO,
    ELF_FILES,
    LD_SO_CONF_D,
    LOADER,
    METADATA,
    RPM_HEADERS,
    inventory_files,
    tree_layer,
)
from tests.fuzz.target import Target
from tests.support.ldcache import I386, Entry, write_cache
from tests.support.pyimage import USER_SITE

METADATA_PATH = f"/{USER_SITE}/responses-0.25.0.dist-info/METADATA"
EGG_INFO = f"/{USER_SITE}/legacy-1.0.egg-info"
CONFIG_USER = "config:User"  # not a file: the config's USER, for the passwd target
CONFIG_LIBRARY_PATH = "config:LD_LIBRARY_PATH"  # not a file: the config's LD_LIBRARY_PATH, for the elf target
DPKG_KEYWORDS = (
    b"Package: ",
    b"Status: install ok installed",
    b"Status: ",
    b"Version: ",
    b"Architecture: ",
    b"Multi-Arch: ",
    b"Source: ",
    b"Depends: ",
    b"Pre-Depends: ",
    b"Provides: ",
    b"Conffiles:",
    b" /etc/x 0123456789abcdef0123456789abcdef",
    b"",
)
APK_KEYWORDS = (
    b"C:",
    b"P:",
    b"V:",
    b"A:",
    b"D:",
    b"p:",
    b"r:",
    b"i:",
    b"F:",
    b"R:",
    b"Z:Q1",
    b"a:",
    b"M:",
    b"",
)
METADATA_KEYWORDS = (
    b"Name: ",
    b"Version: ",
    b"Requires-Dist: ",
    b"Requires-Dist: x; extra == ",
    b"Requires-Dist: x (>=1)",
    b"Provides-Extra: ",
    b"Metadata-Version: ",
)
LDSO_KEYWORDS = (
    b"include ",
    b"include *",
    b"include /etc/ld.so.conf.d/*.conf",
    b"include ld.so.conf.d/*",
    b"include /*/../*",
    b"include /*/../*/../*/../*",
    b"include ../ld.so.conf",
    b"include /etc/ld.so.conf",
    b"hwcap 1 ",
    b"/opt/lib",
    b"/usr/lib=libc6",
    b"/usr/local/lib/",
    b"$ORIGIN",
)
PASSWD_KEYWORDS = (
    b"root:x:0:0:root:/root:/bin/bash",
    b"airflow:x:50000:0::/home/airflow:/bin/bash",
    b"nobody:x:65534:65534::/nonexistent:/usr/sbin/nologin",
    b"+::::::",
    b"staff:x:50:airflow",
    b"::::::",
)
USERS = (
    "",
    "root",
    "airflow",
    "50000",
    "50000:0",
    "airflow:staff",
    "nobody",
    "0:50",
    ":",
    "1" * 30,
    "\udc80",
)


def files_artifact(files: dict[str, bytes], user: str | None = None) -> Artifact:
    if user is not None:
        files = {**files, CONFIG_USER: user.encode("utf-8", "surrogateescape")}
    return Artifact(files, "")


@functools.cache
def _base() -> tuple[LayerIndex, ...]:
    """The seed image every mutated file is laid over: every reader has something to read."""
    return (index_layer(io.BytesIO(tree_layer(inventory_files())), None, "seed", CAPTURE),)


def read_inventory(artifact: Artifact, scratch: Path) -> None:
    """The mutated files in a layer over the seed image; the whole inventory of the result."""
    files = {path: data for path, data in artifact.files.items() if not path.startswith("config:")}
    layer = index_layer(io.BytesIO(tree_layer(files)), None, "fuzz layer", CAPTURE)
    indexes = [*_base(), layer]
    config: dict[str, Any] = dict(CONFIG)
    if CONFIG_USER in artifact.files:
        config["User"] = artifact.files[CONFIG_USER].decode("utf-8", "surrogateescape")
    if CONFIG_LIBRARY_PATH in artifact.files:
        library_path = artifact.files[CONFIG_LIBRARY_PATH].decode()
        config["Env"] = [*config["Env"], f"LD_LIBRARY_PATH={library_path}"]
    collect(TreeView(build_tree(indexes), indexes), config)


@st.composite
def _dpkg(draw: st.DrawFn) -> Artifact:
    seeds = inventory_files()
    path = draw(st.sampled_from((DPKG_STATUS, DPKG_STATUS, f"{DPKG_STATUS_DIR}curl", *sorted(DPKG_INFO))))
    seed = seeds.get(path, seeds[DPKG_STATUS])
    return files_artifact({path: draw(mutated_lines(seed, DPKG_KEYWORDS))})


@st.composite
def _apk(draw: st.DrawFn) -> Artifact:
    return files_artifact(
        {APK_INSTALLED: draw(mutated_lines(inventory_files()[APK_INSTALLED], APK_KEYWORDS))}
    )


def rpmdb_of(blobs: Sequence[object], schema: str = "") -> bytes:
    """An rpmdb.sqlite whose Packages rows hold ``blobs`` (any SQLite values), after ``schema`` runs."""
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)")
    connection.executemany("INSERT INTO Packages (blob) VALUES (?)", [(blob,) for blob in blobs])
    connection.executescript(schema)
    connection.commit()
    return connection.serialize()


@st.composite
def _header(draw: st.DrawFn, blob: bytes) -> bytes:
    """An rpm header with its counts, an index entry or its data edited."""
    data = bytearray(blob)
    count = struct.unpack_from(">I", data)[0]
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(("preamble", "entry", "entry", "bytes")))
        value = draw(st.sampled_from((*INTERESTING_INTS[:-1], 0xFFFF_FFF0, 6, 8, 9, 1000, 1117)))
        if where == "preamble":
            offset = draw(st.sampled_from((0, 4)))
        elif where == "entry" and count:
            offset = 8 + 16 * draw(st.integers(0, count - 1)) + 4 * draw(st.integers(0, 3))
        else:
            return draw(mutated_bytes(bytes(data), max_ops=3))
        if offset + 4 <= len(data):
            data[offset : offset + 4] = struct.pack(">I", value % (1 << 32))
    return bytes(data)


@st.composite
def _rpm_header(draw: st.DrawFn) -> Artifact:
    blobs = [draw(_header(blob)) if draw(st.booleans()) else blob for blob in RPM_HEADERS]
    if blobs == list(RPM_HEADERS):
        blobs[0] = draw(_header(blobs[0]))
    return files_artifact({draw(st.sampled_from(RPMDB_PATHS)): rpmdb_of(blobs)})


SCHEMAS = (
    "",
    "INSERT INTO Packages (blob) VALUES (x'')",
    "INSERT INTO Packages (blob) VALUES ('text, not a blob')",
    "INSERT INTO Packages (blob) VALUES (42)",
    "INSERT INTO Packages (blob) VALUES (4.5)",
    "INSERT INTO Packages (hnum, blob) VALUES (-1, x'00000001')",
    "INSERT INTO Packages (blob) SELECT blob FROM Packages;"
    " INSERT INTO Packages (blob) SELECT blob FROM Packages",
    "ALTER TABLE Packages RENAME TO Old",
    "ALTER TABLE Packages RENAME TO Old; CREATE VIEW Packages AS SELECT hnum, blob FROM Old",
    "ALTER TABLE Packages RENAME TO Old; CREATE VIEW Packages AS SELECT 1 AS hnum, zeroblob(100000) AS blob",
    "ALTER TABLE Packages RENAME TO Old; CREATE TABLE Packages (hnum, other)",
    "ALTER TABLE Packages RENAME TO Old; CREATE TABLE Packages (hnum INTEGER, blob BLOB);"
    " INSERT INTO Packages VALUES (NULL, NULL)",
    "CREATE TABLE Other (x);"
    " CREATE TRIGGER t AFTER INSERT ON Packages BEGIN INSERT INTO Other VALUES (1); END",
    "CREATE INDEX i ON Packages (blob)",
    "DROP TABLE Packages",
    "PRAGMA user_version = 99",
    "PRAGMA journal_mode = WAL",
)


@st.composite
def _rpmdb(draw: st.DrawFn) -> Artifact:
    data = rpmdb_of(RPM_HEADERS, draw(st.sampled_from(SCHEMAS)))
    if draw(st.booleans()):
        data = draw(mutated_bytes(data, max_ops=3))
    elif draw(st.booleans()) and len(data) >= 20:
        data = data[:18] + bytes([draw(st.integers(0, 3))] * 2) + data[20:]  # the WAL mode bytes
    return files_artifact({draw(st.sampled_from(RPMDB_PATHS)): data})


@st.composite
def _metadata(draw: st.DrawFn) -> Artifact:
    where = draw(st.sampled_from(("METADATA", "METADATA", "PKG-INFO", "requires.txt", "pth")))
    if where == "METADATA":
        return files_artifact({METADATA_PATH: draw(mutated_lines(METADATA, METADATA_KEYWORDS))})
    if where == "PKG-INFO":
        return files_artifact({f"{EGG_INFO}/PKG-INFO": draw(mutated_lines(METADATA, METADATA_KEYWORDS))})
    if where == "requires.txt":
        requires = b"requests>=2\n[socks]\nPySocks\n[:python_version < '3']\nfutures\n"
        return files_artifact(
            {
                f"{EGG_INFO}/PKG-INFO": b"Name: legacy\nVersion: 1.0\n",
                f"{EGG_INFO}/requires.txt": draw(mutated_lines(requires, (b"[", b"[extra]", b"x>=1", b""))),
            }
        )
    pth = draw(mutated_lines(b"/opt/extra\nimport os\n../../\n", (b"import ", b"/", b"./", b"#")))
    return files_artifact({f"/{USER_SITE}/extra.pth": pth})


ELF_HEADER_FIELDS = (16, 18, 20, 24, 32, 40, 48, 52, 54, 56, 58)  # ELF64 e_type ... e_shnum offsets
PHDR = 64  # where the seeds' program headers start


@st.composite
def _elf(draw: st.DrawFn) -> Artifact:
    path = draw(st.sampled_from(sorted(ELF_FILES)))
    data = bytearray(ELF_FILES[path])
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(("header", "phdr", "dynamic", "bytes")))
        value = draw(st.sampled_from(INTERESTING_INTS)) % (1 << 16)
        if where == "header":
            offset = draw(st.sampled_from(ELF_HEADER_FIELDS))
        elif where == "phdr":
            offset = PHDR + 56 * draw(st.integers(0, 2)) + 8 * draw(st.integers(0, 6))
        elif where == "dynamic":
            offset = len(data) - 16 * draw(st.integers(1, max(1, min(8, len(data) // 16))))
        else:
            data = bytearray(draw(mutated_bytes(bytes(data), max_ops=2)))
            continue
        if 0 <= offset <= len(data) - 2:
            data[offset : offset + 2] = struct.pack("<H", value)
    target = draw(st.sampled_from((path, path, "/usr/local/lib/libfoo.so.1", "/usr/bin/extra")))
    files = {target: bytes(data)}
    if draw(st.integers(0, 19)) == 7:  # rare, and slow: many DT_NEEDED entries, a long search path
        needed = [f"libmissing{i}.so.1" for i in range(draw(st.sampled_from((100, 1000))))]
        files["/usr/bin/wide"] = elf_object(needed, interpreter=LOADER, elf_type=ET_EXEC)
        directories = draw(st.sampled_from((10, 100)))
        files[CONFIG_LIBRARY_PATH] = ":".join(f"/opt/l{i}" for i in range(directories)).encode()
    return files_artifact(files)


@st.composite
def _ldso(draw: st.DrawFn) -> Artifact:
    seeds = inventory_files()
    path = draw(st.sampled_from((LD_SO_CONF, *sorted(LD_SO_CONF_D))))
    return files_artifact({path: draw(mutated_lines(seeds[path], LDSO_KEYWORDS, separator=b" "))})


# the seed image's libraries, with a glibc-hwcaps entry and one of another ABI
CACHE_ENTRIES = [
    Entry("libfoo.so.1", "/usr/lib/glibc-hwcaps/x86-64-v3/libfoo.so.1", hwcaps="x86-64-v3"),
    Entry("libfoo.so.1", "/usr/lib/libfoo.so.1"),
    Entry("libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6"),
    Entry("libc.so.6", "/usr/lib/i386/libc.so.6", flags=I386),
    Entry("libbar.so", "/opt/lib/libbar.so"),
]
# nlibs, len_strings, the flags byte and extension_offset of the new header, then an entry's fields
CACHE_FIELDS = (20, 24, 28, 32, 48, 52, 56, 64, 68)


@st.composite
def _ldcache(draw: st.DrawFn) -> Artifact:
    layout = draw(st.sampled_from(("new", "old", "compat")))
    data = bytearray(write_cache(CACHE_ENTRIES, layout))
    start = 0 if layout == "new" else 16 + 12 * (len(CACHE_ENTRIES) + 1)  # compat: the count made even
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            data = bytearray(draw(mutated_bytes(bytes(data), max_ops=2)))
            continue
        field = draw(st.sampled_from(CACHE_FIELDS if layout != "old" else (12, 16, 20, 24)))
        offset = (start if layout != "old" else 0) + field
        value = draw(st.sampled_from(INTERESTING_INTS)) % (1 << 32)
        if 0 <= offset <= len(data) - 4:
            data[offset : offset + 4] = struct.pack("<I", value)
    return files_artifact({LD_SO_CACHE: bytes(data)})


@st.composite
def _passwd(draw: st.DrawFn) -> Artifact:
    seeds = inventory_files()
    path = draw(st.sampled_from((PASSWD, GROUP)))
    return files_artifact(
        {path: draw(mutated_lines(seeds[path], PASSWD_KEYWORDS))}, draw(st.sampled_from(USERS))
    )


def _reader(name: str, description: str, inputs: st.SearchStrategy[Artifact], examples: int) -> Target:
    return Target(name, description, inputs, read_inventory, examples)


TARGETS = (
    _reader("dpkg", "dpkg status, status.d and info files", _dpkg(), 700),
    _reader("apk", "apk's installed database", _apk(), 1000),
    _reader("rpm-header", "rpm header blobs in rpmdb.sqlite", _rpm_header(), 800),
    _reader("rpmdb", "rpmdb.sqlite files and schemas", _rpmdb(), 800),
    _reader("metadata", "METADATA, PKG-INFO, requires.txt (Requires-Dist) and .pth files", _metadata(), 450),
    _reader("elf", "ELF objects and the library resolution that reads them", _elf(), 600),
    _reader("ldso", "ld.so.conf and its includes", _ldso(), 350),
    _reader("ldcache", "/etc/ld.so.cache in its three layouts", _ldcache(), 350),
    _reader("passwd", "/etc/passwd, /etc/group and the config's USER", _passwd(), 800),
)
