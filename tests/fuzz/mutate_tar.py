"""Mutations of tar archives (layer tars, docker save archives) that keep most of the archive readable,
so that they reach past the first header: header fields rewritten (and the checksum fixed, mostly), PAX and
GNU long-name headers inserted, hostile entries added, members dropped, repeated, reordered or truncated."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from tests.fuzz.mutate_bytes import MAX_BYTES, mutated_bytes
from tests.support.imagebuilder import F, layer_tar

BLOCK = 512
FIELDS = {  # name: (offset, length, numeric)
    "name": (0, 100, False),
    "mode": (100, 8, True),
    "uid": (108, 8, True),
    "gid": (116, 8, True),
    "size": (124, 12, True),
    "mtime": (136, 12, True),
    "chksum": (148, 8, True),
    "typeflag": (156, 1, False),
    "linkname": (157, 100, False),
    "magic": (257, 8, False),
    "uname": (265, 32, False),
    "devmajor": (329, 8, True),
    "devminor": (337, 8, True),
    "prefix": (345, 155, False),
}
NUMBERS = (0, 1, 0o777, 0o4755, 0o7777, 511, 512, 513, 65535, 1 << 21, 1 << 33, (1 << 40) + 1)
NAMES = (
    b"",
    b"/",
    b".",
    b"..",
    b"../../etc/passwd",
    b"/etc/passwd",
    b".wh.",
    b".wh..",
    b".wh..wh..opq",
    b"etc/.wh..wh..opq",
    b".wh..wh.plnk/x",
    b"./" * 49,
    b"a/" * 49 + b"b",
    b"\xff\xfe/\x80",
    b"dir/",
    b"usr/bin/python3",
    b"etc/ld.so.conf",
    b"var/lib/dpkg/status",
    b"x" * 100,
)
TYPEFLAGS = b"0123456789xgLKSAVDMNZ\0"
PAX_KEYS = (
    b"path",
    b"linkpath",
    b"size",
    b"uid",
    b"gid",
    b"mtime",
    b"uname",
    b"GNU.sparse.size",
    b"GNU.sparse.realsize",
    b"GNU.sparse.map",
    b"GNU.sparse.numblocks",
    b"GNU.sparse.offset",
    b"GNU.sparse.name",
    b"GNU.sparse.major",
    b"GNU.sparse.minor",
    b"SCHILY.xattr.security.capability",
    b"SCHILY.xattr.user.note",
    b"hdrcharset",
)
PAX_VALUES = (
    b"",
    b"0",
    b"-1",
    b"1099511627776",
    b"99999999999999999999999",
    b"1.5",
    b"abc",
    b"0,1,1099511627776,1",
    b"1,0,0",
    b"BINARY",
    b"\x01\x00\x00\x02\xff\xff\xff\xff",
    b"\xff\xfe",
    b"/",
    b"../../x",
    b"a" * 4096,
)
HOSTILE_ENTRIES = (
    F(".wh."),
    F(".wh.."),
    F(".wh..wh..opq"),
    F("loop-a", kind="symlink", link="loop-b"),
    F("loop-b", kind="symlink", link="loop-a"),
    F("deep", kind="symlink", link="./" * 2000 + "etc"),
    F("deeper", kind="symlink", link="./" * 100_000 + "etc"),
    F("up", kind="symlink", link="../../../../../.."),
    F("root", kind="symlink", link="/"),
    F("empty-link", kind="symlink", link=""),
    F("hard-missing", kind="hardlink", link="no/such/file"),
    F("hard-self", kind="hardlink", link="hard-self"),
    F("hard-dir", kind="hardlink", link="etc"),
    F("etc", kind="file", data=b"a file where a directory was"),
    F("etc/passwd", kind="symlink", link="/proc/self/environ"),
    F("usr/bin/su", b"\x7fELF", mode=0o6777),
    F("dev/sda", kind="block"),
    F("dev/fifo", kind="fifo"),
    F("cap", b"x", xattrs={"security.capability": b"\x01\x00\x00\x02\xff\xff\xff\xff"}),
    F("cap-short", b"x", xattrs={"security.capability": b"\x01"}),
    F("\udcff\udcfe-name", b"non-UTF-8 name"),
    F("a/" * 60 + "long", b"long name"),
)


@dataclass(frozen=True)
class Member:
    offset: int  # of its header
    end: int  # after its padded data


def number(field: bytes) -> int | None:
    """A numeric header field: octal text, or base-256 when its first byte has the high bit set."""
    if field[:1] in (b"\x80", b"\xff"):
        value = int.from_bytes(field[1:], "big")
        return value - (1 << (8 * (len(field) - 1))) if field[:1] == b"\xff" else value
    try:
        return int(field.split(b"\0", 1)[0].strip() or b"0", 8)
    except ValueError:
        return None


def members(data: bytes) -> list[Member]:
    """The members' extents, as far as the headers can be read."""
    found: list[Member] = []
    offset = 0
    while offset + BLOCK <= len(data) and len(found) < 100_000:
        header = data[offset : offset + BLOCK]
        size = number(header[124:136])
        if header == bytes(BLOCK) or size is None:
            break
        end = offset + BLOCK + (max(size, 0) + BLOCK - 1) // BLOCK * BLOCK
        found.append(Member(offset, min(end, len(data))))
        if end > len(data):
            break
        offset = end
    return found


def fix_checksum(header: bytearray) -> None:
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header[:BLOCK])


def header_block(name: bytes, typeflag: bytes, size: int) -> bytearray:
    header = bytearray(BLOCK)
    header[0 : len(name[:100])] = name[:100]
    header[100:108] = b"0000644\0"
    header[108:116] = header[116:124] = b"0000000\0"
    header[124:136] = b"%011o\0" % size
    header[136:148] = b"00000000000\0"
    header[156:157] = typeflag
    header[257:265] = b"ustar\x0000"
    fix_checksum(header)
    return header


def _padded(payload: bytes) -> bytes:
    return payload + bytes(-len(payload) % BLOCK)


def pax_record(key: bytes, value: bytes) -> bytes:
    body = b" " + key + b"=" + value + b"\n"
    length = len(body) + 1
    while len(str(length).encode()) + len(body) != length:
        length += 1
    return str(length).encode() + body


@st.composite
def _numeric(draw: st.DrawFn, length: int) -> bytes:
    kind = draw(st.sampled_from(("octal", "base256", "negative", "garbage", "spaces")))
    if kind == "octal":
        text = b"%o" % draw(st.sampled_from(NUMBERS))
        return text[-(length - 1) :].rjust(length - 1, b"0") + b"\0"
    if kind == "base256":
        value = draw(st.sampled_from(NUMBERS))
        return b"\x80" + value.to_bytes(length - 1, "big", signed=False)[-(length - 1) :]
    if kind == "negative":
        return b"\xff" * length
    if kind == "garbage":
        return draw(st.sampled_from((b"zzzz", b"-1", b"0x10", b"\xff\xfe", b"8888888"))).ljust(length, b"\0")
    return b" " * length


@st.composite
def _edit_field(draw: st.DrawFn, data: bytearray, found: list[Member]) -> None:
    member = draw(st.sampled_from(found))
    header = bytearray(data[member.offset : member.offset + BLOCK])
    name = draw(st.sampled_from(sorted(FIELDS)))
    offset, length, numeric = FIELDS[name]
    if name == "typeflag":
        value = bytes([draw(st.sampled_from(TYPEFLAGS))])
    elif numeric:
        value = draw(_numeric(length))
    else:
        value = draw(st.sampled_from(NAMES))[:length].ljust(length, b"\0")
    header[offset : offset + length] = value
    if name != "chksum" and draw(st.integers(0, 9)) > 0:
        fix_checksum(header)
    data[member.offset : member.offset + BLOCK] = header


@st.composite
def _insert_pax(draw: st.DrawFn, data: bytearray, found: list[Member]) -> None:
    records = b"".join(
        pax_record(draw(st.sampled_from(PAX_KEYS)), draw(st.sampled_from(PAX_VALUES)))
        for _ in range(draw(st.integers(1, 4)))
    )
    if draw(st.integers(0, 4)) == 0:
        records = draw(mutated_bytes(records, max_ops=2))
    typeflag = draw(st.sampled_from((b"x", b"g", b"L", b"K")))
    position = draw(st.sampled_from(found)).offset if found else 0
    data[position:position] = header_block(b"././@PaxHeader", typeflag, len(records)) + _padded(records)


@st.composite
def _add_entries(draw: st.DrawFn, data: bytearray, found: list[Member]) -> None:
    entries = draw(st.lists(st.sampled_from(HOSTILE_ENTRIES), min_size=1, max_size=4))
    extra = layer_tar(entries)
    blocks = extra[: members(extra)[-1].end]
    position = draw(st.sampled_from([m.offset for m in found] + [found[-1].end if found else 0]))
    data[position:position] = blocks


@st.composite
def _rearrange(draw: st.DrawFn, data: bytearray, found: list[Member]) -> None:
    member = draw(st.sampled_from(found))
    blocks = bytes(data[member.offset : member.end])
    operation = draw(st.sampled_from(("drop", "repeat", "move", "truncate", "content")))
    if operation == "drop":
        del data[member.offset : member.end]
    elif operation == "repeat":
        times = min(draw(st.sampled_from((2, 100, 5000))), MAX_BYTES // max(len(blocks), 1))
        data[member.offset : member.offset] = blocks * max(1, times - 1)
    elif operation == "move":
        del data[member.offset : member.end]
        position = draw(st.integers(0, len(data) // BLOCK)) * BLOCK
        data[position:position] = blocks
    elif operation == "truncate":
        del data[draw(st.integers(member.offset, member.end)) :]
    elif member.end > member.offset + BLOCK:
        content = data[member.offset + BLOCK : member.end]
        changed = draw(mutated_bytes(bytes(content), max_ops=2))[: len(content)].ljust(len(content), b"\0")
        data[member.offset + BLOCK : member.end] = changed


@st.composite
def mutated_tar(draw: st.DrawFn, seed: bytes, max_ops: int = 3) -> bytes:
    """``seed`` (a tar) after a few structure-aware edits, and sometimes a raw byte edit on top."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, max_ops))):
        found = members(bytes(data))
        operations = [_insert_pax, _add_entries]
        if found:
            operations += [_edit_field, _edit_field, _rearrange]
        operation = draw(st.sampled_from(operations))
        draw(operation(data, found))
        del data[MAX_BYTES:]
    if draw(st.integers(0, 5)) == 0:
        return draw(mutated_bytes(bytes(data), max_ops=2))
    return bytes(data)
