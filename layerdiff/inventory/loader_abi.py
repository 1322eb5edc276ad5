"""What the dynamic loader and ldconfig know about each architecture: the flags of its ld.so.cache entries,
the Debian multiarch triplet, and the trusted directories ld.so searches last.

The flags are glibc's (sysdeps/generic/ldconfig.h and each architecture's dl-cache.h): ldconfig writes
``FLAG_ELF_LIBC6`` (3) ORed with an ABI bit, and ld.so takes only the entries its ``_dl_cache_check_flags``
accepts. Where the ABI needs ELF header flags layerdiff does not keep (ARM's float ABI, RISC-V's), the
common one is assumed: hard float, double float.

The trusted directories are fixed when glibc is built, so the image is asked which build it has: Debian and
Ubuntu's glibc (``/lib/<triplet>`` present) searches ``/lib/<triplet>``, ``/usr/lib/<triplet>``, ``/lib``,
``/usr/lib``, and its ldconfig scans the same four after ld.so.conf; other 64-bit builds use ``/lib64`` and
``/usr/lib64`` (tried here with ``/lib`` and ``/usr/lib``), 32-bit ones ``/lib`` and ``/usr/lib``.
``/usr/local/lib`` is never trusted: it is reached only through the cache, when ld.so.conf lists it.
"""

from __future__ import annotations

from dataclasses import dataclass

from layerdiff.fs.view import ImageFiles
from layerdiff.image.model import ElfInfo

FLAG_ELF = 1
FLAG_ELF_LIBC6 = 3


@dataclass(frozen=True, slots=True)
class Abi:
    cache_flags: int  # what ldconfig writes for a library of this ABI
    accepted_flags: frozenset[int]  # what ld.so of this ABI takes from the cache
    triplet: str | None  # Debian's multiarch directory name
    family: str  # libraries one ldconfig build puts in its cache (x86-64's takes i386 ones too)


def _abi(flags: int, triplet: str | None, family: str, also: tuple[int, ...] = ()) -> Abi:
    return Abi(flags, frozenset((flags, *also)), triplet, family)


_GENERIC = (FLAG_ELF,)  # generic _dl_cache_check_flags: 1 or 3
_ABIS = {
    ("EM_X86_64", 64): _abi(0x0303, "x86_64-linux-gnu", "x86"),
    ("EM_X86_64", 32): _abi(0x0803, "x86_64-linux-gnux32", "x86"),
    ("EM_386", 32): _abi(FLAG_ELF_LIBC6, "i386-linux-gnu", "x86", _GENERIC),
    ("EM_AARCH64", 64): _abi(0x0A03, "aarch64-linux-gnu", "arm"),
    ("EM_ARM", 32): _abi(0x0903, "arm-linux-gnueabihf", "arm", (FLAG_ELF_LIBC6,)),
    ("EM_PPC64", 64): _abi(0x0503, "powerpc64le-linux-gnu", "powerpc"),
    ("EM_PPC", 32): _abi(FLAG_ELF_LIBC6, "powerpc-linux-gnu", "powerpc", _GENERIC),
    ("EM_S390", 64): _abi(0x0403, "s390x-linux-gnu", "s390"),
    ("EM_S390", 32): _abi(FLAG_ELF_LIBC6, None, "s390", _GENERIC),
    ("EM_SPARCV9", 64): _abi(0x0103, "sparc64-linux-gnu", "sparc"),
    ("EM_RISCV", 64): _abi(0x1003, "riscv64-linux-gnu", "riscv"),
    ("EM_LOONGARCH", 64): _abi(0x1203, "loongarch64-linux-gnu", "loongarch"),
}

DEFAULT_DIRS_64 = ("/lib64", "/usr/lib64", "/lib", "/usr/lib")
DEFAULT_DIRS_32 = ("/lib", "/usr/lib")
# ldconfig's own order for a lib64 build: add_system_dir("/lib64") adds /lib first (sysdeps/x86_64/dl-cache.h)
_LDCONFIG_DIRS_64 = ("/lib", "/lib64", "/usr/lib", "/usr/lib64")


def abi_of(info: ElfInfo) -> Abi:
    """The ABI of an ELF object; an unknown machine gets the generic flags and no triplet."""
    return _ABIS.get((info.machine, info.elf_class)) or _abi(
        FLAG_ELF_LIBC6, None, f"{info.machine}/{info.elf_class}", _GENERIC
    )


def family_abis(family: str) -> dict[int, ElfInfo]:
    """The cache flags one ldconfig build writes, each with the machine and class of its libraries."""
    return {
        abi.cache_flags: ElfInfo(elf_class=elf_class, machine=machine, elf_type="ET_DYN")
        for (machine, elf_class), abi in _ABIS.items()
        if abi.family == family
    } or _unknown_family(family)


def _unknown_family(family: str) -> dict[int, ElfInfo]:
    machine, _, elf_class = family.rpartition("/")
    if not elf_class.isdigit():
        return {}
    return {FLAG_ELF_LIBC6: ElfInfo(elf_class=int(elf_class), machine=machine, elf_type="ET_DYN")}


def multiarch(files: ImageFiles, info: ElfInfo) -> str | None:
    """The triplet when the image has Debian's multiarch layout for this ABI."""
    triplet = abi_of(info).triplet
    if triplet is None:
        return None
    present = any(files.resolve(f"{root}/{triplet}") is not None for root in ("/lib", "/usr/lib"))
    return triplet if present else None


def trusted_directories(files: ImageFiles, info: ElfInfo) -> tuple[str, ...]:
    """The directories ld.so searches after the cache, for an object like ``info``."""
    triplet = multiarch(files, info)
    if triplet is not None:
        return (f"/lib/{triplet}", f"/usr/lib/{triplet}", "/lib", "/usr/lib")
    return DEFAULT_DIRS_64 if info.elf_class == 64 else DEFAULT_DIRS_32


def ldconfig_system_directories(files: ImageFiles, info: ElfInfo) -> tuple[str, ...]:
    """The directories ldconfig of ``info``'s ABI scans after those ld.so.conf names, in its order."""
    if multiarch(files, info) is not None or info.elf_class != 64:
        return trusted_directories(files, info)
    return _LDCONFIG_DIRS_64
