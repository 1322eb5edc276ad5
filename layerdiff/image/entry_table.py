"""A layer's entries in columns: what a million-file layer costs is its paths, a few fixed-size numbers and
its raw digests, not an object per entry.

``EntryTable`` is a read-only ``Sequence[Entry]``: an ``Entry`` is made when a row is read and dropped by the
reader, so that only the rows being looked at exist as objects. The paths stay ``str`` objects, one per row:
the merged tree keys its maps with the same objects, and a path is the one thing every stage looks up.
"""

from __future__ import annotations

import json
import struct
from array import array
from collections.abc import Callable, Iterable

from layerdiff.image.model import Entry, EntryType
from layerdiff.lazy_sequence import LazySequence

_TYPES = tuple(EntryType)
_TYPE_CODES = {kind: code for code, kind in enumerate(_TYPES)}
_SHA256 = 32
_MD5 = 16
_ABSENT_SHA256 = bytes(_SHA256)  # no content digest (not a file); a real sha256 is never all zeros
_ABSENT_MD5 = bytes(_MD5)


def type_code(kind: EntryType) -> int:
    return _TYPE_CODES[kind]


class EntryTable(LazySequence[Entry]):
    """The rows of one layer, in the order the layer first named each path."""

    __slots__ = (
        "_gids",
        "_links",
        "_md5",
        "_modes",
        "_sha256",
        "_sizes",
        "_types",
        "_uids",
        "_xattrs",
        "paths",
    )

    def __init__(self) -> None:
        self.paths: list[str] = []
        self._types = bytearray()
        self._modes = array("H")
        self._uids = array("q")
        self._gids = array("q")
        self._sizes = array("q")
        self._sha256 = bytearray()
        self._md5: bytearray | None = None  # made on the first md5: most layers of a Python image have none
        self._links: dict[int, str] = {}
        self._xattrs: dict[int, tuple[tuple[str, str], ...]] = {}

    @classmethod
    def of(cls, entries: Iterable[Entry]) -> EntryTable:
        if isinstance(entries, EntryTable):
            return entries
        table = cls()
        for entry in entries:
            table.append(entry)
        return table

    def append(self, entry: Entry) -> int:
        """Add ``entry`` as the last row; its row number."""
        row = len(self.paths)
        self.paths.append(entry.path)
        self._types.append(_TYPE_CODES[entry.type])
        self._modes.append(entry.mode & 0o7777)
        self._uids.append(entry.uid)
        self._gids.append(entry.gid)
        self._sizes.append(entry.size)
        self._sha256 += bytes.fromhex(entry.sha256) if entry.sha256 is not None else _ABSENT_SHA256
        if entry.md5 is not None and self._md5 is None:
            self._md5 = bytearray(_MD5 * row)
        if self._md5 is not None:
            self._md5 += bytes.fromhex(entry.md5) if entry.md5 is not None else _ABSENT_MD5
        self._set_sparse(row, entry)
        return row

    def replace(self, row: int, entry: Entry) -> None:
        """Put ``entry`` in place of the row (a path named again later in the layer)."""
        self.paths[row] = entry.path
        self._types[row] = _TYPE_CODES[entry.type]
        self._modes[row] = entry.mode & 0o7777
        self._uids[row], self._gids[row], self._sizes[row] = entry.uid, entry.gid, entry.size
        start = row * _SHA256
        self._sha256[start : start + _SHA256] = (
            bytes.fromhex(entry.sha256) if entry.sha256 is not None else _ABSENT_SHA256
        )
        if entry.md5 is not None and self._md5 is None:
            self._md5 = bytearray(_MD5 * len(self.paths))
        if self._md5 is not None:
            start = row * _MD5
            self._md5[start : start + _MD5] = (
                bytes.fromhex(entry.md5) if entry.md5 is not None else _ABSENT_MD5
            )
        self._links.pop(row, None)
        self._xattrs.pop(row, None)
        self._set_sparse(row, entry)

    def _set_sparse(self, row: int, entry: Entry) -> None:
        if entry.link is not None:
            self._links[row] = entry.link
        if entry.xattrs:
            self._xattrs[row] = entry.xattrs

    def __len__(self) -> int:
        return len(self.paths)

    def _make(self, index: int) -> Entry:
        return self.entry(index)

    def entry(self, row: int) -> Entry:
        """The row as an ``Entry`` (``row`` must be in range)."""
        start = row * _SHA256
        sha256 = self._sha256[start : start + _SHA256]
        md5 = None
        if self._md5 is not None:
            digest = self._md5[row * _MD5 : (row + 1) * _MD5]
            md5 = digest.hex() if digest != _ABSENT_MD5 else None
        return Entry(
            path=self.paths[row],
            type=_TYPES[self._types[row]],
            mode=self._modes[row],
            uid=self._uids[row],
            gid=self._gids[row],
            size=self._sizes[row],
            link=self._links.get(row),
            sha256=sha256.hex() if sha256 != _ABSENT_SHA256 else None,
            xattrs=self._xattrs.get(row, ()),
            md5=md5,
        )

    def link_of(self, row: int) -> str | None:
        return self._links.get(row)

    def mode_of(self, row: int) -> int:
        return self._modes[row]

    def has_xattrs(self, row: int) -> bool:
        return row in self._xattrs

    @property
    def sizes(self) -> array[int]:
        return self._sizes

    @property
    def type_codes(self) -> bytes | bytearray:
        """Each row's type as a small number: ``EntryType`` member ``type_code(kind)``."""
        return self._types

    # -- as bytes, for the layer cache -------------------------------------------------------------------

    def pack(self, write: Callable[[bytes | bytearray | memoryview], object]) -> None:
        """The table as bytes (``unpack`` reads them), handed to ``write`` a piece at a time: the row count
        and the columns' sizes, the columns as they are held, then the paths, each ended by a NUL (which no
        path holds: tar names are C strings, and PAX names with a NUL are refused)."""
        sparse = {
            "md5": self._md5 is not None,
            "links": [[row, link] for row, link in self._links.items()],
            "xattrs": [[row, [list(pair) for pair in pairs]] for row, pairs in self._xattrs.items()],
        }
        held: list[bytes | bytearray | array[int]] = [json.dumps(sparse).encode("utf-8", "surrogateescape")]
        held += [
            self._types,
            self._modes,
            self._uids,
            self._gids,
            self._sizes,
            self._sha256,
            self._md5 or b"",
        ]
        columns = [memoryview(column) for column in held]
        write(struct.pack(_HEADER, len(self.paths), *(column.nbytes for column in columns)))
        for column in columns:
            write(column.cast("B"))
        for start in range(0, len(self.paths), _PATHS_PER_PIECE):
            piece = self.paths[start : start + _PATHS_PER_PIECE]
            text = "\0".join(piece) + "\0"
            if text.count("\0") != len(piece):
                raise ValueError("a path holds a NUL")
            write(text.encode("utf-8", "surrogateescape"))

    @classmethod
    def unpack(cls, read: Callable[[int], bytes]) -> EntryTable:
        """The table ``pack`` wrote, from ``read(size)`` (up to ``size`` bytes; b"" at the end). A
        ValueError when the bytes are not such a table."""
        header = read(struct.calcsize(_HEADER))
        if len(header) != struct.calcsize(_HEADER):
            raise ValueError("the packed entry table is cut short")
        rows, *sizes = struct.unpack(_HEADER, header)
        md5_size = sizes[-1]
        widths = (1, 2, 8, 8, 8, _SHA256, _MD5 if md5_size else 0)
        if tuple(sizes[1:]) != tuple(rows * width for width in widths):
            raise ValueError("the packed entry table's columns disagree in length")
        sparse_text, types, modes, uids, gids, sizes_, sha256, md5 = (_exactly(read, size) for size in sizes)
        sparse = json.loads(str(sparse_text, "utf-8", "surrogateescape"))
        table = cls()
        table._types = bytearray(types)
        for column, raw in (
            (table._modes, modes),
            (table._uids, uids),
            (table._gids, gids),
            (table._sizes, sizes_),
        ):
            column.frombytes(raw)
        table._sha256 = bytearray(sha256)
        del sha256
        table._md5 = bytearray(md5) if md5_size else None
        table._links = {row: link for row, link in sparse["links"]}
        table._xattrs = {row: tuple((k, v) for k, v in pairs) for row, pairs in sparse["xattrs"]}
        rest = b""
        while piece := read(_PATH_BYTES_PER_READ):
            *complete, rest = (rest + piece).split(b"\0")
            table.paths.extend(name.decode("utf-8", "surrogateescape") for name in complete)
        if rest or len(table.paths) != rows:
            raise ValueError("the packed entry table's paths are not one per row")
        return table


def _exactly(read: Callable[[int], bytes], size: int) -> bytes:
    data = read(size)
    if len(data) != size:
        raise ValueError("the packed entry table is cut short")
    return data


_HEADER = "<9Q"  # rows, then the sizes of the sparse facts (JSON) and of the seven columns
_PATHS_PER_PIECE = 4096
_PATH_BYTES_PER_READ = 1 << 20
