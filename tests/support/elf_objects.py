"""Small ELF objects compiled with gcc for the library rules' tests: a library in two builds, a program
that needs it, and a plugin that needs a library no image has."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class Objects:
    libfoo: bytes  # SONAME libfoo.so.1, foo() returns 1
    libfoo_other: bytes  # the same soname, other content
    app: bytes  # NEEDED libfoo.so.1, no RPATH: found in the default directories
    plugin: bytes  # NEEDED libmissing.so.1, which no image has


def compile_objects(root: Path) -> Objects:
    """The objects, built in ``root``; skips the test without gcc."""
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc")

    def gcc(*args: str) -> bytes:
        subprocess.run(["gcc", *args], check=True, capture_output=True, cwd=root)
        return (root / args[args.index("-o") + 1]).read_bytes()

    (root / "foo1.c").write_text("int foo(void) { return 1; }\n")
    (root / "foo2.c").write_text("int foo(void) { return 2; }\n")
    (root / "missing.c").write_text("int missing(void) { return 3; }\n")
    (root / "app.c").write_text("int foo(void);\nint main(void) { return foo(); }\n")
    (root / "plugin.c").write_text("int missing(void);\nint plug(void) { return missing(); }\n")
    libfoo = gcc("-shared", "-fPIC", "-Wl,-soname,libfoo.so.1", "-o", "libfoo.so.1", "foo1.c")
    (root / "other").mkdir()
    other = gcc("-shared", "-fPIC", "-Wl,-soname,libfoo.so.1", "-o", "other/libfoo.so.1", "foo2.c")
    gcc("-shared", "-fPIC", "-Wl,-soname,libmissing.so.1", "-o", "libmissing.so.1", "missing.c")
    app = gcc("-o", "app", "app.c", "-L.", "-l:libfoo.so.1")
    plugin = gcc("-shared", "-fPIC", "-o", "plugin.so", "plugin.c", "-L.", "-l:libmissing.so.1")
    return Objects(libfoo, other, app, plugin)
