"""Small, well-formed ELF objects written byte by byte (no compiler needed): program headers for PT_LOAD,
PT_INTERP and PT_DYNAMIC, and a dynamic array naming DT_NEEDED, DT_SONAME, DT_RPATH and DT_RUNPATH strings,
as the loader reads them. Seeds for the ELF reader and the library resolution."""

from __future__ import annotations

import struct
from collections.abc import Sequence

PT_LOAD, PT_DYNAMIC, PT_INTERP = 1, 2, 3
DT_NULL, DT_NEEDED, DT_STRTAB, DT_STRSZ, DT_SONAME, DT_RPATH, DT_RUNPATH = 0, 1, 5, 10, 14, 15, 29
ET_EXEC, ET_DYN = 2, 3
EM_386, EM_X86_64, EM_AARCH64 = 3, 62, 183
BASE_ADDRESS = 0x400000


def elf_object(
    needed: Sequence[str] = (),
    soname: str | None = None,
    rpath: str | None = None,
    runpath: str | None = None,
    interpreter: str | None = None,
    elf_class: int = 64,
    little_endian: bool = True,
    machine: int = EM_X86_64,
    elf_type: int = ET_DYN,
) -> bytes:
    order = "<" if little_endian else ">"
    wide = elf_class == 64
    ehdr_size, phdr_size = (64, 56) if wide else (52, 32)
    phnum = 3 if interpreter is not None else 2
    strings = bytearray(b"\0")
    dynamic: list[tuple[int, int]] = []
    for tag, value in [(DT_NEEDED, n) for n in needed] + [
        (DT_SONAME, soname),
        (DT_RPATH, rpath),
        (DT_RUNPATH, runpath),
    ]:
        if value is not None:
            dynamic.append((tag, len(strings)))
            strings += value.encode("utf-8", "surrogateescape") + b"\0"
    interp = (interpreter or "").encode() + b"\0" if interpreter is not None else b""
    interp_offset = ehdr_size + phnum * phdr_size
    strtab_offset = interp_offset + len(interp)
    dynamic_offset = strtab_offset + len(strings)
    dynamic_offset += -dynamic_offset % 8
    dynamic += [(DT_STRTAB, BASE_ADDRESS + strtab_offset), (DT_STRSZ, len(strings)), (DT_NULL, 0)]
    dyn_format = order + ("qQ" if wide else "iI")
    dynamic_bytes = b"".join(struct.pack(dyn_format, tag, value) for tag, value in dynamic)
    total = dynamic_offset + len(dynamic_bytes)

    def phdr(kind: int, offset: int, size: int) -> bytes:
        if wide:
            return struct.pack(order + "IIQQQQQQ", kind, 4, offset, BASE_ADDRESS + offset, 0, size, size, 8)
        return struct.pack(order + "IIIIIIII", kind, offset, BASE_ADDRESS + offset, 0, size, size, 4, 4)

    phdrs = phdr(PT_LOAD, 0, total)
    if interpreter is not None:
        phdrs += phdr(PT_INTERP, interp_offset, len(interp))
    phdrs += phdr(PT_DYNAMIC, dynamic_offset, len(dynamic_bytes))
    ident = b"\x7fELF" + bytes([2 if wide else 1, 1 if little_endian else 2, 1, 0]) + bytes(8)
    rest = (elf_type, machine, 1, 0, ehdr_size, 0, 0, ehdr_size, phdr_size, phnum, 0, 0, 0)
    ehdr = ident + struct.pack(order + ("HHIQQQIHHHHHH" if wide else "HHIIIIIHHHHHH"), *rest)
    image = bytearray(ehdr + phdrs + interp + strings)
    image += bytes(dynamic_offset - len(image))
    return bytes(image + dynamic_bytes)
