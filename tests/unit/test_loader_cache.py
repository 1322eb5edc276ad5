"""Library resolution through the image's /etc/ld.so.cache, after RUNPATH and before the trusted
directories; an image without one keeps the ld.so.conf emulation, and says so."""

from __future__ import annotations

from dataclasses import replace

from layerdiff.image.model import ElfInfo
from layerdiff.inventory.libraries import Loader, NeededResolution, Via, cache_warnings
from tests.support.ldcache import I386, Entry, write_cache
from tests.unit.test_libraries import LIB32, LIB64, FakeImage, debian_image, only

MULTIARCH = "/usr/lib/x86_64-linux-gnu"
PQ = replace(LIB64, needed=("libpq.so.5",))


def with_cache(image: FakeImage, *entries: Entry, layout: str = "new") -> FakeImage:
    return image.file("/etc/ld.so.cache", elf=None, content=write_cache(list(entries), layout))


def resolve(image: FakeImage, info: ElfInfo = PQ) -> NeededResolution:
    image.file("/app/bin/app", info)
    return only(Loader(image, None).resolve("/app/bin/app", info))


def system_libpq() -> FakeImage:
    return (
        debian_image().file(f"{MULTIARCH}/libpq.so.5.15").symlink(f"{MULTIARCH}/libpq.so.5", "libpq.so.5.15")
    )


def test_a_copy_in_usr_local_lib_without_ldconfig_shadows_nothing() -> None:
    image = with_cache(system_libpq(), Entry("libpq.so.5", "/lib/x86_64-linux-gnu/libpq.so.5"))
    image.file("/usr/local/lib/libpq.so.5")  # listed first in ld.so.conf, but not in the cache
    assert resolve(image) == NeededResolution(
        "libpq.so.5", "/lib/x86_64-linux-gnu/libpq.so.5", Via.CACHE, f"{MULTIARCH}/libpq.so.5.15"
    )


def test_a_copy_in_usr_local_lib_after_ldconfig_is_found_through_the_cache() -> None:
    image = with_cache(
        system_libpq(),
        Entry("libpq.so.5", "/usr/local/lib/libpq.so.5"),
        Entry("libpq.so.5", "/lib/x86_64-linux-gnu/libpq.so.5"),
    )
    image.file("/usr/local/lib/libpq.so.5")
    found = resolve(image)
    assert (found.path, found.via) == ("/usr/local/lib/libpq.so.5", Via.CACHE)


def test_a_library_moved_without_ldconfig_no_longer_loads() -> None:
    # the cache names the old path; /usr/local/lib is not a trusted directory
    image = with_cache(debian_image(), Entry("libpq.so.5", "/lib/x86_64-linux-gnu/libpq.so.5"))
    image.file("/usr/local/lib/libpq.so.5.15").symlink("/usr/local/lib/libpq.so.5", "libpq.so.5.15")
    assert resolve(image) == NeededResolution("libpq.so.5", None, Via.NOT_FOUND)


def test_a_cache_entry_whose_file_is_gone_falls_through_to_the_trusted_directories() -> None:
    image = with_cache(debian_image(), Entry("libpq.so.5", "/opt/gone/libpq.so.5"))
    image.file(f"{MULTIARCH}/libpq.so.5")
    found = resolve(image)
    assert (found.path, found.via) == ("/lib/x86_64-linux-gnu/libpq.so.5", Via.DEFAULT)


def test_entries_of_another_abi_and_files_of_another_class_are_passed_over() -> None:
    image = with_cache(
        debian_image(),
        Entry("libpq.so.5", "/opt/i386/libpq.so.5", flags=I386),
        Entry("libpq.so.5", "/opt/wrong-class/libpq.so.5"),
    )
    image.file("/opt/i386/libpq.so.5", LIB32).file("/opt/wrong-class/libpq.so.5", LIB32)
    image.file(f"{MULTIARCH}/libpq.so.5")
    assert resolve(image).via is Via.DEFAULT  # the x86-64 entry's file is 32-bit: ld.so goes on
    image32 = replace(LIB32, needed=("libpq.so.5",))
    found = resolve(image, info=image32)
    assert (found.path, found.via) == ("/opt/i386/libpq.so.5", Via.CACHE)


def test_every_cache_layout_is_used() -> None:
    for layout in ("new", "old", "compat"):
        image = with_cache(debian_image(), Entry("libpq.so.5", "/opt/pq/libpq.so.5"), layout=layout)
        assert resolve(image.file("/opt/pq/libpq.so.5")).via is Via.CACHE, layout


def test_the_cache_comes_after_runpath_and_any_name_may_be_in_it() -> None:
    image = with_cache(debian_image(), Entry("plugin.so", "/opt/plugins/plugin.so"))
    image.file("/opt/plugins/plugin.so").file("/opt/run/plugin.so")
    plugin = replace(LIB64, needed=("plugin.so",))
    assert resolve(image, info=plugin).via is Via.CACHE
    assert resolve(image, info=replace(plugin, runpath=("/opt/run",))).via is Via.RUNPATH


def test_trusted_directories_are_the_multiarch_ones_then_lib_and_usr_lib_never_usr_local_lib() -> None:
    image = with_cache(debian_image())
    image.file("/usr/local/lib/libpq.so.5").file("/lib64/libpq.so.5")
    assert resolve(image).via is Via.NOT_FOUND  # neither is trusted by Debian's ld.so
    image.file("/usr/lib/libpq.so.5")
    assert resolve(image).path == "/lib/libpq.so.5"  # /lib is /usr/lib in a merged-/usr image


def test_without_a_cache_ld_so_conf_stands_in_and_a_warning_says_so() -> None:
    image = debian_image().file("/usr/local/lib/libpq.so.5")
    found = resolve(image)
    assert (found.path, found.via) == ("/usr/local/lib/libpq.so.5", Via.LD_SO_CONF)
    loader = Loader(image, None)
    (warning,) = cache_warnings(loader.cache, loader.ld_so_conf_dirs)
    assert warning.startswith("/etc/ld.so.cache is not in the image: libraries are resolved as if ldconfig")
    assert cache_warnings(Loader(FakeImage(), None).cache, ()) == ()  # nothing to stand in: no warning


def test_a_file_ld_so_does_not_read_as_a_cache_is_skipped_with_a_warning() -> None:
    image = debian_image().file("/usr/local/lib/libpq.so.5").text("/etc/ld.so.cache", "not a cache")
    assert resolve(image).via is Via.NOT_FOUND  # no cache, and no emulation: ld.so has none either
    loader = Loader(image, None)
    (warning,) = cache_warnings(loader.cache, loader.ld_so_conf_dirs)
    assert warning.startswith("/etc/ld.so.cache is not a cache ld.so reads (it starts with neither")
