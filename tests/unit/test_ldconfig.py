"""What ldconfig would write from an image's files, checked against the host's own ldconfig, and which
cache entries are stale: those where running ldconfig would change the file ld.so opens."""

from __future__ import annotations

import functools
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from layerdiff.image.model import ElfInfo
from layerdiff.inventory.ldcache import parse_ld_so_cache
from layerdiff.inventory.ldconfig import StaleEntry, ldconfig_abi, ldconfig_would_write, stale_entries
from layerdiff.inventory.ldsoconf import read_ld_so_conf
from tests.support.ldcache import Entry, write_cache
from tests.unit.test_ldcache import LDCONFIG, host_library
from tests.unit.test_libraries import ARM64, LIB32, LIB64, FakeImage, HostFiles, debian_image

MULTIARCH = "/usr/lib/x86_64-linux-gnu"
LDCONFIG_ELF = replace(LIB64, elf_type="ET_EXEC")


def lib(soname: str | None) -> ElfInfo:
    return replace(LIB64, soname=soname)


def image() -> FakeImage:
    return debian_image().file("/sbin/ldconfig", LDCONFIG_ELF)


def written(files: FakeImage) -> dict[str, str]:
    entries = ldconfig_would_write(files, read_ld_so_conf(files), LDCONFIG_ELF)
    return {
        e.soname + (f"@{e.hwcaps_subdirectory}" if e.hwcaps_subdirectory else ""): e.path for e in entries
    }


def test_one_entry_per_soname_at_the_soname_path_from_the_first_directory() -> None:
    files = image().file(f"{MULTIARCH}/libpq.so.5.15", lib("libpq.so.5"))
    files.symlink(f"{MULTIARCH}/libpq.so.5", "libpq.so.5.15").symlink(f"{MULTIARCH}/libpq.so", "libpq.so.5")
    files.file("/usr/local/lib/libpq.so.5.16", lib("libpq.so.5"))
    assert written(files) == {
        "libssl.so.3": "/lib/x86_64-linux-gnu/libssl.so.3",  # debian_image's, SONAME-less: its name
        "libz.so.1": "/lib/x86_64-linux-gnu/libz.so.1",
        "libpq.so.5": "/usr/local/lib/libpq.so.5",  # /usr/local/lib is listed first; ldconfig makes the link
        "libpq.so": "/lib/x86_64-linux-gnu/libpq.so",  # ld(1)'s link keeps its own entry
    }


def test_ldconfig_skips_what_it_never_reads() -> None:
    files = image()
    files.file("/usr/local/lib/libexec.so.1", replace(lib("libexec.so.1"), elf_type="ET_EXEC"))
    files.file("/usr/local/lib/libarm.so.1", replace(ARM64, soname="libarm.so.1"))
    files.file("/usr/local/lib/libnew.so.1.dpkg-new", lib("libnew.so.1"))
    files.file("/usr/local/lib/plugin.so", lib("plugin.so")).text("/usr/local/lib/libc.so", "GROUP ( x )")
    files.file("/usr/local/lib/libi386.so.1", replace(LIB32, soname="libi386.so.1"))  # x86-64's takes i386
    assert set(written(files)) == {"libssl.so.3", "libz.so.1", "libi386.so.1"}


def test_glibc_hwcaps_subdirectories_give_entries_at_the_files_own_name() -> None:
    files = image().file(f"{MULTIARCH}/glibc-hwcaps/x86-64-v3/libz.so.1.3", lib("libz.so.1"))
    files.dir(f"{MULTIARCH}/glibc-hwcaps/.hidden")
    assert written(files)["libz.so.1@x86-64-v3"] == "/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libz.so.1.3"


def test_a_file_wins_over_a_link_and_then_the_newest_version() -> None:
    files = image().file("/usr/local/lib/libfoo.so.1.9", lib("libfoo.so.1"))
    files.file("/usr/local/lib/libfoo.so.1.10", lib("libfoo.so.1"))
    files.symlink("/usr/local/lib/libfoo.so.1", "libfoo.so.1.9")
    (entry,) = cache_of(files, *fresh(files))
    # the cached path is the one ldconfig writes, but ldconfig would point the link at 1.10
    assert entry.cached == entry.ldconfig == "/usr/local/lib/libfoo.so.1" and entry.kind == "changed"


def cache_of(files: FakeImage, *entries: Entry) -> tuple[StaleEntry, ...]:
    cache = parse_ld_so_cache(write_cache(list(entries)))
    return stale_entries(files, cache, read_ld_so_conf(files), LDCONFIG_ELF)


def fresh(files: FakeImage) -> list[Entry]:
    """The cache ldconfig would write, as Entry rows."""
    return [
        Entry(e.soname, e.path, e.flags, e.hwcaps_subdirectory)
        for e in ldconfig_would_write(files, read_ld_so_conf(files), LDCONFIG_ELF)
    ]


def test_a_fresh_cache_is_not_stale() -> None:
    files = image().file("/usr/local/lib/libpq.so.5", lib("libpq.so.5"))
    assert cache_of(files, *fresh(files)) == ()


def test_a_library_copied_without_ldconfig_is_an_added_entry() -> None:
    base = image().file(f"{MULTIARCH}/libpq.so.5", lib("libpq.so.5"))
    entries = fresh(base)
    base.file("/usr/local/lib/libpq.so.5", lib("libpq.so.5"))
    (entry,) = cache_of(base, *entries)
    assert entry == StaleEntry(
        "libpq.so.5",
        None,
        "/lib/x86_64-linux-gnu/libpq.so.5",
        "/usr/local/lib/libpq.so.5",
        "/lib/x86_64-linux-gnu/libpq.so.5",
        "/usr/local/lib/libpq.so.5",
    )
    assert entry.kind == "changed"  # the cache has the name, for the other file
    new_name = image().file("/usr/local/lib/libnew.so.1", lib("libnew.so.1"))
    assert [e.kind for e in cache_of(new_name, *fresh(image()))] == ["added"]


def test_a_library_moved_without_ldconfig_is_a_moved_entry() -> None:
    before = image().file(f"{MULTIARCH}/libpq.so.5", lib("libpq.so.5"))
    after = image().file("/usr/local/lib/libpq.so.5", lib("libpq.so.5"))
    (entry,) = cache_of(after, *fresh(before))
    assert (entry.kind, entry.loads, entry.would_load) == ("moved", None, "/usr/local/lib/libpq.so.5")


def test_a_removed_library_nothing_replaces_is_not_stale() -> None:
    before = image().file(f"{MULTIARCH}/libpq.so.5", lib("libpq.so.5"))
    assert cache_of(image(), *fresh(before)) == ()  # ld.so falls through either way: not found


def test_an_entry_ldconfig_would_drop_is_a_removed_entry() -> None:
    files = image().file("/opt/app/lib/libapp.so.1", lib("libapp.so.1"))  # no ld.so.conf line for /opt/app
    (entry,) = cache_of(files, *fresh(image()), Entry("libapp.so.1", "/opt/app/lib/libapp.so.1"))
    assert (entry.kind, entry.loads, entry.would_load) == ("removed", "/opt/app/lib/libapp.so.1", None)


def test_glibc_hwcaps_entries_are_compared_beside_the_baseline_one() -> None:
    files = image().file(f"{MULTIARCH}/libz.so.1.3", lib("libz.so.1"))
    entries = fresh(files)
    files.file(f"{MULTIARCH}/glibc-hwcaps/x86-64-v3/libz.so.1.3", lib("libz.so.1"))
    (entry,) = cache_of(files, *entries)
    assert (entry.soname, entry.hwcaps_subdirectory, entry.kind) == ("libz.so.1", "x86-64-v3", "added")
    assert cache_of(files, *fresh(files)) == ()


def test_legacy_hwcap_and_foreign_entries_are_not_compared() -> None:
    files = image()
    arm = Entry("libarm.so.1", "/opt/libarm.so.1", flags=0x0A03)
    assert cache_of(files, *fresh(files), arm) == ()


# -- against the host's ldconfig -------------------------------------------------------------------------


class CachedHostFiles(HostFiles):
    @functools.cache  # noqa: B019 - one instance per test module
    def elf(self, path: str) -> ElfInfo | None:
        return super().elf(path)


@pytest.mark.skipif(LDCONFIG is None or host_library() is None, reason="needs glibc's ldconfig and a libz")
def test_what_ldconfig_would_write_agrees_with_the_hosts_ldconfig(tmp_path: Path) -> None:
    assert LDCONFIG is not None
    files = CachedHostFiles()
    native = ldconfig_abi(files, [])
    if native is None or not Path("/etc/ld.so.conf").exists():
        pytest.skip("no ldconfig program or ld.so.conf")
    library = host_library()
    assert library is not None
    hwcaps = tmp_path / "lib" / "glibc-hwcaps" / "x86-64-v3"
    hwcaps.mkdir(parents=True)
    shutil.copy(library, tmp_path / "lib")
    shutil.copy(library, hwcaps)
    (tmp_path / "lib" / "libz.so").symlink_to(library.name)  # ld(1)'s link keeps an entry of its own
    conf = tmp_path / "ld.so.conf"
    conf.write_text(f"{tmp_path / 'lib'}\n" + Path("/etc/ld.so.conf").read_text())
    cache = tmp_path / "out.cache"
    command = [LDCONFIG, "-i", "-X", "-C", str(cache), "-f", str(conf)]
    done = subprocess.run(command, capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"ldconfig cannot write a cache here: {done.stderr!r}")
    theirs: dict[tuple[str, int, str | None], str] = {}
    for e in parse_ld_so_cache(cache.read_bytes()).entries:
        theirs.setdefault((e.soname, e.flags, e.hwcaps_subdirectory), e.path)  # the first wins the lookup

    class Configured(CachedHostFiles):
        def read(self, path: str) -> bytes | None:
            return conf.read_bytes() if path == "/etc/ld.so.conf" else super().read(path)

    configured = Configured()
    ours = {
        (e.soname, e.flags, e.hwcaps_subdirectory): e.path
        for e in ldconfig_would_write(configured, read_ld_so_conf(configured), native)
    }
    assert ours == theirs
    assert any(hwcaps == "x86-64-v3" for _, _, hwcaps in ours)
    assert ours[("libz.so", 0x0303, None)] == str(tmp_path / "lib" / "libz.so")
