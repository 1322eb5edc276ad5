"""A tar reader as strict as Go's archive/tar, which docker, containerd and syft read layers with.

Python's tarfile ends an archive silently at a bad header checksum, a truncated header or an unparsable
number, reads a PAX header or GNU long name of any size into memory, applies global PAX headers to the
entries after them and fills sparse holes with zeros. Here each of those is what Go makes of it: a bad or
truncated header is an error, special headers are bounded (``tar-header-bytes``), global headers change no
entry, and a sparse file's map is read and checked but its holes are never produced.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import IO, cast

from layerdiff.errors import CorruptLayer
from layerdiff.image.limits import LimitExceeded
from layerdiff.image.streams import CHUNK, ByteStream

BLOCK = 512
_ZERO_BLOCK = bytes(BLOCK)
_HEADER_ONLY = frozenset("123456")  # links, devices, directories, fifos: no data whatever the size says
_OCTAL = re.compile(rb"[0-7]+")
_DECIMAL = re.compile(rb"[+-]?[0-9]+")
_PAX_TIME = re.compile(rb"[+-]?[0-9]+(?:\.[0-9]*)?")
_INT64 = 1 << 63
XATTR_PREFIX = b"SCHILY.xattr."
_NAME_KEYS = {b"path", b"linkpath", b"uname", b"gname"}
_SPARSE_OFFSET, _SPARSE_NUMBYTES = b"GNU.sparse.offset", b"GNU.sparse.numbytes"


@dataclass(slots=True)
class TarEntry:
    """One entry of a tar stream, with its PAX and GNU extensions applied."""

    name: str  # undecodable bytes kept as surrogate escapes
    type: str  # the type flag: "0" file, "1" hard link, "2" symlink, "3" char, "4" block, "5" dir, ...
    mode: int
    uid: int
    gid: int
    size: int  # the file's size; a sparse file's real size, holes included
    linkname: str
    offset: int  # where the entry's data starts in the stream
    stored: int  # bytes of data the stream holds for the entry
    xattrs: dict[str, bytes] = field(default_factory=dict)
    sparse: tuple[tuple[int, int], ...] | None = None  # a sparse file's data fragments: (offset, length)


class TarReader:
    """Reads entries in order; ``read`` gives the current entry's stored data (for a sparse file, its
    fragments one after the other). ``seekable`` streams skip unread data by seeking; ``length`` (when
    known) lets a skip past the end be noticed without reading."""

    def __init__(
        self,
        stream: ByteStream,
        what: str,
        header_limit: int,
        seekable: bool = False,
        length: int | None = None,
    ) -> None:
        self._stream = stream
        self._what = what
        self._header_limit = header_limit
        self._seekable = seekable
        self._length = length
        self.position = 0  # bytes consumed from the stream
        self._remaining = 0  # unread data of the current entry
        self._padding = 0
        self._current = ""
        self._done = False

    def next(self) -> TarEntry | None:
        """The next entry, or None at the end of the archive (two zero blocks, or the end of the stream at
        an entry boundary, as Go accepts)."""
        if self._done or not self._finish_entry():
            self._done = True
            return None
        pax: dict[bytes, bytes] = {}
        long_name = long_link = None
        while True:
            header = self._header()
            if header is None:
                self._done = True
                return None
            kind = header.type
            if kind in ("x", "g", "L", "K"):
                data = self._special(header)
                if data is None:
                    self._done = True
                    return None
                if kind == "x":
                    pax = self._pax_records(data, header.offset)
                elif kind == "g":
                    # Go hands a global header over as an entry of its own, which docker ignores: it changes
                    # none of the entries after it (Python's tarfile would apply it to all of them).
                    self._pax_records(data, header.offset)
                elif kind == "L":
                    long_name = _cstring(data)
                else:
                    long_link = _cstring(data)
                continue
            return self._entry(header, pax, long_name, long_link)

    def read(self, size: int = CHUNK) -> bytes:
        """Up to ``size`` bytes of the current entry's data; b"" once it is all read."""
        wanted = min(size, self._remaining)
        if wanted <= 0:
            return b""
        data = self._read(wanted)
        if len(data) < wanted:
            raise self._truncated(f"inside entry {self._current!r}")
        self._remaining -= wanted
        return data

    # -- the stream -------------------------------------------------------------------------------------

    def _read(self, size: int) -> bytes:
        data = self._stream.read(size)
        while 0 < len(data) < size:
            more = self._stream.read(size - len(data))
            if not more:
                break
            data += more
        self.position += len(data)
        return data

    def _skip(self, size: int) -> bool:
        """Skip ``size`` bytes; False when the stream ends first."""
        if size <= 0:
            return True
        if self._seekable and self._length is not None:
            if self.position + size > self._length:
                return False
            cast(IO[bytes], self._stream).seek(size, io.SEEK_CUR)
            self.position += size
            return True
        while size > 0:
            data = self._stream.read(min(size, CHUNK))  # what a read gives: nothing is joined to be dropped
            if not data:
                return False
            self.position += len(data)
            size -= len(data)
        return True

    def _finish_entry(self) -> bool:
        """Skip what is left of the current entry and its padding; False when the stream ends in the
        padding (Go's end of archive). The stream ending inside the data is an error."""
        if not self._skip(self._remaining):
            raise self._truncated(f"inside entry {self._current!r}")
        self._remaining = 0
        padding, self._padding = self._padding, 0
        return self._skip(padding)

    def _truncated(self, where: str) -> CorruptLayer:
        return CorruptLayer(f"{self._what}: the tar stream ends {where} (truncated)")

    def _error(self, message: str, offset: int) -> CorruptLayer:
        return CorruptLayer(f"{self._what}: invalid tar header at offset {offset}: {message}")

    # -- headers ----------------------------------------------------------------------------------------

    def _header(self) -> _Header | None:
        offset = self.position
        block = self._read(BLOCK)
        if not block:
            return None
        if len(block) < BLOCK:
            raise self._truncated(f"inside the header at offset {offset}")
        if block == _ZERO_BLOCK:
            second = self._read(BLOCK)
            if not second or second == _ZERO_BLOCK:
                return None
            if len(second) < BLOCK:
                raise self._truncated(f"inside the header at offset {offset + BLOCK}")
            raise self._error("a zero block is followed by a header, not by a second zero block", offset)
        try:
            return _parse_header(block, offset)
        except _BadHeader as exc:
            raise self._error(str(exc), offset) from None

    def _special(self, header: _Header) -> bytes | None:
        """The data of a PAX header or GNU long name, bounded; None when the stream ends in its padding."""
        what = {"x": "PAX header", "g": "global PAX header", "L": "GNU long name", "K": "GNU long link"}
        if header.size < 0:
            raise self._error("negative size", header.offset)
        if header.size > self._header_limit:
            raise LimitExceeded(
                self._what,
                "tar_header_bytes",
                self._header_limit,
                f"a {what[header.type]} of {header.size} bytes at offset {header.offset}",
            )
        data = self._read(header.size)
        if len(data) < header.size:
            raise self._truncated(f"inside the {what[header.type]} at offset {header.offset}")
        return data if self._skip(-header.size % BLOCK) else None

    def _pax_records(self, data: bytes, offset: int) -> dict[bytes, bytes]:
        """``"%d %s=%s\\n"`` records, as Go's parsePAX reads them (GNU sparse 0.0 pairs joined into a map)."""
        records: dict[bytes, bytes] = {}
        sparse: list[bytes] = []
        position = 0
        while position < len(data):
            space = data.find(b" ", position, position + 20)
            digits = data[position:space] if space > 0 else b""
            if not digits.isdigit() or not digits.isascii():
                raise self._error("malformed PAX record length", offset)
            end = position + int(digits)
            if end <= space + 1 or end > len(data) or data[end - 1 : end] != b"\n":
                raise self._error("malformed PAX record", offset)
            key, equals, value = data[space + 1 : end - 1].partition(b"=")
            if not equals or not key or b"\0" in key or (key in _NAME_KEYS and b"\0" in value):
                raise self._error("malformed PAX record", offset)
            if key in (_SPARSE_OFFSET, _SPARSE_NUMBYTES):
                if key != (_SPARSE_OFFSET, _SPARSE_NUMBYTES)[len(sparse) % 2] or b"," in value:
                    raise self._error("GNU sparse records out of order", offset)
                sparse.append(value)
            else:
                records[key] = value
            position = end
        if sparse:
            records[b"GNU.sparse.map"] = b",".join(sparse)
        return records

    def _entry(
        self, header: _Header, pax: dict[bytes, bytes], long_name: bytes | None, long_link: bytes | None
    ) -> TarEntry:
        name, linkname, size, uid, gid = header.name, header.linkname, header.size, header.uid, header.gid
        xattrs: dict[str, bytes] = {}
        for key, value in pax.items():
            if not value:
                continue  # Go keeps the header's own value
            if key == b"path":
                name = value
            elif key == b"linkpath":
                linkname = value
            elif key == b"uid":
                uid = self._pax_int(key, value, header.offset)
            elif key == b"gid":
                gid = self._pax_int(key, value, header.offset)
            elif key == b"size":
                size = self._pax_int(key, value, header.offset)
            elif key in (b"mtime", b"atime", b"ctime"):
                if _PAX_TIME.fullmatch(value) is None:
                    raise self._error(f"PAX {key.decode()} is not a time: {value[:40]!r}", header.offset)
            elif key.startswith(XATTR_PREFIX):
                xattrs[_text(key[len(XATTR_PREFIX) :])] = value
        if long_name is not None:
            name = long_name
        if long_link is not None:
            linkname = long_link
        kind = header.type
        if kind == "\0":
            kind = "5" if name.endswith(b"/") else "0"
        stored = 0 if kind in _HEADER_ONLY else size
        if stored < 0:
            raise self._error("negative size", header.offset)
        entry = TarEntry(
            name=_text(name),
            type=kind,
            mode=header.mode,
            uid=uid,
            gid=gid,
            size=size,
            linkname=_text(linkname),
            offset=self.position,
            stored=stored,
            xattrs=xattrs,
        )
        self._current = entry.name
        self._remaining, self._padding = stored, -stored % BLOCK
        if kind == "S":
            self._old_gnu_sparse(entry, header)
        else:
            self._pax_sparse(entry, pax, header.offset)
        return entry

    def _pax_int(self, key: bytes, value: bytes, offset: int) -> int:
        if _DECIMAL.fullmatch(value) is None or not -_INT64 <= int(value) < _INT64:
            raise self._error(f"PAX {key.decode()} is not a number: {value[:40]!r}", offset)
        return int(value)

    # -- sparse files -----------------------------------------------------------------------------------

    def _old_gnu_sparse(self, entry: TarEntry, header: _Header) -> None:
        """GNU's original sparse format: up to 4 fragments in the header, 21 more per extension block."""
        if header.format != "gnu":
            raise self._error("a sparse entry in a non-GNU header", header.offset)
        block, offset = header.block, header.offset
        try:
            entry.size = _numeric(block[483:495], "sparse real size")
            fragments = _old_fragments(block[386:482], 4)
            extended, read = block[482], 0
            while extended:
                read += BLOCK
                if read > self._header_limit:
                    raise self._map_too_long(read - BLOCK, offset)
                extension = self._read(BLOCK)
                if len(extension) < BLOCK:
                    raise self._truncated(f"inside the sparse map of {entry.name!r}")
                fragments += _old_fragments(extension[:504], 21)
                extended = extension[504]
        except _BadHeader as exc:
            raise self._error(str(exc), offset) from None
        entry.offset = self.position
        self._set_sparse(entry, fragments, offset)

    def _pax_sparse(self, entry: TarEntry, pax: dict[bytes, bytes], offset: int) -> None:
        """GNU's PAX sparse formats 0.0, 0.1 (the map in the PAX header) and 1.0 (the map in the data)."""
        version = (pax.get(b"GNU.sparse.major", b""), pax.get(b"GNU.sparse.minor", b""))
        if version in ((b"0", b"0"), (b"0", b"1")) or (version == (b"", b"") and pax.get(b"GNU.sparse.map")):
            in_data = False
        elif version == (b"1", b"0"):
            in_data = True
        else:
            return  # not sparse, or a sparse version Go does not know: a regular file
        if entry.type in _HEADER_ONLY:
            raise self._error("a sparse map on an entry that has no data", offset)
        if pax.get(b"GNU.sparse.name"):
            entry.name = _text(pax[b"GNU.sparse.name"])
            self._current = entry.name
        real = pax.get(b"GNU.sparse.size") or pax.get(b"GNU.sparse.realsize")
        if real:
            entry.size = self._pax_int(b"GNU.sparse.size", real, offset)
        if in_data:
            numbers = self._sparse_map_in_data(entry, offset)
        else:
            count = self._pax_int(b"GNU.sparse.numblocks", pax.get(b"GNU.sparse.numblocks", b""), offset)
            listed = pax.get(b"GNU.sparse.map", b"")
            numbers = (
                [self._pax_int(b"GNU.sparse.map", n, offset) for n in listed.split(b",")] if listed else []
            )
            if len(numbers) != 2 * count:
                raise self._error("the GNU sparse map does not hold GNU.sparse.numblocks fragments", offset)
        self._set_sparse(entry, list(zip(numbers[::2], numbers[1::2], strict=True)), offset)

    def _sparse_map_in_data(self, entry: TarEntry, offset: int) -> list[int]:
        """Format 1.0: newline-terminated decimal numbers (a count, then offset/length pairs) in whole
        blocks at the start of the data."""
        numbers: list[int] = []
        partial = b""
        read = 0
        while not numbers or len(numbers) < 1 + 2 * numbers[0]:
            if numbers and 4 * numbers[0] > self._header_limit:  # each pair takes at least "0\n0\n"
                raise self._map_too_long(4 * numbers[0], offset)
            read += BLOCK
            if read > self._header_limit:
                raise self._map_too_long(read - BLOCK, offset)
            if self._remaining < BLOCK:
                raise self._error("the GNU sparse map runs past the entry's data", offset)
            *lines, partial = (partial + self.read(BLOCK)).split(b"\n")
            numbers += (self._pax_int(b"GNU.sparse map", line, offset) for line in lines)
            if numbers and numbers[0] < 0:
                raise self._error("negative GNU sparse fragment count", offset)
        entry.offset, entry.stored = self.position, self._remaining
        return numbers[1 : 1 + 2 * numbers[0]]

    def _map_too_long(self, size: int, offset: int) -> LimitExceeded:
        return LimitExceeded(
            self._what,
            "tar_header_bytes",
            self._header_limit,
            f"a GNU sparse map of more than {size} bytes at offset {offset}",
        )

    def _set_sparse(self, entry: TarEntry, fragments: list[tuple[int, int]], offset: int) -> None:
        """Go's validateSparseEntries, and the fragments must account for exactly the data stored."""
        end = 0
        for start, length in fragments:
            if start < 0 or length < 0 or start < end or start + length > entry.size:
                raise self._error(f"invalid sparse map for {entry.name!r}", offset)
            end = start + length
        if sum(length for _, length in fragments) != self._remaining:
            raise self._error(f"the sparse map of {entry.name!r} does not match its stored data", offset)
        entry.sparse = tuple(fragments)


@dataclass(frozen=True, slots=True)
class _Header:
    block: bytes
    offset: int
    format: str  # "v7", "ustar", "star" or "gnu"
    type: str
    name: bytes
    linkname: bytes
    mode: int
    uid: int
    gid: int
    size: int


class _BadHeader(ValueError):
    """A field of a header block that Go's reader would refuse."""


def _parse_header(block: bytes, offset: int) -> _Header:
    """One header block, as Go's readHeader parses it."""
    checksum = _octal(block[148:156], "checksum")
    unsigned = sum(block) - sum(block[148:156]) + 8 * 0x20
    if checksum != unsigned and checksum != unsigned - 256 * _high_bytes(block):
        raise _BadHeader("bad header checksum")
    magic, version = block[257:263], block[263:265]
    if magic == b"ustar\0":
        fmt = "star" if block[508:512] == b"tar\0" else "ustar"
    elif magic == b"ustar " and version == b" \0":
        fmt = "gnu"
    else:
        fmt = "v7"
    name = _cstring(block[0:100])
    size = _numeric(block[124:136], "size")
    mode = _numeric(block[100:108], "mode")
    uid = _numeric(block[108:116], "uid")
    gid = _numeric(block[116:124], "gid")
    _numeric(block[136:148], "mtime")
    if fmt != "v7":
        _numeric(block[329:337], "device major")
        _numeric(block[337:345], "device minor")
        prefix = b""
        if fmt == "ustar":
            prefix = _cstring(block[345:500])
        elif fmt == "star":
            prefix = _cstring(block[345:476])
        elif not _gnu_times_parse(block):
            # Go before 1.8 wrote a USTAR prefix into GNU headers' atime/ctime: read it as Go still does
            candidate = _cstring(block[345:500])
            prefix = candidate if candidate.isascii() else b""
        if prefix:
            name = prefix + b"/" + name
    return _Header(block, offset, fmt, chr(block[156]), name, _cstring(block[157:257]), mode, uid, gid, size)


def _high_bytes(block: bytes) -> int:
    """Bytes >= 0x80 outside the checksum field: what tells a signed byte sum from an unsigned one."""
    return sum(1 for b in block[:148] + block[156:] if b >= 0x80)


def _gnu_times_parse(block: bytes) -> bool:
    try:
        for raw in (block[345:357], block[357:369]):
            if raw[0]:
                _numeric(raw, "time")
    except _BadHeader:
        return False
    return True


def _numeric(raw: bytes, what: str) -> int:
    """Go's parseNumeric: base-256 (two's complement) when the high bit is set, else octal."""
    if raw[0] & 0x80:
        invert = 0xFF if raw[0] & 0x40 else 0
        value = 0
        for i, byte in enumerate(raw):
            if value >> 56:
                raise _BadHeader(f"{what} overflows")
            value = value << 8 | ((byte ^ invert) & (0x7F if i == 0 else 0xFF))
        if value >> 63:
            raise _BadHeader(f"{what} overflows")
        return ~value if invert else value
    return _octal(raw, what)


def _octal(raw: bytes, what: str) -> int:
    digits = _cstring(raw.strip(b" \0"))
    if not digits:
        return 0
    if _OCTAL.fullmatch(digits) is None:
        raise _BadHeader(f"{what} is not a number: {raw!r}")
    return int(digits, 8)


def _old_fragments(raw: bytes, count: int) -> list[tuple[int, int]]:
    fragments = []
    for i in range(count):
        item = raw[i * 24 : i * 24 + 24]
        if item[0] == 0:
            break  # where GNU and BSD tar end the list
        fragments.append((_numeric(item[:12], "sparse offset"), _numeric(item[12:], "sparse length")))
    return fragments


def _cstring(raw: bytes) -> bytes:
    end = raw.find(b"\0")
    return raw if end < 0 else raw[:end]


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")
