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
from collections.abc import Iterable

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

    def type_of(self, row: int) -> EntryType:
        return _TYPES[self._types[row]]

    def link_of(self, row: int) -> str | None:
        return self._links.get(row)

    @property
    def type_codes(self) -> bytes | bytearray:
        """Each row's type as a small number: ``EntryType`` member ``type_code(kind)``."""
        return self._types

    # -- as bytes, for the layer cache -------------------------------------------------------------------

    def pack(self) -> bytes:
        """The table as bytes (``unpack`` reads them): the columns as they are held, the paths in one text."""
        joined = "\0".join(self.paths).encode("utf-8", "surrogateescape")  # NUL: no UTF-8 sequence spans it
        lengths = array("I", map(len, self.paths))
        sparse = {
            "md5": self._md5 is not None,
            "links": [[row, link] for row, link in self._links.items()],
            "xattrs": [[row, [list(pair) for pair in pairs]] for row, pairs in self._xattrs.items()],
        }
        sections = [
            json.dumps(sparse).encode("utf-8", "surrogateescape"),
            joined,
            lengths.tobytes(),
            bytes(self._types),
            self._modes.tobytes(),
            self._uids.tobytes(),
            self._gids.tobytes(),
            self._sizes.tobytes(),
            bytes(self._sha256),
            bytes(self._md5 or b""),
        ]
        header = struct.pack(f"<{len(sections)}Q", *map(len, sections))
        return header + b"".join(sections)

    @classmethod
    def unpack(cls, packed: bytes | memoryview) -> EntryTable:
        view = memoryview(packed)
        sizes = struct.unpack_from(f"<{_SECTIONS}Q", view)
        offset = struct.calcsize(f"<{_SECTIONS}Q")
        sections = []
        for size in sizes:
            sections.append(view[offset : offset + size])
            offset += size
        if offset != len(view):
            raise ValueError("the packed entry table's length is not its sections'")
        sparse_text, joined, lengths, types, modes, uids, gids, sizes_, sha256, md5 = sections
        sparse = json.loads(str(sparse_text, "utf-8", "surrogateescape"))
        rows = len(types)
        expected = (len(lengths), len(modes), len(uids), len(gids), len(sizes_), len(sha256), len(md5))
        widths = (4, 2, 8, 8, 8, _SHA256, _MD5 if sparse["md5"] else 0)
        if expected != tuple(rows * width for width in widths):
            raise ValueError("the packed entry table's columns disagree in length")
        table = cls()
        text = str(joined, "utf-8", "surrogateescape")
        start = 0
        path_lengths = array("I")
        path_lengths.frombytes(lengths)
        for length in path_lengths:
            table.paths.append(text[start : start + length])
            start += length + 1
        table._types = bytearray(types)
        for column, raw in (
            (table._modes, modes),
            (table._uids, uids),
            (table._gids, gids),
            (table._sizes, sizes_),
        ):
            column.frombytes(raw)
        table._sha256 = bytearray(sha256)
        table._md5 = bytearray(md5) if sparse["md5"] else None
        table._links = {row: link for row, link in sparse["links"]}
        table._xattrs = {row: tuple((k, v) for k, v in pairs) for row, pairs in sparse["xattrs"]}
        return table


_SECTIONS = 10
