"""An image's ``/etc/ld.so.cache``, read as glibc's ld.so reads it (glibc elf/dl-cache.c, the format written
by ldconfig in elf/cache.c), and looked up as ``_dl_load_cache_lookup`` does.

Three layouts exist, and ld.so takes all of them:

- ``glibc-ld.so.cache1.1`` alone (what ldconfig writes since glibc 2.32): a 48-byte header, 24-byte entries
  (flags, key, value, unused, hwcap), then the strings; offsets count from the start of the file;
- ``ld.so-1.7.0`` alone (libc5 and glibc before 2.2): a 16-byte header and 12-byte entries (flags, key,
  value), offsets counting from the end of the entries;
- ``ld.so-1.7.0`` with the new format after it, aligned to 8 bytes; ld.so then reads only the new part,
  whose offsets count from the new header.

An entry's hwcap tells which CPUs it is for: bit 62 alone (in the upper half, besides the ISA level) marks a
``glibc-hwcaps`` subdirectory entry, whose lower 32 bits index the extension section that names the
subdirectory (``x86-64-v3``). Those, and the legacy hwcap entries glibc 2.37 stopped using, are loaded
only on CPUs that have the capability; an image does not say which CPU it will run on, so ``lookup``
answers as for a CPU with none of them (what ld.so always falls back to), and they are kept for the
comparison with what ldconfig would write.

Image content is hostile: the entry count is checked against the file's size (as ld.so does) and against
``limits.ldso_cache_entries``; every string offset must lie inside the file and its string end within
PATH_MAX bytes, or the entry is dropped (ld.so could not open such a path either). The file's size is
bounded by ``captured-file-bytes``, as every file the inventory reads.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from functools import cached_property

from layerdiff.fs.view import ImageFiles
from layerdiff.image.limits import DEFAULT_LIMITS, LimitExceeded, Limits
from layerdiff.image.model import EntryType
from layerdiff.index.capture import Capture

LD_SO_CACHE = "/etc/ld.so.cache"
CAPTURE = Capture(paths=(LD_SO_CACHE,))

OLD_MAGIC = b"ld.so-1.7.0"
NEW_MAGIC = b"glibc-ld.so.cache1.1"
OLD_HEADER = struct.Struct("<12sI")  # magic (11 bytes, padded), nlibs
OLD_ENTRY = struct.Struct("<iII")  # flags, key, value
NEW_HEADER_SIZE = 48  # magic, version, nlibs, len_strings, flags, 3 unused, extension_offset, 3 unused
NEW_ENTRY_SIZE = 24  # flags, key, value, osversion (unused), hwcap
EXTENSION_MAGIC = 0xEAA42174  # cache_extension_magic, (uint32_t) -358342284
EXTENSION_TAG_GLIBC_HWCAPS = 1
HWCAP_EXTENSION = 1 << 62
ISA_LEVEL_MASK = (1 << 10) - 1

_PATH_MAX = 4096  # a longer cached path cannot be opened: the entry is unusable
_ENDIAN_INVALID, _ENDIAN_LITTLE, _ENDIAN_BIG = 1, 2, 3
_DIGITS = re.compile(r"\d+")


class UnusableCache(ValueError):
    """The file is not a cache ld.so would use (ld.so then searches without it)."""


@dataclass(frozen=True, slots=True)
class CacheEntry:
    soname: str  # the key: the name a DT_NEEDED entry is looked up by
    path: str  # the value: the file ld.so opens
    flags: int  # the library's kind and ABI (0x303: libc6, x86-64)
    hwcap: int = 0
    hwcaps_subdirectory: str | None = None  # "x86-64-v3" for a glibc-hwcaps entry

    @property
    def for_some_cpus(self) -> bool:
        """A glibc-hwcaps or legacy hwcap entry: used only where the CPU has that capability."""
        return self.hwcap != 0


@dataclass(frozen=True)
class LdCache:
    layout: str  # "glibc-ld.so.cache1.1", "ld.so-1.7.0" or "ld.so-1.7.0 + glibc-ld.so.cache1.1"
    entries: tuple[CacheEntry, ...]  # in the file's order (ldconfig's: sorted, directory order on ties)
    dropped: int = 0  # entries whose strings lie outside the file

    def lookup(self, name: str, accepted_flags: frozenset[int], preferred_flags: int) -> CacheEntry | None:
        """The entry ld.so takes for ``name`` on a CPU without hwcaps: the first of that name (compared as
        ``_dl_cache_libcmp`` compares, numbers by value) with acceptable flags, one with exactly
        ``preferred_flags`` winning over an earlier one with other acceptable flags."""
        best = None
        for entry in self._by_name.get(library_name_key(name), ()):
            if entry.for_some_cpus or entry.flags not in accepted_flags:
                continue
            if entry.flags == preferred_flags:
                return entry
            best = best or entry
        return best

    @cached_property
    def _by_name(self) -> dict[str, list[CacheEntry]]:
        by_name: dict[str, list[CacheEntry]] = {}
        for entry in self.entries:
            by_name.setdefault(library_name_key(entry.soname), []).append(entry)
        return by_name


@dataclass(frozen=True)
class ImageCache:
    """What an image's /etc/ld.so.cache is to its ld.so."""

    state: str  # "read"; "absent" (no such file); "unread" (over captured-file-bytes); "unusable"
    cache: LdCache | None = None  # when read
    problem: str | None = None  # why ld.so would not use it, when unusable

    @property
    def emulated(self) -> bool:
        """No cache could be read, though ld.so may have one: ld.so.conf's directories stand in for it."""
        return self.state in ("absent", "unread")


def read_image_cache(files: ImageFiles, limits: Limits = DEFAULT_LIMITS) -> ImageCache:
    real = files.resolve(LD_SO_CACHE)
    if real is None:
        return ImageCache("absent")
    data = files.read(LD_SO_CACHE)
    if data is None:
        entry = files.lookup(real)
        if entry is not None and entry.type in (EntryType.FILE, EntryType.HARDLINK):
            return ImageCache("unread")
        return ImageCache("unusable", problem="it is not a regular file")
    try:
        return ImageCache("read", parse_ld_so_cache(data, limits))
    except UnusableCache as exc:
        return ImageCache("unusable", problem=str(exc))


def library_name_key(name: str) -> str:
    """Names ``_dl_cache_libcmp`` finds equal have the same key: digit runs compare by value."""
    return _DIGITS.sub(lambda match: match.group().lstrip("0") or "0", name)


def library_name_compare(left: str, right: str) -> int:
    """``_dl_cache_libcmp``: negative, zero or positive as ``left`` sorts before, with or after ``right``;
    digit runs compare by value ("libfoo.so.10" after "libfoo.so.9") and after any other character."""
    tokens_left, tokens_right = _tokens(left), _tokens(right)
    for a, b in zip(tokens_left, tokens_right, strict=False):
        if a != b:
            return _token_order(a, b)
    return len(tokens_left) - len(tokens_right)


def _tokens(name: str) -> list[tuple[int, str]]:
    """Digit runs as (0, value without leading zeros), other characters one by one as (1, character)."""
    tokens: list[tuple[int, str]] = []
    position = 0
    for match in _DIGITS.finditer(name):
        tokens.extend((1, character) for character in name[position : match.start()])
        tokens.append((0, match.group().lstrip("0") or "0"))
        position = match.end()
    tokens.extend((1, character) for character in name[position:])
    return tokens


def _token_order(a: tuple[int, str], b: tuple[int, str]) -> int:
    if a[0] != b[0]:
        return 1 if a[0] == 0 else -1  # a number sorts after any other character
    if a[0] == 0:  # numbers by value: the longer digit string is larger
        return (len(a[1]) - len(b[1])) or (-1 if a[1] < b[1] else 1)
    return ord(a[1]) - ord(b[1])


def parse_ld_so_cache(data: bytes, limits: Limits = DEFAULT_LIMITS) -> LdCache:
    """The cache in ``data``; ``UnusableCache`` when ld.so would not use it, ``LimitExceeded`` when it lists
    more than ``limits.ldso_cache_entries`` entries."""
    if data.startswith(NEW_MAGIC):
        return _parse_new(data, 0, NEW_MAGIC.decode(), limits)
    if not data.startswith(OLD_MAGIC):
        raise UnusableCache("it starts with neither ld.so-1.7.0 nor glibc-ld.so.cache1.1")
    if len(data) <= OLD_HEADER.size:
        raise UnusableCache("it ends inside its header")
    _, count = OLD_HEADER.unpack_from(data)
    if (len(data) - OLD_HEADER.size) // OLD_ENTRY.size < count:
        raise UnusableCache(f"it claims {count} entries, more than its size holds")
    _check_count(count, limits)
    strings_at = OLD_HEADER.size + count * OLD_ENTRY.size
    new_at = (strings_at + 7) & ~7  # ALIGN_CACHE: the new format hides in the old one's string table
    if len(data) >= new_at + NEW_HEADER_SIZE and data.startswith(NEW_MAGIC, new_at):
        return _parse_new(data, new_at, f"{OLD_MAGIC.decode()} + {NEW_MAGIC.decode()}", limits)
    entries, dropped = [], 0
    for flags, key, value in OLD_ENTRY.iter_unpack(data[OLD_HEADER.size : strings_at]):
        soname, path = _string(data, strings_at, key), _string(data, strings_at, value)
        if soname is None or path is None:
            dropped += 1
        else:
            entries.append(CacheEntry(soname, path, flags))
    return LdCache(OLD_MAGIC.decode(), tuple(entries), dropped)


def _parse_new(data: bytes, start: int, layout: str, limits: Limits) -> LdCache:
    if len(data) - start <= NEW_HEADER_SIZE:
        raise UnusableCache("it ends inside its header")
    order = _byte_order(data[start + 28])
    count, _ = struct.unpack_from(f"{order}II", data, start + 20)
    if (len(data) - start - NEW_HEADER_SIZE) // NEW_ENTRY_SIZE < count:
        raise UnusableCache(f"it claims {count} entries, more than its size holds")
    _check_count(count, limits)
    (extension_offset,) = struct.unpack_from(f"{order}I", data, start + 32)
    subdirectories = _HwcapsNames(data, _hwcaps_section(data, extension_offset, order), order)
    entries, dropped = [], 0
    table = data[start + NEW_HEADER_SIZE : start + NEW_HEADER_SIZE + count * NEW_ENTRY_SIZE]
    for flags, key, value, _, hwcap in struct.iter_unpack(f"{order}iIIIQ", table):
        soname, path = _string(data, start, key), _string(data, start, value)
        if soname is None or path is None:
            dropped += 1
            continue
        subdirectory = None
        if _is_hwcaps_extension(hwcap):
            index = hwcap & 0xFFFFFFFF
            subdirectory = subdirectories.name(index)
        entries.append(CacheEntry(soname, path, flags, hwcap, subdirectory))
    return LdCache(layout, tuple(entries), dropped)


def _byte_order(flags: int) -> str:
    """The byte order the header's flags declare; ld.so ignores a cache of the other order (or invalid)."""
    endian = flags & 3
    if endian == _ENDIAN_INVALID:
        raise UnusableCache("its header marks it invalid")
    # Unset (written by ldconfig before 2.33) is taken as the machine's own: little-endian, as the images
    # this reads nearly all are.
    return ">" if endian == _ENDIAN_BIG else "<"


def _check_count(count: int, limits: Limits) -> None:
    if count > limits.ldso_cache_entries:
        raise LimitExceeded(
            LD_SO_CACHE, "ldso_cache_entries", limits.ldso_cache_entries, f"lists {count} entries"
        )


def _is_hwcaps_extension(hwcap: int) -> bool:
    return ((hwcap >> 32) & ~ISA_LEVEL_MASK) == HWCAP_EXTENSION >> 32


def _hwcaps_section(data: bytes, offset: int, order: str) -> tuple[int, int]:
    """Where the glibc-hwcaps extension section is, and its length in entries: (0, 0) when the cache has
    none or its extension directory is malformed, which ld.so ignores too (cache_extension_load: the last
    section of the tag counts, then cache_extension_verify checks its size and alignment)."""
    if offset == 0 or offset % 4 or offset + 8 > len(data):
        return 0, 0
    magic, sections = struct.unpack_from(f"{order}II", data, offset)
    end = offset + 8 + sections * 16
    if magic != EXTENSION_MAGIC or end > len(data):
        return 0, 0
    found = (0, 0)
    for tag, _, section_offset, size in struct.iter_unpack(f"{order}IIII", data[offset + 8 : end]):
        if section_offset + size > len(data):
            return 0, 0
        if tag == EXTENSION_TAG_GLIBC_HWCAPS:
            found = (section_offset, size)
    section_offset, size = found
    if size == 0 or size % 4 or section_offset % 4:
        return 0, 0
    return section_offset, size // 4


class _HwcapsNames:
    """Subdirectory names by index, read only for the indices entries use (a section of millions of indices
    costs nothing until an entry names one). String offsets count from the start of the file, as
    glibc_hwcaps_string reads them."""

    def __init__(self, data: bytes, section: tuple[int, int], order: str) -> None:
        self._data, self._order = data, order
        self._offset, self._count = section
        self._names: dict[int, str | None] = {}

    def name(self, index: int) -> str | None:
        if index >= self._count:
            return None
        if index not in self._names:
            (string_offset,) = struct.unpack_from(f"{self._order}I", self._data, self._offset + 4 * index)
            self._names[index] = _string(self._data, 0, string_offset)
        return self._names[index]


def _string(data: bytes, base: int, offset: int) -> str | None:
    start = base + offset
    if start >= len(data):
        return None
    end = data.find(b"\0", start, start + _PATH_MAX)
    if end < 0:
        return None
    return data[start:end].decode("utf-8", errors="surrogateescape")
