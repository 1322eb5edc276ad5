"""Read the rows of one table of an SQLite database an image carries, treating the database as hostile.

An image's database is a program as much as data: a view or trigger runs whatever SQL its author wrote (an
8 KB ``rpmdb.sqlite`` whose ``Packages`` is a recursive-CTE view made SQLite write 51 GB of temporary
file). So the bytes are opened in memory, never on disk, and only read:

- the database is deserialized into an in-memory connection, with ``query_only`` and temporary storage in
  memory, so nothing reaches a file;
- SQLite's defensive mode where Python offers it (``setconfig``, Python 3.12+), with views and triggers
  disabled; everywhere, ``trusted_schema`` off;
- an authorizer allows reading the schema and the wanted columns of the wanted table, nothing else (no
  function, no other table, no pragma, no write, no attach);
- the schema is checked first: a view, a trigger or a virtual table anywhere, or a wanted table that is not
  a plain table, and the database is refused;
- ``setlimit`` bounds the length of any value to the database's own size, and a progress handler stops a
  query that runs longer than a plain scan of that many bytes could;
- the rows are read as they are stored (no ``ORDER BY``: sorting is left to the caller), so SQLite needs no
  temporary b-tree: its memory is the database and its page cache.

Anything unexpected raises ``UnreadableDatabase``, which the caller turns into a report warning.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from layerdiff.inventory.ospkg_interface import UnreadableDatabase

_SCHEMA_TABLES = frozenset({"sqlite_master", "sqlite_schema", "sqlite_temp_master", "sqlite_temp_schema"})
_PROGRESS_EVERY = 1000  # virtual machine instructions between two progress checks
_INSTRUCTIONS_PER_BYTE = 16  # a scan takes a few instructions per row; a row takes several bytes
_MIN_INSTRUCTIONS = 1_000_000
_LIMITS = {  # what this reader's one SELECT and the schema can need; far below SQLite's defaults
    "SQLITE_LIMIT_SQL_LENGTH": 1 << 20,
    "SQLITE_LIMIT_COLUMN": 1000,
    "SQLITE_LIMIT_EXPR_DEPTH": 100,
    "SQLITE_LIMIT_COMPOUND_SELECT": 4,
    "SQLITE_LIMIT_VDBE_OP": 100_000,
    "SQLITE_LIMIT_FUNCTION_ARG": 8,
    "SQLITE_LIMIT_ATTACHED": 0,
    "SQLITE_LIMIT_LIKE_PATTERN_LENGTH": 100,
    "SQLITE_LIMIT_VARIABLE_NUMBER": 10,
    "SQLITE_LIMIT_TRIGGER_DEPTH": 1,
    "SQLITE_LIMIT_WORKER_THREADS": 0,
}
# sqlite3.Connection.setconfig (Python 3.12+): on in defensive mode, off for what runs stored SQL
_CONFIG = {
    "SQLITE_DBCONFIG_DEFENSIVE": True,
    "SQLITE_DBCONFIG_TRUSTED_SCHEMA": False,
    "SQLITE_DBCONFIG_ENABLE_TRIGGER": False,
    "SQLITE_DBCONFIG_ENABLE_VIEW": False,
    "SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION": False,
}


def read_rows(data: bytes, table: str, columns: Sequence[str]) -> list[tuple[Any, ...]]:
    """Every row of ``columns`` of ``table`` in the SQLite database ``data``, in storage order.

    Raises ``UnreadableDatabase`` (with the reason) for bytes that are no database, a schema with
    anything but plain tables and indexes, or a read that needs anything but those columns.
    """
    connection = _open(data)
    budget = _Budget(data)
    try:
        connection.set_progress_handler(budget, _PROGRESS_EVERY)
        _check_schema(connection, table)
        connection.set_authorizer(_Authorizer(table, columns))
        quoted = ", ".join(_quote(column) for column in columns)
        return connection.execute(f"SELECT {quoted} FROM {_quote(table)}").fetchall()
    except sqlite3.Error as exc:
        if budget.spent:
            raise UnreadableDatabase(f"reading it takes more work than a scan of {len(data)} bytes") from None
        raise UnreadableDatabase(f"SQLite refuses it ({_reason(exc)})") from None
    finally:
        connection.close()


def _open(data: bytes) -> sqlite3.Connection:
    image = bytearray(data)
    # rpm keeps its database in WAL mode (header bytes 18-19 = 2), which an in-memory database cannot
    # open; any committed content is in the main file, so reading it as a rollback-journal one is exact.
    if len(image) >= 20 and image[18:20] == b"\x02\x02":
        image[18:20] = b"\x01\x01"
    connection = sqlite3.connect(":memory:")
    try:
        setconfig = getattr(connection, "setconfig", None)
        for name, enabled in _CONFIG.items():
            if setconfig is not None and hasattr(sqlite3, name):
                setconfig(getattr(sqlite3, name), enabled)
        connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, max(len(image), 1 << 16))
        for name, limit in _LIMITS.items():
            connection.setlimit(getattr(sqlite3, name), limit)
        for pragma in ("trusted_schema = OFF", "temp_store = MEMORY", "cell_size_check = ON"):
            connection.execute(f"PRAGMA {pragma}")
        connection.deserialize(bytes(image))
        connection.execute("PRAGMA query_only = ON")
    except sqlite3.Error as exc:
        connection.close()
        raise UnreadableDatabase(f"not an SQLite database ({_reason(exc)})") from None
    return connection


def _check_schema(connection: sqlite3.Connection, table: str) -> None:
    connection.set_authorizer(_Authorizer(None, ()))
    rows = connection.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
    for kind, name, sql in rows:
        if kind in ("view", "trigger"):
            raise UnreadableDatabase(f"it holds a {kind} ({_shown(name)}); a package database has none")
        if kind == "table" and isinstance(sql, str) and sql.lstrip()[:14].upper() == "CREATE VIRTUAL":
            raise UnreadableDatabase(
                f"it holds a virtual table ({_shown(name)}); a package database has none"
            )
    if not any(
        kind == "table" and isinstance(name, str) and name.lower() == table.lower() for kind, name, _ in rows
    ):
        raise UnreadableDatabase(f"it has no {table} table")
    # a generated column computes an expression on every read, out of the authorizer's sight
    columns = connection.execute(f"PRAGMA table_xinfo({_quote(table)})").fetchall()
    generated = [column[1] for column in columns if column[-1] != 0]  # hidden: 2 or 3 for generated ones
    if generated:
        raise UnreadableDatabase(f"its {table} table computes a column ({_shown(generated[0])})")


class _Authorizer:
    """Reading the schema (and listing a table's columns), and ``columns`` of ``table``; nothing else."""

    def __init__(self, table: str | None, columns: Sequence[str]) -> None:
        self._table = table.lower() if table is not None else None
        self._columns = frozenset(column.lower() for column in columns)

    def __call__(self, action: int, first: str | None, second: str | None, *_: str | None) -> int:
        if action == sqlite3.SQLITE_SELECT or (action == sqlite3.SQLITE_PRAGMA and first == "table_xinfo"):
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_READ and first is not None:
            table = first.lower()
            if table in _SCHEMA_TABLES:
                return sqlite3.SQLITE_OK
            if table == self._table and (second or "").lower() in self._columns:
                return sqlite3.SQLITE_OK
        return sqlite3.SQLITE_DENY


class _Budget:
    """The progress handler: stops a query that runs longer than a scan of the database could."""

    def __init__(self, data: bytes) -> None:
        self._left = (_INSTRUCTIONS_PER_BYTE * len(data) + _MIN_INSTRUCTIONS) // _PROGRESS_EVERY

    @property
    def spent(self) -> bool:
        return self._left < 0

    def __call__(self) -> int:
        self._left -= 1
        return 1 if self.spent else 0  # non-zero interrupts the query


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _shown(name: object) -> str:
    text = str(name)
    return text if len(text) <= 80 else text[:80] + "…"


def _reason(exc: sqlite3.Error) -> str:
    return _shown(str(exc) or type(exc).__name__)
