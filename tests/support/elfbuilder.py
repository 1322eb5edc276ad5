"""The smallest ELF object the loader facts are read from: a 64-bit little-endian x86-64 shared object with
one PT_LOAD, a PT_DYNAMIC and a string table, and any number of DT_NEEDED, DT_RPATH or DT_RUNPATH
entries. For tests that need hostile loader facts without a compiler."""

from __future__ import annotations

import struct

_EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
_PHDR = struct.Struct("<IIQQQQQQ")
_DYN = struct.Struct("<qQ")
_PT_LOAD, _PT_DYNAMIC = 1, 2
_DT_NULL, _DT_NEEDED, _DT_STRTAB, _DT_RPATH, _DT_RUNPATH = 0, 1, 5, 15, 29


def shared_object(needed: list[str], rpath: str | None = None, runpath: str | None = None) -> bytes:
    strings = bytearray(b"\0")
    entries: list[tuple[int, int]] = []
    for tag, values in ((_DT_NEEDED, needed), (_DT_RPATH, [rpath]), (_DT_RUNPATH, [runpath])):
        for value in values:
            if value is not None:
                entries.append((tag, len(strings)))
                strings += value.encode() + b"\0"
    dynamic_offset = _EHDR.size + 2 * _PHDR.size
    strtab_offset = dynamic_offset + (len(entries) + 2) * _DYN.size
    dynamic = b"".join(_DYN.pack(tag, value) for tag, value in [*entries, (_DT_STRTAB, strtab_offset)])
    dynamic += _DYN.pack(_DT_NULL, 0)
    total = strtab_offset + len(strings)
    ident = b"\x7fELF\x02\x01\x01" + bytes(9)
    header = _EHDR.pack(ident, 3, 62, 1, 0, _EHDR.size, 0, 0, _EHDR.size, _PHDR.size, 2, 64, 0, 0)
    load = _PHDR.pack(_PT_LOAD, 4, 0, 0, 0, total, total, 0x1000)
    dyn = _PHDR.pack(
        _PT_DYNAMIC, 4, dynamic_offset, dynamic_offset, dynamic_offset, len(dynamic), len(dynamic), 8
    )
    return header + load + dyn + dynamic + bytes(strings)
