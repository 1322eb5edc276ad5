"""ld.so.cache files written byte for byte as glibc's ldconfig writes them (elf/cache.c, save_cache), in the
three layouts, for tests that need an image with a cache (the host's ldconfig checks the reader too)."""

from __future__ import annotations

import struct
from dataclasses import dataclass

X86_64 = 0x0303  # FLAG_X8664_LIB64 | FLAG_ELF_LIBC6
I386 = 0x0003  # FLAG_ELF_LIBC6
EXTENSION_MAGIC = 0xEAA42174
HWCAP_EXTENSION = 1 << 62


@dataclass(frozen=True)
class Entry:
    soname: str
    path: str
    flags: int = X86_64
    hwcaps: str | None = None  # a glibc-hwcaps subdirectory name


def write_cache(entries: list[Entry], layout: str = "new", endian: int = 2) -> bytes:
    """``layout``: "new" (glibc-ld.so.cache1.1), "old" (ld.so-1.7.0) or "compat" (old, then new);
    ``endian``: the new header's flags (2 little, 3 big, 1 invalid, 0 unset)."""
    strings = bytearray()
    offsets: dict[str, int] = {}

    def intern(text: str) -> int:
        if text not in offsets:
            offsets[text] = len(strings)
            strings.extend(text.encode() + b"\0")
        return offsets[text]

    subdirectories = sorted({e.hwcaps for e in entries if e.hwcaps is not None})
    rows = [(e, intern(e.soname), intern(e.path)) for e in entries]
    names = [intern(name) for name in subdirectories]
    old = b""
    if layout != "new":
        count = len(rows) if layout == "old" else (len(rows) + 1) & ~1  # compat: even, so no padding
        str_offset = 0 if layout == "old" else 48 + 24 * len(rows)
        old_rows = [(e.flags, str_offset + key, str_offset + value) for e, key, value in rows]
        old_rows += old_rows[-1:] * (count - len(old_rows))
        old = struct.pack("<11sxI", b"ld.so-1.7.0", count) + b"".join(
            struct.pack("<iII", *row) for row in old_rows
        )
        if layout == "old":
            return old + bytes(strings)
    str_offset = 48 + 24 * len(rows)
    extension_offset = (len(old) + str_offset + len(strings) + 3) & ~3
    header = struct.pack(
        "<17s3sIIB3xI12x", b"glibc-ld.so.cache", b"1.1", len(rows), len(strings), endian, extension_offset
    )
    table = b"".join(
        struct.pack(
            "<iIIIQ",
            e.flags,
            str_offset + key,
            str_offset + value,
            0,
            0 if e.hwcaps is None else HWCAP_EXTENSION | subdirectories.index(e.hwcaps),
        )
        for e, key, value in rows
    )
    body = old + header + table + bytes(strings)
    body += b"\0" * (extension_offset - len(body))
    return body + _extensions(extension_offset, [str_offset + n for n in names])


def _extensions(at: int, hwcaps: list[int]) -> bytes:
    generator = b"ldconfig (test) release version 2.36"
    sections = 2 if hwcaps else 1
    hwcaps_at = at + 8 + 16 * sections
    generator_at = hwcaps_at + 4 * len(hwcaps)
    directory = struct.pack("<II", EXTENSION_MAGIC, sections) + struct.pack(
        "<IIII", 0, 0, generator_at, len(generator)
    )
    if hwcaps:
        directory += struct.pack("<IIII", 1, 0, hwcaps_at, 4 * len(hwcaps))
    return directory + struct.pack(f"<{len(hwcaps)}I", *hwcaps) + generator
