"""Library resolution: ld.so's rules on small in-memory images, then against the host's own loader (ldd)."""

from __future__ import annotations

import os
import posixpath
import shutil
import stat
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from layerdiff.image.model import ElfInfo, Entry, EntryType
from layerdiff.index.elf import parse_elf
from layerdiff.inventory.ldsoconf import read_ld_so_conf
from layerdiff.inventory.libraries import Loader, NeededResolution, Via, resolve_needed
from tests.unit.test_elf import SampleTree, build_sample_tree

LIB64 = ElfInfo(elf_class=64, machine="EM_X86_64", elf_type="ET_DYN")
LIB32 = ElfInfo(elf_class=32, machine="EM_386", elf_type="ET_DYN")
ARM64 = ElfInfo(elf_class=64, machine="EM_AARCH64", elf_type="ET_DYN")
APP = replace(LIB64, needed=("libfoo.so.1",))


class FakeImage:
    """ImageFiles over dicts: files (with content and ELF facts), symlinks, and the directories they imply."""

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {"/": Entry("/", EntryType.DIR)}
        self.contents: dict[str, bytes] = {}
        self.elves: dict[str, ElfInfo] = {}
        self.reads: list[str] = []

    def file(self, path: str, elf: ElfInfo | None = LIB64, content: bytes = b"") -> FakeImage:
        self._add(Entry(path, EntryType.FILE))
        self.contents[path] = content
        if elf is not None:
            self.elves[path] = elf
        return self

    def text(self, path: str, content: str) -> FakeImage:
        return self.file(path, elf=None, content=content.encode())

    def symlink(self, path: str, target: str) -> FakeImage:
        self._add(Entry(path, EntryType.SYMLINK, link=target))
        return self

    def dir(self, path: str) -> FakeImage:
        self._add(Entry(path, EntryType.DIR))
        return self

    def _add(self, entry: Entry) -> None:
        parent = posixpath.dirname(entry.path)
        if parent not in self.entries:
            self._add(Entry(parent, EntryType.DIR))
        self.entries[entry.path] = entry

    def lookup(self, path: str) -> Entry | None:
        return self.entries.get(path)

    def resolve(self, path: str) -> str | None:
        pending, current, hops = [p for p in path.split("/") if p], "/", 0
        while pending:
            part = pending.pop(0)
            if part in (".", ".."):
                current = posixpath.dirname(current) if part == ".." else current
                continue
            entry = self.entries.get(posixpath.join(current, part))
            if entry is None or (pending and entry.type is EntryType.FILE):
                return None
            if entry.type is EntryType.SYMLINK and entry.link is not None:
                hops += 1
                if hops > 40:
                    return None
                pending[:0] = [p for p in entry.link.split("/") if p]
                current = "/" if entry.link.startswith("/") else current
                continue
            current = entry.path
        return current

    def listdir(self, path: str) -> list[str]:
        real = self.resolve(path)
        return sorted(
            posixpath.basename(p) for p in self.entries if p != "/" and posixpath.dirname(p) == real
        )

    def read(self, path: str) -> bytes | None:
        self.reads.append(path)
        real = self.resolve(path)
        return self.contents.get(real) if real is not None else None

    def elf(self, path: str) -> ElfInfo | None:
        real = self.resolve(path)
        return self.elves.get(real) if real is not None else None


def only(resolutions: tuple[NeededResolution, ...]) -> NeededResolution:
    assert len(resolutions) == 1
    return resolutions[0]


def resolve_app(image: FakeImage, app: ElfInfo, ld_library_path: str | None = None) -> NeededResolution:
    image.file("/app/bin/app", app)
    return only(resolve_needed(image, "/app/bin/app", app, ld_library_path))


def two_copies() -> FakeImage:
    return (
        FakeImage().file("/opt/rpath/libfoo.so.1").file("/opt/llp/libfoo.so.1").file("/opt/run/libfoo.so.1")
    )


# -- search order -----------------------------------------------------------------------------------------


def test_rpath_is_searched_before_ld_library_path() -> None:
    found = resolve_app(two_copies(), replace(APP, rpath=("/opt/rpath",)), "/opt/llp")
    assert found == NeededResolution(
        "libfoo.so.1", "/opt/rpath/libfoo.so.1", Via.RPATH, "/opt/rpath/libfoo.so.1"
    )


def test_runpath_is_searched_after_ld_library_path() -> None:
    app = replace(APP, runpath=("/opt/run",))
    assert resolve_app(two_copies(), app, "/opt/llp").path == "/opt/llp/libfoo.so.1"
    assert resolve_app(two_copies(), app, "/opt/llp").via is Via.LD_LIBRARY_PATH
    assert resolve_app(two_copies(), app, None).via is Via.RUNPATH


def test_rpath_is_ignored_when_runpath_is_present() -> None:
    app = replace(APP, rpath=("/opt/rpath",), runpath=("/opt/run",))
    assert resolve_app(two_copies(), app).path == "/opt/run/libfoo.so.1"
    app = replace(APP, rpath=("/opt/rpath",), runpath=("/opt/elsewhere",))
    assert resolve_app(two_copies(), app).via is Via.NOT_FOUND


def test_ld_library_path_splits_on_colons_and_semicolons_skipping_empty_and_relative() -> None:
    image = FakeImage().file("/relative/libfoo.so.1").file("/opt/two/libfoo.so.1")
    found = resolve_app(image, APP, ":relative;/opt/two:")
    assert (found.path, found.via) == ("/opt/two/libfoo.so.1", Via.LD_LIBRARY_PATH)


def test_default_directories_depend_on_the_class() -> None:
    image = (
        FakeImage()
        .file("/usr/lib64/libfoo.so.1")
        .file("/lib64/libfoo.so.1", LIB32)
        .file("/usr/lib/libfoo.so.1", LIB32)
    )
    assert resolve_app(image, APP) == NeededResolution(
        "libfoo.so.1", "/usr/lib64/libfoo.so.1", Via.DEFAULT, "/usr/lib64/libfoo.so.1"
    )
    assert resolve_app(image, replace(LIB32, needed=("libfoo.so.1",))).path == "/usr/lib/libfoo.so.1"


def test_not_found() -> None:
    image = FakeImage().file("/usr/lib/libbar.so.1")
    assert resolve_app(image, APP) == NeededResolution("libfoo.so.1", None, Via.NOT_FOUND)


# -- dynamic string tokens ----------------------------------------------------------------------------


def test_origin_is_the_directory_of_the_real_path_of_a_symlinked_object() -> None:
    app = replace(APP, rpath=("${ORIGIN}/../lib",))
    image = FakeImage().file("/opt/app/bin/app", app).symlink("/usr/bin/app", "/opt/app/bin/app")
    image.file("/opt/app/lib/libfoo.so.1").file("/usr/lib/libfoo.so.1")
    found = only(resolve_needed(image, "/usr/bin/app", app, None))
    assert found == NeededResolution(
        "libfoo.so.1", "/opt/app/bin/../lib/libfoo.so.1", Via.RPATH, "/opt/app/lib/libfoo.so.1"
    )


def test_lib_and_platform_tokens() -> None:
    image = (
        FakeImage()
        .file("/opt/lib64/libfoo.so.1")
        .file("/opt/x86_64/libbar.so.1")
        .file("/opt/$ORIGINAL/libbaz.so.1")
    )
    app = replace(LIB64, needed=("libfoo.so.1", "libbar.so.1", "libbaz.so.1"))
    app = replace(app, rpath=("/opt/$LIB", "/opt/${PLATFORM}", "/opt/$ORIGINAL"))
    image.file("/app", app)
    found = resolve_needed(image, "/app", app, None)
    assert [r.path for r in found] == [
        "/opt/lib64/libfoo.so.1",
        "/opt/x86_64/libbar.so.1",
        "/opt/$ORIGINAL/libbaz.so.1",
    ]


def test_platform_of_an_unknown_machine_skips_the_directory() -> None:
    riscv = ElfInfo(64, "EM_RISCV", "ET_DYN", needed=("libfoo.so.1",), rpath=("/opt/$PLATFORM", "/opt/any"))
    image = FakeImage().file("/opt/any/libfoo.so.1", replace(riscv, needed=(), rpath=()))
    found = resolve_app(image, riscv)
    assert (found.path, found.via) == ("/opt/any/libfoo.so.1", Via.RPATH)


# -- candidates -----------------------------------------------------------------------------------------


def test_wrong_class_machine_or_non_elf_candidates_are_skipped() -> None:
    image = FakeImage().text("/etc/ld.so.conf", "/opt/a\n/opt/b\n/opt/c\n/opt/d\n")
    image.file("/opt/a/libfoo.so.1", LIB32).file("/opt/b/libfoo.so.1", ARM64)
    image.text("/opt/c/libfoo.so.1", "INPUT(libfoo.so.2)\n").file("/opt/d/libfoo.so.1")
    assert resolve_app(image, APP).path == "/opt/d/libfoo.so.1"
    assert resolve_app(image, replace(LIB32, needed=("libfoo.so.1",))).path == "/opt/a/libfoo.so.1"


def test_needed_with_a_slash_is_a_path_and_not_searched() -> None:
    app = replace(LIB64, needed=("/opt/abs/libabs.so", "$ORIGIN/libsib.so", "sub/librel.so"), rpath=("/opt",))
    image = FakeImage().file("/opt/abs/libabs.so").file("/app/bin/libsib.so").file("/opt/sub/librel.so")
    image.file("/app/bin/app", app)
    found = resolve_needed(image, "/app/bin/app", app, None)
    assert [(r.path, r.via) for r in found] == [
        ("/opt/abs/libabs.so", Via.PATH),
        ("/app/bin/libsib.so", Via.PATH),
        (None, Via.NOT_FOUND),  # relative to the working directory, which an image does not have
    ]


# -- ld.so.conf -----------------------------------------------------------------------------------------


def ld_so_conf_image() -> FakeImage:
    image = FakeImage().text("/etc/ld.so.conf", "# system\ninclude /etc/ld.so.conf.d/*.conf\n/opt/last\n")
    image.text("/etc/ld.so.conf.d/b.conf", "/opt/b\n/opt/missing\n/opt/alias\n")
    image.text("/etc/ld.so.conf.d/a.conf", "  /opt/a   # first\nhwcap 0 nosegneg\ninclude /etc/ld.so.conf\n")
    image.text("/etc/ld.so.conf.d/c.conf", "include sub/*.conf\n/opt/typed=libc6\n")
    image.text("/etc/ld.so.conf.d/sub/x.conf", "/opt/x/\n")
    image.text("/etc/ld.so.conf.d/notes.txt", "/opt/not-a-conf\n").text(
        "/etc/ld.so.conf.d/.hidden.conf", "/opt/hidden\n"
    )
    for directory in (
        "/opt/a",
        "/opt/b",
        "/opt/x",
        "/opt/typed",
        "/opt/last",
        "/opt/not-a-conf",
        "/opt/hidden",
    ):
        image.dir(directory)
    return image.symlink("/opt/alias", "a")


def test_ld_so_conf_includes_are_globbed_in_order() -> None:
    # Sorted includes, relative ones from the including file's directory; comments, hwcap, "=type",
    # trailing slashes, missing directories, repeats (/opt/alias is /opt/a) and include cycles handled.
    assert read_ld_so_conf(ld_so_conf_image()) == ("/opt/a", "/opt/b", "/opt/x", "/opt/typed", "/opt/last")


def test_ld_so_conf_directories_come_after_runpath_and_before_defaults() -> None:
    image = (
        ld_so_conf_image()
        .file("/opt/x/libfoo.so.1")
        .file("/opt/last/libfoo.so.1")
        .file("/usr/lib/libfoo.so.1")
    )
    assert resolve_app(image, APP).path == "/opt/x/libfoo.so.1"
    assert resolve_app(image, APP).via is Via.LD_SO_CONF
    image.file("/opt/run/libfoo.so.1")
    assert resolve_app(image, replace(APP, runpath=("/opt/run",))).via is Via.RUNPATH


def debian_image() -> FakeImage:
    image = FakeImage().text("/etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n")
    image.text("/etc/ld.so.conf.d/libc.conf", "# libc default configuration\n/usr/local/lib\n")
    image.text(
        "/etc/ld.so.conf.d/x86_64-linux-gnu.conf",
        "# Multiarch support\n/usr/local/lib/x86_64-linux-gnu\n"
        "/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n",
    )
    image.symlink("/lib", "usr/lib").dir("/usr/local/lib")  # merged /usr
    return image.file("/usr/lib/x86_64-linux-gnu/libssl.so.3").file("/usr/lib/x86_64-linux-gnu/libz.so.1")


def test_usr_local_lib_listed_first_shadows_the_multiarch_directory() -> None:
    image = debian_image().file("/usr/local/lib/libssl.so.3")
    found = resolve_app(image, replace(LIB64, needed=("libssl.so.3",)))
    assert found == NeededResolution(
        "libssl.so.3", "/usr/local/lib/libssl.so.3", Via.LD_SO_CONF, "/usr/local/lib/libssl.so.3"
    )


def test_merged_usr_reports_the_first_listed_directory_like_ldd() -> None:
    found = resolve_app(debian_image(), replace(LIB64, needed=("libz.so.1",)))
    assert (found.path, found.real_path) == (
        "/lib/x86_64-linux-gnu/libz.so.1",
        "/usr/lib/x86_64-linux-gnu/libz.so.1",
    )


def test_names_that_are_not_library_names_are_not_in_the_emulated_cache() -> None:
    image = debian_image().file("/usr/local/lib/plugin.so")
    app = replace(LIB64, needed=("plugin.so",))
    assert resolve_app(image, app).via is Via.NOT_FOUND
    assert resolve_app(image.file("/usr/lib/plugin.so"), app).via is Via.DEFAULT


def test_loader_reads_ld_so_conf_once_for_all_objects() -> None:
    image = debian_image()
    loader = Loader(image, None)
    for index in range(50):
        loader.resolve(f"/usr/bin/tool{index}", replace(LIB64, needed=("libz.so.1", "libssl.so.3")))
    assert image.reads.count("/etc/ld.so.conf") == 1


# -- closure --------------------------------------------------------------------------------------------


def chain_image() -> tuple[FakeImage, ElfInfo]:
    program = replace(LIB64, needed=("liba.so.1", "libc.so.1"), rpath=("/opt/app/lib",))
    image = FakeImage().file("/opt/app/bin/prog", program)
    image.file("/opt/app/lib/liba.so.1", replace(LIB64, soname="liba.so.1", needed=("libb.so.1",)))
    image.file("/opt/app/lib/libb.so.1", replace(LIB64, soname="libb.so.1"))
    image.file(
        "/usr/lib/libc.so.1", replace(LIB64, soname="libc.so.1", needed=("libd.so.1",), runpath=("/opt/c",))
    )
    image.file("/opt/app/lib/libd.so.1", replace(LIB64, soname="libd.so.1"))
    return image, program


def test_closure_inherits_rpath_along_the_loading_chain_but_not_into_runpath_objects() -> None:
    image, program = chain_image()
    closure = {r.soname: (r.path, r.via) for r in Loader(image, None).closure("/opt/app/bin/prog", program)}
    assert closure == {
        "liba.so.1": ("/opt/app/lib/liba.so.1", Via.RPATH),
        "libc.so.1": ("/usr/lib/libc.so.1", Via.DEFAULT),
        "libb.so.1": ("/opt/app/lib/libb.so.1", Via.RPATH),  # the program's RPATH, inherited by liba
        "libd.so.1": (None, Via.NOT_FOUND),  # libc.so.1 has a RUNPATH: no RPATH applies to its needs
    }
    liba = image.elves["/opt/app/lib/liba.so.1"]
    assert only(Loader(image, None).resolve("/opt/app/lib/liba.so.1", liba)).via is Via.NOT_FOUND


def test_closure_reuses_loaded_sonames_and_the_interpreter() -> None:
    program = replace(
        LIB64,
        needed=("libfoo.so.1", "libbar.so.1"),
        rpath=("/opt/app",),
        interpreter="/lib64/ld-linux-x86-64.so.2",
    )
    image = FakeImage().file("/opt/app/prog", program)
    image.file("/lib64/ld-linux-x86-64.so.2", replace(LIB64, soname="ld-linux-x86-64.so.2"))
    image.file("/opt/app/libfoo.so.1", replace(LIB64, soname="libfoo.so.1"))
    image.file("/usr/lib/libfoo.so.1", replace(LIB64, soname="libfoo.so.1"))
    image.file(
        "/usr/lib/libbar.so.1",
        replace(LIB64, needed=("libfoo.so.1", "ld-linux-x86-64.so.2"), runpath=("/usr/lib",)),
    )
    closure = Loader(image, None).closure("/opt/app/prog", program)
    assert [(r.soname, r.path, r.via) for r in closure] == [
        ("libfoo.so.1", "/opt/app/libfoo.so.1", Via.RPATH),
        ("libbar.so.1", "/usr/lib/libbar.so.1", Via.DEFAULT),
        ("ld-linux-x86-64.so.2", "/lib64/ld-linux-x86-64.so.2", Via.INTERPRETER),
    ]  # libbar's own RUNPATH would find /usr/lib/libfoo.so.1, but libfoo.so.1 is already loaded


def test_closure_origin_of_a_library_is_the_directory_it_was_found_in() -> None:
    # As glibc does (checked against ldd below): $ORIGIN of a library reached through a symlink in
    # another directory is the symlink's directory, unlike the program's, which is its real path.
    program = replace(LIB64, needed=("liba.so.1",), rpath=("/opt/other",))
    image = FakeImage().file("/opt/prog", program).symlink("/opt/other/liba.so.1", "../real/lib/liba.so.1")
    image.file(
        "/opt/real/lib/liba.so.1",
        replace(LIB64, soname="liba.so.1", needed=("libb.so.1",), runpath=("$ORIGIN/../x",)),
    )
    image.file("/opt/real/x/libb.so.1").file("/opt/x/libb.so.1")
    closure = Loader(image, None).closure("/opt/prog", program)
    assert [r.path for r in closure] == ["/opt/other/liba.so.1", "/opt/other/../x/libb.so.1"]
    assert closure[1].real_path == "/opt/x/libb.so.1"


# -- against the host's loader --------------------------------------------------------------------------


class HostFiles:
    """ImageFiles over this machine's root: the host is the image, and its ld.so the oracle."""

    def lookup(self, path: str) -> Entry | None:
        try:
            info = os.lstat(path)
        except OSError:
            return None
        kind = (
            EntryType.SYMLINK
            if stat.S_ISLNK(info.st_mode)
            else EntryType.DIR
            if stat.S_ISDIR(info.st_mode)
            else EntryType.FILE
        )
        return Entry(path, kind, mode=stat.S_IMODE(info.st_mode), size=info.st_size)

    def resolve(self, path: str) -> str | None:
        return os.path.realpath(path) if os.path.exists(path) else None

    def listdir(self, path: str) -> list[str]:
        return sorted(os.listdir(path)) if os.path.isdir(path) else []

    def read(self, path: str) -> bytes | None:
        return Path(path).read_bytes() if os.path.isfile(path) else None

    def elf(self, path: str) -> ElfInfo | None:
        return parse_elf(Path(path).read_bytes()) if os.path.isfile(path) else None  # None unless ELF


def ldd(program: Path, ld_library_path: str | None) -> dict[str, str | None]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LD_")}
    if ld_library_path is not None:
        env["LD_LIBRARY_PATH"] = ld_library_path
    out = subprocess.run(["ldd", str(program)], check=True, capture_output=True, text=True, env=env).stdout
    mapping: dict[str, str | None] = {}
    for line in out.splitlines():
        name, arrow, target = line.strip().partition(" => ")
        if arrow:  # the vdso and the interpreter lines have no "=>"
            mapping[name] = None if target == "not found" else target.rsplit(" (", 1)[0]
    return mapping


def ours(program: Path, ld_library_path: str | None) -> dict[str, str | None]:
    files = HostFiles()
    info = files.elf(str(program))
    assert info is not None
    closure = Loader(files, ld_library_path).closure(str(program), info)
    return {r.soname: r.path for r in closure if r.via is not Via.INTERPRETER}


needs_glibc_x86_64 = pytest.mark.skipif(
    shutil.which("ldd") is None
    or not os.path.exists("/lib64/ld-linux-x86-64.so.2")
    or not os.path.exists("/etc/ld.so.conf"),
    reason="needs an x86_64 glibc host with ldd",
)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleTree:
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc")
    return build_sample_tree(tmp_path_factory.mktemp("libraries"))


@needs_glibc_x86_64
def test_host_program_matches_ldd() -> None:
    program = Path(shutil.which("ls") or "/bin/ls")
    assert ours(program, None) == ldd(program, None)


@needs_glibc_x86_64
@pytest.mark.parametrize(
    ("flavour", "with_ld_library_path", "expected_dir"),
    [
        ("rpath", False, "bin/../lib"),
        ("rpath", True, "bin/../lib"),  # DT_RPATH wins over LD_LIBRARY_PATH
        ("runpath", False, "bin/../lib"),
        ("runpath", True, "alt"),  # LD_LIBRARY_PATH wins over DT_RUNPATH
    ],
)
def test_built_programs_match_ldd(
    sample: SampleTree, flavour: str, with_ld_library_path: bool, expected_dir: str
) -> None:
    program = sample.app_rpath if flavour == "rpath" else sample.app_runpath
    ld_library_path = str(sample.alt_libfoo.parent) if with_ld_library_path else None
    expected = ldd(program, ld_library_path)
    assert expected["libfoo.so.1"] == f"{os.path.realpath(sample.root)}/{expected_dir}/libfoo.so.1"
    assert ours(program, ld_library_path) == expected


@needs_glibc_x86_64
def test_library_origin_through_a_symlink_matches_ldd(tmp_path: Path) -> None:
    for directory in ("real/lib", "real/x", "x", "other"):
        (tmp_path / directory).mkdir(parents=True)
    (tmp_path / "b.c").write_text("int b(void) { return 2; }\n")
    (tmp_path / "a.c").write_text("int b(void);\nint a(void) { return b(); }\n")
    (tmp_path / "m.c").write_text("int a(void);\nint main(void) { return a() - 2; }\n")

    def gcc(*args: str) -> None:
        subprocess.run(["gcc", *args], check=True, capture_output=True, cwd=tmp_path)

    gcc("-shared", "-fPIC", "-Wl,-soname,libb.so.1", "-o", "x/libb.so.1", "b.c")
    shutil.copy(tmp_path / "x/libb.so.1", tmp_path / "real/x/libb.so.1")
    gcc("-shared", "-fPIC", "-Wl,-soname,liba.so.1", "-o", "real/lib/liba.so.1", "a.c", "-Lx", "-l:libb.so.1",
        "-Wl,--enable-new-dtags,-rpath,$ORIGIN/../x")  # fmt: skip
    (tmp_path / "other/liba.so.1").symlink_to("../real/lib/liba.so.1")
    gcc(
        "-o",
        "m",
        "m.c",
        "-Lother",
        "-l:liba.so.1",
        "-Wl,-rpath-link,x",
        "-Wl,--disable-new-dtags,-rpath,$ORIGIN/other",
    )
    expected = ldd(tmp_path / "m", None)
    assert expected["libb.so.1"] == f"{os.path.realpath(tmp_path)}/other/../x/libb.so.1"
    assert ours(tmp_path / "m", None) == expected
