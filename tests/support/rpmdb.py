"""rpm headers as rpm exports them and an ``rpmdb.sqlite`` as rpm's sqlite backend lays out its Packages
table, written in Python, with one realistic header (bash, as RHEL 9 ships it)."""

from __future__ import annotations

import sqlite3
import struct

from layerdiff.inventory import rpm

HeaderEntries = dict[int, tuple[int, object]]
STRING, STRING_ARRAY, I18NSTRING, INT16, INT32, BIN = 6, 8, 9, 3, 4, 7
RPMSENSE_LESS, RPMSENSE_GREATER, RPMSENSE_EQUAL = 2, 4, 8
RPMSENSE_SCRIPT_PRE, RPMSENSE_RPMLIB = 1 << 9, 1 << 24


def header_blob(entries: HeaderEntries) -> bytes:
    """An exported header: counts, 16-byte index entries, then the data store, integers aligned."""
    index, store = [], bytearray()
    for tag, (kind, value) in entries.items():
        while len(store) % {INT16: 2, INT32: 4}.get(kind, 1):
            store.append(0)
        offset = len(store)
        if kind == STRING:
            assert isinstance(value, str)
            store += value.encode() + b"\0"
            count = 1
        elif kind in (STRING_ARRAY, I18NSTRING):
            assert isinstance(value, tuple)
            store += b"".join(s.encode() + b"\0" for s in value)
            count = len(value)
        elif kind == BIN:
            assert isinstance(value, bytes)
            store += value
            count = len(value)
        else:
            assert isinstance(value, tuple)
            store += struct.pack(f">{len(value)}{'H' if kind == INT16 else 'I'}", *value)
            count = len(value)
        index.append(struct.pack(">IIII", tag, kind, offset, count))
    return struct.pack(">II", len(index), len(store)) + b"".join(index) + bytes(store)


def rpmdb_bytes(*headers: HeaderEntries) -> bytes:
    """An rpmdb.sqlite as rpm's sqlite backend lays out its Packages table, serialized from memory."""
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)")
    connection.executemany("INSERT INTO Packages (blob) VALUES (?)", [(header_blob(h),) for h in headers])
    connection.commit()
    return connection.serialize()


BASH: HeaderEntries = {
    rpm.NAME: (STRING, "bash"),
    rpm.VERSION: (STRING, "5.1.8"),
    rpm.RELEASE: (STRING, "6.el9_1"),
    rpm.EPOCH: (INT32, (1,)),
    rpm.ARCH: (STRING, "x86_64"),
    rpm.SOURCERPM: (STRING, "bash-5.1.8-6.el9_1.src.rpm"),
    rpm.DIRNAMES: (STRING_ARRAY, ("/etc/skel/", "/usr/bin/", "/usr/share/doc/")),
    rpm.BASENAMES: (STRING_ARRAY, (".bashrc", "bash", "sh", "bash")),
    rpm.DIRINDEXES: (INT32, (0, 1, 1, 2)),
    rpm.FILEFLAGS: (INT32, (1 | 16, 0, 0, 0)),  # %config(noreplace) on .bashrc
    rpm.FILEDIGESTALGO: (INT32, (8,)),
    rpm.FILEDIGESTS: (STRING_ARRAY, ("aa" * 32, "bb" * 32, "", "")),
    rpm.REQUIRENAME: (
        STRING_ARRAY,
        ("rpmlib(CompressedFileNames)", "/bin/sh", "libc.so.6()(64bit)", "filesystem"),
    ),
    rpm.REQUIREFLAGS: (INT32, (RPMSENSE_LESS | RPMSENSE_EQUAL | RPMSENSE_RPMLIB, RPMSENSE_SCRIPT_PRE, 0, 0)),
    rpm.REQUIREVERSION: (STRING_ARRAY, ("3.0.4-1", "", "", "")),
    rpm.PROVIDENAME: (STRING_ARRAY, ("/bin/bash", "bash", "bash(x86-64)", "config(bash)")),
    rpm.PROVIDEFLAGS: (INT32, (0, RPMSENSE_EQUAL, RPMSENSE_EQUAL, RPMSENSE_EQUAL)),
    rpm.PROVIDEVERSION: (STRING_ARRAY, ("", "1:5.1.8-6.el9_1", "1:5.1.8-6.el9_1", "1:5.1.8-6.el9_1")),
    1004: (I18NSTRING, ("The GNU Bourne Again shell",)),  # SUMMARY, an i18n string: read, not used
    1030: (INT16, (0o100644, 0o100755, 0o120777, 0o40755)),  # FILEMODES
}
