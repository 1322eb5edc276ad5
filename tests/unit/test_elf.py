"""parse_elf on real objects: the host's own binaries (checked against binutils' readelf) and objects built
with gcc here, plus damaged input, which must never raise."""

from __future__ import annotations

import os
import random
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from layerdiff.image.model import ElfInfo
from layerdiff.index.elf import is_elf_magic, parse_elf

HOST_LIBC = Path("/usr/lib/x86_64-linux-gnu/libc.so.6")
needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
needs_readelf = pytest.mark.skipif(shutil.which("readelf") is None, reason="needs binutils' readelf")


@dataclass(frozen=True)
class SampleTree:
    """Objects built by ``build_sample_tree``; shared with test_libraries."""

    root: Path
    libfoo: Path  # <root>/lib/libfoo.so.1.0, SONAME libfoo.so.1, with the libfoo.so.1 link beside it
    app_rpath: Path  # <root>/bin/app-rpath: NEEDED libfoo.so.1, DT_RPATH $ORIGIN/../lib
    app_runpath: Path  # <root>/bin/app-runpath: NEEDED libfoo.so.1, DT_RUNPATH $ORIGIN/../lib
    alt_libfoo: Path  # <root>/alt/libfoo.so.1: another libfoo, to be found through LD_LIBRARY_PATH


def _gcc(*args: str | Path) -> None:
    subprocess.run(["gcc", *map(str, args)], check=True, capture_output=True)


def build_sample_tree(root: Path) -> SampleTree:
    for directory in ("src", "lib", "bin", "alt"):
        (root / directory).mkdir(parents=True, exist_ok=True)
    (root / "src/foo.c").write_text("int foo(void) { return 42; }\n")
    (root / "src/app.c").write_text("int foo(void);\nint main(void) { return foo() == 42 ? 0 : 1; }\n")
    libfoo = root / "lib/libfoo.so.1.0"
    _gcc("-shared", "-fPIC", "-Wl,-soname,libfoo.so.1", "-o", libfoo, root / "src/foo.c")
    (root / "lib/libfoo.so.1").symlink_to("libfoo.so.1.0")
    shutil.copy(libfoo, root / "alt/libfoo.so.1")
    apps = {}
    for flavour, dtags in (("rpath", "--disable-new-dtags"), ("runpath", "--enable-new-dtags")):
        apps[flavour] = root / f"bin/app-{flavour}"
        link = [f"-Wl,{dtags}", "-Wl,-rpath,$ORIGIN/../lib", f"-L{root / 'lib'}", "-l:libfoo.so.1"]
        _gcc("-o", apps[flavour], root / "src/app.c", *link)
    return SampleTree(root, libfoo, apps["rpath"], apps["runpath"], root / "alt/libfoo.so.1")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleTree:
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc")
    return build_sample_tree(tmp_path_factory.mktemp("elf"))


def parse_file(path: Path) -> ElfInfo | None:
    return parse_elf(path.read_bytes())


@needs_gcc
def test_shared_library_soname_and_no_interpreter(sample: SampleTree) -> None:
    info = parse_file(sample.libfoo)
    assert info is not None
    assert (info.elf_type, info.soname, info.needed) == ("ET_DYN", "libfoo.so.1", ())
    assert info.interpreter is None and info.rpath == () and info.runpath == ()


@needs_gcc
def test_disable_new_dtags_writes_rpath_unexpanded(sample: SampleTree) -> None:
    info = parse_file(sample.app_rpath)
    assert info is not None
    assert info.needed[0] == "libfoo.so.1" and "libc.so.6" in info.needed
    assert info.rpath == ("$ORIGIN/../lib",) and info.runpath == ()
    assert info.interpreter is not None and info.interpreter.startswith("/")


@needs_gcc
def test_enable_new_dtags_writes_runpath(sample: SampleTree) -> None:
    info = parse_file(sample.app_runpath)
    assert info is not None
    assert info.runpath == ("$ORIGIN/../lib",) and info.rpath == ()


@needs_gcc
def test_path_lists_split_on_colons_keeping_empty_entries(tmp_path: Path) -> None:
    (tmp_path / "a.c").write_text("int main(void) { return 0; }\n")
    _gcc("-o", tmp_path / "a", tmp_path / "a.c", "-Wl,--enable-new-dtags,-rpath,/x:$LIB::/y/${PLATFORM}")
    info = parse_file(tmp_path / "a")
    assert info is not None and info.runpath == ("/x", "$LIB", "", "/y/${PLATFORM}")


@needs_gcc
def test_32_bit_object(tmp_path: Path) -> None:
    (tmp_path / "f.c").write_text("int f(void) { return 1; }\n")
    try:
        _gcc(
            "-m32",
            "-shared",
            "-nostdlib",
            "-fPIC",
            "-Wl,-soname,libf.so.1",
            "-o",
            tmp_path / "f.so",
            tmp_path / "f.c",
        )
    except subprocess.CalledProcessError:
        pytest.skip("gcc -m32 cannot link here")
    info = parse_file(tmp_path / "f.so")
    assert info is not None
    assert (info.elf_class, info.machine, info.soname) == (32, "EM_386", "libf.so.1")


@pytest.mark.skipif(not HOST_LIBC.exists(), reason="needs an x86_64 Debian-style host libc")
def test_host_libc() -> None:
    info = parse_file(HOST_LIBC)
    assert info is not None
    assert (info.elf_class, info.machine, info.elf_type, info.soname) == (
        64,
        "EM_X86_64",
        "ET_DYN",
        "libc.so.6",
    )
    assert "ld-linux-x86-64.so.2" in info.needed


@needs_gcc
def test_section_headers_are_not_needed(sample: SampleTree) -> None:
    """What ld.so reads survives removing the section header table (as sstrip does)."""
    data = bytearray(sample.app_rpath.read_bytes())
    if data[4:6] != b"\x02\x01":
        pytest.skip("the offsets below are those of a little-endian ELF64 header")
    struct.pack_into("<Q", data, 0x28, 0)  # e_shoff
    struct.pack_into("<HH", data, 0x3C, 0, 0)  # e_shnum, e_shstrndx
    stripped = parse_elf(bytes(data))
    assert stripped == parse_file(sample.app_rpath)


def _readelf_facts(path: Path) -> dict[str, object]:
    """The same facts as readelf prints them: an independent parser to compare against."""
    out = subprocess.run(
        ["readelf", "-W", "-h", "-l", "-d", str(path)], check=True, capture_output=True, text=True
    ).stdout
    strings = {
        kind: re.findall(rf"\({kind}\)\s+\S+ \S+: \[(.*)\]", out)
        for kind in ("NEEDED", "SONAME", "RPATH", "RUNPATH")
    }
    interp = re.search(r"Requesting program interpreter: (.*)\]", out)
    elf_class = re.search(r"Class:\s+ELF(\d+)", out)
    elf_type = re.search(r"Type:\s+(\w+)", out)
    return {
        "class": int(elf_class.group(1)) if elf_class else None,
        "type": f"ET_{elf_type.group(1)}" if elf_type else None,
        "needed": tuple(strings["NEEDED"]),
        "soname": strings["SONAME"][0] if strings["SONAME"] else None,
        "rpath": tuple(strings["RPATH"][0].split(":")) if strings["RPATH"] else (),
        "runpath": tuple(strings["RUNPATH"][0].split(":")) if strings["RUNPATH"] else (),
        "interpreter": interp.group(1) if interp else None,
    }


def _host_elf_files(per_directory: int) -> list[Path]:
    """Executables and libraries alike: the first ELF files, by name, of a few host directories."""
    found: list[Path] = []
    for directory in ("/usr/bin", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64"):
        if not os.path.isdir(directory):
            continue
        taken = 0
        for entry in sorted(os.scandir(directory), key=lambda e: e.name):
            if taken == per_directory:
                break
            if entry.is_file(follow_symlinks=False):
                with open(entry.path, "rb") as handle:
                    if is_elf_magic(handle.read(4)):
                        found.append(Path(entry.path))
                        taken += 1
    return found


def _assert_agrees_with_readelf(paths: list[Path]) -> None:
    for path in paths:
        info = parse_file(path)
        assert info is not None, path
        ours = {
            "class": info.elf_class,
            "type": info.elf_type,
            "needed": info.needed,
            "soname": info.soname,
            "rpath": info.rpath,
            "runpath": info.runpath,
            "interpreter": info.interpreter,
        }
        assert ours == _readelf_facts(path), path


@needs_readelf
def test_agrees_with_readelf_on_host_objects() -> None:
    paths = _host_elf_files(per_directory=80)
    assert paths, "no ELF files found on the host"
    _assert_agrees_with_readelf(paths)


@needs_readelf
@needs_gcc
def test_agrees_with_readelf_on_built_objects(sample: SampleTree) -> None:
    _assert_agrees_with_readelf([sample.libfoo, sample.app_rpath, sample.app_runpath])


def test_is_elf_magic() -> None:
    assert is_elf_magic(b"\x7fELF\x02\x01")
    assert not is_elf_magic(b"\x7fEL") and not is_elf_magic(b"#!/bin/sh\n") and not is_elf_magic(b"")


def test_non_elf_input_is_none() -> None:
    for data in (b"", b"\x7fEL", b"#!/bin/sh\necho hi\n", b"PK\x03\x04" + bytes(100), bytes(64)):
        assert parse_elf(data) is None


def test_bad_identification_bytes_are_none() -> None:
    assert parse_elf(b"\x7fELF\x03\x01" + bytes(58)) is None  # EI_CLASS 3 does not exist
    assert parse_elf(b"\x7fELF\x02\x07" + bytes(58)) is None  # nor EI_DATA 7


@needs_gcc
def test_truncated_object_never_raises(sample: SampleTree) -> None:
    data = sample.app_rpath.read_bytes()
    cut_points = [*range(0, 2048), *range(2048, len(data), 97)]
    results = [parse_elf(data[:cut]) for cut in cut_points]
    assert all(result is None for result in results[:64])  # not even the ELF header is complete
    assert all(result is None or result.elf_class == 64 for result in results)


@needs_gcc
def test_corrupted_object_never_raises(sample: SampleTree) -> None:
    data = sample.libfoo.read_bytes()
    rng = random.Random(20240601)  # fixed seed: the same damage on every run
    for _ in range(1500):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 24)):
            # Mostly the headers and dynamic array near the start, where damage changes what is parsed.
            position = (
                rng.randrange(min(len(damaged), 4096)) if rng.random() < 0.9 else rng.randrange(len(damaged))
            )
            damaged[position] = rng.randrange(256)
        parse_elf(bytes(damaged))
