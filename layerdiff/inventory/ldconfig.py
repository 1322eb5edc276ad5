"""What ``ldconfig`` would write to /etc/ld.so.cache from the image's files (glibc elf/ldconfig.c, as of
2.37: no legacy hwcap subdirectories), and where the image's cache disagrees with it in what ld.so loads.

Directories: those ld.so.conf names, then the system ones (``loader_abi.ldconfig_system_directories``),
each once (by the directory it really is), each followed by its ``glibc-hwcaps/<name>`` subdirectories.
In a directory, a file whose name looks like a library (lib*.so*, ld-*.so*, ...; in glibc-hwcaps
subdirectories symlinks of any name) that is a shared object of the ldconfig's architecture family gives an
entry for its SONAME (its name without one): the path is ``<directory>/<soname>`` (the symlink ldconfig
makes) or, under glibc-hwcaps, the file's own name. Several files of one soname in a directory: a file wins
over a symlink, then the name that sorts last as versions do. ``libfoo.so -> libfoo.so.1`` keeps its own
name as an entry, as ldconfig keeps the ``.so`` link for ld(1). The first directory that has a soname wins.

A cache entry is stale when running ldconfig would change which file ld.so opens for its name: a name the
cache lacks (``added``), a cached file that is gone while ldconfig finds one elsewhere (``moved``), a cached
file ldconfig would drop (``removed``) or replace with another (``changed``: a copy put ahead of it). An entry
whose file is gone and that nothing replaces changes nothing — ld.so falls through to the trusted
directories either way — and is not stale. The work is one pass over the scanned directories.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from layerdiff.fs.view import ImageFiles
from layerdiff.image.model import ElfInfo, EntryType
from layerdiff.inventory.ldcache import CacheEntry, LdCache, library_name_compare, library_name_key
from layerdiff.inventory.loader_abi import (
    abi_of,
    family_abis,
    ldconfig_system_directories,
    trusted_directories,
)

HWCAPS_SUBDIRECTORY = "glibc-hwcaps"
LDCONFIG_PROGRAMS = ("/sbin/ldconfig.real", "/sbin/ldconfig", "/usr/sbin/ldconfig")  # Ubuntu: .real
_FILE_TYPES = (EntryType.FILE, EntryType.HARDLINK)

_Key = tuple[str, int, str | None]  # soname (as _dl_cache_libcmp compares), flags, glibc-hwcaps name


@dataclass(frozen=True, slots=True)
class StaleEntry:
    soname: str
    hwcaps_subdirectory: str | None
    cached: str | None  # the path the image's cache gives for the name; None when it has none
    ldconfig: str | None  # the path ldconfig would write; None when it would write none
    loads: str | None  # what ld.so opens for the name now: the cached path, else a trusted directory's
    would_load: str | None  # what it would open after ldconfig

    @property
    def kind(self) -> str:
        if self.cached is None:
            return "added"
        if self.ldconfig is None:
            return "removed"
        return "moved" if self.loads != self.cached else "changed"


@dataclass(frozen=True, slots=True)
class _Written:
    entry: CacheEntry
    file: str  # what the entry's path leads to once ldconfig made its symlinks


@dataclass(frozen=True, slots=True)
class _Candidate:
    name: str
    is_link: bool
    flags: int


def ldconfig_abi(files: ImageFiles, objects: Iterable[ElfInfo]) -> ElfInfo | None:
    """The architecture of the image's ldconfig program, else the most common one among ``objects``."""
    for program in LDCONFIG_PROGRAMS:
        info = files.elf(program)
        if info is not None:
            return info
    counts = Counter((info.machine, info.elf_class) for info in objects)
    if not counts:
        return None
    (machine, elf_class), _ = counts.most_common(1)[0]
    return ElfInfo(elf_class=elf_class, machine=machine, elf_type="ET_EXEC")


def ldconfig_would_write(files: ImageFiles, conf_dirs: tuple[str, ...], native: ElfInfo) -> list[CacheEntry]:
    """The entries ldconfig would write, the first directory's first for each name."""
    return [written.entry for written in _would_write(files, conf_dirs, native).values()]


def stale_entries(
    files: ImageFiles, cache: LdCache, conf_dirs: tuple[str, ...], native: ElfInfo
) -> tuple[StaleEntry, ...]:
    """Entries of ``cache`` that running ldconfig would change in what ld.so opens, by soname."""
    family = family_abis(abi_of(native).family)
    written = _would_write(files, conf_dirs, native)
    cached: dict[_Key, CacheEntry] = {}
    for entry in cache.entries:
        legacy_hwcap = entry.for_some_cpus and entry.hwcaps_subdirectory is None
        if entry.flags in family and not legacy_hwcap:
            cached.setdefault(_key(entry), entry)
    stale = []
    for key in sorted(set(cached) | set(written), key=lambda k: (k[0], k[1], k[2] or "")):
        old, new = cached.get(key), written.get(key)
        soname = old.soname if old is not None else new.entry.soname if new is not None else key[0]
        abi = family[key[1]]
        now = old.path if old is not None and _loadable(files, old.path, abi) else None
        after = new.file if new is not None else None
        if key[2] is None:  # without a cache entry ld.so goes on to the trusted directories
            now = now or _in_trusted_directories(files, soname, abi)
            after = after or _in_trusted_directories(files, soname, abi)
        now_file = files.resolve(now) if now is not None else None
        after_file = files.resolve(after) if after is not None else None
        if now_file != after_file:
            stale.append(
                StaleEntry(
                    soname,
                    key[2],
                    old.path if old is not None else None,
                    new.entry.path if new is not None else None,
                    now,
                    new.entry.path if new is not None else after,
                )
            )
    return tuple(stale)


def _key(entry: CacheEntry) -> _Key:
    return library_name_key(entry.soname), entry.flags, entry.hwcaps_subdirectory


def _loadable(files: ImageFiles, path: str, abi: ElfInfo) -> bool:
    info = files.elf(path)
    return info is not None and (info.machine, info.elf_class) == (abi.machine, abi.elf_class)


def _in_trusted_directories(files: ImageFiles, soname: str, abi: ElfInfo) -> str | None:
    for directory in trusted_directories(files, abi):
        path = posixpath.join(directory, soname)
        if _loadable(files, path, abi):
            return path
    return None


def _would_write(files: ImageFiles, conf_dirs: tuple[str, ...], native: ElfInfo) -> dict[_Key, _Written]:
    family = abi_of(native).family
    written: dict[_Key, _Written] = {}
    for directory, hwcaps in _directories(files, (*conf_dirs, *ldconfig_system_directories(files, native))):
        for soname, candidate in _scan(files, directory, hwcaps, family).items():
            name = candidate.name if hwcaps is not None else soname
            entry = CacheEntry(soname, posixpath.join(directory, name), candidate.flags, 0, hwcaps)
            written.setdefault(
                _key(entry), _Written(entry, _linked(files, directory, soname, candidate.name))
            )
    return written


def _linked(files: ImageFiles, directory: str, soname: str, name: str) -> str:
    """What ``<directory>/<soname>`` leads to once ldconfig made its link to ``name`` (create_links): a
    file already at the soname's path that is not a symlink is left alone, and is what loads."""
    real_directory = files.resolve(directory)
    entry = files.lookup(posixpath.join(real_directory, soname)) if real_directory is not None else None
    if entry is not None and entry.type is not EntryType.SYMLINK:
        return posixpath.join(directory, soname)
    return posixpath.join(directory, name)


def _directories(files: ImageFiles, listed: tuple[str, ...]) -> list[tuple[str, str | None]]:
    """ldconfig's directory list: each directory once, its glibc-hwcaps subdirectories right after it."""
    seen: set[str] = set()
    directories: list[tuple[str, str | None]] = []

    def add(path: str, hwcaps: str | None) -> bool:
        real = files.resolve(path)
        entry = files.lookup(real) if real is not None else None
        if real is None or entry is None or entry.type is not EntryType.DIR or real in seen:
            return False
        seen.add(real)
        directories.append((path, hwcaps))
        return True

    for directory in listed:
        path = directory.rstrip("/") or "/"
        if not add(path, None):
            continue
        parent = posixpath.join(path, HWCAPS_SUBDIRECTORY)
        for name in files.listdir(parent):
            if name.startswith(".") or ":" in name:
                continue
            add(posixpath.join(parent, name), name)
    return directories


def _scan(files: ImageFiles, directory: str, hwcaps: str | None, family: str) -> dict[str, _Candidate]:
    """search_dir: the file chosen for each soname in one directory."""
    real_directory = files.resolve(directory)
    chosen: dict[str, _Candidate] = {}
    if real_directory is None:
        return chosen
    for name in files.listdir(real_directory):
        entry = files.lookup(posixpath.join(real_directory, name))
        if entry is None or (entry.type is not EntryType.SYMLINK and entry.type not in _FILE_TYPES):
            continue
        is_link = entry.type is EntryType.SYMLINK
        if (not looks_like_dso(name) and (not is_link or hwcaps is None)) or _skipped(name):
            continue
        path = posixpath.join(real_directory, name)
        target = files.resolve(path)
        target_entry = files.lookup(target) if target is not None else None
        info = files.elf(path) if target_entry is not None and target_entry.type in _FILE_TYPES else None
        if info is None or info.elf_type != "ET_DYN" or abi_of(info).family != family:
            continue
        soname = info.soname or name
        if is_link and name != soname and not (name.endswith(".so") and soname.startswith(name)):
            is_link = False  # not the soname link nor ld(1)'s .so link: another implementation
        if is_link:
            soname = name
        current = chosen.get(soname)
        if current is None:
            chosen[soname] = _Candidate(name, is_link, abi_of(info).cache_flags)
        elif (not is_link and current.is_link) or (
            is_link == current.is_link and library_name_compare(current.name, name) < 0
        ):
            chosen[soname] = _Candidate(name, is_link, current.flags)
    return chosen


def looks_like_dso(name: str) -> bool:
    """glibc's _dl_is_dso: lib*.so*, ld-*.so*, ld.so.*, ld64.so.*."""
    return (name.startswith(("lib", "ld-")) and ".so" in name) or name.startswith(("ld.so.", "ld64.so."))


def _skipped(name: str) -> bool:
    """Temporary files of prelink, rpm and dpkg, which ldconfig never reads."""
    return name.endswith((".#prelink#", ".dpkg-new", ".dpkg-tmp")) or ".#prelink#." in name or ";" in name
