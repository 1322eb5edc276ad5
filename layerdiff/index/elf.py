"""ELF facts the dynamic loader acts on (class, machine, type, PT_INTERP, DT_NEEDED/SONAME/RPATH/RUNPATH).

Read the way ld.so reads them: program headers only, the dynamic array at PT_DYNAMIC and its strings at
DT_STRTAB mapped through the PT_LOAD segments. Section headers are never consulted, so stripped
(``sstrip``) objects parse and no symbol, hash or DWARF table is ever decoded: this runs on every ELF
file of an image. For the same reason pyelftools' struct definitions are built once per ELF flavour and
reused, rather than per file by ``ELFFile``. Malformed input never raises; what cannot be read is left out.
"""

from __future__ import annotations

import functools
import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from elftools.common.exceptions import ELFError
from elftools.common.utils import struct_parse
from elftools.construct import ConstructError
from elftools.elf.structs import ELFStructs

from layerdiff.image.model import ElfInfo

ELF_MAGIC = b"\x7fELF"

# Everything pyelftools and the stdlib raise on hostile headers: ELFParseError is an ELFError; offsets
# beyond 2**63 make BytesIO.seek raise OverflowError; negative ones ValueError.
_PARSE_ERRORS = (ELFError, ConstructError, struct.error, ValueError, OverflowError, IndexError, KeyError)

_STRING_TAGS = frozenset({"DT_NEEDED", "DT_SONAME", "DT_RPATH", "DT_RUNPATH"})
_CLASSES = {1: 32, 2: 64}  # e_ident[EI_CLASS]
_LITTLE_ENDIAN = {1: True, 2: False}  # e_ident[EI_DATA]
_PN_XNUM = 0xFFFF  # e_phnum saying "the real count is in section 0's sh_info"


@dataclass(frozen=True, slots=True)
class _Segment:
    kind: str | int  # p_type as pyelftools names it; an int when unknown
    offset: int
    vaddr: int
    filesz: int


@dataclass
class _DynamicStrings:
    needed: list[str]
    soname: str | None = None
    rpath: str | None = None
    runpath: str | None = None


def is_elf_magic(prefix: bytes) -> bool:
    """Whether ``prefix`` (a file's first bytes, at least 4) starts like an ELF object."""
    return prefix[:4] == ELF_MAGIC


def parse_elf(data: bytes) -> ElfInfo | None:
    """The loader-relevant facts of the ELF object ``data``; None when it is not ELF or its header is bad."""
    if len(data) < 6 or not is_elf_magic(data):
        return None
    elf_class, little_endian = _CLASSES.get(data[4]), _LITTLE_ENDIAN.get(data[5])
    if elf_class is None or little_endian is None:
        return None
    stream = io.BytesIO(data)
    try:
        header = struct_parse(_basic_structs(little_endian, elf_class).Elf_Ehdr, stream, stream_pos=0)
        machine, elf_type = header["e_machine"], header["e_type"]
        structs = _full_structs(little_endian, elf_class, elf_type, machine, header["e_ident"]["EI_OSABI"])
    except _PARSE_ERRORS:
        return None
    segments = list(_segments(structs, header, stream))
    dynamic = _dynamic_strings(structs, stream, data, segments)
    return ElfInfo(
        elf_class=elf_class,
        machine=_enum_name(machine),
        elf_type=_enum_name(elf_type),
        soname=dynamic.soname,
        needed=tuple(dynamic.needed),
        rpath=_split_path_list(dynamic.rpath),
        runpath=_split_path_list(dynamic.runpath),
        interpreter=_interpreter(data, segments),
    )


@functools.lru_cache(maxsize=8)
def _basic_structs(little_endian: bool, elf_class: int) -> ELFStructs:
    structs = ELFStructs(little_endian=little_endian, elfclass=elf_class)
    structs.create_basic_structs()
    return structs


@functools.lru_cache(maxsize=64)
def _full_structs(little_endian: bool, elf_class: int, elf_type: Any, machine: Any, osabi: Any) -> ELFStructs:
    # Enum values in Elf_Phdr/Elf_Dyn depend on the machine and OS ABI, hence the key.
    structs = ELFStructs(little_endian=little_endian, elfclass=elf_class)
    structs.create_basic_structs()
    structs.create_advanced_structs(elf_type, machine, osabi)
    return structs


def _enum_name(value: Any) -> str:
    # pyelftools maps known values to names ("EM_X86_64") and leaves unknown ones as ints.
    return value if isinstance(value, str) else str(value)


def _segments(structs: ELFStructs, header: Any, stream: io.BytesIO) -> Iterator[_Segment]:
    """Program headers in file order, stopping quietly at the first one that cannot be read."""
    try:
        count, first, size = header["e_phnum"], header["e_phoff"], header["e_phentsize"]
        if count == _PN_XNUM:
            count = struct_parse(structs.Elf_Shdr, stream, stream_pos=header["e_shoff"])["sh_info"]
            count = min(count, _PN_XNUM)  # more program headers than that is no object anything loads
        if size < structs.Elf_Phdr.sizeof():
            return  # entries would overlap: not something the kernel would load either
        for index in range(count):
            phdr = struct_parse(structs.Elf_Phdr, stream, stream_pos=first + index * size)
            yield _Segment(phdr["p_type"], phdr["p_offset"], phdr["p_vaddr"], phdr["p_filesz"])
    except _PARSE_ERRORS:
        return


def _interpreter(data: bytes, segments: list[_Segment]) -> str | None:
    for segment in segments:
        if segment.kind == "PT_INTERP":
            raw = data[segment.offset : segment.offset + segment.filesz]
            return _decode(raw.split(b"\0", 1)[0]) or None
    return None


def _dynamic_strings(
    structs: ELFStructs, stream: io.BytesIO, data: bytes, segments: list[_Segment]
) -> _DynamicStrings:
    result = _DynamicStrings(needed=[])
    dynamic = next((s for s in segments if s.kind == "PT_DYNAMIC"), None)
    if dynamic is None:
        return result
    string_refs, strtab_vaddr = _read_dynamic_array(structs, stream, dynamic, len(data))
    strtab = _file_offset(strtab_vaddr, segments) if strtab_vaddr is not None else None
    if strtab is None:
        return result
    for tag, offset in string_refs:
        value = _cstring(data, strtab + offset)
        if value is None:
            continue
        if tag == "DT_NEEDED":
            result.needed.append(value)
        elif tag == "DT_SONAME":
            result.soname = value
        elif tag == "DT_RPATH":
            result.rpath = value
        else:
            result.runpath = value
    return result


def _read_dynamic_array(
    structs: ELFStructs, stream: io.BytesIO, dynamic: _Segment, file_size: int
) -> tuple[list[tuple[str, int]], int | None]:
    """The (tag, string offset) entries that name strings, in order, and DT_STRTAB's address."""
    string_refs: list[tuple[str, int]] = []
    strtab_vaddr: int | None = None
    entry = structs.Elf_Dyn
    # A corrupt p_filesz must not make us walk a 64 MiB file entry by entry.
    present = min(dynamic.filesz, max(file_size - dynamic.offset, 0))
    try:
        for index in range(present // entry.sizeof()):
            tag = struct_parse(entry, stream, stream_pos=dynamic.offset + index * entry.sizeof())
            name = tag["d_tag"]
            if name == "DT_NULL":
                break
            if name == "DT_STRTAB":
                strtab_vaddr = tag["d_ptr"]
            elif name in _STRING_TAGS:
                string_refs.append((name, tag["d_val"]))
    except _PARSE_ERRORS:
        pass  # keep the entries read before the damage
    return string_refs, strtab_vaddr


def _file_offset(vaddr: int, segments: list[_Segment]) -> int | None:
    """Where the loaded address ``vaddr`` comes from in the file, as the loader maps PT_LOAD segments."""
    for segment in segments:
        if segment.kind == "PT_LOAD" and segment.vaddr <= vaddr < segment.vaddr + segment.filesz:
            return vaddr - segment.vaddr + segment.offset
    return None


def _cstring(data: bytes, start: int) -> str | None:
    end = data.find(b"\0", start)
    if start < 0 or end < 0:
        return None  # unterminated: the string table is cut off
    return _decode(data[start:end])


def _decode(raw: bytes) -> str:
    # Names are bytes to the loader; surrogateescape keeps any byte and matches how tarfile decodes paths.
    return raw.decode("utf-8", errors="surrogateescape")


def _split_path_list(value: str | None) -> tuple[str, ...]:
    return tuple(value.split(":")) if value is not None else ()
