"""On-disk cache of layer indexes keyed by diff_id, in SQLite so concurrent runs cannot corrupt it."""

from __future__ import annotations

import json
import os
import sqlite3
import struct
import zlib
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path

import platformdirs

from layerdiff.image.entry_table import EntryTable
from layerdiff.image.model import CredentialHit, CredentialScan, ElfInfo, LayerIndex
from layerdiff.index.capture import CaptureSpec

# Bump when the meaning or layout of a cached index changes; older rows are then ignored. Rows are also
# keyed by what was captured (``CaptureSpec.key``), so a changed capture declaration re-reads the layers.
# 5: tar read as Go reads it (global PAX headers ignored, sparse holes unread); 6: /etc/ld.so.cache kept;
# 7: credential files kept as where their credentials are (line, kind, setting), never their content;
# 8: Python scripts keep the modules they import, and files declared as heads (Python start-up modules)
# their first lines; 9: the entries in columns (layerdiff.image.entry_table), not a JSON row each
INDEX_FORMAT = 9


# Column definitions per table. Rows are disposable, so a table written with another layout (by an older
# layerdiff) is dropped and recreated rather than migrated.
_TABLES = {
    "layer_index": (
        (
            "diff_id TEXT NOT NULL",
            "format INTEGER NOT NULL",
            "capture TEXT NOT NULL",
            "tar_size INTEGER NOT NULL",
        ),
        ("payload BLOB NOT NULL", "contents BLOB NOT NULL", "PRIMARY KEY (diff_id, format, capture)"),
    ),
    "sbom": (
        ("image_id TEXT NOT NULL", "tool TEXT NOT NULL"),
        ("document BLOB NOT NULL", "PRIMARY KEY (image_id, tool)"),
    ),
}


def _ensure_table(db: sqlite3.Connection, table: str, parts: tuple[tuple[str, ...], ...]) -> None:
    definitions = [part for group in parts for part in group]
    wanted = [part.split()[0] for part in definitions if not part.startswith("PRIMARY KEY")]
    present = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
    if present and present != wanted:
        db.execute(f"DROP TABLE {table}")
    db.execute(f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(definitions)})")


def default_cache_dir() -> Path:
    return Path(os.environ.get("LAYERDIFF_CACHE_DIR") or platformdirs.user_cache_dir("layerdiff"))


class IndexCache:
    """Maps diff_id (and what was captured) to LayerIndex. A layer's content never changes for a given
    diff_id, so entries never expire; each row is written in one transaction, and readers see either
    nothing or the whole index."""

    def __init__(self, directory: Path | None) -> None:
        self.hits = 0
        self.misses = 0
        self.directory = directory
        self._db: sqlite3.Connection | None = None
        if directory is None:
            return
        # Private to its user: the indexes hold the images' file names and link targets as they are.
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = directory / "layers.sqlite3"
        try:
            self._db = sqlite3.connect(path, timeout=60, isolation_level=None)
            self._db.execute("PRAGMA busy_timeout=60000")
            # Switching to WAL takes the database's lock and can fail at once ("database is locked") while
            # another run writes; a cache already in WAL (every run after the first) needs no switch.
            if self._db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                self._db.execute("PRAGMA journal_mode=WAL")
            for table, columns in _TABLES.items():
                _ensure_table(self._db, table, columns)
        except sqlite3.DatabaseError as exc:
            detail = f"{path} is not a usable layerdiff cache ({exc}); remove it or use --no-cache"
            raise OSError(detail) from exc

    def get(self, diff_id: str, capture: CaptureSpec) -> LayerIndex | None:
        """The index of the layer made while capturing what ``capture`` declares."""
        if self._db is None:
            self.misses += 1
            return None
        row = self._db.execute(
            "SELECT tar_size, payload, contents FROM layer_index"
            " WHERE diff_id = ? AND format = ? AND capture = ?",
            (diff_id, INDEX_FORMAT, capture.key),
        ).fetchone()
        if row is None:
            self.misses += 1
            return None
        try:
            index = _decode(diff_id, row[0], row[1], row[2])
        except (ValueError, KeyError, struct.error, zlib.error):  # a damaged row: the layer is read again
            self.misses += 1
            return None
        self.hits += 1
        return index

    def put(self, index: LayerIndex, capture: CaptureSpec) -> None:
        """Keep ``index``, made while capturing what ``capture`` declares."""
        if self._db is None:
            return
        payload, contents = _encode(index)
        self._db.execute(
            "INSERT OR REPLACE INTO layer_index (diff_id, format, capture, tar_size, payload, contents)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (index.diff_id, INDEX_FORMAT, capture.key, index.tar_size, payload, contents),
        )

    def get_sbom(self, image_id: str, tool: str) -> str | None:
        """An SBOM made earlier of the same image by the same tool and version."""
        if self._db is None:
            return None
        row = self._db.execute(
            "SELECT document FROM sbom WHERE image_id = ? AND tool = ?", (image_id, tool)
        ).fetchone()
        return zlib.decompress(row[0]).decode() if row else None

    def put_sbom(self, image_id: str, tool: str, document: str) -> None:
        if self._db is not None:
            self._db.execute(
                "INSERT OR REPLACE INTO sbom (image_id, tool, document) VALUES (?, ?, ?)",
                (image_id, tool, zlib.compress(document.encode(), 6)),
            )

    @property
    def scratch(self) -> Path | None:
        """Where tools that must unpack images may do so (removed by them when done)."""
        return self.directory / "tmp" if self.directory is not None else None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def _encode(index: LayerIndex) -> tuple[bytes, bytes]:
    elf = {path: asdict(info) for path, info in index.elf.items()}
    credentials = {
        path: [scan.format, [[hit.line, hit.kind, hit.setting] for hit in scan.hits], scan.omitted]
        for path, scan in index.credentials.items()
    }
    document = {"warnings": list(index.warnings), "elf": elf, "credentials": credentials}
    facts = json.dumps(document).encode()
    # compressed as it is made: a million-entry table is never also whole as uncompressed bytes
    compressor = zlib.compressobj(1)
    pieces = [compressor.compress(struct.pack(">Q", len(facts)) + facts)]
    index.table.pack(lambda data: pieces.append(compressor.compress(data)))
    pieces.append(compressor.flush())
    return b"".join(pieces), zlib.compress(_pack_contents(index.contents), 1)


def _decode(diff_id: str, tar_size: int, payload: bytes, contents: bytes) -> LayerIndex:
    inflated = _Inflated(payload)
    (facts_size,) = struct.unpack(">Q", inflated.read(8))
    data = json.loads(inflated.read(facts_size))
    entries = EntryTable.unpack(inflated.read)
    elf = {
        path: ElfInfo(**{**info, **{k: tuple(info[k]) for k in ("needed", "rpath", "runpath")}})
        for path, info in data["elf"].items()
    }
    credentials = {
        path: CredentialScan(kind, tuple(CredentialHit(*hit) for hit in hits), omitted)
        for path, (kind, hits, omitted) in data["credentials"].items()
    }
    return LayerIndex(
        diff_id=diff_id,
        tar_size=tar_size,
        entries=entries,
        warnings=tuple(data["warnings"]),
        contents=_unpack_contents(zlib.decompress(contents)),
        elf=elf,
        credentials=credentials,
    )


class _Inflated:
    """The decompressed bytes of a zlib stream, made as they are read."""

    def __init__(self, compressed: bytes) -> None:
        self._decompressor = zlib.decompressobj()
        self._input = memoryview(compressed)
        self._buffer = bytearray()

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes; fewer only at the end."""
        while len(self._buffer) < size:
            source: bytes | memoryview = self._decompressor.unconsumed_tail
            if not source:
                source, self._input = self._input[:_INFLATE_CHUNK], self._input[_INFLATE_CHUNK:]
                if not source:
                    break
            self._buffer += self._decompressor.decompress(
                source, max(size - len(self._buffer), _INFLATE_CHUNK)
            )
        view = memoryview(self._buffer)
        data = view[:size].tobytes()
        view.release()  # before the buffer is resized
        del self._buffer[:size]
        return data


_INFLATE_CHUNK = 1 << 20


def _pack_contents(contents: Mapping[str, bytes]) -> bytes:
    """length-prefixed (path, data) pairs: binary-safe, and cheaper than base64 inside JSON."""
    parts = []
    for path, data in contents.items():
        name = path.encode("utf-8", "surrogateescape")
        parts += [struct.pack(">II", len(name), len(data)), name, data]
    return b"".join(parts)


def _unpack_contents(packed: bytes) -> dict[str, bytes]:
    contents = {}
    offset = 0
    while offset < len(packed):
        name_length, data_length = struct.unpack_from(">II", packed, offset)
        offset += 8
        name = packed[offset : offset + name_length].decode("utf-8", "surrogateescape")
        offset += name_length
        contents[name] = packed[offset : offset + data_length]
        offset += data_length
    return contents
