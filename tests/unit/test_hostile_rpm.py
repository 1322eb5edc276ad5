"""Hostile rpm databases: SQLite files that are programs (views, triggers, generated columns) and headers
whose counts and offsets lie. Each is skipped with a report warning naming the file and why, fast, without
writing anything to disk."""

from __future__ import annotations

import sqlite3
import struct
import time
from pathlib import Path

import pytest

from layerdiff.image.limits import DEFAULT_LIMITS, Limits
from layerdiff.inventory import rpm, sqlite_rows
from layerdiff.inventory.ospkg import read_os_packages
from layerdiff.inventory.ospkg_interface import UnreadableDatabase
from tests.support.hostile import derived_with, review
from tests.support.imagebuilder import F
from tests.support.rpmdb import BASH, INT32, STRING, STRING_ARRAY, rpmdb_bytes

RPMDB = rpm.RPMDB_PATHS[1]  # /var/lib/rpm/rpmdb.sqlite


def database(*statements: str) -> bytes:
    connection = sqlite3.connect(":memory:")
    for statement in statements:
        connection.execute(statement)
    connection.commit()
    return connection.serialize()


RECURSIVE_VIEW = database(
    # every row a fresh megabyte, sorted: SQLite spills the sort to temporary files until the disk is full
    "CREATE VIEW Packages AS WITH RECURSIVE r(hnum, blob) AS "
    "(SELECT 1, randomblob(1000000) UNION ALL SELECT hnum + 1, randomblob(1000000) FROM r) "
    "SELECT hnum, blob FROM r ORDER BY blob"
)


def skipped(data: bytes, limits: Limits = DEFAULT_LIMITS) -> str:
    """The warning for the rpm database ``data``: it must give no packages."""
    started = time.process_time()
    scan = read_os_packages({RPMDB: data}, limits)
    assert time.process_time() - started < 2
    assert scan.packages == []
    (warning,) = scan.warnings
    assert warning.startswith(f"{RPMDB}: not read, so its rpm packages are left out: ")
    return warning


def test_a_recursive_view_is_refused_before_it_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    for variable in ("TMPDIR", "SQLITE_TMPDIR"):
        monkeypatch.setenv(variable, str(scratch))
    run = review(tmp_path, capsys, derived_with(F(RPMDB.lstrip("/"), RECURSIVE_VIEW)))
    assert run.code == 0, run.err
    (warning,) = run.report["warnings"]
    assert warning.endswith(
        f":derived: {RPMDB}: not read, so its rpm packages are left out: "
        "it holds a view (Packages); a package database has none"
    )
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize(
    ("statements", "reason"),
    [
        (
            [
                "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB)",
                "CREATE TABLE log (x)",
                "CREATE TRIGGER t AFTER INSERT ON Packages BEGIN INSERT INTO log VALUES (1); END",
            ],
            "it holds a trigger (t); a package database has none",
        ),
        (
            ["CREATE VIRTUAL TABLE Packages USING fts4(hnum, blob)"],
            "it holds a virtual table (Packages); a package database has none",
        ),
        (["CREATE TABLE Name (key TEXT)"], "it has no Packages table"),
        (
            # a generated column computes on every read
            ["CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, n INT, blob BLOB AS (zeroblob(n)))"],
            "its Packages table computes a column (blob)",
        ),
        (
            [
                "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB)",
                "INSERT INTO Packages VALUES (1, 'x')",
            ],
            "a row of its Packages table is not a numbered header",
        ),
    ],
)
def test_anything_but_a_plain_packages_table_is_refused(statements: list[str], reason: str) -> None:
    assert skipped(database(*statements)).endswith(reason)


def test_bytes_that_are_no_database_are_refused() -> None:
    print(skipped(b"SQLite format 3\0" + b"\xff" * 200))
    print(skipped(b"not a database at all"))
    print(skipped(rpmdb_bytes(BASH)[:3000]))


def test_a_query_that_runs_too_long_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_rows, "_INSTRUCTIONS_PER_BYTE", 0)
    monkeypatch.setattr(sqlite_rows, "_MIN_INSTRUCTIONS", 0)
    monkeypatch.setattr(sqlite_rows, "_PROGRESS_EVERY", 1)
    data = rpmdb_bytes(BASH, BASH, BASH)
    with pytest.raises(
        UnreadableDatabase, match=f"reading it takes more work than a scan of {len(data)} bytes"
    ):
        sqlite_rows.read_rows(data, "Packages", ("hnum", "blob"))


# --- headers ------------------------------------------------------------------------------------------------


def with_header(blob: bytes) -> bytes:
    return database(
        "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB NOT NULL)",
        f"INSERT INTO Packages VALUES (1, x'{blob.hex()}')",
    )


def test_header_counts_are_bounded_by_the_blob() -> None:
    assert skipped(with_header(struct.pack(">II", 0xFFFFFFFF, 8) + bytes(8))).endswith(
        "header of 16 bytes declares 4294967295 entries, 8 data"
    )
    entry = struct.pack(">IIII", rpm.NAME, STRING_ARRAY, 0, 0xFFFFFFFF)
    blob = struct.pack(">II", 1, 4) + entry + b"a\0b\0"
    assert skipped(with_header(blob)).endswith(f"tag {rpm.NAME} declares 4294967295 values in 4 bytes")


def test_many_entries_pointing_at_one_array_are_read_once() -> None:
    # 100,000 index entries for the same 200,000-string array: decoding each would be 2e10 steps
    store = b"\0" * 200_000
    entries = struct.pack(">IIII", rpm.BASENAMES, STRING_ARRAY, 0, 200_000) * 100_000
    blob = struct.pack(">II", 100_000, len(store)) + entries + store
    assert skipped(with_header(blob)).endswith(f"tag {rpm.BASENAMES} given twice")
    # entries for tags nobody reads are not decoded at all
    unread = struct.pack(">IIII", 1016, STRING_ARRAY, 0, 200_000) * 100_000  # 1016: CHANGELOGTEXT-like
    header = rpm.parse_header(struct.pack(">II", 100_000, len(store)) + unread + store)
    assert header == {}


def test_a_directory_index_past_the_directories_is_refused() -> None:
    bad = {**BASH, rpm.DIRINDEXES: (INT32, (0, 1, 1, 7))}
    assert skipped(rpmdb_bytes(bad)).endswith("a file's directory index is past its 3 directories")


def test_file_lists_may_not_expand_past_the_captured_file_limit() -> None:
    # one 100 KB directory name shared by 10,000 files: 200 KB of header, a gigabyte of paths
    bomb = {
        **BASH,
        rpm.DIRNAMES: (STRING_ARRAY, ("/" + "d" * 100_000 + "/",)),
        rpm.BASENAMES: (STRING_ARRAY, tuple(f"f{i}" for i in range(10_000))),
        rpm.DIRINDEXES: (INT32, (0,) * 10_000),
        rpm.FILEFLAGS: (INT32, (0,) * 10_000),
        rpm.FILEDIGESTS: (STRING_ARRAY, ("",) * 10_000),
    }
    warning = skipped(rpmdb_bytes(bomb))
    assert warning.endswith("its file lists expand to more than 64MiB of paths (limit captured-file-bytes)")
    # the same header with fewer files is read
    modest = {**bomb, rpm.BASENAMES: (STRING_ARRAY, ("a", "b")), rpm.DIRINDEXES: (INT32, (0, 0))}
    (package,) = read_os_packages({RPMDB: rpmdb_bytes(modest)}).packages
    assert len(package.files) == 2


def test_a_real_looking_database_still_reads() -> None:
    data = rpmdb_bytes(BASH, {rpm.NAME: (STRING, "zlib"), rpm.VERSION: (STRING, "1.2")})
    scan = read_os_packages({RPMDB: data})
    assert [p.name for p in scan.packages] == ["bash", "zlib"] and scan.warnings == []
