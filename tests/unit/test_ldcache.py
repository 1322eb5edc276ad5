"""/etc/ld.so.cache read as ld.so reads it: the three layouts, glibc-hwcaps entries, lookups, hostile files;
and against the host's own ldconfig, which writes caches in every layout and prints them with -p."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from layerdiff.image.limits import LimitExceeded, Limits
from layerdiff.inventory.ldcache import (
    CacheEntry,
    UnusableCache,
    library_name_compare,
    library_name_key,
    parse_ld_so_cache,
)
from tests.support.ldcache import I386, X86_64, Entry, write_cache

LIBS = [
    Entry("libz.so.1", "/usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libz.so.1.2.13", hwcaps="x86-64-v3"),
    Entry("libz.so.1", "/lib/x86_64-linux-gnu/libz.so.1"),
    Entry("libz.so.1", "/lib/i386-linux-gnu/libz.so.1", flags=I386),
    Entry("libpq.so.5", "/usr/local/lib/libpq.so.5"),
    Entry("libpq.so.5", "/lib/x86_64-linux-gnu/libpq.so.5"),
]
X86_64_ONLY = frozenset({X86_64})


@pytest.mark.parametrize(
    ("layout", "name"),
    [
        ("new", "glibc-ld.so.cache1.1"),
        ("old", "ld.so-1.7.0"),
        ("compat", "ld.so-1.7.0 + glibc-ld.so.cache1.1"),
    ],
)
def test_every_layout_reads_the_same_entries_in_file_order(layout: str, name: str) -> None:
    cache = parse_ld_so_cache(write_cache(LIBS, layout))
    assert cache.layout == name and cache.dropped == 0
    assert [(e.soname, e.path, e.flags) for e in cache.entries] == [(e.soname, e.path, e.flags) for e in LIBS]


def test_glibc_hwcaps_entries_name_their_subdirectory_and_are_not_the_baseline_answer() -> None:
    cache = parse_ld_so_cache(write_cache(LIBS))
    assert cache.entries[0].hwcaps_subdirectory == "x86-64-v3" and cache.entries[0].for_some_cpus
    found = cache.lookup("libz.so.1", X86_64_ONLY, X86_64)
    assert found == CacheEntry("libz.so.1", "/lib/x86_64-linux-gnu/libz.so.1", X86_64)


def test_lookup_takes_the_first_entry_of_the_requesters_flags() -> None:
    cache = parse_ld_so_cache(write_cache(LIBS))
    first = cache.lookup("libpq.so.5", X86_64_ONLY, X86_64)
    assert first is not None and first.path == "/usr/local/lib/libpq.so.5"
    i386 = cache.lookup("libz.so.1", frozenset({1, I386}), I386)
    assert i386 is not None and i386.path == "/lib/i386-linux-gnu/libz.so.1"
    assert cache.lookup("libpq.so.5", frozenset({1, I386}), I386) is None
    assert cache.lookup("libnone.so.1", X86_64_ONLY, X86_64) is None


def test_names_compare_as_dl_cache_libcmp_compares_them() -> None:
    assert (
        library_name_key("libfoo.so.01")
        == library_name_key("libfoo.so.1")
        != library_name_key("libfoo.so.10")
    )
    assert library_name_compare("libfoo.so.9", "libfoo.so.10") < 0
    assert library_name_compare("libfoo.so.1.2", "libfoo.so.1") > 0
    assert library_name_compare("libfoo.so.1", "libfoo.so.a") > 0  # a number sorts after a letter
    assert library_name_compare("libfoo.so.1", "libfoo.so.01") == 0
    assert library_name_compare("lib" + "9" * 5000, "lib" + "9" * 4999) > 0  # no int conversion limit


# -- hostile files --------------------------------------------------------------------------------------


def test_files_ld_so_would_not_use_are_unusable() -> None:
    good = write_cache(LIBS)
    for data, reason in [
        (b"", "neither"),
        (b"glibc-ld.so.cache1.1", "header"),
        (b"ld.so-1.7.0\0" + struct.pack("<I", 1_000_000) + b"\0" * 64, "more than its size"),
        (good[:20] + struct.pack("<I", 1 << 31) + good[24:], "more than its size"),
        (write_cache(LIBS, endian=1), "invalid"),
    ]:
        with pytest.raises(UnusableCache, match=reason):
            parse_ld_so_cache(data)


def test_the_entry_count_is_bounded_by_its_limit() -> None:
    many = [Entry(f"lib{n}.so.1", f"/lib/lib{n}.so.1") for n in range(20)]
    with pytest.raises(LimitExceeded, match="ldso-cache-entries"):
        parse_ld_so_cache(write_cache(many), Limits(ldso_cache_entries=10))
    assert len(parse_ld_so_cache(write_cache(many), Limits(ldso_cache_entries=20)).entries) == 20


def test_strings_outside_the_file_or_unterminated_drop_their_entry() -> None:
    data = bytearray(write_cache(LIBS[1:3]))
    struct.pack_into("<I", data, 48 + 4, len(data) + 100)  # first entry's key past the end
    cache = parse_ld_so_cache(bytes(data))
    assert cache.dropped == 1 and [e.path for e in cache.entries] == ["/lib/i386-linux-gnu/libz.so.1"]
    long_path = Entry("libx.so.1", "/" + "x" * 5000)
    assert parse_ld_so_cache(write_cache([long_path])).dropped == 1


def test_a_malformed_extension_only_loses_the_hwcaps_names() -> None:
    data = bytearray(write_cache(LIBS))
    (extension,) = struct.unpack_from("<I", data, 32)
    struct.pack_into("<I", data, extension + 4, 0xFFFFFFFF)  # section count far past the end
    cache = parse_ld_so_cache(bytes(data))
    assert len(cache.entries) == len(LIBS) and cache.entries[0].hwcaps_subdirectory is None
    assert cache.entries[0].for_some_cpus  # still not the baseline answer


def test_the_last_hwcaps_section_counts_as_for_ld_so() -> None:
    data = bytearray(write_cache(LIBS))
    (extension,) = struct.unpack_from("<I", data, 32)
    _, _, first_at, first_size = struct.unpack_from("<IIII", data, extension + 8 + 16)  # the hwcaps section
    data += b"\0" * (-len(data) % 4)
    name_at = len(data)
    data += b"x86-64-v2\0" + b"\0" * 2  # a second array's one name, then 4-byte alignment
    array_at = len(data)
    data += struct.pack("<I", name_at)
    directory_at = len(data)
    data += struct.pack("<II", 0xEAA42174, 2)
    data += struct.pack("<IIII", 1, 0, first_at, first_size) + struct.pack("<IIII", 1, 0, array_at, 4)
    struct.pack_into("<I", data, 32, directory_at)
    assert parse_ld_so_cache(bytes(data)).entries[0].hwcaps_subdirectory == "x86-64-v2"


def test_a_big_endian_cache_is_read_in_its_byte_order() -> None:
    little = write_cache(LIBS[1:2])
    count, strings = struct.unpack_from("<II", little, 20)
    (extension,) = struct.unpack_from("<I", little, 32)
    flags, key, value, _, hwcap = struct.unpack_from("<iIIIQ", little, 48)
    big = bytearray(little)
    struct.pack_into(">II", big, 20, count, strings)
    big[28] = 3
    struct.pack_into(">I", big, 32, extension)
    struct.pack_into(">iIIIQ", big, 48, flags, key, value, 0, hwcap)
    assert [e.path for e in parse_ld_so_cache(bytes(big)).entries] == ["/lib/x86_64-linux-gnu/libz.so.1"]


# -- against the host's ldconfig -------------------------------------------------------------------------


def ldconfig_print(cache: Path) -> list[tuple[str, str, str | None]]:
    """`ldconfig -p -C cache` as (soname, path, hwcaps name) lines."""
    out = subprocess.run(
        [LDCONFIG or "ldconfig", "-p", "-C", str(cache)], check=True, capture_output=True, text=True
    ).stdout
    lines = []
    for line in out.splitlines()[1:]:
        head, arrow, path = line.strip().partition(" => ")
        if not arrow:
            continue
        soname, _, details = head.partition(" (")
        hwcaps = details.split('hwcap: "', 1)[1].split('"', 1)[0] if 'hwcap: "' in details else None
        lines.append((soname, path, hwcaps))
    return lines


LDCONFIG = shutil.which("ldconfig") or next(
    (p for p in ("/sbin/ldconfig", "/usr/sbin/ldconfig") if Path(p).exists()), None
)
needs_ldconfig = pytest.mark.skipif(LDCONFIG is None, reason="needs glibc's ldconfig")


def host_library() -> Path | None:
    candidates = sorted(Path("/lib/x86_64-linux-gnu").glob("libz.so.1.*")) + sorted(
        Path("/usr/lib64").glob("libz.so.1.*")
    )
    return candidates[0] if candidates else None


@pytest.fixture(scope="module")
def written_by_ldconfig(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The caches the host's ldconfig writes, in each layout, for its directories plus one with hwcaps."""
    if LDCONFIG is None or host_library() is None:
        pytest.skip("needs glibc's ldconfig and a libz")
    root = tmp_path_factory.mktemp("ldconfig")
    library = host_library()
    assert library is not None
    hwcaps = root / "lib" / "glibc-hwcaps" / "x86-64-v3"
    hwcaps.mkdir(parents=True)
    shutil.copy(library, root / "lib")
    shutil.copy(library, hwcaps)
    (root / "ld.so.conf").write_text(f"{root / 'lib'}\n")
    caches = {}
    for layout in ("new", "compat", "old"):
        cache = root / f"{layout}.cache"
        done = subprocess.run(
            [LDCONFIG, "-c", layout, "-i", "-X", "-C", str(cache), "-f", str(root / "ld.so.conf")],
            capture_output=True,
            check=False,
        )
        if done.returncode != 0 or not cache.exists():
            pytest.skip(f"ldconfig cannot write a cache here: {done.stderr!r}")
        caches[layout] = cache
    return caches


@needs_ldconfig
@pytest.mark.parametrize("layout", ["new", "compat", "old"])
def test_the_reader_agrees_with_ldconfig_p(layout: str, written_by_ldconfig: dict[str, Path]) -> None:
    cache = written_by_ldconfig[layout]
    parsed = parse_ld_so_cache(cache.read_bytes())
    ours = [(e.soname, e.path, e.hwcaps_subdirectory) for e in parsed.entries]
    assert ours == ldconfig_print(cache) and parsed.dropped == 0
    if layout == "new":
        assert any(hwcaps == "x86-64-v3" for _, _, hwcaps in ours)
