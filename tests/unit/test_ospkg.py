"""The registry of OS package databases, and which package owns a path."""

from __future__ import annotations

import subprocess
import sys

import pytest

from layerdiff.image.limits import DEFAULT_LIMITS
from layerdiff.index.capture import Capture
from layerdiff.inventory.collect import CAPTURE
from layerdiff.inventory.ospkg import DATABASES, captured_files
from layerdiff.inventory.ospkg_interface import OsPackage
from layerdiff.inventory.owners import PackageOwners

SAMPLE_DATABASE_FILES = {
    "deb": ["/var/lib/dpkg/status", "/var/lib/dpkg/status.d/base", "/var/lib/dpkg/info/bash.list"],
    "apk": ["/lib/apk/db/installed"],
    "rpm": ["/usr/lib/sysimage/rpm/rpmdb.sqlite", "/var/lib/rpm/rpmdb.sqlite"],
}


def test_every_database_reads_compares_and_checks_through_one_interface() -> None:
    assert [database.ecosystem for database in DATABASES] == ["deb", "apk", "rpm"]
    for database in DATABASES:
        assert database.read({}, DEFAULT_LIMITS) == []
        assert database.compare_versions("1.0-1", "1.1-1") < 0 < database.compare_versions("2.0-1", "1.0-1")
        assert database.unsatisfied_dependencies([], DEFAULT_LIMITS) == []
        # what the reader reads is what the indexer keeps
        for path in SAMPLE_DATABASE_FILES[database.ecosystem]:
            assert CAPTURE.wants(path), path
        assert all(CAPTURE.wants(path) for path in database.capture.paths)


def test_readers_import_only_the_interface_not_the_registry() -> None:
    readers = "layerdiff.inventory.dpkg, layerdiff.inventory.apk, layerdiff.inventory.rpm"
    probe = f"import sys, {readers}; print(*sys.modules)"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert "layerdiff.inventory.ospkg_interface" in loaded and "layerdiff.inventory.ospkg" not in loaded


class Files:
    def __init__(self, tree: dict[str, list[str]], contents: dict[str, bytes]) -> None:
        self.tree, self.contents = tree, contents

    def listdir(self, path: str) -> list[str]:
        return self.tree.get(path, [])

    def read(self, path: str) -> bytes | None:
        return self.contents.get(path)


def test_captured_files_lists_the_directory_of_a_pattern() -> None:
    files = Files(
        {"/db": ["a.list", "b.md5sums", "c.list"]}, {"/db/a.list": b"a", "/db/c.list": b"c", "/x": b"x"}
    )
    capture = Capture(paths=("/x", "/absent"), patterns=("/db/*.list",))
    assert captured_files(files, capture) == {"/x": b"x", "/db/a.list": b"a", "/db/c.list": b"c"}
    with pytest.raises(ValueError, match="wildcards before its last component"):
        captured_files(files, Capture(patterns=("*/site-packages/*.pth",)))


def package(name: str, files: tuple[str, ...] = (), conffiles: frozenset[str] = frozenset()) -> OsPackage:
    return OsPackage("deb", name, "1.0", "amd64", files=files, conffiles=conffiles)


def merged_usr(path: str) -> str | None:
    """resolve() of a merged-/usr image where /lib -> usr/lib."""
    return "/usr" + path if path == "/lib" or path.startswith("/lib/") else path


def test_a_path_is_owned_as_listed_and_as_the_image_stores_it() -> None:
    zlib = package("zlib1g", ("/lib", "/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu/libz.so.1"))
    libc = package("libc6", ("/lib", "/lib/x86_64-linux-gnu/libc.so.6"))
    netbase = package("netbase", conffiles=frozenset({"/etc/services"}))  # distroless: no file list
    owners = PackageOwners([zlib, libc, netbase], merged_usr)
    assert owners.owner_of("/lib/x86_64-linux-gnu/libz.so.1") is zlib
    assert owners.owner_of("/usr/lib/x86_64-linux-gnu/libz.so.1") is zlib
    assert owners.owner_of("/usr/lib/x86_64-linux-gnu/libc.so.6") is libc
    assert owners.owner_of("/etc/services") is netbase
    assert owners.owner_of("/usr/lib/x86_64-linux-gnu/libfoo.so") is None
    assert owners.owners_of("/lib") == (zlib, libc)  # a directory several packages list
    assert owners.owners_of("/usr/lib") == ()  # /lib is the link itself, which is not followed (lstat)
    assert owners.owners_of("/usr/lib/x86_64-linux-gnu") == (zlib,)
    assert owners.owners_of("/etc/passwd") == ()


def test_ownership_is_worked_out_only_when_asked() -> None:
    asked: list[str] = []

    def resolve(path: str) -> str | None:
        asked.append(path)
        return path

    owners = PackageOwners([package("a", ("/bin/a", "/bin/b"))], resolve)
    assert asked == []
    assert owners.owner_of("/bin/a") is not None and owners.owner_of("/bin/b") is not None
    assert asked == ["/bin"]  # each directory resolved once
